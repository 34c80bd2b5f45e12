"""A Linux `task prepare` killed (SIGKILL) at every change it makes to the file system,
against a real ticket service on its unix socket.

The agent runs as its own process (forked from a fresh one) and kills itself just before
its Nth change through the crash-test hook (GMSA_FAULT_KILL_AT_STEP), for every N
until a prepare runs to the end; the ticket service runs on in this process. The
ledger names a lease before the service is asked for it, so after each kill
`task cleanup` (or a new prepare, then cleanup) leaves the service holding no lease
and the krb directory as it was: no lease, ledger, lock or temporary file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gmsa.hostagent.ledger import read_lease_ledger
from gmsa.hostagent.linux import LinuxHostAgent
from gmsa.source.fetcher import SpecFetcher
from gmsa.taskdef.model import TaskDefinition, parse_task_definition
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import TicketService
from tests.support.crash import killed_at
from tests.support.tickets import spec_for
from tests.unit.hostagent.specfiles import TASK_ID, snapshot

GMSAS = ("WebApp01", "WebApp02", "WebApp03")
CONTAINERS = 6


def task_document() -> dict[str, object]:
    return {
        "family": "webapp",
        "runtimePlatform": {"operatingSystemFamily": "LINUX"},
        "containerDefinitions": [
            {
                "name": f"c{i}",
                "image": "app",
                "credentialSpecs": [f"credentialspec:file://{GMSAS[i % len(GMSAS)]}.json"],
            }
            for i in range(CONTAINERS)
        ],
    }


def linux_task() -> TaskDefinition:
    return parse_task_definition(task_document(), source="taskdef.json")


class Host:
    """The krb directory, the specs and the ticket service of one test."""

    def __init__(self, krb_dir: Path, server: TicketServer, service: TicketService) -> None:
        self.krb_dir = krb_dir  # the service's
        self.krb_dir.mkdir(exist_ok=True)
        tmp_path = krb_dir.parent
        self.specdir = tmp_path / "specs"
        self.specdir.mkdir()
        for name in GMSAS:
            (self.specdir / f"{name}.json").write_text(spec_for(name))
        self.taskdef = tmp_path / "taskdef.json"
        self.taskdef.write_text(json.dumps(task_document()))
        self.server = server
        self.service = service

    def agent(self) -> LinuxHostAgent:
        fetcher = SpecFetcher(aws=None, spec_dir=self.specdir)
        return LinuxHostAgent(self.krb_dir, self.server.socket_path, fetcher, timeout=20)

    def leases(self) -> set[str]:
        return {lease.lease_id for lease in self.service.snapshot()[0]}

    def prepare_args(self) -> list[str]:
        return [
            "task",
            "prepare",
            str(self.taskdef),
            "--task-id",
            TASK_ID,
            "--platform",
            "linux",
            "--credspec-dir",
            str(self.specdir),
            "--krb-dir",
            str(self.krb_dir),
            "--socket",
            str(self.server.socket_path),
            "--json",
        ]

    def prepare_killed_at(self, step: int) -> bool:
        """``gmsa task prepare`` in its own process, killed at ``step``; whether it was."""
        return killed_at(step, self.prepare_args())

    def sweep(self, after_kill: Callable[[int], None]) -> int:
        """Kill prepare at step 1, 2, ... until it finishes; ``after_kill`` checks each."""
        step = 1
        while self.prepare_killed_at(step):
            after_kill(step)
            step += 1
        return step


@pytest.fixture
def host(krb_dir: Path, server: TicketServer, service: TicketService) -> Host:
    return Host(krb_dir, server, service)


def test_cleanup_after_a_kill_at_any_step_leaves_no_lease(host: Host) -> None:
    before = snapshot(host.krb_dir)
    orphaned_at: list[int] = []

    def check(step: int) -> None:
        held = host.leases()
        recorded = read_lease_ledger(host.krb_dir, TASK_ID)
        if held and (recorded is None or recorded.lease_id is None):
            # Killed after the service made the lease, before the ledger said it is
            # the task's: only the intent written first names it.
            assert recorded is not None, f"killed at step {step}: a lease nothing names"
            assert held <= set(recorded.pending)
            orphaned_at.append(step)
        result = host.agent().cleanup(TASK_ID)
        assert set(result.leases) == held, f"killed at step {step}"
        assert host.leases() == set(), f"killed at step {step}"
        assert snapshot(host.krb_dir) == before, f"killed at step {step}"

    steps = host.sweep(check)
    assert orphaned_at, "no kill fell between AddKerberosLease and the ledger's last write"
    assert steps > 6
    host.agent().cleanup(TASK_ID)
    assert host.leases() == set()
    assert snapshot(host.krb_dir) == before


def test_prepare_after_a_kill_at_any_step_keeps_only_its_own_lease(host: Host) -> None:
    before = snapshot(host.krb_dir)

    def check(step: int) -> None:
        again = host.agent().prepare(linux_task(), TASK_ID)
        assert host.leases() == {again.lease_id}, f"killed at step {step}"
        recorded = read_lease_ledger(host.krb_dir, TASK_ID)
        assert recorded is not None
        assert (recorded.lease_id, recorded.pending) == (again.lease_id, ())
        host.agent().cleanup(TASK_ID)
        assert host.leases() == set(), f"killed at step {step}"
        assert snapshot(host.krb_dir) == before, f"killed at step {step}"

    host.sweep(check)


def test_a_killed_prepare_over_an_earlier_one_is_cleaned_up_too(host: Host) -> None:
    """The task was prepared; a second prepare (which replaces its lease) is killed
    part-way. Cleanup deletes the first lease and any the second made."""
    before = snapshot(host.krb_dir)
    host.agent().prepare(linux_task(), TASK_ID)

    def check(step: int) -> None:
        assert 1 <= len(host.leases()) <= 2, f"killed at step {step}"
        host.agent().cleanup(TASK_ID)
        assert host.leases() == set(), f"killed at step {step}"
        assert snapshot(host.krb_dir) == before, f"killed at step {step}"
        host.agent().prepare(linux_task(), TASK_ID)

    host.sweep(check)
    assert len(host.leases()) == 1  # the finished prepare replaced the earlier lease
    host.agent().cleanup(TASK_ID)
    assert snapshot(host.krb_dir) == before
