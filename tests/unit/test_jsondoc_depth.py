"""A document nested deeper than any real one is refused when it is read, so nothing that
walks it afterwards (copies, rule checks, printers) runs out of stack: before, a spec
nested 600 levels passed the parser and ended ``spec show`` in a RecursionError."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gmsa.iac.cloudformation import TemplateError, read_document
from gmsa.jsondoc import MAX_DEPTH, JsonDocumentError, check_depth, loads


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return '{"a": 1, "n": ' + open_ * (depth - 1) + close * (depth - 1) + "}"


def test_a_document_as_deep_as_the_limit_is_read() -> None:
    assert loads(nested(MAX_DEPTH), source="x")["a"] == 1


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 600, 900])
def test_a_deeper_document_is_refused_naming_the_source(depth: int) -> None:
    with pytest.raises(JsonDocumentError) as caught:
        loads(nested(depth), source="deep.json")
    assert caught.value.where == "deep.json"
    assert f"nests more than {MAX_DEPTH} levels deep" in caught.value.what
    assert caught.value.exit_code == 1


def test_depth_counts_objects_and_arrays_alike() -> None:
    value: object = 1
    for n in range(MAX_DEPTH + 1):
        value = {"k": value} if n % 2 else [value]
    with pytest.raises(JsonDocumentError):
        check_depth(value, source="s")
    check_depth(value[0] if isinstance(value, list) else value["k"], source="s")  # type: ignore[index]


def test_a_deep_yaml_template_is_refused_as_a_template_error() -> None:
    text = "Resources:\n  Deep: " + "[" * 150 + "]" * 150 + "\n"
    with pytest.raises(TemplateError) as caught:
        read_document(text.encode(), source="t.yaml")
    assert "YAML nests more than" in caught.value.what


@pytest.mark.parametrize("command", [["spec", "show"], ["spec", "validate"], ["task", "check"]])
def test_the_cli_answers_a_600_deep_document_without_a_traceback(
    command: list[str], tmp_path: Path
) -> None:
    """As its own process: Python's own recursion limit, not the test runner's."""
    path = tmp_path / "deep.json"
    path.write_text(nested(600))
    done = subprocess.run(
        [sys.executable, "-m", "gmsa", *command, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "nests more than" in done.stdout + done.stderr
