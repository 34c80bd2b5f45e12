"""The ticket benchmark's code runs against the test DC (so it cannot rot) and its counts
hold: leases that may reuse a ticket read no password, and a renewal round reads one
password per gMSA whatever the number of leases. Times are never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.tickets_bench import MODES, Mode, gmsa_leases, renewal_round

from tests.support.samba import DC_NAME, GMSA, GMSA_DOMAIN_COMPUTERS, REALM, DomainLab

pytestmark = pytest.mark.xdist_group("samba")

REPO = Path(__file__).resolve().parents[3]

NAMES = (GMSA, GMSA_DOMAIN_COMPUTERS)


@pytest.mark.parametrize(("mode", "reads"), [(MODES[0], 2), (MODES[1], 2), (MODES[2], 0)])
def test_lease_latency_run_counts_password_reads(lab: DomainLab, mode: Mode, reads: int) -> None:
    times, counted = gmsa_leases(lab, 2, NAMES, mode)
    assert len(times) == 2
    assert counted == reads


def test_renewal_round_reads_each_password_once(lab: DomainLab) -> None:
    figures = renewal_round(lab, 20, NAMES)
    assert figures.renewed == 20
    assert figures.password_reads == len(NAMES)
    assert figures.tgt_requests == len(NAMES)


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
