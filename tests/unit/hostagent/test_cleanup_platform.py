"""``task cleanup`` without ``--platform``: the agent holding the task's record cleans it up,
and the output says which agent ran and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from gmsa.cli.main import cli
from gmsa.errors import ExitCode
from gmsa.hostagent.ledger import read_lease_ledger
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import TicketService
from tests.support.tickets import spec_for
from tests.unit.hostagent.specfiles import TASK_ARN, TASK_ID, agent, task, user_files


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["task", *map(str, args)])


def as_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    value: dict[str, Any] = json.loads(result.stdout)
    return value


def linux_prepared(server: TicketServer, krb_dir: Path, specdir: Path, tmp_path: Path) -> str:
    """A Linux task prepared with a file:// spec read from --credspec-dir; its lease id."""
    (specdir / "web.json").write_text(spec_for("WebApp01"))
    taskdef = tmp_path / "linux-task.json"
    taskdef.write_text(
        json.dumps(
            {
                "family": "webapp",
                "runtimePlatform": {"operatingSystemFamily": "LINUX"},
                "containerDefinitions": [
                    {"name": "web", "credentialSpecs": ["credentialspec:file://web.json"]}
                ],
            }
        )
    )
    prepared = run(
        "prepare",
        taskdef,
        "--task-id",
        TASK_ID,
        "--credspec-dir",
        specdir,
        "--krb-dir",
        krb_dir,
        "--socket",
        server.socket_path,
        "--json",
    )
    lease: str = as_json(prepared)["lease_id"]
    return lease


def test_a_linux_task_prepared_with_a_credspec_dir_is_cleaned_up_by_the_linux_agent(
    server: TicketServer, service: TicketService, krb_dir: Path, specdir: Path, tmp_path: Path
) -> None:
    """Before, --credspec-dir alone picked the Windows agent, which found nothing and
    left the lease behind."""
    lease = linux_prepared(server, krb_dir, specdir, tmp_path)
    common = ("--task-id", TASK_ID, "--credspec-dir", specdir, "--krb-dir", krb_dir)
    result = as_json(run("cleanup", *common, "--socket", server.socket_path, "--json"))
    assert (result["platform"], result["platform_from"]) == ("linux", "record")
    assert (result["known"], result["lease_id"]) == (True, lease)
    assert service.snapshot() == ((), 0)
    assert read_lease_ledger(krb_dir, TASK_ID) is None


def test_the_text_says_which_agent_ran_and_why(
    server: TicketServer, krb_dir: Path, specdir: Path, tmp_path: Path
) -> None:
    lease = linux_prepared(server, krb_dir, specdir, tmp_path)
    result = run(
        "cleanup", "--task-id", TASK_ID, "--krb-dir", krb_dir, "--socket", server.socket_path
    )
    assert result.exit_code == 0, result.output
    assert f"lease {lease} deleted" in result.output
    assert (
        f"host agent: Linux (it holds the task's record); its records are in {krb_dir}"
        in result.output
    )


def test_a_windows_task_is_cleaned_up_by_the_windows_agent(
    specdir: Path, krb_dir: Path, tmp_path: Path
) -> None:
    agent(specdir).prepare(task(user_files(specdir, 2), 3), TASK_ID, TASK_ARN)
    common = ("--task-id", TASK_ID, "--credspec-dir", specdir, "--krb-dir", krb_dir)
    result = as_json(run("cleanup", *common, "--json"))
    assert (result["platform"], result["platform_from"]) == ("windows", "record")
    assert len(result["removed"]) == 2


def test_without_a_record_or_credspec_dir_the_guess_is_said_with_what_to_give(
    krb_dir: Path, tmp_path: Path
) -> None:
    args = ("--task-id", TASK_ID, "--krb-dir", krb_dir, "--socket", tmp_path / "none.sock")
    result = as_json(run("cleanup", *args, "--json"))
    assert (result["known"], result["platform"], result["platform_from"]) == (
        False,
        "linux",
        "host",
    )
    text = run("cleanup", *args)
    assert "nothing recorded for this task" in text.output
    assert "host agent: Linux (this host's system; no agent holds a record" in text.output
    assert "give --credspec-dir" in text.output


def test_without_a_record_a_credspec_dir_still_means_windows(specdir: Path, krb_dir: Path) -> None:
    args = ("--task-id", TASK_ID, "--credspec-dir", specdir, "--krb-dir", krb_dir, "--json")
    result = as_json(run("cleanup", *args))
    assert (result["known"], result["platform"], result["platform_from"]) == (
        False,
        "windows",
        "credspec-dir",
    )


def test_an_explicit_platform_wins_and_is_said(
    server: TicketServer, krb_dir: Path, specdir: Path, tmp_path: Path
) -> None:
    linux_prepared(server, krb_dir, specdir, tmp_path)
    args = ("--task-id", TASK_ID, "--credspec-dir", specdir, "--krb-dir", krb_dir, "--json")
    result = as_json(run("cleanup", *args, "--platform", "windows"))
    assert (result["known"], result["platform"], result["platform_from"]) == (
        False,
        "windows",
        "option",
    )
    assert read_lease_ledger(krb_dir, TASK_ID) is not None  # the Linux task is untouched


def test_records_of_both_agents_are_a_usage_error_naming_platform(
    server: TicketServer, krb_dir: Path, specdir: Path, tmp_path: Path
) -> None:
    linux_prepared(server, krb_dir, specdir, tmp_path)
    agent(specdir).prepare(task(user_files(specdir, 1), 1), TASK_ID, TASK_ARN)
    args = ("--task-id", TASK_ID, "--credspec-dir", specdir, "--krb-dir", krb_dir)
    result = run("cleanup", *args)
    assert result.exit_code == ExitCode.USAGE
    assert "--platform" in result.output
    assert read_lease_ledger(krb_dir, TASK_ID) is not None
