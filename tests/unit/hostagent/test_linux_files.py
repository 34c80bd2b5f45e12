"""The Linux agent's ledger in the krb directory: never through links, one definition a task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gmsa.errors import ExitCode
from gmsa.hostagent.interface import HostAgentError, HostStateError
from gmsa.hostagent.ledger import TaskIdInUseError, read_lease_ledger
from gmsa.hostagent.linux import LinuxHostAgent
from gmsa.source.fetcher import SpecFetcher
from gmsa.taskdef.model import TaskDefinition, parse_task_definition
from gmsa.tickets.server import TicketServer
from tests.support.tickets import spec_for
from tests.unit.hostagent.specfiles import TASK_ID, snapshot


@pytest.fixture
def specdir(tmp_path: Path) -> Path:
    path = tmp_path / "specs"
    path.mkdir()
    (path / "web.json").write_text(spec_for("WebApp01"))
    return path


def linux_task(family: str = "webapp") -> TaskDefinition:
    doc = {
        "family": family,
        "runtimePlatform": {"operatingSystemFamily": "LINUX"},
        "containerDefinitions": [
            {"name": "web", "credentialSpecs": ["credentialspec:file://web.json"]}
        ],
    }
    return parse_task_definition(doc, source="task.json")


def agent(server: TicketServer, krb_dir: Path, specdir: Path) -> LinuxHostAgent:
    return LinuxHostAgent(
        krb_dir, server.socket_path, SpecFetcher(aws=None, spec_dir=specdir), timeout=20
    )


@pytest.mark.parametrize("linked", [".gmsa", ".gmsa/tasks"])
def test_prepare_refuses_a_ledger_folder_that_is_a_link(
    server: TicketServer, krb_dir: Path, specdir: Path, outside: Path, linked: str
) -> None:
    (krb_dir / ".gmsa").mkdir(parents=True)
    if linked == ".gmsa":
        (krb_dir / ".gmsa").rmdir()
    (krb_dir / linked).symlink_to(outside if linked == ".gmsa" else outside / "tasks")
    before = snapshot(outside)
    with pytest.raises(HostStateError) as caught:
        agent(server, krb_dir, specdir).prepare(linux_task(), TASK_ID)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert caught.value.where == str(krb_dir / linked)
    assert snapshot(outside) == before
    assert [p.name for p in krb_dir.iterdir()] == [".gmsa"]  # no lease was made


def test_cleanup_refuses_a_ledger_folder_that_is_a_link(
    server: TicketServer, krb_dir: Path, specdir: Path, outside: Path
) -> None:
    host = agent(server, krb_dir, specdir)
    lease = host.prepare(linux_task(), TASK_ID).lease_id
    ledger = host.ledger_path(TASK_ID)
    (outside / "tasks" / ledger.name).write_bytes(ledger.read_bytes())
    ledger.unlink()
    (krb_dir / ".gmsa" / "tasks").rmdir()
    (krb_dir / ".gmsa" / "tasks").symlink_to(outside / "tasks")
    before = snapshot(outside)
    with pytest.raises(HostStateError) as caught:
        host.cleanup(TASK_ID)
    assert caught.value.where == str(krb_dir / ".gmsa" / "tasks")
    assert snapshot(outside) == before
    assert lease is not None and (krb_dir / lease).is_dir()  # the lease was not deleted


def test_a_task_id_prepared_from_another_definition_is_refused(
    server: TicketServer, krb_dir: Path, specdir: Path
) -> None:
    host = agent(server, krb_dir, specdir)
    lease = host.prepare(linux_task("webapp"), TASK_ID).lease_id
    with pytest.raises(TaskIdInUseError) as caught:
        host.prepare(linux_task("billing"), TASK_ID)
    assert caught.value.exit_code == ExitCode.INVALID
    recorded = read_lease_ledger(krb_dir, TASK_ID)
    assert recorded is not None
    assert (recorded.lease_id, recorded.task_definition) == (lease, "webapp")
    leases = [p.name for p in krb_dir.iterdir() if not p.name.startswith(".")]
    assert leases == [lease]


def test_prepare_and_cleanup_leave_no_lock_or_ledger(
    server: TicketServer, krb_dir: Path, specdir: Path
) -> None:
    host = agent(server, krb_dir, specdir)
    host.prepare(linux_task(), TASK_ID)
    assert [p.name for p in (krb_dir / ".gmsa" / "tasks").iterdir()] == [f"task_{TASK_ID}.json"]
    assert json.loads(host.ledger_path(TASK_ID).read_text())["task_definition"] == "webapp"
    host.cleanup(TASK_ID)
    assert list((krb_dir / ".gmsa" / "tasks").iterdir()) == []


def test_a_prepare_that_never_reached_the_service_leaves_no_record(
    krb_dir: Path, specdir: Path, tmp_path: Path
) -> None:
    """The lease id is recorded before the service is asked; when the service was never
    reached no lease can exist, so the record goes again."""
    host = LinuxHostAgent(
        krb_dir, tmp_path / "nobody.sock", SpecFetcher(aws=None, spec_dir=specdir), timeout=5
    )
    with pytest.raises(HostAgentError) as caught:
        host.prepare(linux_task(), TASK_ID)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert "could not ask the ticket service" in caught.value.what
    assert read_lease_ledger(krb_dir, TASK_ID) is None
    assert not host.cleanup(TASK_ID).known


def test_a_finished_prepare_records_its_lease_and_nothing_pending(
    server: TicketServer, krb_dir: Path, specdir: Path
) -> None:
    host = agent(server, krb_dir, specdir)
    first = host.prepare(linux_task(), TASK_ID).lease_id
    second = host.prepare(linux_task(), TASK_ID).lease_id
    recorded = read_lease_ledger(krb_dir, TASK_ID)
    assert recorded is not None
    assert (recorded.lease_id, recorded.pending) == (second, ())
    assert first != second
    leases = [p.name for p in krb_dir.iterdir() if not p.name.startswith(".")]
    assert leases == [second]  # the lease it replaced is deleted
    assert host.cleanup(TASK_ID).leases == (second,)
