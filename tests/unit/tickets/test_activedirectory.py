"""The active-directory provider's settings and helpers, without a DC."""

from __future__ import annotations

import pytest

from gmsa.ad.connection import Protection
from gmsa.tickets.activedirectory import (
    ActiveDirectoryProvider,
    DirectorySettings,
    escape_dn_value,
    naming_context,
)
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.errors import TicketConfigError
from gmsa.tickets.providers import available_providers, create_provider


def test_environment_names_the_dc_dns_server_and_kdc() -> None:
    settings = DirectorySettings.from_environment(
        {
            "DOMAIN_CONTROLLER_GMSA": "dc1.example.com",
            "GMSA_DNS_SERVER": "10.0.0.10:5353",
            "GMSA_KDC": "kdc.example.com:88",
            "GMSA_LDAP_PROTECTION": "LDAPS",
            "GMSA_LDAP_CA_FILE": "/etc/ssl/ad-ca.pem",
        }
    )
    assert settings.server == "dc1.example.com"
    assert (settings.dns.server, settings.dns.port) == ("10.0.0.10", 5353)
    assert settings.kdc == "kdc.example.com:88"
    assert settings.protection is Protection.LDAPS
    assert str(settings.ca_file) == "/etc/ssl/ad-ca.pem"


def test_empty_environment_means_dns_srv_and_sealed_ldap() -> None:
    settings = DirectorySettings.from_environment({})
    assert settings.server is None and settings.kdc is None and settings.dns.server is None
    assert settings.protection is Protection.SEALED


def test_plain_ldap_is_refused_for_passwords() -> None:
    with pytest.raises(TicketConfigError) as caught:
        DirectorySettings.from_environment({"GMSA_LDAP_PROTECTION": "plain"})
    assert caught.value.where == "GMSA_LDAP_PROTECTION"


def test_dns_server_must_be_an_address() -> None:
    with pytest.raises(TicketConfigError) as caught:
        DirectorySettings.from_environment({"GMSA_DNS_SERVER": "dns.example.com"})
    assert caught.value.where == "GMSA_DNS_SERVER"


def test_provider_is_registered_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOMAIN_CONTROLLER_GMSA", "dc1.example.com")
    provider = create_provider("active-directory", ServiceSettings())
    assert isinstance(provider, ActiveDirectoryProvider)
    assert provider.directory.server == "dc1.example.com"
    assert "active-directory" in available_providers()


def test_naming_context_from_dns_name() -> None:
    assert naming_context("corp.example.com.") == "DC=corp,DC=example,DC=com"


def test_dn_values_are_escaped() -> None:
    assert escape_dn_value("a,b+c") == "a\\,b\\+c"
    assert escape_dn_value(" lead") == "\\ lead"
