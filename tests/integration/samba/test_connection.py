"""Reaching and authenticating to a real DC: every credential source, every protection, and
the typed errors for what goes wrong (which server, which step, what to check)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gmsa.ad.connection import (
    CacheCredentials,
    ConnectOptions,
    Credentials,
    KeytabCredentials,
    PasswordCredentials,
    Protection,
    connect,
    connected,
)
from gmsa.ad.discovery import DnsConfig
from gmsa.ad.errors import TlsError
from gmsa.errors import ExitCode
from gmsa.kerberos.errors import AuthenticationError, CredentialsInputError, DcUnreachableError
from tests.support.samba import (
    ADMIN,
    DC_NAME,
    DOMAIN,
    GMSA,
    HOST_DIRECT,
    PASSWORD,
    REALM,
    STALE_DC_NAME,
    DomainLab,
)

pytestmark = pytest.mark.xdist_group("samba")


def options(lab: DomainLab, **overrides: object) -> ConnectOptions:
    values: dict[str, object] = {
        "domain": DOMAIN,
        "dns": DnsConfig.parse(lab.dns_server),
        "ca_file": lab.ca_file,
    }
    values.update(overrides)
    return ConnectOptions(**values)  # type: ignore[arg-type]


ADMIN_PASSWORD = PasswordCredentials(ADMIN, PASSWORD)


def identity(lab: DomainLab, credentials: Credentials, **overrides: object) -> str:
    with connected(options(lab, **overrides), credentials) as directory:
        root = directory.read("", ["defaultNamingContext"])
        assert root is not None and root.text("defaultNamingContext") == "DC=example,DC=com"
        return directory.identity


def test_password_gets_a_tgt_and_binds_sealed(lab: DomainLab) -> None:
    assert identity(lab, ADMIN_PASSWORD) == f"{ADMIN}@{REALM}"


def test_host_keytab_binds_sealed_as_the_host(lab: DomainLab) -> None:
    assert identity(lab, KeytabCredentials(lab.host_keytab)) == f"{HOST_DIRECT}$@{REALM}"


def test_keytab_principal_can_be_named(lab: DomainLab) -> None:
    credentials = KeytabCredentials(lab.host_keytab, f"{HOST_DIRECT}$@{REALM}")
    assert identity(lab, credentials) == f"{HOST_DIRECT}$@{REALM}"


def test_ticket_cache_from_mit_kinit_binds_sealed(lab: DomainLab, tmp_path: Path) -> None:
    cache = tmp_path / "krb5cc"
    env = {**os.environ, "KRB5_CONFIG": str(lab.krb5_conf), "KRB5CCNAME": f"FILE:{cache}"}
    subprocess.run(
        ["kinit", f"{ADMIN}@{REALM}"], input=PASSWORD.encode(), env=env, check=True, timeout=30
    )
    assert identity(lab, CacheCredentials(cache)) == f"{ADMIN}@{REALM}"


def test_domain_comes_from_the_ticket_cache_when_not_given(lab: DomainLab, tmp_path: Path) -> None:
    cache = tmp_path / "krb5cc"
    env = {**os.environ, "KRB5_CONFIG": str(lab.krb5_conf), "KRB5CCNAME": f"FILE:{cache}"}
    subprocess.run(["kinit", ADMIN], input=PASSWORD.encode(), env=env, check=True, timeout=30)
    with connected(options(lab, domain=None), CacheCredentials(cache)) as directory:
        assert directory.domain == DOMAIN


def test_keytab_over_ldaps_binds_with_gssapi(lab: DomainLab) -> None:
    credentials = KeytabCredentials(lab.host_keytab)
    assert identity(lab, credentials, protection=Protection.LDAPS) == f"{HOST_DIRECT}$@{REALM}"


def test_password_over_ldaps_uses_a_simple_bind(lab: DomainLab) -> None:
    assert identity(lab, ADMIN_PASSWORD, protection=Protection.LDAPS) == f"{ADMIN}@{DOMAIN}"


def test_allowed_host_reads_the_managed_password_over_the_sealed_connection(
    lab: DomainLab,
) -> None:
    with connected(options(lab), KeytabCredentials(lab.host_keytab)) as directory:
        found = directory.search(
            "DC=example,DC=com", f"(sAMAccountName={GMSA}$)", ["msDS-ManagedPassword"]
        )
    blob = found[0].first("msDS-ManagedPassword")
    assert blob is not None and blob[:2] == b"\x01\x00"


def test_sealed_bind_takes_three_round_trips(lab: DomainLab) -> None:
    with connected(options(lab), ADMIN_PASSWORD) as directory:
        assert directory.bind_round_trips == 3
        directory.read("", ["dnsHostName"])
        assert directory.round_trips == 4


def test_server_can_be_given_instead_of_srv_discovery(lab: DomainLab) -> None:
    with connected(options(lab, server=DC_NAME), ADMIN_PASSWORD) as directory:
        assert directory.server.host == DC_NAME


# ------------------------------------------------------------------ what goes wrong


def test_wrong_password_is_an_authentication_error_naming_the_kdc(lab: DomainLab) -> None:
    with pytest.raises(AuthenticationError) as caught:
        connect(options(lab), PasswordCredentials(ADMIN, "wrong"))
    assert "password or key is wrong" in caught.value.what
    assert caught.value.where == f"{DC_NAME}:88"
    assert caught.value.exit_code is ExitCode.EXTERNAL


def test_wrong_password_over_ldaps_is_refused_by_the_dc(lab: DomainLab) -> None:
    with pytest.raises(AuthenticationError) as caught:
        connect(options(lab, protection=Protection.LDAPS), PasswordCredentials(ADMIN, "wrong"))
    assert "refused the credentials" in caught.value.what


def test_unknown_user_is_an_authentication_error(lab: DomainLab) -> None:
    with pytest.raises(AuthenticationError) as caught:
        connect(options(lab), PasswordCredentials("nobody", PASSWORD))
    assert "does not know the client" in caught.value.what


def test_untrusted_certificate_is_a_tls_error(lab: DomainLab) -> None:
    # the system's CA bundle does not hold the lab's CA
    with pytest.raises(TlsError) as caught:
        connect(options(lab, protection=Protection.LDAPS, ca_file=None), ADMIN_PASSWORD)
    assert "--ca-file" in (caught.value.fix or "")


def test_certificate_for_another_name_is_a_tls_error(lab: DomainLab) -> None:
    with pytest.raises(TlsError) as caught:
        connect(options(lab, protection=Protection.LDAPS, server="localhost"), ADMIN_PASSWORD)
    assert "localhost" in caught.value.what


def test_plain_ldap_is_refused_by_the_dc_with_a_hint(lab: DomainLab) -> None:
    with pytest.raises(AuthenticationError) as caught:
        connect(options(lab, protection=Protection.PLAIN), KeytabCredentials(lab.host_keytab))
    assert "protected connection" in caught.value.what
    assert "--protection sealed" in (caught.value.fix or "")


def test_dc_not_answering_names_the_server_and_the_ports_to_check(lab: DomainLab) -> None:
    with pytest.raises(DcUnreachableError) as caught:
        connect(options(lab, server=STALE_DC_NAME, timeout=1), ADMIN_PASSWORD)
    assert STALE_DC_NAME in caught.value.what
    assert "389" in (caught.value.fix or "") and "88" in (caught.value.fix or "")


def test_kerberos_refuses_an_address_as_server(lab: DomainLab) -> None:
    with pytest.raises(CredentialsInputError) as caught:
        connect(options(lab, server="127.0.0.1"), ADMIN_PASSWORD)
    assert "host name" in caught.value.what


def test_missing_ticket_cache_says_to_run_kinit(lab: DomainLab, tmp_path: Path) -> None:
    with pytest.raises(CredentialsInputError) as caught:
        connect(options(lab), CacheCredentials(tmp_path / "none"))
    assert "kinit" in (caught.value.fix or "")


def test_keytab_without_the_named_principal_is_refused(lab: DomainLab) -> None:
    with pytest.raises(CredentialsInputError) as caught:
        connect(options(lab), KeytabCredentials(lab.host_keytab, f"OTHER$@{REALM}"))
    assert "no keys for OTHER$@EXAMPLE.COM" in caught.value.what
