"""Keytabs Samba exports and ccaches MIT's kinit writes, read by gmsa."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gmsa.kerberos.ccache import read_ccache
from gmsa.kerberos.keytab import default_keytab_principal, read_keytab
from tests.support.samba import ADMIN, HOST_DIRECT, PASSWORD, REALM, DomainLab


@pytest.mark.xdist_group("samba")
def test_samba_exported_keytab_names_the_host(lab: DomainLab) -> None:
    principal = default_keytab_principal(read_keytab(lab.host_keytab))
    assert str(principal) == f"{HOST_DIRECT}$@{REALM}"


@pytest.mark.xdist_group("samba")
def test_mit_ccache_holds_the_tgt_of_its_principal(lab: DomainLab, tmp_path: Path) -> None:
    cache = tmp_path / "cc"
    env = {**os.environ, "KRB5_CONFIG": str(lab.krb5_conf), "KRB5CCNAME": f"FILE:{cache}"}
    subprocess.run(["kinit", ADMIN], input=PASSWORD.encode(), env=env, check=True, timeout=30)
    parsed = read_ccache(cache)
    tgt = parsed.tgt(REALM)
    assert str(parsed.principal) == f"{ADMIN}@{REALM}"
    assert tgt is not None and not tgt.expired()
