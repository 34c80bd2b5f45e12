"""Special files given as input end at once in a typed error (exit 1) that says what they
are: a FIFO, socket, device or directory as a spec, task definition, policy file or
``file://`` spec; a symbolic link loop is named as one. Every run is time-bounded: a
FIFO opened the ordinary way would block forever."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gmsa.cli.main import cli
from tests.support.cli import within
from tests.support.special_files import SPECIAL_KINDS, special_file, symlink_loop

DATA = Path(__file__).parents[2] / "data" / "taskdefs"
SSM_REF = "credentialspec:arn:aws:ssm:us-east-1:123456789012:parameter/webapp01"

COMMANDS = {
    "spec validate": ("spec", "validate", "{}"),
    "spec show": ("spec", "show", "{}"),
    "task check": ("task", "check", "{}"),
    "task check --policy": ("task", "check", str(DATA / "ssm.json"), "--policy", "{}"),
    "iam check --policy": ("iam", "check", SSM_REF, "--policy", "{}"),
}


def run(args: tuple[str, ...], path: Path, *extra: str, stdin: bytes | None = None) -> Result:
    with within(10):
        return CliRunner().invoke(
            cli, [a.replace("{}", str(path)) for a in args] + list(extra), input=stdin
        )


def said(result: Result, json_output: bool) -> str:
    """The message of the one error a run reported, in text or JSON."""
    if not json_output:
        return result.output
    document = json.loads(result.stdout)
    if "error" in document:
        return str(document["error"]["message"])
    return str(document)


CASES = [
    (command, kind)
    for command in COMMANDS
    for kind in SPECIAL_KINDS
    # --policy refuses a directory while the command line is parsed (exit 2), and task
    # check and spec validate read a directory as a CDK cloud assembly: tested below
    if (command, kind)
    not in (
        ("iam check --policy", "directory"),
        ("task check --policy", "directory"),
        ("task check", "directory"),
        ("spec validate", "directory"),
    )
]


@pytest.mark.parametrize("command", ["task check", "spec validate"])
@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_a_directory_is_read_as_a_cloud_assembly_and_said_to_have_none(
    command: str, json_output: bool, tmp_path: Path
) -> None:
    folder = tmp_path / "folder.json"
    folder.mkdir()
    result = run(COMMANDS[command], folder, *(["--json"] if json_output else []))
    assert result.exit_code == 1, result.output
    assert "the directory has no *.template.json files" in said(result, json_output)


def test_a_directory_as_a_spec_is_refused_as_one(tmp_path: Path) -> None:
    result = run(COMMANDS["spec validate"], tmp_path, "--input-format", "spec")
    assert result.exit_code == 1, result.output
    assert "path is a directory, not a regular file" in result.output


@pytest.mark.parametrize(("command", "kind"), CASES)
@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_a_special_file_is_refused_at_once_saying_what_it_is(
    command: str, kind: str, json_output: bool, tmp_path: Path
) -> None:
    with special_file(kind, tmp_path) as (path, what):
        result = run(COMMANDS[command], path, *(["--json"] if json_output else []))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"path is {what}, not a regular file" in said(result, json_output)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_symlink_loop_is_named_and_not_called_a_permission_problem(
    command: str, tmp_path: Path
) -> None:
    result = run(COMMANDS[command], symlink_loop(tmp_path))
    assert result.exit_code == 1, result.output
    assert "symbolic link loop" in result.output
    assert "permission" not in result.output.lower()


def test_iam_check_refuses_a_directory_as_a_usage_error(tmp_path: Path) -> None:
    result = run(COMMANDS["iam check --policy"], tmp_path)
    assert result.exit_code == 2
    assert "is a directory" in result.output


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_task_check_reports_a_special_file_spec_as_a_finding(kind: str, tmp_path: Path) -> None:
    spec_dir = tmp_path / "CredentialSpecs"
    spec_dir.mkdir()
    with special_file(kind, spec_dir) as (path, what):
        spec_dir = path.parent  # the socket and the device live elsewhere
        document = json.loads((DATA / "file.json").read_text())
        document["containerDefinitions"][0]["dockerSecurityOptions"] = [
            f"credentialspec:file://{path.name}"
        ]
        taskdef = tmp_path / "taskdef.json"
        taskdef.write_text(json.dumps(document))
        result = run(("task", "check", "{}", "--spec-dir", str(spec_dir), "--json"), taskdef)
    assert result.exit_code == 1, result.output
    (finding,) = json.loads(result.stdout)["errors"]
    assert finding["code"] == "not-a-file"
    assert f"path is {what}, not a regular file" in finding["message"]


def test_stdin_is_still_read_where_it_was(tmp_path: Path, example_spec_file: Path) -> None:
    spec = example_spec_file.read_bytes()
    assert run(("spec", "validate", "-"), tmp_path, stdin=spec).exit_code == 0
    assert run(("spec", "show", "-", "--canonical"), tmp_path, stdin=spec).exit_code == 0
    spec_dir = tmp_path / "CredentialSpecs"
    spec_dir.mkdir()
    shutil.copy(example_spec_file, spec_dir / "webapp01.json")
    taskdef = (DATA / "file.json").read_bytes()
    result = run(("task", "check", "-", "--spec-dir", str(spec_dir)), tmp_path, stdin=taskdef)
    assert result.exit_code == 0, result.output
