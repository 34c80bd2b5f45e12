"""One text style in every message gmsa prints or logs: counts as "1 lease", never
"lease(s)"; an error's cause as its type and text, never a Python repr."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import gmsa
from gmsa.cli.main import cli
from tests.conftest import EXAMPLE_SPEC

SRC = Path(gmsa.__file__).parent
SOURCES = sorted(p for p in SRC.rglob("*.py") if "proto" not in p.parts)
PLURAL_IN_PARENTHESES = re.compile(r"\w\((s|es)\)")


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string constants that are docstrings."""
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_message_counts_with_a_plural_in_parentheses(path: Path) -> None:
    tree = ast.parse(path.read_text())
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            assert not PLURAL_IN_PARENTHESES.search(node.value), (
                f"{path.relative_to(SRC)}:{node.lineno}: {node.value!r}: use gmsa.findings.count"
            )


def test_the_check_sees_a_count_with_a_plural_in_parentheses() -> None:
    assert PLURAL_IN_PARENTHESES.search("%d lease(s) kept")
    assert not PLURAL_IN_PARENTHESES.search("(s3:GetObject)")


def test_verbose_names_the_cause_by_type_and_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(EXAMPLE_SPEC))
    # No AWS credentials anywhere: botocore's NoCredentialsError is the cause.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    args = ["-v", "spec", "publish", str(spec), "s3://example-bucket/spec.json"]
    result = CliRunner().invoke(
        cli, [*args, "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 3, result.output
    assert "cause: NoCredentialsError: Unable to locate credentials" in result.output
    assert "NoCredentialsError(" not in result.output
