"""Benchmark: the ticket service against the way credentials-fetcher makes a lease.

Everything runs against the test DC of ``tests/support/samba.py`` (started here if
none runs, on 127.0.0.1), in one run:

**Cold leases and the DC's floor.** A lease that must read the password (ticket
reuse off, the sealed connection kept): ``AddKerberosLease`` over gRPC on a unix
socket. Interleaved with it, the floor no lease can go below: one
``msDS-ManagedPassword`` search on an already-open sealed connection and one AS
exchange for the gMSA with keys derived beforehand, each timed alone. The service's
own timing of its password read and AS exchange splits each lease into the DC's
part and the rest (gRPC, spec, keys, ticket cache, files).

**credentials-fetcher's way**, with the tools it shells out to: per lease,
``kinit -k -t HOST_KEYTAB 'HOST01$@EXAMPLE.COM'`` (the host's ticket),
``ldapsearch -Y GSSAPI -N`` for ``msDS-ManagedPassword`` (SASL sealing), the
blob decoded and the keys derived (this project's code, as credentials-fetcher's
own decoder does it in-process), a keytab written from the keys, and
``kinit -k -t GMSA_KEYTAB 'Name$@EXAMPLE.COM'`` into the lease's cache.

**gmsa's other set-ups**: every lease from scratch (a new connection each), and the
default settings (a ticket obtained in the last 60 s is shared).

**Load**: ``gmsa tickets serve`` started as its own process with default settings;
1,000 ``AddKerberosLease`` calls from 50 concurrent gRPC clients (each its own
channel and connection, in several client processes) over 10 gMSAs: errors, p50
and p99 latency, the service's password reads and its peak RSS.

**Renewal round**: 10,000 leases over 100 gMSAs made in a process of their own, then
one forced round (``run_due(force=True)``): password reads, wall time, peak RSS.

Run (as root: the external tools need the DC's name, which this sets up in a
private mount namespace with its own /etc/hosts)::

    apt-get install ldap-utils libsasl2-modules-gssapi-mit krb5-user
    python -m benchmarks.tickets_bench            # the figures of docs/benchmarks.md
    python -m benchmarks.tickets_bench --json
    python -m benchmarks.tickets_bench --profile 50   # where a cold lease's time goes

The gMSAs (Bench01..Bench100, readable by HOST01$) are added to the test DC when
missing.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import datetime
import io
import json
import math
import os
import platform
import pstats
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import grpc
from tests.support import samba
from tests.support.tickets import serve_env, spec_for, start_serve

from gmsa.ad.discovery import DnsConfig
from gmsa.ad.managed_password import decode_managed_password
from gmsa.domainless import DomainlessUser
from gmsa.kerberos.keys import derive_keys
from gmsa.kerberos.keytab import KeytabEntry, encode_keytab
from gmsa.tickets.activedirectory import ActiveDirectoryProvider, DirectorySettings
from gmsa.tickets.client import TicketClient
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.interface import GmsaAccount, HostKeytab
from gmsa.tickets.leases import Lease, LeaseStore
from gmsa.tickets.proto import credentialsfetcher_pb2 as pb
from gmsa.tickets.proto import credentialsfetcher_pb2_grpc as pb_grpc
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import LeaseResult, TicketService

REPO = Path(__file__).resolve().parents[1]
BENCH_GMSAS = tuple(f"Bench{i:02d}" for i in range(1, 11))
"""The 10 gMSAs of the latency runs and the load, each readable by HOST01$."""
ROUND_GMSAS = tuple(f"Bench{i:02d}" for i in range(1, 101))
"""The 100 gMSAs of the big renewal round (Bench01..Bench99, Bench100); the first 10 are
:data:`BENCH_GMSAS`."""
_NAMESPACE_FLAG = "GMSA_BENCH_IN_NAMESPACE"

_ADD_GMSAS = r"""
import json, sys
import ldb
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_pack
from samba.param import LoadParm
from samba.samdb import SamDB

smb_conf, reader, names = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
lp = LoadParm()
lp.load(smb_conf)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
base = str(db.domain_dn())
realm = lp.get("realm").lower()
found = db.search(base, expression=f"(sAMAccountName={reader})", attrs=["objectSid"])
sid = db.schema_format_value("objectSid", found[0]["objectSid"][0]).decode()
domain_sid = security.dom_sid(db.get_domain_sid())
sd = security.descriptor.from_sddl(f"O:BAD:(A;;0xf01ff;;;{sid})", domain_sid)
for name in names:
    if db.search(base, expression=f"(sAMAccountName={name}$)", attrs=["dn"]):
        continue
    db.add({
        "dn": f"CN={name},CN=Managed Service Accounts,{base}",
        "objectClass": "msDS-GroupManagedServiceAccount",
        "sAMAccountName": f"{name}$",
        "dNSHostName": f"{name.lower()}.{realm}",
        "msDS-ManagedPasswordInterval": "30",
        "msDS-SupportedEncryptionTypes": "28",
        "msDS-GroupMSAMembership": ndr_pack(sd),
        "userAccountControl": "4096",
    })
"""


@dataclass(frozen=True)
class Latency:
    """Per-lease latencies of one way of making leases."""

    name: str
    """Which way."""
    runs: int
    """Leases made."""
    median_ms: float
    """Median wall time per lease."""
    p90_ms: float
    """90th percentile."""
    p99_ms: float
    """99th percentile (nearest rank)."""


@dataclass(frozen=True)
class ColdFigures:
    """Cold leases on a kept connection, and the DC's floor measured between them."""

    lease: Latency
    """``AddKerberosLease`` round trips, client side."""
    floor_read_ms: float
    """Median msDS-ManagedPassword search on an open sealed connection, timed alone."""
    floor_as_ms: float
    """Median AS exchange for the gMSA with keys derived beforehand, timed alone."""
    floor_ms: float
    """Median of read + AS exchange, sample by sample: the least a cold lease can cost."""
    service_read_ms: float
    """Median of the service's own timing of its password read during the leases."""
    service_as_ms: float
    """Median of the service's own timing of its AS exchange during the leases."""
    rest_ms: float
    """Median of each lease's time minus its read and AS exchange: gRPC, the spec, the
    keys, the ticket cache and the lease's files."""
    grpc_ms: float
    """Median of each lease's time minus the service's own work for it: the gRPC round
    trip on the unix socket, both ends."""
    files_ms: float
    """Median time to write a new lease's files (staging directory, cache, metadata,
    rename)."""
    ratio_to_floor: float
    """Median lease over the floor (the target is at most 1.3)."""
    password_reads: int
    """Password reads the service made during the measured leases (one per lease)."""
    key_derivations: int
    """Passwords whose keys the service derived (PBKDF2) during the measured leases."""


@dataclass(frozen=True)
class LoadFigures:
    """Many concurrent AddKerberosLease calls against a running ``gmsa tickets serve``."""

    calls: int
    """Calls made."""
    clients: int
    """Concurrent gRPC clients, each with its own channel and connection."""
    client_processes: int
    """Processes the clients ran in."""
    gmsas: int
    """Distinct gMSAs the calls named."""
    errors: int
    """Calls that failed."""
    first_error: str | None
    """The first failure's status and message, if any."""
    p50_ms: float
    """Median latency of a call, client side."""
    p99_ms: float
    """99th percentile latency (nearest rank)."""
    max_ms: float
    """Slowest call."""
    first_wave_max_ms: float
    """Slowest of each client's first call: those start together on a fresh service and
    wait for the 10 tickets to be obtained (the cold wave)."""
    after_first_p50_ms: float
    """Median of the calls after each client's first."""
    after_first_p99_ms: float
    """99th percentile of the calls after each client's first."""
    wall_s: float
    """From the first call's start to the last call's end."""
    password_reads: int
    """Password reads the service made (its counter)."""
    read_bound: int
    """At most one read per gMSA per reuse window: gMSAs x windows the run spanned."""
    service_rss_start_mib: float
    """The service's RSS once it answered its first HealthCheck."""
    service_peak_rss_mib: float
    """The service's peak RSS (VmHWM) at the end of the run."""
    service_cpu_ms_per_call: float
    """CPU time (user and system) the service used during the run, per call."""


@dataclass(frozen=True)
class RoundFigures:
    """One forced renewal round over many leases."""

    leases: int
    """Leases renewed."""
    gmsas: int
    """Distinct gMSAs among them."""
    password_reads: int
    """msDS-ManagedPassword reads the round made."""
    tgt_requests: int
    """TGTs the round asked for."""
    renewed: int
    """Ticket caches rewritten."""
    failed: int
    """Tickets that could not be renewed."""
    wall_s: float
    """Wall time of the round."""
    setup_s: float
    """Time to create the leases (not part of the round)."""
    rss_before_mib: float
    """The process's RSS with every lease made, before the round."""
    peak_rss_mib: float
    """The process's peak RSS during the round (VmHWM, reset before it)."""


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (``fraction`` 0.99 for p99)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def latency(name: str, times: Sequence[float]) -> Latency:
    """Median, p90 and p99 of ``times``."""
    return Latency(
        name,
        len(times),
        statistics.median(times),
        percentile(times, 0.9),
        percentile(times, 0.99),
    )


def _proc_status_mib(pid: int | str, key: str) -> float:
    """``VmRSS`` or ``VmHWM`` of a process, in MiB (0 where /proc does not say)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _reset_peak_rss() -> None:
    """Start this process's VmHWM again from its current RSS (Linux ``clear_refs`` 5)."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


# --------------------------------------------------------------------------- the DC


def ensure_gmsas(lab: samba.DomainLab, names: Sequence[str]) -> None:
    """Add the gMSAs that are missing (readable by HOST01$) to the running test DC."""
    subprocess.run(
        [
            samba.SYSTEM_PYTHON,
            "-c",
            _ADD_GMSAS,
            str(lab.directory / "etc" / "smb.conf"),
            f"{samba.HOST_DIRECT}$",
            json.dumps(list(names)),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )


def dc_name_resolves() -> bool:
    """Whether the system resolver (which ldapsearch uses) knows the DC's name."""
    try:
        return any(i[4][0] == "127.0.0.1" for i in socket.getaddrinfo(samba.DC_NAME, 389))
    except OSError:
        return False


def external_tools_ready() -> bool:
    """ldapsearch, kinit and the GSSAPI SASL module, and the DC's name resolving."""
    tools = all(shutil.which(t) for t in ("ldapsearch", "kinit"))
    module = any(Path(p).exists() for p in _sasl_gssapi_modules())
    return tools and module and dc_name_resolves()


def _sasl_gssapi_modules() -> list[str]:
    found: list[str] = []
    for root in ("/usr/lib", "/usr/lib64"):
        base = Path(root)
        if base.exists():
            found += [str(p) for p in base.glob("**/sasl2/libgssapiv2.so*")]
    return found


def _reexec_in_namespace() -> None:
    """Run this benchmark again in a mount namespace whose /etc/hosts names the DC."""
    hosts = Path(tempfile.mkdtemp(prefix="gmsa-bench-")) / "hosts"
    hosts.write_text(
        Path("/etc/hosts").read_text() + f"\n127.0.0.1 {samba.DC_NAME} dc1\n", encoding="utf-8"
    )
    os.environ[_NAMESPACE_FLAG] = "1"
    script = 'mount --bind "$0" /etc/hosts && exec "$@"'
    os.execvp(
        "unshare",
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            str(hosts),
            sys.executable,
            "-m",
            "benchmarks.tickets_bench",
            *sys.argv[1:],
        ],
    )


# --------------------------------------------------------------------------- gmsa's way


class _TimedStore(LeaseStore):
    """The lease store, timing each new lease's files (ms)."""

    created_ms: list[float]

    def create(self, lease: Lease, ccaches: Mapping[GmsaAccount, bytes]) -> tuple[Path, ...]:
        started = time.perf_counter()
        try:
            return super().create(lease, ccaches)
        finally:
            self.created_ms.append((time.perf_counter() - started) * 1000)


class _TimedService(TicketService):
    """The service, timing each AddKerberosLease's own work (ms), without gRPC."""

    added_ms: list[float]

    def add_lease(
        self,
        credspecs: Sequence[str],
        user: DomainlessUser | None = None,
        *,
        lease_id: str | None = None,
    ) -> LeaseResult:
        started = time.perf_counter()
        try:
            return super().add_lease(credspecs, user, lease_id=lease_id)
        finally:
            self.added_ms.append((time.perf_counter() - started) * 1000)


@contextmanager
def running_service(
    lab: samba.DomainLab,
    work: Path,
    *,
    reuse: datetime.timedelta,
    workers: int = 4,
    connection_max_age: float = 300.0,
) -> Iterator[tuple[TicketService, TicketClient]]:
    """The ticket service with the active-directory provider, served on a unix socket."""
    settings = ServiceSettings(
        host_identity=HostKeytab(lab.host_keytab),
        ticket_reuse=reuse,
        renewal_workers=workers,
    )
    provider = ActiveDirectoryProvider(
        DirectorySettings(
            dns=DnsConfig.parse(lab.dns_server), connection_max_age=connection_max_age
        )
    )
    store = _TimedStore(work / "krb")
    store.created_ms = []
    service = _TimedService(store, provider, settings)
    service.added_ms = []
    service.start(scheduler=False)
    sockets = work / "socket"
    sockets.mkdir(mode=0o750, exist_ok=True)
    server = TicketServer(service, sockets / "cf.sock", workers=8)
    server.start()
    try:
        with TicketClient(server.socket_path, timeout=60) as client:
            yield service, client
    finally:
        server.stop(grace=0)
        service.stop()
        provider.close()


@dataclass(frozen=True)
class Mode:
    """How gmsa's service is set up for a latency run."""

    name: str
    """Shown in the report."""
    reuse: datetime.timedelta
    """``ticket_reuse_seconds``: 0 makes every lease read the password and ask the KDC."""
    connection_max_age: float
    """0 makes every read connect, get a host TGT and bind again."""


MODES = (
    Mode("gmsa, every lease from scratch (new LDAP connection)", datetime.timedelta(0), 0.0),
    Mode("gmsa, every lease reads the password (kept connection)", datetime.timedelta(0), 300.0),
    Mode("gmsa, default settings (ticket reuse 60 s)", datetime.timedelta(seconds=60), 300.0),
)


def gmsa_leases(
    lab: samba.DomainLab, runs: int, names: Sequence[str], mode: Mode = MODES[1]
) -> tuple[list[float], int]:
    """Milliseconds per AddKerberosLease (gRPC round trip included), and password reads."""
    times: list[float] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_service(
            lab, Path(tmp), reuse=mode.reuse, connection_max_age=mode.connection_max_age
        ) as (service, client),
    ):
        for name in names:  # warm-up: imports, first connection, (with reuse) a ticket each
            client.delete_lease(client.add_lease([spec_for(name)]).lease_id)
        before = service.acquirer.counters.password_reads
        for index in range(runs):
            spec = spec_for(names[index % len(names)])
            started = time.perf_counter()
            reply = client.add_lease([spec])
            times.append((time.perf_counter() - started) * 1000)
            client.delete_lease(reply.lease_id)
        reads = service.acquirer.counters.password_reads - before
    return times, reads


# --------------------------------------------------------------------------- the external tools


def _run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {result.stderr.strip()[:300]}")
    return result.stdout


_BLOB = re.compile(r"^msDS-ManagedPassword:: (\S+)$", re.MULTILINE | re.IGNORECASE)


def external_lease(lab: samba.DomainLab, name: str, lease_dir: Path) -> Path:
    """One lease made as credentials-fetcher makes it; returns the ticket cache."""
    lease_dir.mkdir(parents=True)
    host_cache = lease_dir / "host.cc"
    env = {**os.environ, "KRB5_CONFIG": str(lab.krb5_conf), "KRB5CCNAME": f"FILE:{host_cache}"}
    _run(["kinit", "-k", "-t", str(lab.host_keytab), f"{samba.HOST_DIRECT}$@{samba.REALM}"], env)
    out = _run(
        [
            "ldapsearch",
            "-LLL",
            "-Q",
            "-Y",
            "GSSAPI",
            "-N",
            "-H",
            f"ldap://{samba.DC_NAME}",
            "-b",
            "DC=example,DC=com",
            "-o",
            "ldif-wrap=no",
            f"(sAMAccountName={name}$)",
            "msDS-ManagedPassword",
        ],
        env,
    )
    match = _BLOB.search(out)
    if match is None:
        raise RuntimeError(f"ldapsearch returned no msDS-ManagedPassword for {name}$")
    password = decode_managed_password(base64.b64decode(match.group(1)))
    keys = derive_keys(password.current, account=name, realm=samba.REALM)
    keytab = lease_dir / "gmsa.keytab"
    keytab.write_bytes(
        encode_keytab([KeytabEntry(keys.principal, k) for k in (keys.aes256, keys.aes128)])
    )
    cache = lease_dir / name / "krb5cc"
    cache.parent.mkdir()
    env["KRB5CCNAME"] = f"FILE:{cache}"
    _run(["kinit", "-k", "-t", str(keytab), f"{name}$@{samba.REALM}"], env)
    return cache


def external_leases(lab: samba.DomainLab, runs: int, names: Sequence[str]) -> list[float]:
    """Milliseconds per lease made with kinit, ldapsearch and kinit."""
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        external_lease(lab, names[0], Path(tmp) / "warm-up")
        for index in range(runs):
            started = time.perf_counter()
            external_lease(lab, names[index % len(names)], Path(tmp) / str(index))
            times.append((time.perf_counter() - started) * 1000)
    return times


# --------------------------------------------------------------------------- cold leases


@dataclass
class _StepTimes:
    """The service's own timing of each password read and AS exchange (an acquirer
    observer, as the metrics are)."""

    reads: list[float] = field(default_factory=list)
    tgts: list[float] = field(default_factory=list)

    def password_read(self, account: GmsaAccount, seconds: float, ok: bool) -> None:
        self.reads.append(seconds * 1000)

    def tgt_request(self, account: GmsaAccount, seconds: float, ok: bool) -> None:
        self.tgts.append(seconds * 1000)

    def acquisition(self, account: GmsaAccount, ok: bool) -> None:
        pass


def cold_leases(lab: samba.DomainLab, runs: int, names: Sequence[str]) -> ColdFigures:
    """Cold leases (ticket reuse off, the sealed connection kept) and, sample by sample in
    between, the DC's floor: a password read on an open sealed connection of its own and
    an AS exchange with keys derived beforehand, each timed alone. The order alternates."""
    identity = HostKeytab(lab.host_keytab)
    accounts = [GmsaAccount(name, samba.DOMAIN) for name in names]
    floor = ActiveDirectoryProvider(
        DirectorySettings(dns=DnsConfig.parse(lab.dns_server), connection_max_age=3600.0)
    )
    leases: list[float] = []
    reads: list[float] = []
    exchanges: list[float] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_service(lab, Path(tmp), reuse=datetime.timedelta(0)) as (service, client),
    ):
        try:
            keys = {}
            for account in accounts:  # warm-up: connections, imports, each gMSA's keys
                password = floor.read_password(account, identity)
                keys[account.name] = derive_keys(
                    password.current, account=account.name, realm=account.realm
                )
                floor.get_tgt(account, keys[account.name])
                client.delete_lease(client.add_lease([spec_for(account.name)]).lease_id)
            steps = _StepTimes()
            service.acquirer.observers.append(steps)
            assert isinstance(service, _TimedService) and isinstance(service.store, _TimedStore)
            service.added_ms.clear()
            service.store.created_ms.clear()
            counters = service.acquirer.counters
            before = (counters.password_reads, counters.key_derivations)
            for index in range(runs):
                account = accounts[index % len(accounts)]
                spec = spec_for(account.name)

                def lease() -> None:
                    started = time.perf_counter()
                    reply = client.add_lease([spec])  # noqa: B023 (called in this iteration)
                    leases.append((time.perf_counter() - started) * 1000)
                    client.delete_lease(reply.lease_id)

                def dc_floor() -> None:
                    started = time.perf_counter()
                    floor.read_password(account, identity)  # noqa: B023
                    read_done = time.perf_counter()
                    floor.get_tgt(account, keys[account.name])  # noqa: B023
                    reads.append((read_done - started) * 1000)
                    exchanges.append((time.perf_counter() - read_done) * 1000)

                for step in (lease, dc_floor) if index % 2 else (dc_floor, lease):
                    step()
            counted = (counters.password_reads - before[0], counters.key_derivations - before[1])
            added, created = list(service.added_ms), list(service.store.created_ms)
        finally:
            floor.close()
    floors = [r + e for r, e in zip(reads, exchanges, strict=True)]
    rest = [t - r - e for t, r, e in zip(leases, steps.reads, steps.tgts, strict=True)]
    cold = latency("gmsa, cold lease (password read per lease, kept sealed connection)", leases)
    return ColdFigures(
        lease=cold,
        floor_read_ms=statistics.median(reads),
        floor_as_ms=statistics.median(exchanges),
        floor_ms=statistics.median(floors),
        service_read_ms=statistics.median(steps.reads),
        service_as_ms=statistics.median(steps.tgts),
        rest_ms=statistics.median(rest),
        grpc_ms=statistics.median(t - a for t, a in zip(leases, added, strict=True)),
        files_ms=statistics.median(created),
        ratio_to_floor=cold.median_ms / statistics.median(floors),
        password_reads=counted[0],
        key_derivations=counted[1],
    )


def profile_cold_leases(lab: samba.DomainLab, runs: int, names: Sequence[str]) -> str:
    """cProfile of ``runs`` cold leases made in-process (the service's work without gRPC),
    the functions that take the most time, cumulative."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_service(lab, Path(tmp), reuse=datetime.timedelta(0)) as (service, _client),
    ):
        specs = [spec_for(name) for name in names]
        for spec in specs:
            service.delete_lease(service.add_lease([spec]).lease_id)
        profile = cProfile.Profile()
        for index in range(runs):
            profile.enable()
            result = service.add_lease([specs[index % len(specs)]])
            profile.disable()
            service.delete_lease(result.lease_id)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
    return out.getvalue()


# --------------------------------------------------------------------------- load


@contextmanager
def serve_process(lab: samba.DomainLab, work: Path) -> Iterator[tuple[int, Path]]:
    """``gmsa tickets serve`` as its own process with default settings (the host keytab
    given in its configuration file, JSON log lines); yields its pid and socket once it
    answers."""
    sock = work / "socket" / "cf.sock"
    config = work / "serve.json"
    config.write_text(json.dumps({"keytab": str(lab.host_keytab)}), encoding="utf-8")
    process = start_serve(
        sock,
        work / "krb",
        config,
        serve_env(lab.dns_server),
        work / "serve.log",
        "--log-format",
        "json",
    )
    try:
        yield process.pid, sock
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def load_client(job: dict[str, Any]) -> dict[str, Any]:
    """One client process of the load run: ``threads`` clients, each with its own channel
    (and connection), each making ``calls`` AddKerberosLease calls one after the other, all
    starting at ``start_at``. Latencies as ``(call number, ms)``; errors as
    ``STATUS: message``."""
    names: list[str] = job["names"]
    specs = [spec_for(name) for name in names]
    target = f"unix:{job['socket']}"
    latencies: list[tuple[int, float]] = []
    errors: list[str] = []
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        channel = grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        grpc.channel_ready_future(channel).result(timeout=30)
        stub = pb_grpc.CredentialsFetcherServiceStub(channel)
        mine: list[tuple[int, float]] = []
        failed: list[str] = []
        time.sleep(max(0.0, job["start_at"] - time.time()))
        first = time.time()
        for call in range(job["calls"]):
            request = pb.CreateKerberosLeaseRequest(
                credspec_contents=[specs[(number + call) % len(specs)]]
            )
            started = time.perf_counter()
            try:
                stub.AddKerberosLease(request, timeout=120)
            except grpc.RpcError as exc:
                failed.append(f"{exc.code().name}: {exc.details()}")
            mine.append((call, (time.perf_counter() - started) * 1000))
        last = time.time()
        channel.close()
        with lock:
            latencies.extend(mine)
            errors.extend(failed)
            spans.append((first, last))

    threads = [
        threading.Thread(target=client, args=(job["first_client"] + i,))
        for i in range(job["threads"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies_ms": latencies, "errors": errors, "spans": spans}


def load_run(
    lab: samba.DomainLab,
    calls: int,
    clients: int,
    names: Sequence[str],
    *,
    client_processes: int = 5,
) -> LoadFigures:
    """``calls`` AddKerberosLease calls from ``clients`` concurrent gRPC clients (spread
    over ``client_processes`` processes) over ``names``, against ``gmsa tickets serve``."""
    processes = max(1, min(client_processes, clients))
    per_client = calls // clients
    with tempfile.TemporaryDirectory() as tmp, serve_process(lab, Path(tmp)) as (pid, sock):
        rss_start = _proc_status_mib(pid, "VmRSS")
        cpu_start = _cpu_seconds(pid)
        start_at = time.time() + 3.0  # every client connected and waiting by then
        children = []
        first = 0
        for index in range(processes):
            threads = clients // processes + (1 if index < clients % processes else 0)
            job = {
                "socket": str(sock),
                "threads": threads,
                "calls": per_client,
                "names": list(names),
                "first_client": first,
                "start_at": start_at,
            }
            first += threads
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.tickets_bench", "--load-client"],
                    cwd=REPO,
                    env={**os.environ, "PYTHONPATH": str(REPO)},
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
            assert children[-1].stdin is not None
            children[-1].stdin.write(json.dumps(job))
            children[-1].stdin.close()
        results = []
        for child in children:
            assert child.stdout is not None
            results.append(json.loads(child.stdout.read()))
            child.wait(60)
        cpu = _cpu_seconds(pid) - cpu_start
        with TicketClient(sock, timeout=60) as admin:
            reads = int(admin.status()["counters"]["password_reads"])
        peak = _proc_status_mib(pid, "VmHWM")
    calls_made = [(int(n), float(t)) for r in results for n, t in r["latencies_ms"]]
    latencies = [t for _, t in calls_made]
    later = [t for n, t in calls_made if n > 0] or latencies
    errors = [e for r in results for e in r["errors"]]
    spans = [s for r in results for s in r["spans"]]
    wall = max(s[1] for s in spans) - min(s[0] for s in spans)
    windows = math.ceil(max(wall, 1e-9) / ServiceSettings().ticket_reuse.total_seconds())
    return LoadFigures(
        calls=len(latencies),
        clients=clients,
        client_processes=processes,
        gmsas=len(names),
        errors=len(errors),
        first_error=errors[0] if errors else None,
        p50_ms=statistics.median(latencies),
        p99_ms=percentile(latencies, 0.99),
        max_ms=max(latencies),
        first_wave_max_ms=max(t for n, t in calls_made if n == 0),
        after_first_p50_ms=statistics.median(later),
        after_first_p99_ms=percentile(later, 0.99),
        wall_s=wall,
        password_reads=reads,
        read_bound=len(names) * windows,
        service_rss_start_mib=rss_start,
        service_peak_rss_mib=peak,
        service_cpu_ms_per_call=cpu * 1000 / max(1, len(latencies)),
    )


# --------------------------------------------------------------------------- the round


def renewal_round(lab: samba.DomainLab, leases: int, names: Sequence[str]) -> RoundFigures:
    """``leases`` leases spread over ``names``, then one forced renewal round."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_service(
            lab, Path(tmp), reuse=datetime.timedelta(minutes=10), workers=min(len(names), 10)
        ) as (service, _client),
    ):
        specs = [spec_for(name) for name in names]
        started = time.perf_counter()
        for index in range(leases):
            service.add_lease([specs[index % len(specs)]])
        setup = time.perf_counter() - started
        before = service.status()["counters"]
        rss_before = _proc_status_mib("self", "VmRSS")
        _reset_peak_rss()
        started = time.perf_counter()
        report = service.run_due(force=True)
        wall = time.perf_counter() - started
        peak = _proc_status_mib("self", "VmHWM")
        after = service.status()["counters"]
    return RoundFigures(
        leases=leases,
        gmsas=len(names),
        password_reads=after["password_reads"] - before["password_reads"],
        tgt_requests=after["tgt_requests"] - before["tgt_requests"],
        renewed=len(report.renewed),
        failed=len(report.failed),
        wall_s=wall,
        setup_s=setup,
        rss_before_mib=rss_before,
        peak_rss_mib=peak,
    )


def renewal_round_process(leases: int, gmsas: int) -> RoundFigures:
    """:func:`renewal_round` in a process of its own, so its memory is its own."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.tickets_bench",
            "--round-child",
            "--leases",
            str(leases),
            "--round-gmsas",
            str(gmsas),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the renewal round failed: {result.stderr[-2000:]}")
    return RoundFigures(**json.loads(result.stdout))


# --------------------------------------------------------------------------- main


def _machine() -> dict[str, Any]:
    load_average = os.getloadavg()
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "date": datetime.date.today().isoformat(),
        "samba": subprocess.run(
            ["samba", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "load_average_before": round(load_average[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="leases per way")
    parser.add_argument("--leases", type=int, default=10000, help="leases of the round")
    parser.add_argument("--round-gmsas", type=int, default=100, help="gMSAs of the round")
    parser.add_argument("--load-calls", type=int, default=1000)
    parser.add_argument("--load-clients", type=int, default=50)
    parser.add_argument("--load-processes", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile N leases")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--load-client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--round-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_client:
        print(json.dumps(load_client(json.loads(sys.stdin.read()))))
        return
    if args.round_child:
        with samba.running_dc() as lab:
            figures = renewal_round(lab, args.leases, ROUND_GMSAS[: args.round_gmsas])
        print(json.dumps(asdict(figures)))
        return
    if not dc_name_resolves() and not os.environ.get(_NAMESPACE_FLAG) and os.geteuid() == 0:
        _reexec_in_namespace()
    machine = _machine()
    with samba.running_dc() as lab:
        ensure_gmsas(lab, ROUND_GMSAS[: max(args.round_gmsas, len(BENCH_GMSAS))])
        if args.profile:
            print(profile_cold_leases(lab, args.profile, BENCH_GMSAS))
            return
        cold = cold_leases(lab, args.runs, BENCH_GMSAS)
        others = []
        for mode in (MODES[0], MODES[2]):
            times, reads = gmsa_leases(lab, args.runs, BENCH_GMSAS, mode)
            others.append((latency(mode.name, times), reads))
        theirs: Latency | None = None
        if external_tools_ready():
            theirs = latency(
                "kinit + ldapsearch -Y GSSAPI + kinit (credentials-fetcher's way)",
                external_leases(lab, args.runs, BENCH_GMSAS),
            )
        load = load_run(
            lab,
            args.load_calls,
            args.load_clients,
            BENCH_GMSAS,
            client_processes=args.load_processes,
        )
        round_figures = renewal_round_process(args.leases, args.round_gmsas)
    machine["load_average_after"] = round(os.getloadavg()[0], 2)
    rows = [(cold.lease, cold.password_reads), *others]
    out: dict[str, Any] = {
        "machine": machine,
        "cold": asdict(cold),
        "latency": [{**asdict(f), "password_reads": reads} for f, reads in rows],
        "external": asdict(theirs) if theirs else None,
        "ratios": {f.name: theirs.median_ms / f.median_ms for f, _ in rows} if theirs else None,
        "floor_vs_external": theirs.median_ms / cold.floor_ms if theirs else None,
        "load": asdict(load),
        "round": asdict(round_figures),
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(
        f"{machine['samba']}, Python {machine['python']}, {machine['cpus']} CPUs, "
        f"load {machine['load_average_before']} -> {machine['load_average_after']}"
    )
    print(
        f"DC floor: password read {cold.floor_read_ms:.1f} ms + AS exchange "
        f"{cold.floor_as_ms:.1f} ms = {cold.floor_ms:.1f} ms (median of the sums)"
    )
    print(
        f"cold lease {cold.lease.median_ms:.1f} ms = {cold.ratio_to_floor:.2f}x the floor; "
        f"inside the service: read {cold.service_read_ms:.1f} ms, AS {cold.service_as_ms:.1f} "
        f"ms, the rest {cold.rest_ms:.1f} ms (of which gRPC {cold.grpc_ms:.1f} ms, lease files "
        f"{cold.files_ms:.1f} ms); {cold.key_derivations} key derivations"
    )
    for figure, reads in [*rows, *([(theirs, args.runs)] if theirs else [])]:
        ratio = f"{theirs.median_ms / figure.median_ms:5.1f}x" if theirs else ""
        print(
            f"{figure.name:<70} median {figure.median_ms:6.1f} ms  p90 {figure.p90_ms:6.1f} ms"
            f"  {reads:>3} reads / {figure.runs} leases  {ratio}"
        )
    if theirs is None:
        print(
            "credentials-fetcher's way skipped: install ldap-utils, "
            "libsasl2-modules-gssapi-mit and krb5-user, and run as root"
        )
    else:
        print(
            f"best possible cold lease against credentials-fetcher's way: "
            f"{theirs.median_ms / cold.floor_ms:.1f}x (its median over the DC's floor)"
        )
    ld = load
    print(
        f"load: {ld.calls} calls, {ld.clients} clients in {ld.client_processes} processes, "
        f"{ld.gmsas} gMSAs: {ld.errors} errors, p50 {ld.p50_ms:.1f} ms, p99 {ld.p99_ms:.1f} "
        f"ms, max {ld.max_ms:.1f} ms (first wave max {ld.first_wave_max_ms:.1f} ms; after it "
        f"p50 {ld.after_first_p50_ms:.1f} ms, p99 {ld.after_first_p99_ms:.1f} ms), "
        f"{ld.wall_s:.2f} s; {ld.password_reads} password reads (bound {ld.read_bound}); "
        f"service RSS {ld.service_rss_start_mib:.0f} -> peak {ld.service_peak_rss_mib:.0f} MiB, "
        f"{ld.service_cpu_ms_per_call:.2f} ms CPU per call"
    )
    r = round_figures
    print(
        f"renewal round: {r.leases} leases over {r.gmsas} gMSAs: {r.password_reads} password "
        f"reads, {r.tgt_requests} TGTs, {r.renewed} caches rewritten, {r.failed} failed, in "
        f"{r.wall_s:.2f} s; RSS {r.rss_before_mib:.0f} MiB before, peak {r.peak_rss_mib:.0f} "
        f"MiB (leases made in {r.setup_s:.1f} s)"
    )


if __name__ == "__main__":
    main()
