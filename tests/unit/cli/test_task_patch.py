"""``gmsa task patch``: register-shaped output, files written atomically, typed errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gmsa.cli.main import cli

DATA = Path(__file__).parents[2] / "data" / "taskdefs"
REF = "credentialspec:arn:aws:s3:::example-gmsa-specs/specs/webapp01.json"
FILE_REF = "credentialspec:file://webapp01.json"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["task", "patch", *map(str, args)])


def check(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["task", "check", *map(str, args)])


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copy(DATA / name, target)
    return target


def test_patch_prints_the_new_task_definition() -> None:
    result = run(DATA / "file.json", "--container", "webapp", "--reference", REF)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    web = doc["containerDefinitions"][0]
    assert web["credentialSpecs"] == [REF]
    assert "dockerSecurityOptions" not in web


def test_describe_input_comes_out_as_register_input_that_checks_clean(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = run(
        DATA / "describe-ssm.json", "--container", "webapp", "--reference", REF, "--out", out
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert "taskDefinition" not in doc
    assert "revision" not in doc and "status" not in doc and "registeredAt" not in doc
    assert check(out).exit_code == 0


def test_in_place_replaces_the_file(tmp_path: Path) -> None:
    path = copy("s3.json", tmp_path)
    result = run(path, "--container", "webapp", "--reference", FILE_REF, "--in-place")
    assert result.exit_code == 0, result.output
    assert json.loads(path.read_text())["containerDefinitions"][0]["credentialSpecs"] == [FILE_REF]
    assert [p.name for p in tmp_path.iterdir()] == ["s3.json"]


def test_field_option_writes_docker_security_options() -> None:
    result = run(
        DATA / "file.json",
        "--container",
        "webapp",
        "--reference",
        REF,
        "--field",
        "dockerSecurityOptions",
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["containerDefinitions"][0]["dockerSecurityOptions"] == [REF]


def test_hostname_option_sets_the_hostname() -> None:
    result = run(
        DATA / "file.json", "--container", "webapp", "--reference", REF, "--hostname", "WebApp01"
    )
    assert json.loads(result.stdout)["containerDefinitions"][0]["hostname"] == "WebApp01"


@pytest.mark.parametrize("flag", ["--credspec-dir", "--spec-dir"])  # --spec-dir: deprecated
def test_hostname_from_spec_reads_the_gmsa_name(
    tmp_path: Path, example_spec_file: Path, flag: str
) -> None:
    result = run(
        DATA / "file.json",
        "--container",
        "webapp",
        "--reference",
        FILE_REF,
        "--hostname-from-spec",
        flag,
        example_spec_file.parent,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["containerDefinitions"][0]["hostname"] == "WebApp01"


def test_hostname_from_spec_without_the_spec_exits_1(tmp_path: Path) -> None:
    result = run(
        DATA / "file.json",
        "--container",
        "webapp",
        "--reference",
        FILE_REF,
        "--hostname-from-spec",
        "--spec-dir",
        tmp_path,
    )
    assert result.exit_code == 1
    assert "hostname" in result.stderr


def test_unknown_container_exits_1_listing_the_names() -> None:
    result = run(DATA / "file.json", "--container", "api", "--reference", REF)
    assert result.exit_code == 1
    assert "'webapp'" in result.stderr


def test_invalid_reference_exits_1_naming_the_part() -> None:
    result = run(DATA / "file.json", "--container", "webapp", "--reference", "file://a.json")
    assert result.exit_code == 1
    assert "prefix" in result.stderr


def test_invalid_reference_is_json_with_json_flag() -> None:
    result = run(DATA / "file.json", "--container", "webapp", "--reference", "x", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "invalid-reference"


def test_hostname_and_hostname_from_spec_together_is_a_usage_error() -> None:
    result = run(
        DATA / "file.json",
        "--container",
        "webapp",
        "--reference",
        REF,
        "--hostname",
        "a",
        "--hostname-from-spec",
    )
    assert result.exit_code == 2


def test_in_place_with_stdin_is_a_usage_error() -> None:
    result = run("-", "--container", "webapp", "--reference", REF, "--in-place")
    assert result.exit_code == 2


def test_output_into_a_missing_directory_exits_3(tmp_path: Path) -> None:
    result = run(
        DATA / "file.json",
        "--container",
        "webapp",
        "--reference",
        REF,
        "--out",
        tmp_path / "no" / "out.json",
    )
    assert result.exit_code == 3


def test_remaining_findings_are_reported_on_stderr(tmp_path: Path) -> None:
    doc = json.loads((DATA / "file.json").read_text())
    doc["requiresCompatibilities"] = ["FARGATE"]
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    result = run(path, "--container", "webapp", "--reference", REF)
    assert result.exit_code == 0
    assert "Fargate" in result.stderr
    json.loads(result.stdout)
