"""``gmsa task check`` offline: exit codes, JSON fields, human output, specs from a directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gmsa.cli.main import cli
from tests.conftest import EXAMPLE_SPEC

DATA = Path(__file__).parents[2] / "data" / "taskdefs"


POLICIES = DATA / "policies"


SEEDS = ("s3.json", "ssm.json", "file.json")


def run(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["task", "check", *map(str, args)], input=stdin)


def as_json(result: Result) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(result.stdout)
    return value


def write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def example_doc(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((DATA / name).read_text())
    return value


@pytest.fixture
def spec_dir(tmp_path: Path, example_spec_file: Path) -> Path:
    directory = tmp_path / "CredentialSpecs"
    directory.mkdir()
    shutil.copy(example_spec_file, directory / "webapp01.json")
    return directory


@pytest.mark.parametrize("name", [*SEEDS, "describe-s3.json", "describe-ssm.json"])
def test_ecs_example_task_definition_checks_clean(name: str) -> None:
    result = run(DATA / name, "--json")
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert data["valid"] is True
    assert data["errors"] == []
    assert data["containers"][0]["name"] == "webapp"


def test_human_output_has_a_summary_line() -> None:
    result = run(DATA / "s3.json")
    assert result.exit_code == 0
    assert result.stdout.rstrip().splitlines()[-1].endswith("valid, 0 errors, 0 warnings")


def test_error_exits_1_and_is_in_json(tmp_path: Path) -> None:
    doc = example_doc("s3.json")
    doc["containerDefinitions"][0]["dockerSecurityOptions"] = ["credentialspec:arn:aws:s3:::b"]
    result = run(write(tmp_path / "t.json", doc), "--json")
    assert result.exit_code == 1
    data = as_json(result)
    assert data["valid"] is False
    (finding,) = data["errors"]
    assert finding["code"] == "invalid-reference"
    assert finding["path"] == "containerDefinitions[0].dockerSecurityOptions[0]"
    assert finding["fix"]


def test_human_output_shows_the_fix(tmp_path: Path) -> None:
    doc = example_doc("file.json")
    doc["containerDefinitions"][0]["dockerSecurityOptions"].append("credentialspec:file://b.json")
    result = run(write(tmp_path / "t.json", doc))
    assert result.exit_code == 1
    assert "fix: keep one reference" in result.stdout


def test_warning_only_exits_0(tmp_path: Path) -> None:
    doc = example_doc("s3.json")
    doc["runtimePlatform"] = {"operatingSystemFamily": "LINUX"}
    result = run(write(tmp_path / "t.json", doc), "--json")
    assert result.exit_code == 0
    assert [w["code"] for w in as_json(result)["warnings"]] == ["linux-domain-joined-host"]


def test_invalid_json_exits_1_with_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"family": }')
    result = run(path, "--json")
    assert result.exit_code == 1
    assert as_json(result)["error"]["code"] == "invalid-json"


def test_missing_file_exits_1() -> None:
    result = run("/nonexistent/taskdef.json")
    assert result.exit_code == 1
    assert "not found" in result.stderr


def test_not_a_task_definition_exits_1(tmp_path: Path) -> None:
    result = run(write(tmp_path / "t.json", {"family": "x"}), "--json")
    assert result.exit_code == 1
    assert as_json(result)["error"]["code"] == "invalid-task-definition"


def test_stdin_is_read_for_dash() -> None:
    result = run("-", "--json", stdin=(DATA / "file.json").read_text())
    assert result.exit_code == 0
    assert as_json(result)["source"] == "<stdin>"


def test_missing_spec_dir_exits_1(tmp_path: Path) -> None:
    result = run(DATA / "file.json", "--credspec-dir", tmp_path / "nope")
    assert result.exit_code == 1
    assert "--credspec-dir" in result.stderr


@pytest.mark.parametrize("flag", ["--credspec-dir", "--spec-dir"])  # --spec-dir: deprecated
def test_spec_dir_supplies_the_gmsa_name(spec_dir: Path, flag: str) -> None:
    result = run(DATA / "file.json", flag, spec_dir, "--json")
    assert result.exit_code == 0, result.output
    (ref,) = as_json(result)["containers"][0]["references"]
    assert ref["gmsa_name"] == "WebApp01"


def test_hostname_rule_on_windows_server_2016_fails_with_the_spec(
    spec_dir: Path, tmp_path: Path
) -> None:
    doc = example_doc("file.json")
    doc["containerDefinitions"][0]["hostname"] = "web"
    path = write(tmp_path / "t.json", doc)
    assert run(path, "--spec-dir", spec_dir).exit_code == 0
    result = run(path, "--spec-dir", spec_dir, "--windows-server-2016", "--json")
    assert result.exit_code == 1
    assert [e["code"] for e in as_json(result)["errors"]] == ["hostname-not-gmsa-name"]


def test_spec_missing_from_spec_dir_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run(DATA / "file.json", "--spec-dir", empty, "--json")
    assert result.exit_code == 1
    assert [e["code"] for e in as_json(result)["errors"]] == ["spec-not-found"]


def test_invalid_spec_findings_appear_under_the_reference(spec_dir: Path) -> None:
    bad = json.loads(json.dumps(EXAMPLE_SPEC))
    bad["DomainJoinConfig"]["Sid"] = "S-1-5-21-1"
    write(spec_dir / "webapp01.json", bad)
    result = run(DATA / "file.json", "--spec-dir", spec_dir, "--json")
    assert result.exit_code == 1
    paths = [e["path"] for e in as_json(result)["errors"]]
    assert paths
    assert all(p.startswith("containerDefinitions[0].dockerSecurityOptions[0] -> ") for p in paths)


@pytest.mark.parametrize(
    ("name", "policy"), [("s3.json", "s3-read.json"), ("ssm.json", "ssm-read.json")]
)
def test_ecs_example_policy_allows_the_ecs_example_reference(name: str, policy: str) -> None:
    result = run(DATA / name, "--policy", POLICIES / policy, "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["errors"] == []


def test_policy_for_another_object_is_an_error() -> None:
    result = run(DATA / "s3.json", "--policy", POLICIES / "ssm-read.json", "--json")
    assert result.exit_code == 1
    errors = as_json(result)["errors"]
    assert errors
    assert all(e["path"] == "containerDefinitions[0].dockerSecurityOptions[0]" for e in errors)


def test_file_reference_needs_no_policy() -> None:
    result = run(DATA / "file.json", "--policy", POLICIES / "s3-read.json", "--json")
    assert result.exit_code == 0, result.output


def test_unreadable_policy_file_exits_1(tmp_path: Path) -> None:
    result = run(DATA / "s3.json", "--policy", tmp_path / "missing.json")
    assert result.exit_code == 1
