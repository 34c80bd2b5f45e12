"""A task id becomes part of file names: one holding a control character (a trailing
newline from a command's output, a tab, NUL, DEL, a C1 control) is refused by ``task
prepare`` and ``task cleanup`` before anything is written or removed, with the id shown
escaped and the rule it breaks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gmsa.cli.main import cli

DATA = Path(__file__).parents[2] / "data" / "taskdefs"
TASK_ID = "0123456789abcdef0123456789abcdef"

BAD_IDS = {
    "trailing newline": (TASK_ID + "\n", "a newline (U+000A)"),
    "carriage return": (TASK_ID + "\r", "a carriage return (U+000D)"),
    "tab": ("0123\t4567", "a tab (U+0009)"),
    "NUL": ("0123\x004567", "NUL (U+0000)"),
    "DEL": ("0123\x7f", "DEL (U+007F)"),
    "C1 NEL": ("0123\x85", "U+0085"),
    "C1 CSI": ("0123\x9b", "U+009B"),
}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["task", *map(str, args)])


def contents(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


@pytest.fixture
def prepared(specdir: Path, example_spec_file: Path) -> Path:
    """A CredentialSpecs directory with the spec file.json names, and a task prepared in it."""
    shutil.copy(example_spec_file, specdir / "webapp01.json")
    result = run("prepare", DATA / "file.json", "--task-id", TASK_ID, "--credspec-dir", specdir)
    assert result.exit_code == 0, result.output
    return specdir


@pytest.mark.parametrize(("task_id", "said"), BAD_IDS.values(), ids=BAD_IDS)
@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_prepare_and_cleanup_refuse_a_control_character(
    task_id: str, said: str, json_output: bool, prepared: Path
) -> None:
    before = contents(prepared)
    extra = ["--json"] if json_output else []
    for command in (
        ("prepare", DATA / "file.json", "--task-id", task_id, "--credspec-dir", prepared),
        ("cleanup", "--task-id", task_id, "--credspec-dir", prepared),
    ):
        result = run(*command, *extra)
        assert result.exit_code == 1, result.output
        if json_output:
            error = json.loads(result.stdout)["error"]
            text = f"{error['message']} {error['where']}"
        else:
            text = result.stderr
        assert f"holds a control character, {said}" in text
        assert repr(task_id) in text
        assert "only letters, digits, '-' and '_'" in text
        assert contents(prepared) == before


def test_the_prepared_task_is_still_cleaned_up_by_its_real_id(prepared: Path) -> None:
    assert any(TASK_ID in name for name in contents(prepared))  # its ledger
    result = run("cleanup", "--task-id", TASK_ID, "--credspec-dir", prepared, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["known"] is True
    assert not any(TASK_ID in name for name in contents(prepared))
