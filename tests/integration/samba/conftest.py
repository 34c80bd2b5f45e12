"""The AD tests' real domain: one Samba AD DC for the whole session (see tests/support/samba.py).

Samba's ports are fixed, so every test here carries ``xdist_group("samba")`` and
``scripts/test`` runs pytest with ``--dist loadgroup``: they all land in one
worker, which starts the DC once (about 7 s) and stops it at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gmsa.cli.main import cli
from tests.support.cli import Run
from tests.support.samba import DomainLab, running_dc


@pytest.fixture(scope="session")
def lab() -> Iterator[DomainLab]:
    with running_dc() as domain:
        yield domain


@pytest.fixture
def gmsa(lab: DomainLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run the gmsa CLI in a fresh working directory with the lab password in the
    environment (``--password-env GMSA_TEST_PASSWORD``)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=lab.env(), catch_exceptions=False)

    return run


@pytest.fixture
def lab_dns(lab: DomainLab, monkeypatch: pytest.MonkeyPatch) -> DomainLab:
    """The lab's DNS server for DC discovery, and no DC, KDC or LDAP override from outside."""
    monkeypatch.setenv("GMSA_DNS_SERVER", lab.dns_server)
    for name in ("DOMAIN_CONTROLLER_GMSA", "GMSA_KDC", "GMSA_LDAP_PROTECTION"):
        monkeypatch.delenv(name, raising=False)
    return lab


@pytest.fixture
def admin_args(lab: DomainLab) -> list[str]:
    """Options that reach the lab domain as Administrator (sealed LDAP, Kerberos)."""
    return lab.connection_args()
