"""The ticket service as a systemd service: notify messages on a real datagram socket,
the watchdog, reload, the unit file, JSON logs and a real scrape of its metrics."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gmsa.errors import InvalidInputError
from gmsa.tickets.client import TicketClient
from gmsa.tickets.leases import LeaseStore
from gmsa.tickets.logformat import JsonFormatter
from gmsa.tickets.metrics import ServiceMetrics, parse_listen
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import TicketService
from gmsa.tickets.systemd import Notifier, unit_file, watchdog_interval
from tests.support.directory_double import DirectoryDouble
from tests.support.tickets import spec_for

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[Path, socket.socket]]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(20)
    try:
        yield path, sock
    finally:
        sock.close()


def messages_until(sock: socket.socket, wanted: str, seen: list[str]) -> list[str]:
    """Read datagrams until one holds the line ``wanted``; return everything read."""
    while not any(wanted in m.splitlines() for m in seen):
        seen.append(sock.recv(4096).decode())
    return seen


# --------------------------------------------------------------------------- notify protocol


def test_notifier_sends_key_value_lines_as_one_datagram(
    notify_socket: tuple[Path, socket.socket],
) -> None:
    path, sock = notify_socket
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": str(path)})
    assert notifier.notify(READY=1, STATUS="2 leases")
    assert sock.recv(4096) == b"READY=1\nSTATUS=2 leases"


def test_notifier_reaches_an_abstract_socket() -> None:
    name = f"gmsa-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert Notifier(f"@{name}").notify(WATCHDOG=1)
        assert sock.recv(64) == b"WATCHDOG=1"


def test_without_notify_socket_nothing_is_sent() -> None:
    notifier = Notifier.from_environment({})
    assert not notifier.enabled
    assert not notifier.notify(READY=1)


def test_watchdog_pings_at_half_the_interval_and_only_for_this_process() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "10000000"}) == 5.0
    assert watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "nope"}) is None
    assert watchdog_interval({}) is None


# --------------------------------------------------------------------------- the unit


def test_unit_is_type_notify_with_a_watchdog_and_the_service_command() -> None:
    text = unit_file(executable=Path("/opt/gmsa/bin/gmsa"), metrics_listen="127.0.0.1:9464")
    lines = text.splitlines()
    assert "Type=notify" in lines
    assert "WatchdogSec=60s" in lines
    assert "Restart=on-failure" in lines
    assert "NoNewPrivileges=yes" in lines
    assert "ProtectSystem=strict" in lines
    exec_start = next(line for line in lines if line.startswith("ExecStart="))
    assert exec_start == (
        "ExecStart=/opt/gmsa/bin/gmsa tickets serve --socket "
        "/var/credentials-fetcher/socket/credentials_fetcher.sock --krb-dir "
        "/var/credentials-fetcher/krbdir --metrics-listen 127.0.0.1:9464"
    )
    writable = next(line for line in lines if line.startswith("ReadWritePaths="))
    assert writable.split("=", 1)[1].split() == [
        "/var/credentials-fetcher/krbdir",
        "/var/credentials-fetcher/socket",
    ]


def test_unit_refuses_paths_that_would_break_it() -> None:
    with pytest.raises(InvalidInputError, match="cannot go into a unit file"):
        unit_file(executable=Path("/opt/my gmsa/gmsa"))
    with pytest.raises(InvalidInputError, match="no time to ping"):
        unit_file(watchdog_seconds=1)


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    gmsa = Path(sys.executable).with_name("gmsa")
    unit = tmp_path / "gmsa-tickets.service"
    unit.write_text(unit_file(executable=gmsa))
    if analyze is None:  # no systemd on this machine: the structure tests above still hold
        assert unit.read_text().startswith("[Unit]")
        return
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [line for line in result.stderr.splitlines() if unit.name in line]
    assert result.returncode == 0 and complaints == [], result.stderr


# --------------------------------------------------------------------------- watchdog health


def test_a_stuck_renewal_round_stops_the_watchdog(tmp_path: Path) -> None:
    krb = tmp_path / "krb"
    quick = DirectoryDouble()
    quick.add_gmsa("WebApp01")
    fast = TicketService(LeaseStore(krb), quick)
    fast.start(scheduler=False)
    fast.add_lease([spec_for("WebApp01")])
    fast.stop()
    slow = DirectoryDouble(latency=1.5)
    slow.add_gmsa("WebApp01")
    service = TicketService(LeaseStore(krb), slow)
    assert not service.renewal_loop_healthy(60)  # not started: no loop
    service.start()  # the recovered lease is renewed at once, slowly
    try:
        deadline = time.monotonic() + 20
        while service.renewal_loop_healthy(0.3):  # the round has run for 0.3 s: stuck
            assert time.monotonic() < deadline, "the slow round never counted as stuck"
            time.sleep(0.05)
        assert service.renewal_loop_healthy(60)
        deadline = time.monotonic() + 20
        while not service.renewal_loop_healthy(0.3):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        service.stop()


# --------------------------------------------------------------------------- serve, for real

SERVE = """
import sys
sys.path.insert(0, {repo!r})
from tests.support.directory_double import register_double
register_double()
from gmsa.cli.main import main
sys.argv = ["gmsa", "tickets", "serve", "--socket", {sock!r}, "--krb-dir", {krb!r},
            "--provider", "double", "--metrics-listen", {listen!r}, "--log-format", "json"]
main()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_serve_under_systemd_notifies_pings_reloads_serves_metrics_and_logs_json(
    tmp_path: Path, notify_socket: tuple[Path, socket.socket]
) -> None:
    path, sock = notify_socket
    sock_dir = tmp_path / "s"
    sock_dir.mkdir(mode=0o750)
    cf_sock, krb, port = sock_dir / "cf.sock", tmp_path / "krb", free_port()
    program = SERVE.format(
        repo=str(REPO), sock=str(cf_sock), krb=str(krb), listen=f"127.0.0.1:{port}"
    )
    env = {**os.environ, "NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1000000"}
    env.pop("WATCHDOG_PID", None)
    process = subprocess.Popen(
        [sys.executable, "-c", program], env=env, stderr=subprocess.PIPE, text=True
    )
    seen: list[str] = []
    try:
        messages_until(sock, "READY=1", seen)
        ready = next(m for m in seen if "READY=1" in m.splitlines())
        assert "STATUS=0 leases, 0 tickets, 0 failing" in ready.splitlines()
        assert cf_sock.exists()  # READY comes after the socket is bound
        messages_until(sock, "WATCHDOG=1", seen)

        with TicketClient(cf_sock, timeout=10) as client:
            lease = client.add_lease([spec_for("WebApp01")])
            with pytest.raises(Exception, match="not a lease id"):
                client.delete_lease("../etc")
        metrics = scrape(port)
        assert metrics[("gmsa_tickets_leases", (("kind", "domain-joined"),))] == 1
        assert metrics[("gmsa_tickets_leases", (("kind", "domainless"),))] == 0
        success = (("gmsa", "webapp01"), ("outcome", "success"))
        assert metrics[("gmsa_tickets_acquisitions_total", success)] == 1
        assert metrics[("gmsa_tickets_password_read_seconds_count", success)] == 1
        assert metrics[("gmsa_tickets_kdc_seconds_count", success)] == 1
        assert metrics[("gmsa_tickets_password_reads_total", ())] == 1
        ok = (("code", "OK"), ("method", "AddKerberosLease"))
        assert metrics[("gmsa_tickets_rpc_seconds_count", ok)] == 1
        refused = (("code", "INVALID_ARGUMENT"), ("method", "DeleteKerberosLease"))
        assert metrics[("gmsa_tickets_rpc_seconds_count", refused)] == 1
        expiry = metrics[("gmsa_tickets_soonest_expiry_timestamp_seconds", ())]
        assert time.time() < expiry < time.time() + 11 * 3600
        assert metrics[("gmsa_tickets_failing_tickets", (("gmsa", "webapp01"),))] == 0

        process.send_signal(signal.SIGHUP)
        messages_until(sock, "RELOADING=1", seen)
        after_reload: list[str] = []
        messages_until(sock, "READY=1", after_reload)
        assert (krb / lease.lease_id / "WebApp01" / "krb5cc").exists()  # nothing dropped
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    messages_until(sock, "STOPPING=1", seen)
    assert process.returncode == 0, err
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    added = next(e for e in events if e.get("method") == "AddKerberosLease")
    assert added["outcome"] == "success"
    assert added["lease_id"] == lease.lease_id
    assert added["gmsa"] == ["WebApp01"]
    assert added["dc"] == ["dc1.example.com"]
    assert isinstance(added["duration_ms"], float)
    failed = next(e for e in events if e.get("method") == "DeleteKerberosLease")
    assert (failed["outcome"], failed["code"]) == ("failure", "INVALID_ARGUMENT")
    assert "Passw0rd" not in err


def test_json_log_lines_carry_the_event_fields_and_nothing_else() -> None:
    import logging

    record = logging.LogRecord("gmsa.tickets", logging.INFO, __file__, 1, "x %s", ("y",), None)
    record.__dict__.update({"method": "HealthCheck", "outcome": "success", "password": "no"})
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "x y"
    assert line["method"] == "HealthCheck"
    assert "password" not in line


def test_metrics_listen_address_is_checked() -> None:
    assert parse_listen("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert parse_listen("[::1]:9464") == ("::1", 9464)
    with pytest.raises(InvalidInputError, match="not an address to listen on"):
        parse_listen("9464")


def test_metrics_object_registers_with_the_acquirer(tmp_path: Path) -> None:
    service = TicketService(LeaseStore(tmp_path / "krb"), DirectoryDouble())
    metrics = ServiceMetrics(service)
    assert metrics in service.acquirer.observers
    server = TicketServer(service, tmp_path / "s.sock", interceptors=[metrics.interceptor()])
    assert len(server.interceptors) == 1


def test_the_wheel_carries_the_service_and_its_command(tmp_path: Path) -> None:
    """What `pip install` puts on a host without the source tree: the modules the service
    needs, the generated gRPC code, and the `gmsa` command the unit runs."""
    import zipfile

    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "src", source / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("gmsa-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for module in ("systemd.py", "metrics.py", "server.py", "proto/credentialsfetcher_pb2.py"):
        assert f"gmsa/tickets/{module}" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "gmsa = gmsa.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
