"""Finding DCs through the test DC's own DNS server: SRV records and host names."""

from __future__ import annotations

import pytest

from gmsa.ad.discovery import (
    DnsConfig,
    find_domain_controllers,
    resolve_address,
)
from gmsa.ad.errors import DnsLookupError
from tests.support.samba import DC_NAME, DOMAIN, STALE_DC_NAME, DomainLab


@pytest.mark.xdist_group("samba")
def test_srv_records_from_the_dcs_dns_name_the_dc(lab: DomainLab) -> None:
    records = find_domain_controllers(DOMAIN, DnsConfig.parse(lab.dns_server))
    assert [(r.target, r.port) for r in records] == [(DC_NAME, 389)]


@pytest.mark.xdist_group("samba")
def test_missing_srv_records_are_a_typed_error_naming_the_dns_server(lab: DomainLab) -> None:
    with pytest.raises(DnsLookupError) as caught:
        find_domain_controllers("emea." + DOMAIN, DnsConfig.parse(lab.dns_server))
    assert caught.value.where == lab.dns_server
    assert "does not exist" in caught.value.what


@pytest.mark.xdist_group("samba")
def test_dc_host_names_resolve_through_the_configured_dns(lab: DomainLab) -> None:
    assert resolve_address(STALE_DC_NAME, DnsConfig.parse(lab.dns_server)) == ("127.0.0.2",)
