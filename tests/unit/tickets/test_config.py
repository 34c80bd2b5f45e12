"""The service's JSON settings: every key optional, every mistake named by its JSON path."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from gmsa.tickets.config import ServiceSettings, load_settings, settings_from
from gmsa.tickets.errors import TicketConfigError
from gmsa.tickets.interface import DEFAULT_KEYTAB, HostKeytab
from gmsa.tickets.leases import Owner
from gmsa.tickets.providers import available_providers, create_provider, register_provider
from tests.support.directory_double import DirectoryDouble


def test_no_file_means_the_defaults() -> None:
    settings = load_settings(None)
    assert settings == ServiceSettings()
    assert settings.host_identity == HostKeytab(DEFAULT_KEYTAB, None)
    assert settings.lease_ttl is None


def test_every_setting_is_read(tmp_path: Path) -> None:
    path = tmp_path / "tickets.json"
    path.write_text(
        """{
          "keytab": "/etc/gmsa/host.keytab", "principal": "HOST01$@EXAMPLE.COM",
          "lease_ttl_seconds": 86400, "renew_fraction": 0.6, "renew_margin_seconds": 1800,
          "retry_base_seconds": 10, "retry_max_seconds": 300, "ticket_reuse_seconds": 0,
          "renewal_workers": 2, "rpc_workers": 8,
          "ccache_owner": {"uid": 1000, "gid": 1000},
          "account_owners": {"WebApp01": {"uid": 1001, "gid": 1002}}
        }"""
    )
    settings = load_settings(path)
    assert settings.host_identity == HostKeytab(
        Path("/etc/gmsa/host.keytab"), "HOST01$@EXAMPLE.COM"
    )
    assert settings.lease_ttl == datetime.timedelta(days=1)
    assert settings.policy.fraction == 0.6
    assert settings.policy.margin == datetime.timedelta(minutes=30)
    assert settings.policy.retry_base == datetime.timedelta(seconds=10)
    assert settings.ticket_reuse == datetime.timedelta(0)
    assert (settings.renewal_workers, settings.rpc_workers) == (2, 8)
    assert settings.owner_for(("webapp01",)) == Owner(1001, 1002)
    assert settings.owner_for(("WebApp02",)) == Owner(1000, 1000)


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"lease_ttl": 5}, "$.lease_ttl"),
        ({"lease_ttl_seconds": "1d"}, "$.lease_ttl_seconds"),
        ({"lease_ttl_seconds": 5}, "$.lease_ttl_seconds"),
        ({"renew_fraction": 1.5}, "$.renew_fraction"),
        ({"renewal_workers": 0}, "$.renewal_workers"),
        ({"keytab": ""}, "$.keytab"),
        ({"ccache_owner": {"uid": 1}}, "$.ccache_owner"),
        ({"ccache_owner": {"uid": -1, "gid": 1}}, "$.ccache_owner.uid"),
        (
            {"account_owners": {"WebApp01": {"uid": 1, "gid": True}}},
            "$.account_owners.WebApp01.gid",
        ),
        ({"account_owners": []}, "$.account_owners"),
    ],
)
def test_mistakes_name_their_json_path(document: dict[str, Any], path: str) -> None:
    with pytest.raises(TicketConfigError) as caught:
        settings_from(document, source="tickets.json")
    assert caught.value.where == f"tickets.json: {path}"


def test_the_configuration_must_be_an_object() -> None:
    with pytest.raises(TicketConfigError, match="JSON object"):
        settings_from([], source="tickets.json")


def test_a_registered_provider_is_built_with_the_settings() -> None:
    seen: list[ServiceSettings] = []

    def factory(settings: ServiceSettings) -> DirectoryDouble:
        seen.append(settings)
        return DirectoryDouble()

    register_provider("test-config-double", factory)
    settings = ServiceSettings()
    assert isinstance(create_provider("test-config-double", settings), DirectoryDouble)
    assert seen == [settings]
    assert "test-config-double" in available_providers()


def test_an_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(TicketConfigError) as caught:
        create_provider("nope", ServiceSettings())
    assert "active-directory" in str(caught.value.fix)
