"""Benchmark: the ticket service against the way credentials-fetcher makes a lease.

Both run against the test DC of ``tests/support/samba.py`` (started here if
none runs, on 127.0.0.1), in the same process, in the same run:

**credentials-fetcher's way**, with the tools it shells out to: per lease,
``kinit -k -t HOST_KEYTAB 'HOST01$@EXAMPLE.COM'`` (the host's ticket),
``ldapsearch -Y GSSAPI -N`` for ``msDS-ManagedPassword`` (SASL sealing), the
blob decoded and the keys derived (this project's code, as credentials-fetcher's
own decoder does it in-process), a keytab written from the keys, and
``kinit -k -t GMSA_KEYTAB 'Name$@EXAMPLE.COM'`` into the lease's cache.

**gmsa's way**: ``AddKerberosLease`` over gRPC on a unix socket to a
``TicketService`` with the ``active-directory`` provider, ticket reuse off so
every lease reads the password and asks the KDC, then ``DeleteKerberosLease``.

Then a renewal round: 1,000 leases over 10 gMSAs, ``run_due(force=True)``,
with the password reads counted, the round's wall time and its peak memory.

Run (as root: the external tools need the DC's name, which this sets up in a
private mount namespace with its own /etc/hosts)::

    apt-get install ldap-utils libsasl2-modules-gssapi-mit krb5-user
    python -m benchmarks.tickets_bench            # 30 leases each way, 1,000-lease round
    python -m benchmarks.tickets_bench --json

The 10 gMSAs of the round (Bench01..Bench10, readable by HOST01$) are added to
the test DC when missing.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.support import samba
from tests.support.tickets import spec_for

from gmsa.ad.discovery import DnsConfig
from gmsa.ad.managed_password import decode_managed_password
from gmsa.kerberos.keys import derive_keys
from gmsa.kerberos.keytab import KeytabEntry, encode_keytab
from gmsa.tickets.activedirectory import ActiveDirectoryProvider, DirectorySettings
from gmsa.tickets.client import TicketClient
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.interface import HostKeytab
from gmsa.tickets.leases import LeaseStore
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import TicketService

BENCH_GMSAS = tuple(f"Bench{i:02d}" for i in range(1, 11))
"""The round's 10 gMSAs, each readable by HOST01$."""
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
    wall_s: float
    """Wall time of the round."""
    peak_python_mib: float
    """Peak Python heap growth during the round (tracemalloc)."""
    setup_s: float
    """Time to create the leases (not part of the round)."""


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
        timeout=120,
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
    service = TicketService(LeaseStore(work / "krb"), provider, settings)
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


# --------------------------------------------------------------------------- the round


def renewal_round(lab: samba.DomainLab, leases: int, names: Sequence[str]) -> RoundFigures:
    """``leases`` leases spread over ``names``, then one forced renewal round."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_service(
            lab, Path(tmp), reuse=datetime.timedelta(minutes=10), workers=len(names)
        ) as (service, _client),
    ):
        specs = [spec_for(name) for name in names]
        started = time.perf_counter()
        for index in range(leases):
            service.add_lease([specs[index % len(specs)]])
        setup = time.perf_counter() - started
        before = service.status()["counters"]
        tracemalloc.start()
        started = time.perf_counter()
        report = service.run_due(force=True)
        wall = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        after = service.status()["counters"]
    return RoundFigures(
        leases=leases,
        gmsas=len(names),
        password_reads=after["password_reads"] - before["password_reads"],
        tgt_requests=after["tgt_requests"] - before["tgt_requests"],
        renewed=len(report.renewed),
        wall_s=wall,
        peak_python_mib=peak / (1 << 20),
        setup_s=setup,
    )


def latency(name: str, times: list[float]) -> Latency:
    """Median and p90 of ``times``."""
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return Latency(name, len(ordered), statistics.median(ordered), p90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--leases", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not dc_name_resolves() and not os.environ.get(_NAMESPACE_FLAG) and os.geteuid() == 0:
        _reexec_in_namespace()
    with samba.running_dc() as lab:
        ensure_gmsas(lab, BENCH_GMSAS)
        ours = []
        for mode in MODES:
            times, reads = gmsa_leases(lab, args.runs, BENCH_GMSAS, mode)
            ours.append((latency(mode.name, times), reads))
        theirs: Latency | None = None
        if external_tools_ready():
            theirs = latency(
                "kinit + ldapsearch -Y GSSAPI + kinit (credentials-fetcher's way)",
                external_leases(lab, args.runs, BENCH_GMSAS),
            )
        round_figures = renewal_round(lab, args.leases, BENCH_GMSAS)
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "date": datetime.date.today().isoformat(),
        "samba": subprocess.run(
            ["samba", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    out: dict[str, Any] = {
        "machine": machine,
        "latency": [{**asdict(f), "password_reads": reads} for f, reads in ours],
        "external": asdict(theirs) if theirs else None,
        "ratios": {f.name: theirs.median_ms / f.median_ms for f, _ in ours} if theirs else None,
        "round": asdict(round_figures),
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{machine['samba']}, Python {machine['python']}, {machine['cpus']} CPUs")
    rows = [(f, reads) for f, reads in ours] + ([(theirs, args.runs)] if theirs else [])
    for figure, reads in rows:
        ratio = f"{theirs.median_ms / figure.median_ms:5.1f}x" if theirs else ""
        print(
            f"{figure.name:<66} median {figure.median_ms:6.1f} ms  p90 {figure.p90_ms:6.1f} ms"
            f"  {reads:>3} reads / {figure.runs} leases  {ratio}"
        )
    if theirs is None:
        print(
            "credentials-fetcher's way skipped: install ldap-utils, "
            "libsasl2-modules-gssapi-mit and krb5-user, and run as root"
        )
    r = round_figures
    print(
        f"renewal round: {r.leases} leases over {r.gmsas} gMSAs: {r.password_reads} password "
        f"reads, {r.tgt_requests} TGTs, {r.renewed} caches rewritten in {r.wall_s:.2f} s, "
        f"peak Python heap {r.peak_python_mib:.1f} MiB (process max RSS "
        f"{machine['max_rss_mib']:.0f} MiB; leases made in {r.setup_s:.1f} s)"
    )


if __name__ == "__main__":
    main()
