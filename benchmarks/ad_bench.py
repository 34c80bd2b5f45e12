"""Benchmark: ``gmsa spec new`` and a full ``gmsa doctor`` against a real (Samba) DC.

Both run in-process through the same library calls the CLI makes, against the
test DC of ``tests/support/samba.py`` (started here if none runs, on
127.0.0.1). Each measured run does everything from scratch: DNS SRV lookup,
Kerberos AS and TGS exchanges, the sealed SASL GSSAPI bind, the searches, and
(for doctor) the port probes. LDAP and KDC round trips are counted in the
connection layer. Run::

    python -m benchmarks.ad_bench                 # 30 runs of each
    python -m benchmarks.ad_bench --json          # the figures as JSON
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.support import samba

from gmsa.ad.connection import (
    ConnectOptions,
    Credentials,
    KeytabCredentials,
    PasswordCredentials,
    Protection,
    connected,
)
from gmsa.ad.discovery import DnsConfig
from gmsa.ad.doctor import DoctorRequest, run_doctor
from gmsa.ad.specgen import AccountRequest, generate
from gmsa.credspec.render import render

ALL_GMSAS = (
    samba.GMSA,
    samba.GMSA_DOMAIN_COMPUTERS,
    samba.GMSA_DISABLED,
    samba.GMSA_USER_CONFLICT,
    samba.GMSA_GROUP_CONFLICT,
    samba.GMSA_NO_TRUST,
    samba.GMSA_WITH_SPNS,
)


@dataclass(frozen=True)
class Figure:
    """One measured operation."""

    name: str
    runs: int
    median_ms: float
    p90_ms: float
    ldap_round_trips: int
    kdc_round_trips: int | None
    checks: int | None = None


def _options(lab: samba.DomainLab, protection: Protection = Protection.SEALED) -> ConnectOptions:
    return ConnectOptions(
        domain=samba.DOMAIN,
        dns=DnsConfig.parse(lab.dns_server),
        protection=protection,
        ca_file=lab.ca_file,
    )


def spec_new_once(lab: samba.DomainLab, credentials: Credentials) -> tuple[int, int]:
    """One ``gmsa spec new WebApp01 --host HOST01$``: (LDAP, KDC) round trips."""
    with connected(_options(lab), credentials) as directory:
        made = generate(directory, AccountRequest.parse(samba.GMSA), host=samba.HOST_DIRECT)
        render(made.spec)
        return directory.round_trips, directory.kdc_round_trips


def doctor_once(
    lab: samba.DomainLab, credentials: Credentials, accounts: tuple[str, ...]
) -> tuple[int, int]:
    """One full doctor run (network checks included): (LDAP round trips, checks)."""
    request = DoctorRequest(
        _options(lab), credentials, accounts=accounts, host=samba.HOST_NESTED, network=True
    )
    report = run_doctor(request)
    return report.round_trips, len(report.checks)


def bind_once(
    lab: samba.DomainLab, credentials: Credentials, protection: Protection
) -> tuple[int, int]:
    """Connect and authenticate only: (LDAP, KDC) round trips of the bind."""
    with connected(_options(lab, protection), credentials) as directory:
        return directory.bind_round_trips, directory.kdc_round_trips


def _measure(
    name: str, runs: int, once: Callable[[], tuple[int, int]], *, checks: bool = False
) -> Figure:
    once()  # warm-up (imports, first connections)
    times: list[float] = []
    result = (0, 0)
    for _ in range(runs):
        started = time.perf_counter()
        result = once()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    if checks:
        return Figure(name, runs, statistics.median(times), p90, result[0], None, result[1])
    return Figure(name, runs, statistics.median(times), p90, result[0], result[1])


def run(lab: samba.DomainLab, runs: int) -> list[Figure]:
    """Every figure of the report."""
    admin = PasswordCredentials(samba.ADMIN, samba.PASSWORD)
    host = KeytabCredentials(lab.host_keytab)
    figures = [
        _measure("spec new (password, sealed)", runs, lambda: spec_new_once(lab, admin)),
        _measure("spec new (host keytab, sealed)", runs, lambda: spec_new_once(lab, host)),
        _measure(
            "doctor, 1 gMSA (password, sealed)",
            runs,
            lambda: doctor_once(lab, admin, (samba.GMSA,)),
            checks=True,
        ),
        _measure(
            f"doctor, {len(ALL_GMSAS)} gMSAs (password, sealed)",
            runs,
            lambda: doctor_once(lab, admin, ALL_GMSAS),
            checks=True,
        ),
    ]
    for label, credentials, protection in (
        ("bind only: password, sealed", admin, Protection.SEALED),
        ("bind only: password, LDAPS simple", admin, Protection.LDAPS),
        ("bind only: keytab, LDAPS GSSAPI", host, Protection.LDAPS),
    ):
        figures.append(
            _measure(
                label,
                runs,
                lambda c=credentials, p=protection: bind_once(lab, c, p),
            )
        )
    return figures


def cli_once(lab: samba.DomainLab) -> float:
    """Wall time of one ``gmsa spec new`` process, interpreter start included."""
    gmsa = Path(sys.executable).with_name("gmsa")
    started = time.perf_counter()
    subprocess.run(
        [str(gmsa), "spec", "new", samba.GMSA, "--out", "-", *lab.connection_args()],
        env={**os.environ, **lab.env()},
        check=True,
        capture_output=True,
    )
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with samba.running_dc() as lab:
        figures = run(lab, args.runs)
        cli = statistics.median(cli_once(lab) for _ in range(5))
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "samba": subprocess.run(
            ["samba", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
    }
    if args.json:
        out: dict[str, Any] = {
            "machine": machine,
            "figures": [asdict(f) for f in figures],
            "cli_spec_new_ms": cli,
        }
        print(json.dumps(out, indent=2))
        return
    print(f"{machine['samba']}, Python {machine['python']}, {machine['cpus']} CPUs")
    print(f"{'operation':<42} {'median':>8} {'p90':>8} {'LDAP':>5} {'KDC':>4} {'checks':>6}")
    for f in figures:
        checks = "" if f.checks is None else str(f.checks)
        kdc = "" if f.kdc_round_trips is None else str(f.kdc_round_trips)
        print(
            f"{f.name:<42} {f.median_ms:>6.1f}ms {f.p90_ms:>6.1f}ms "
            f"{f.ldap_round_trips:>5} {kdc:>4} {checks:>6}"
        )
    print(f"{'gmsa spec new as a process (median of 5)':<42} {cli:>6.1f}ms")


if __name__ == "__main__":
    main()
