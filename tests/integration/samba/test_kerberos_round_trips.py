"""KDC round trips of the AS exchange against the test DC: the encrypted timestamp goes in
the first AS-REQ whenever the key is known without asking the KDC for the salt."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gmsa.ad.discovery import DnsConfig
from gmsa.kerberos import kdc as kdc_module
from gmsa.kerberos.errors import AuthenticationError
from gmsa.kerberos.kdc import KdcClient, KdcEndpoint, forget_salts
from gmsa.kerberos.keys import AES128, AES256, Key, derive_keys
from gmsa.kerberos.keytab import keys_for, read_keytab
from gmsa.kerberos.principal import Principal
from gmsa.tickets.activedirectory import ActiveDirectoryProvider, DirectorySettings
from gmsa.tickets.interface import GmsaAccount, HostKeytab
from tests.support.samba import (
    ADMIN,
    DC_NAME,
    DOMAIN,
    GMSA,
    HOST_DIRECT,
    PASSWORD,
    PLAIN_USER,
    REALM,
    DomainLab,
)

pytestmark = pytest.mark.xdist_group("samba")


@pytest.fixture(autouse=True)
def no_learnt_salts() -> Iterator[None]:
    forget_salts()
    yield
    forget_salts()


def kdc() -> KdcClient:
    return KdcClient([KdcEndpoint(DC_NAME, "127.0.0.1")])


def gmsa_keys(lab: DomainLab) -> list[Key]:
    provider = ActiveDirectoryProvider(DirectorySettings(dns=DnsConfig.parse(lab.dns_server)))
    account = GmsaAccount(GMSA, DOMAIN)
    try:
        password = provider.read_password(account, HostKeytab(lab.host_keytab))
    finally:
        provider.close()
    keys = derive_keys(password.current, account=account.name, realm=account.realm)
    return [Key(k.enctype, k.value) for k in (keys.aes256, keys.aes128)]


def test_tgt_with_derived_gmsa_keys_takes_one_round_trip(lab: DomainLab) -> None:
    client = kdc()
    ticket = client.tgt_with_keys(Principal((f"{GMSA}$",), REALM), gmsa_keys(lab))
    assert client.round_trips == 1
    assert str(ticket.client) == f"{GMSA}$@{REALM}" and ticket.is_tgt


def test_keys_derived_from_a_password_derive_only_the_key_the_exchange_uses(
    lab: DomainLab,
) -> None:
    provider = ActiveDirectoryProvider(DirectorySettings(dns=DnsConfig.parse(lab.dns_server)))
    account = GmsaAccount(GMSA, DOMAIN)
    try:
        password = provider.read_password(account, HostKeytab(lab.host_keytab))
    finally:
        provider.close()
    keys = derive_keys(password.current, account=account.name, realm=account.realm)
    assert keys.derived == ()
    client = kdc()
    ticket = client.tgt_with_keys(keys.principal, keys)
    assert ticket.is_tgt and client.round_trips == 1
    assert keys.derived == (AES256,)  # one PBKDF2, not two (nor the NT hash)


def test_tgt_with_the_host_keytab_takes_one_round_trip(lab: DomainLab) -> None:
    entries = read_keytab(lab.host_keytab)
    principal = Principal((f"{HOST_DIRECT}$",), REALM)
    client = kdc()
    client.tgt_with_keys(principal, keys_for(entries, principal))
    assert client.round_trips == 1


def test_aes128_only_keys_are_accepted_in_one_round_trip(lab: DomainLab) -> None:
    aes128 = [k for k in gmsa_keys(lab) if k.enctype == AES128]
    client = kdc()
    ticket = client.tgt_with_keys(Principal((f"{GMSA}$",), REALM), aes128)
    assert client.round_trips == 1
    assert ticket.is_tgt


def test_password_learns_the_salt_once_then_takes_one_round_trip(lab: DomainLab) -> None:
    principal = Principal((ADMIN,), REALM)
    first, second = kdc(), kdc()
    first.tgt_with_password(principal, PASSWORD)
    second.tgt_with_password(principal, PASSWORD)
    assert (first.round_trips, second.round_trips) == (2, 1)


def test_wrong_keys_fail_after_one_timestamp_not_two(lab: DomainLab) -> None:
    wrong = [Key(k.enctype, bytes(len(k.value))) for k in gmsa_keys(lab)]
    client = kdc()
    with pytest.raises(AuthenticationError) as caught:
        client.tgt_with_keys(Principal((f"{GMSA}$",), REALM), wrong)
    assert "password or key is wrong" in caught.value.what
    # The refusal carries the KDC's hints; they name the same key, so it is not sent again
    # (a second bad attempt for the account).
    assert client.round_trips == 1


def test_wrong_password_with_a_learnt_salt_is_reported(lab: DomainLab) -> None:
    principal = Principal((PLAIN_USER,), REALM)  # not the other tests' Administrator
    kdc().tgt_with_password(principal, PASSWORD)
    client = kdc()
    with pytest.raises(AuthenticationError):
        client.tgt_with_password(principal, "not-" + PASSWORD)
    assert client.round_trips == 1


def test_a_stale_learnt_salt_falls_back_to_the_kdc_hints(lab: DomainLab) -> None:
    principal = Principal((PLAIN_USER,), REALM)
    kdc_module._remember_salt(principal, (AES256, b"EXAMPLE.COMsomeone-else", None))
    client = kdc()
    ticket = client.tgt_with_password(principal, PASSWORD)
    assert ticket.is_tgt
    assert client.round_trips == 2  # refused, then the key salted as the KDC's hints say
    again = kdc()
    again.tgt_with_password(principal, PASSWORD)
    assert again.round_trips == 1
