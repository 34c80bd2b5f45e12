"""The Linux host agent's checks that need no server: user and group, platform choice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from gmsa.cli.main import cli
from gmsa.cli.task_agent import platform_for
from gmsa.errors import ExitCode
from gmsa.hostagent.linux import parse_user
from gmsa.taskdef.model import TaskDefinition, parse_task_definition

TASK_ID = "0123456789abcdef0123456789abcdef"


def task(*containers: dict[str, Any]) -> TaskDefinition:
    return parse_task_definition(
        {
            "runtimePlatform": {"operatingSystemFamily": "LINUX"},
            "containerDefinitions": list(containers),
        },
        source="task.json",
    )


def test_numeric_user_and_group_are_parsed() -> None:
    assert parse_user("1000:2000") == (1000, 2000)


def test_numeric_user_alone_uses_its_uid_as_group() -> None:
    assert parse_user("1000") == (1000, 1000)


def test_user_given_by_name_cannot_be_resolved() -> None:
    assert parse_user("nginx") is None
    assert parse_user("1000:www") is None


@given(st.text(max_size=40))
def test_any_user_value_parses_or_gives_none(value: str) -> None:
    result = parse_user(value)
    assert result is None or all(0 <= n <= 0xFFFFFFFE for n in result)


def test_linux_runtime_platform_picks_the_linux_agent() -> None:
    assert platform_for(task({"name": "web"}), None, Path("specs")) == "linux"


def test_windows_runtime_platform_picks_the_windows_agent() -> None:
    doc = {
        "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"},
        "containerDefinitions": [{"name": "web"}],
    }
    assert platform_for(parse_task_definition(doc, source="t.json"), None) == "windows"


def test_explicit_platform_wins_over_the_task_definition() -> None:
    assert platform_for(task({"name": "web"}), "windows") == "windows"


def test_credspec_dir_without_runtime_platform_means_windows() -> None:
    doc = {"containerDefinitions": [{"name": "web"}]}
    assert platform_for(parse_task_definition(doc, source="t.json"), None, Path("d")) == "windows"


def test_windows_prepare_without_credspec_dir_is_a_clear_input_error(tmp_path: Path) -> None:
    path = tmp_path / "task.json"
    path.write_text(json.dumps({"containerDefinitions": [{"name": "web"}]}))
    result = CliRunner().invoke(
        cli, ["task", "prepare", str(path), "--task-id", TASK_ID, "--platform", "windows"]
    )
    assert result.exit_code == ExitCode.INVALID
    assert "--credspec-dir" in result.output


def test_linux_cleanup_of_an_unknown_task_needs_no_service(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "task",
            "cleanup",
            "--task-id",
            TASK_ID,
            "--platform",
            "linux",
            "--krb-dir",
            str(tmp_path / "krb"),
            "--socket",
            str(tmp_path / "none.sock"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["known"] is False
