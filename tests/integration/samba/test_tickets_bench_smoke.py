"""The ticket benchmark's code runs against the test DC (so it cannot rot) and its counts
hold: leases that may reuse a ticket read no password, and a renewal round reads one
password per gMSA whatever the number of leases. Times are never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.tickets_bench import (
    MODES,
    ROUND_GMSAS,
    Mode,
    cold_leases,
    ensure_gmsas,
    gmsa_leases,
    load_run,
    profile_cold_leases,
    renewal_round,
    renewal_round_process,
)

from tests.support.samba import DC_NAME, GMSA, GMSA_DOMAIN_COMPUTERS, REALM, DomainLab

pytestmark = pytest.mark.xdist_group("samba")

REPO = Path(__file__).resolve().parents[3]

NAMES = (GMSA, GMSA_DOMAIN_COMPUTERS)


@pytest.mark.parametrize(("mode", "reads"), [(MODES[0], 2), (MODES[1], 2), (MODES[2], 0)])
def test_lease_latency_run_counts_password_reads(lab: DomainLab, mode: Mode, reads: int) -> None:
    times, counted = gmsa_leases(lab, 2, NAMES, mode)
    assert len(times) == 2
    assert counted == reads


def test_cold_leases_each_read_the_password_and_derive_no_key_again(lab: DomainLab) -> None:
    """Between the cold leases, the floor's own reads and AS exchanges run on their own
    connection: the service counts only its leases' reads; the keys of an unchanged
    password were derived in the warm-up."""
    figures = cold_leases(lab, 4, NAMES)
    assert figures.lease.runs == 4
    assert figures.password_reads == 4
    assert figures.key_derivations == 0


def test_profile_of_cold_leases_lists_the_service_call(lab: DomainLab) -> None:
    assert "add_lease" in profile_cold_leases(lab, 2, NAMES)


def test_load_against_a_running_service_reads_each_password_once(lab: DomainLab) -> None:
    """20 AddKerberosLease calls from 5 clients in 2 processes, against `gmsa tickets
    serve` with its defaults: no error, and one read per gMSA in the reuse window."""
    figures = load_run(lab, 20, 5, NAMES, client_processes=2)
    assert (figures.calls, figures.errors, figures.first_error) == (20, 0, None)
    assert figures.client_processes == 2
    assert figures.read_bound == len(NAMES)
    assert figures.password_reads == len(NAMES)


def test_renewal_round_reads_each_password_once(lab: DomainLab) -> None:
    figures = renewal_round(lab, 20, NAMES)
    assert (figures.renewed, figures.failed) == (20, 0)
    assert figures.password_reads == len(NAMES)
    assert figures.tgt_requests == len(NAMES)


def test_renewal_round_in_its_own_process_reads_each_password_once(lab: DomainLab) -> None:
    ensure_gmsas(lab, ROUND_GMSAS[:3])
    figures = renewal_round_process(9, 3)
    assert (figures.leases, figures.gmsas, figures.renewed, figures.failed) == (9, 3, 9, 0)
    assert figures.password_reads == 3


def test_external_tools_lease_is_a_gmsa_ticket(tmp_path: Path) -> None:
    """The baseline (kinit, ldapsearch -Y GSSAPI, kinit) runs in a private mount namespace
    whose /etc/hosts names the DC, as the benchmark does; the machine's file is untouched."""
    hosts = tmp_path / "hosts"
    hosts.write_text(Path("/etc/hosts").read_text() + f"\n127.0.0.1 {DC_NAME} dc1\n")
    program = (
        "import sys; from pathlib import Path\n"
        "from benchmarks.tickets_bench import external_lease, external_tools_ready\n"
        "from gmsa.kerberos.ccache import read_ccache\n"
        "from tests.support import samba\n"
        "assert external_tools_ready(), 'ldapsearch, kinit or the SASL GSSAPI module missing'\n"
        "with samba.running_dc() as lab:\n"
        f"    cache = external_lease(lab, {GMSA!r}, Path({str(tmp_path / 'lease')!r}))\n"
        "    print(read_ccache(cache).principal)\n"
    )
    result = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount --bind "$0" /etc/hosts && exec "$@"',
            str(hosts),
            sys.executable,
            "-c",
            program,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == f"{GMSA}$@{REALM}"
