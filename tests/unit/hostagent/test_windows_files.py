"""The Windows agent's files: nothing written or deleted through links, intent recorded
before writing, one task id never prepared from two task definitions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gmsa.cli.main import cli
from gmsa.errors import ExitCode
from gmsa.hostagent.interface import HostAgentError, HostStateError
from gmsa.hostagent.ledger import TaskIdInUseError, ledger_path, read_ledger
from tests.unit.hostagent.specfiles import (
    TASK_ARN,
    TASK_ID,
    agent,
    domainless_spec,
    snapshot,
    task,
    task_document,
    user_files,
)


@pytest.mark.parametrize("linked", [".gmsa", ".gmsa/tasks"])
def test_prepare_refuses_a_ledger_folder_that_is_a_link(
    specdir: Path, outside: Path, linked: str
) -> None:
    refs = user_files(specdir, 2)
    if linked != ".gmsa":
        (specdir / ".gmsa").mkdir()
    target = outside if linked == ".gmsa" else outside / "tasks"
    (specdir / linked).symlink_to(target)
    before, outside_before = snapshot(specdir), snapshot(outside)
    with pytest.raises(HostStateError) as caught:
        agent(specdir).prepare(task(refs, 3), TASK_ID, TASK_ARN)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert caught.value.code == "unsafe-path"
    assert caught.value.where == str(specdir / linked)
    assert snapshot(outside) == outside_before
    assert snapshot(specdir) == before


@pytest.mark.parametrize("linked", [".gmsa", ".gmsa/tasks"])
def test_cleanup_refuses_a_ledger_folder_that_is_a_link(
    specdir: Path, outside: Path, linked: str
) -> None:
    refs = user_files(specdir, 2)
    host = agent(specdir)
    prepared = host.prepare(task(refs, 2), TASK_ID, TASK_ARN)
    # Move the real ledger out and put a link where its folder was: the ledger there
    # names files that look like the task's, but cleanup must not trust it.
    ledger = ledger_path(specdir, TASK_ID)
    (outside / "tasks" / ledger.name).write_bytes(ledger.read_bytes())
    ledger.unlink()
    if linked == ".gmsa":
        (specdir / ".gmsa" / "tasks").rmdir()
        (specdir / ".gmsa").rmdir()
    else:
        (specdir / ".gmsa" / "tasks").rmdir()
    target = outside if linked == ".gmsa" else outside / "tasks"
    (specdir / linked).symlink_to(target)
    before, outside_before = snapshot(specdir), snapshot(outside)
    with pytest.raises(HostStateError) as caught:
        host.cleanup(TASK_ID)
    assert caught.value.code == "unsafe-path"
    assert caught.value.where == str(specdir / linked)
    assert snapshot(outside) == outside_before
    assert snapshot(specdir) == before
    assert all((specdir / c.file).exists() for c in prepared.containers)


def test_ledger_that_is_a_link_is_refused(specdir: Path, outside: Path) -> None:
    refs = user_files(specdir, 1)
    host = agent(specdir)
    host.prepare(task(refs, 1), TASK_ID, TASK_ARN)
    ledger = ledger_path(specdir, TASK_ID)
    (outside / "tasks" / ledger.name).write_bytes(ledger.read_bytes())
    ledger.unlink()
    ledger.symlink_to(outside / "tasks" / ledger.name)
    outside_before = snapshot(outside)
    with pytest.raises(HostStateError) as caught:
        host.cleanup(TASK_ID)
    assert caught.value.where == str(ledger)
    assert snapshot(outside) == outside_before


def test_a_link_at_a_spec_files_name_is_replaced_not_written_through(
    specdir: Path, outside: Path
) -> None:
    refs = user_files(specdir, 1)
    host = agent(specdir)
    name = host.prepare(task(refs, 1), TASK_ID, TASK_ARN).containers[0].file
    host.cleanup(TASK_ID)
    (specdir / name).symlink_to(outside / "tasks" / "precious.json")
    host.prepare(task(refs, 1), TASK_ID, TASK_ARN)
    assert not (specdir / name).is_symlink()
    assert (outside / "tasks" / "precious.json").read_text() == "{}"


def test_cleanup_after_prepare_leaves_the_folder_as_it_was(specdir: Path) -> None:
    refs = user_files(specdir, 3)
    before = snapshot(specdir)
    host = agent(specdir)
    host.prepare(task(refs, 5), TASK_ID, TASK_ARN)
    assert snapshot(specdir) != before
    result = host.cleanup(TASK_ID)
    assert len(result.removed) == 3
    assert snapshot(specdir) == before


def test_the_ledger_lists_the_files_and_the_definition(specdir: Path) -> None:
    refs = user_files(specdir, 2)
    host = agent(specdir)
    names = {c.file for c in host.prepare(task(refs, 2), TASK_ID, TASK_ARN).containers}
    ledger = read_ledger(specdir, TASK_ID)
    assert ledger is not None
    assert {e.name for e in ledger.files} == names
    assert ledger.task_definition == "webapp"


def test_a_task_id_prepared_from_another_definition_is_refused(specdir: Path) -> None:
    refs = user_files(specdir, 2)
    host = agent(specdir)
    host.prepare(task(refs, 2, family="webapp"), TASK_ID, TASK_ARN)
    before = snapshot(specdir)
    with pytest.raises(TaskIdInUseError) as caught:
        host.prepare(task(refs[:1], 1, family="billing"), TASK_ID, TASK_ARN)
    assert caught.value.exit_code == ExitCode.INVALID
    assert "'webapp'" in caught.value.what and "'billing'" in caught.value.what
    assert caught.value.fix is not None and "gmsa task cleanup" in caught.value.fix
    assert snapshot(specdir) == before


def test_the_same_definition_may_prepare_its_task_again(specdir: Path) -> None:
    refs = user_files(specdir, 2)
    host = agent(specdir)
    host.prepare(task(refs, 2), TASK_ID, TASK_ARN)
    result = host.prepare(task(refs[:1], 1), TASK_ID, TASK_ARN)
    ledger = read_ledger(specdir, TASK_ID)
    assert ledger is not None
    assert [e.name for e in ledger.files] == [result.containers[0].file]


def test_a_ledger_from_before_definitions_were_recorded_is_still_cleaned_up(
    specdir: Path,
) -> None:
    refs = user_files(specdir, 1)
    before = snapshot(specdir)
    host = agent(specdir)
    host.prepare(task(refs, 1), TASK_ID, TASK_ARN)
    path = ledger_path(specdir, TASK_ID)
    document = json.loads(path.read_text())
    del document["task_definition"]
    path.write_text(json.dumps(document))
    host.prepare(task(refs, 1, family="other"), TASK_ID, TASK_ARN)
    host.cleanup(TASK_ID)
    assert snapshot(specdir) == before


def test_the_cli_names_the_link_and_exits_3(specdir: Path, outside: Path, tmp_path: Path) -> None:
    refs = user_files(specdir, 1)
    (specdir / ".gmsa").symlink_to(outside)
    taskdef = tmp_path / "taskdef.json"
    taskdef.write_text(json.dumps(task_document(refs, 1)))
    outside_before = snapshot(outside)
    result = CliRunner().invoke(
        cli,
        ["task", "prepare", str(taskdef), "--task-id", TASK_ID, "--credspec-dir", str(specdir)],
    )
    assert result.exit_code == ExitCode.EXTERNAL
    assert str(specdir / ".gmsa") in result.output
    assert "symbolic link" in result.output
    assert "Traceback" not in result.output
    assert snapshot(outside) == outside_before


@pytest.mark.parametrize("mode", ["credentialspec", "credentialspecdomainless"])
def test_a_spec_file_that_is_a_link_is_not_followed(
    specdir: Path, outside: Path, mode: str
) -> None:
    """A link planted at a user's spec name (pointing at a valid spec elsewhere) is
    refused: the agent neither validates nor copies what it points at."""
    (outside / "real.json").write_bytes(domainless_spec("Elsewhere"))
    (specdir / "app.json").symlink_to(outside / "real.json")
    before, outside_before = snapshot(specdir), snapshot(outside)
    with pytest.raises(HostAgentError) as caught:
        agent(specdir).prepare(task([f"{mode}:file://app.json"], 2), TASK_ID, TASK_ARN)
    assert caught.value.exit_code == ExitCode.INVALID
    assert "symbolic link" in caught.value.what
    assert str(specdir / "app.json") in str(caught.value.where)
    assert snapshot(specdir) == before
    assert snapshot(outside) == outside_before


def test_a_spec_in_a_linked_subdirectory_is_not_followed(specdir: Path, outside: Path) -> None:
    (outside / "app.json").write_bytes(domainless_spec("Elsewhere"))
    (specdir / "team").symlink_to(outside)
    with pytest.raises(HostAgentError) as caught:
        agent(specdir).prepare(
            task(["credentialspecdomainless:file://team/app.json"], 1), TASK_ID, TASK_ARN
        )
    assert caught.value.exit_code == ExitCode.INVALID
    assert str(specdir / "team") in str(caught.value.where)


def test_a_spec_in_a_real_subdirectory_is_read(specdir: Path) -> None:
    (specdir / "team").mkdir()
    (specdir / "team" / "app.json").write_bytes(domainless_spec("Team"))
    prepared = agent(specdir).prepare(
        task(["credentialspecdomainless:file://team/app.json"], 1), TASK_ID, TASK_ARN
    )
    assert prepared.containers[0].written
