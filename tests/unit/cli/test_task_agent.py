"""``gmsa task prepare`` / ``cleanup`` without AWS: invalid input, unknown tasks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from gmsa.cli.main import cli

TASK_ID = "0123456789abcdef0123456789abcdef"


def prepare(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["task", "prepare", *map(str, args)], input=stdin)


def cleanup(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["task", "cleanup", *map(str, args)])


def as_json(result: Result) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(result.stdout)
    return value


def test_invalid_task_definition_exits_1(tmp_path: Path, specdir: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"containerDefinitions": 3}')
    result = prepare(path, "--task-id", TASK_ID, "--credspec-dir", specdir)
    assert result.exit_code == 1


def test_cleanup_of_an_unknown_task_exits_0_with_nothing_removed(specdir: Path) -> None:
    result = cleanup("--task-id", TASK_ID, "--credspec-dir", specdir, "--json")
    assert result.exit_code == 0
    assert as_json(result)["removed"] == []
    assert as_json(result)["known"] is False
