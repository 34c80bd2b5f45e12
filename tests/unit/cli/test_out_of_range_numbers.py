"""A number JSON cannot hold (``1e400`` overflows to infinity; ``NaN``) is refused as invalid
input naming its JSON path, so no command ever prints ``Infinity`` or ``NaN``: what is
printed on stdout is always strict JSON."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gmsa.cli.main import cli
from tests.conftest import EXAMPLE_SPEC

DATA = Path(__file__).parents[2] / "data" / "taskdefs"
SSM_REF = "credentialspec:arn:aws:ssm:us-east-1:123456789012:parameter/webapp01"
NUMBERS = ["1e400", "-1e400", "NaN", "-Infinity"]


def _refuse_constant(name: str) -> Any:
    raise AssertionError(f"{name} printed: not JSON")


def strict_json(text: str) -> Any:
    """Parse output as strict JSON: NaN and Infinity fail the test."""
    return json.loads(text, parse_constant=_refuse_constant)


def with_number(tmp_path: Path, document: Any, key: str, number: str) -> Path:
    """``document`` with ``key`` holding the literal ``number``, written as a file."""
    marker = "__number__"
    document = copy.deepcopy(document)
    document[key] = marker
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document, indent=4).replace(f'"{marker}"', number))
    return path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("number", NUMBERS)
def test_spec_show_canonical_prints_no_infinity(number: str, tmp_path: Path) -> None:
    path = with_number(tmp_path, EXAMPLE_SPEC, "Extra", number)
    result = run("spec", "show", path, "--canonical")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert number in result.stderr
    assert "Extra" in result.stderr


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize("command", ["validate", "show"])
def test_spec_json_output_is_strict_json_naming_the_path(
    number: str, command: str, tmp_path: Path
) -> None:
    path = with_number(tmp_path, EXAMPLE_SPEC, "Extra", number)
    result = run("spec", command, path, "--json")
    assert result.exit_code == 1
    document = strict_json(result.stdout)
    report = document["files"][0] if command == "validate" else document
    (found,) = report["errors"]
    assert found["path"] == "Extra"
    assert number in found["message"]


def test_a_number_in_range_is_kept_by_spec_show_canonical(tmp_path: Path) -> None:
    path = with_number(tmp_path, EXAMPLE_SPEC, "Extra", "1.5e308")
    result = run("spec", "show", path, "--canonical")
    assert result.exit_code == 0, result.output
    assert strict_json(result.stdout)["Extra"] == 1.5e308


@pytest.mark.parametrize("number", NUMBERS)
def test_task_check_and_iam_check_refuse_it_with_strict_json(number: str, tmp_path: Path) -> None:
    taskdef = json.loads((DATA / "ssm.json").read_text())
    path = with_number(tmp_path, taskdef, "cpu", number)
    result = run("task", "check", path, "--json")
    assert result.exit_code == 1
    assert "cpu" in json.dumps(strict_json(result.stdout))
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
    path = with_number(tmp_path, policy, "Weight", number)
    result = run("iam", "check", SSM_REF, "--policy", path, "--json")
    assert result.exit_code == 1
    assert "Weight" in json.dumps(strict_json(result.stdout))


@pytest.mark.parametrize("number", ["1e400", "NaN"])
def test_a_refused_number_is_one_finding_with_its_path_apart_from_its_file(
    number: str, tmp_path: Path
) -> None:
    taskdef = json.loads((DATA / "ssm.json").read_text())
    path = with_number(tmp_path, taskdef, "cpu", number)
    result = run("task", "check", path, "--json")
    assert result.exit_code == 1
    (found,) = strict_json(result.stdout)["findings"]
    assert (found["path"], found["source"]) == ("cpu", str(path))
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
    path = with_number(tmp_path, policy, "Weight", number)
    result = run("iam", "check", SSM_REF, "--policy", path, "--json")
    (found,) = strict_json(result.stdout)["findings"]
    assert (found["path"], found["source"]) == ("Weight", str(path))
