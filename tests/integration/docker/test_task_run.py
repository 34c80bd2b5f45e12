"""``gmsa task run`` on a real Docker engine: containers run, see the host agent's
additions, and nothing of a run is left afterwards, however it ends.

The host agent here is a test double that returns what a Linux host agent returns
(a read-only bind mount and ``KRB5CCNAME``); the real Linux agent has its own tests.
"""

from __future__ import annotations

import datetime
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from gmsa.hostagent.docker_run import (
    LABEL_TASK_ID,
    DockerEngineError,
    TaskRunInputError,
    connect,
    new_task_id,
    run_task,
)
from gmsa.hostagent.interface import (
    CleanupResult,
    HostAgent,
    Mount,
    PreparedContainer,
    PreparedTask,
)
from gmsa.kerberos.ccache import encode_ccache
from gmsa.kerberos.keys import Key
from gmsa.kerberos.principal import Principal
from gmsa.kerberos.ticket import Ticket
from gmsa.taskdef.model import TaskDefinition, parse_task_definition
from tests.support.directory_double import der_ticket
from tests.support.docker import APP_UID, IMAGE, DockerLab
from tests.unit.cli.test_task_run import container_def, invoke, task_doc, write_task

TICKET_DIR = "/var/credentials-fetcher/krbdir"


TICKET = f"{TICKET_DIR}/krb5cc"


REFERENCE = "credentialspec:file://webapp01.json"


def leftovers(engine: DockerLab, task_id: str) -> list[str]:
    done = engine.cli("ps", "-a", "-q", "--filter", f"label={LABEL_TASK_ID}={task_id}")
    return done.stdout.split()


class FakeLinuxAgent(HostAgent):
    """A double of the Linux host agent: a ticket file in a directory of its own,
    handed over as a read-only mount and KRB5CCNAME; cleanup deletes the directory."""

    def __init__(self, root: Path, ticket: bytes = b"ticket-for-WebApp01\n") -> None:
        self.root = root
        self.ticket = ticket
        self.prepared: list[str] = []
        self.cleaned: list[str] = []

    def ticket_dir(self, task_id: str) -> Path:
        return self.root / task_id

    def prepare(
        self, task_def: TaskDefinition, task_id: str, task_arn: str | None = None
    ) -> PreparedTask:
        directory = self.ticket_dir(task_id)
        directory.mkdir(mode=0o755)
        directory.chmod(0o755)
        (directory / "krb5cc").write_bytes(self.ticket)
        (directory / "krb5cc").chmod(0o644)
        self.prepared.append(task_id)
        containers = tuple(
            PreparedContainer(
                name=use.container,
                reference=use.raw,
                mounts=(Mount(str(directory), TICKET_DIR, True),),
                environment={"KRB5CCNAME": TICKET},
            )
            for use in task_def.credential_spec_uses
        )
        return PreparedTask(task_id=task_id, containers=containers, warnings=())

    def cleanup(self, task_id: str) -> CleanupResult:
        self.cleaned.append(task_id)
        directory = self.ticket_dir(task_id)
        known = directory.exists()
        if known:
            (directory / "krb5cc").unlink()
            directory.rmdir()
        return CleanupResult(task_id=task_id, known=known, removed=(), kept=())


@pytest.fixture
def client(engine: DockerLab) -> docker.DockerClient:
    return connect(engine.url)


def test_trivial_task_runs_prints_its_output_and_leaves_nothing(
    engine: DockerLab, tmp_path: Path
) -> None:
    task_id = new_task_id()
    path = write_task(tmp_path, task_doc(container_def("app", ["echo", "hello from busybox"])))
    result = invoke("task", "run", str(path), "--docker-host", engine.url, "--task-id", task_id)
    assert result.exit_code == 0, result.output
    assert "app | hello from busybox" in result.output
    assert leftovers(engine, task_id) == []


def test_essential_container_exiting_non_zero_gives_exit_1(
    engine: DockerLab, tmp_path: Path
) -> None:
    task_id = new_task_id()
    path = write_task(tmp_path, task_doc(container_def("app", ["sh", "-c", "exit 7"])))
    result = invoke(
        "task", "run", str(path), "--docker-host", engine.url, "--task-id", task_id, "--json"
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["containers"][0]["exit_code"] == 7
    assert leftovers(engine, task_id) == []


def test_non_essential_container_failing_does_not_fail_the_task(
    client: docker.DockerClient, engine: DockerLab
) -> None:
    task_def = parse_task_definition(
        task_doc(
            container_def("main", ["sleep", "1"]),
            container_def("side", ["false"], essential=False),
        ),
        source="task.json",
    )
    result = run_task(client, task_def)
    assert [c.exit_code for c in result.containers] == [0, 1]
    assert result.exit_code == 0
    assert leftovers(engine, result.task_id) == []


def test_an_essential_exit_stops_the_other_containers(
    client: docker.DockerClient, engine: DockerLab
) -> None:
    task_def = parse_task_definition(
        task_doc(
            container_def("main", ["sleep", "1"]),
            container_def(
                "sidecar",
                ["sh", "-c", "trap 'echo stopped; exit 0' TERM; sleep 300 & wait"],
                essential=False,
            ),
        ),
        source="task.json",
    )
    result = run_task(client, task_def)
    assert result.containers[0].exit_code == 0
    assert result.containers[1].exit_code == 0
    assert "stopped" in result.containers[1].logs
    assert leftovers(engine, result.task_id) == []


def test_user_environment_and_hostname_come_from_the_task_definition(
    client: docker.DockerClient,
) -> None:
    task_def = parse_task_definition(
        task_doc(
            container_def(
                "app",
                ["sh", "-c", 'id -u; echo "$GREETING"; cat /etc/hostname'],
                user=str(APP_UID),
                hostname="webapp01",
                environment=[{"name": "GREETING", "value": "hi"}],
            )
        ),
        source="task.json",
    )
    result = run_task(client, task_def)
    assert result.containers[0].logs.split() == [str(APP_UID), "hi", "webapp01"]


def test_entry_point_is_used(client: docker.DockerClient) -> None:
    task_def = parse_task_definition(
        task_doc(
            {"name": "app", "image": IMAGE, "entryPoint": ["echo", "via"], "command": ["entry"]}
        ),
        source="task.json",
    )
    assert run_task(client, task_def).containers[0].logs.strip() == "via entry"


def test_container_sees_the_agents_ticket_read_only_through_krb5ccname(
    client: docker.DockerClient, engine: DockerLab, tmp_path: Path
) -> None:
    agent = FakeLinuxAgent(tmp_path)
    script = (
        'echo "ccache=$KRB5CCNAME"; cat "$KRB5CCNAME"; '
        'if echo x > "$KRB5CCNAME"; then echo WRITABLE; else echo READONLY; fi'
    )
    task_def = parse_task_definition(
        task_doc(
            container_def(
                "app", ["sh", "-c", script], user=str(APP_UID), credentialSpecs=[REFERENCE]
            )
        ),
        source="task.json",
    )
    result = run_task(client, task_def, agent=agent)
    logs = result.containers[0].logs
    assert f"ccache={TICKET}" in logs
    assert "ticket-for-WebApp01" in logs
    assert "READONLY" in logs
    assert "WRITABLE" not in logs
    assert agent.cleaned == [result.task_id]
    assert not agent.ticket_dir(result.task_id).exists()
    assert leftovers(engine, result.task_id) == []


def test_image_klist_reads_the_mounted_ccache_as_a_non_root_user(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    start = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)
    tgs = Principal.krbtgt("EXAMPLE.COM")
    ticket = Ticket(
        client=Principal.for_account("WebApp01", "example.com"),
        server=tgs,
        key=Key(18, bytes(range(32))),
        auth_time=start,
        start_time=start,
        end_time=start + datetime.timedelta(hours=10),
        renew_till=None,
        flags=0,
        ticket=der_ticket("EXAMPLE.COM", tgs, 18, 2, b"\x42" * 64),
    )
    agent = FakeLinuxAgent(tmp_path, encode_ccache([ticket]))
    task_def = parse_task_definition(
        task_doc(container_def("app", ["klist"], user=str(APP_UID), credentialSpecs=[REFERENCE])),
        source="task.json",
    )
    result = run_task(client, task_def, agent=agent)
    assert result.containers[0].exit_code == 0, result.containers[0].logs
    assert f"Ticket cache: FILE:{TICKET}" in result.containers[0].logs
    assert "Default principal: WebApp01$@EXAMPLE.COM" in result.containers[0].logs


def test_read_only_holds_for_root_too(client: docker.DockerClient, tmp_path: Path) -> None:
    agent = FakeLinuxAgent(tmp_path)
    task_def = parse_task_definition(
        task_doc(
            container_def(
                "app", ["sh", "-c", 'echo x >> "$KRB5CCNAME"'], credentialSpecs=[REFERENCE]
            )
        ),
        source="task.json",
    )
    result = run_task(client, task_def, agent=agent)
    assert result.containers[0].exit_code != 0
    assert "Read-only file system" in result.containers[0].logs


def test_failed_start_removes_every_container_and_the_prepared_state(
    client: docker.DockerClient, engine: DockerLab, tmp_path: Path
) -> None:
    agent = FakeLinuxAgent(tmp_path)
    task_id = new_task_id()
    task_def = parse_task_definition(
        task_doc(
            container_def("first", ["sleep", "300"], credentialSpecs=[REFERENCE]),
            {"name": "second", "image": "gmsa-test/not-there:1", "command": ["true"]},
        ),
        source="task.json",
    )
    with pytest.raises(DockerEngineError) as caught:
        run_task(client, task_def, agent=agent, task_id=task_id)
    assert "not on the Docker engine" in caught.value.what
    assert agent.prepared == [task_id]
    assert agent.cleaned == [task_id]
    assert not agent.ticket_dir(task_id).exists()
    assert leftovers(engine, task_id) == []


def test_command_that_cannot_start_removes_everything(
    client: docker.DockerClient, engine: DockerLab, tmp_path: Path
) -> None:
    agent = FakeLinuxAgent(tmp_path)
    task_id = new_task_id()
    task_def = parse_task_definition(
        task_doc(container_def("app", ["/no/such/program"], credentialSpecs=[REFERENCE])),
        source="task.json",
    )
    with pytest.raises(DockerEngineError):
        run_task(client, task_def, agent=agent, task_id=task_id)
    assert agent.cleaned == [task_id]
    assert leftovers(engine, task_id) == []


def test_missing_image_on_the_command_line_exits_3_and_leaves_nothing(
    engine: DockerLab, tmp_path: Path
) -> None:
    task_id = new_task_id()
    doc = task_doc({"name": "app", "image": "gmsa-test/not-there:1", "command": ["true"]})
    path = write_task(tmp_path, doc)
    result = invoke("task", "run", str(path), "--docker-host", engine.url, "--task-id", task_id)
    assert result.exit_code == 3
    assert "gmsa-test/not-there:1" in result.output
    assert "never pulls" in result.output
    assert leftovers(engine, task_id) == []


def test_interrupt_while_waiting_removes_everything(
    client: docker.DockerClient, engine: DockerLab, tmp_path: Path
) -> None:
    agent = FakeLinuxAgent(tmp_path)
    task_id = new_task_id()
    task_def = parse_task_definition(
        task_doc(container_def("app", ["sleep", "300"], credentialSpecs=[REFERENCE])),
        source="task.json",
    )

    def interrupted(seconds: float) -> None:
        assert leftovers(engine, task_id)  # the container is there while the task runs
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_task(client, task_def, agent=agent, task_id=task_id, sleep=interrupted)
    assert agent.cleaned == [task_id]
    assert not agent.ticket_dir(task_id).exists()
    assert leftovers(engine, task_id) == []


def test_container_removed_behind_the_runs_back_is_an_engine_error_and_cleans_up(
    client: docker.DockerClient, engine: DockerLab, tmp_path: Path
) -> None:
    agent = FakeLinuxAgent(tmp_path)
    task_id = new_task_id()
    task_def = parse_task_definition(
        task_doc(container_def("app", ["sleep", "300"], credentialSpecs=[REFERENCE])),
        source="task.json",
    )

    def removed_by_hand(seconds: float) -> None:
        engine.cli("rm", "-f", *leftovers(engine, task_id))

    with pytest.raises(DockerEngineError) as caught:
        run_task(client, task_def, agent=agent, task_id=task_id, sleep=removed_by_hand)
    assert "lost track" in caught.value.what
    assert agent.cleaned == [task_id]
    assert leftovers(engine, task_id) == []


def test_detached_task_keeps_running_until_stopped(engine: DockerLab, tmp_path: Path) -> None:
    task_id = new_task_id()
    path = write_task(tmp_path, task_doc(container_def("app", ["sleep", "300"])))
    started = invoke(
        "task", "run", str(path), "--docker-host", engine.url, "--task-id", task_id, "--detach"
    )
    assert started.exit_code == 0, started.output
    assert len(leftovers(engine, task_id)) == 1
    stopped = invoke(
        "task",
        "stop",
        "--task-id",
        task_id,
        "--docker-host",
        engine.url,
        "--platform",
        "linux",
        "--krb-dir",
        str(tmp_path / "krb"),
        "--socket",
        str(tmp_path / "none.sock"),
        "--json",
    )
    assert stopped.exit_code == 0, stopped.output
    assert json.loads(stopped.stdout)["removed_containers"] == 1
    assert leftovers(engine, task_id) == []


def test_a_task_id_already_running_is_refused(
    client: docker.DockerClient, engine: DockerLab
) -> None:
    task_id = new_task_id()
    task_def = parse_task_definition(
        task_doc(container_def("app", ["sleep", "300"])), source="task.json"
    )
    run_task(client, task_def, task_id=task_id, detach=True)
    try:
        with pytest.raises(TaskRunInputError):
            run_task(client, task_def, task_id=task_id)
        assert len(leftovers(engine, task_id)) == 1
    finally:
        engine.cli("rm", "-f", *leftovers(engine, task_id))


def test_task_with_a_reference_and_no_agent_is_refused_before_anything_runs(
    client: docker.DockerClient, engine: DockerLab
) -> None:
    task_id = new_task_id()
    task_def = parse_task_definition(
        task_doc(container_def("app", ["true"], credentialSpecs=[REFERENCE])), source="t.json"
    )
    with pytest.raises(TaskRunInputError):
        run_task(client, task_def, task_id=task_id)
    assert leftovers(engine, task_id) == []


def test_awsvpc_network_mode_is_invalid_input(engine: DockerLab, tmp_path: Path) -> None:
    path = write_task(tmp_path, task_doc(container_def("app", ["true"]), network="awsvpc"))
    result = invoke("task", "run", str(path), "--docker-host", engine.url)
    assert result.exit_code == 1
    assert "networkMode" in result.output


def test_stop_timeout_is_honoured(client: docker.DockerClient) -> None:
    task_def = parse_task_definition(
        task_doc(
            container_def("main", ["true"]),
            container_def("stubborn", ["sleep", "300"], essential=False, stopTimeout=0),
        ),
        source="task.json",
    )
    result = run_task(client, task_def)
    assert result.containers[1].exit_code == 137  # killed at once: PID 1 ignores SIGTERM


def test_container_without_image_is_invalid_input(engine: DockerLab, tmp_path: Path) -> None:
    path = write_task(tmp_path, task_doc({"name": "app", "command": ["true"]}))
    result = invoke("task", "run", str(path), "--docker-host", engine.url)
    assert result.exit_code == 1
    assert "containerDefinitions[0].image" in result.output


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_to_the_cli_removes_everything_and_exits_130(
    engine: DockerLab, tmp_path: Path, signum: int
) -> None:
    task_id = new_task_id()
    path = write_task(tmp_path, task_doc(container_def("app", ["sleep", "300"])))
    command = [sys.executable, "-m", "gmsa", "task", "run", str(path)]
    process = subprocess.Popen(
        [*command, "--docker-host", engine.url, "--task-id", task_id],
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: a suite started in the background ignores SIGINT, and a
        # child would inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while not running(engine, task_id):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "interrupted" in err
    assert leftovers(engine, task_id) == []


def running(engine: DockerLab, task_id: str) -> bool:
    done = engine.cli(
        "ps", "-q", "--filter", f"label={LABEL_TASK_ID}={task_id}", "--filter", "status=running"
    )
    return bool(done.stdout.split())
