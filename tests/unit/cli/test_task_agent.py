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


def test_a_ticket_service_not_reached_is_never_said_to_refuse(
    tmp_path: Path, specdir: Path, example_spec: dict[str, Any]
) -> None:
    (specdir / "webapp01.json").write_text(json.dumps(example_spec))
    taskdef = Path(__file__).parents[2] / "data" / "taskdefs" / "file.json"
    result = prepare(
        taskdef,
        "--task-id",
        TASK_ID,
        "--platform",
        "linux",
        "--credspec-dir",
        specdir,
        "--socket",
        tmp_path / "no-service.sock",
        "--krb-dir",
        tmp_path / "krb",
    )
    assert result.exit_code == 3, result.output
    assert "could not ask the ticket service for a lease: cannot reach" in result.output
    assert "refused" not in result.output
