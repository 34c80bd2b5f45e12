"""Finding DCs without a DC: DNS server and host:port parsing, SRV ordering, timeouts."""

from __future__ import annotations

import contextlib
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmsa.ad.discovery import (
    DnsConfig,
    ServiceRecord,
    _order,
    find_domain_controllers,
    resolve_address,
    split_host_port,
)
from gmsa.ad.errors import DnsLookupError
from gmsa.errors import InvalidInputError
from tests.support.samba import DOMAIN


def test_dns_server_with_port() -> None:
    assert DnsConfig.parse("127.0.0.1:5353") == DnsConfig("127.0.0.1", 5353)


def test_ipv6_dns_server_in_brackets() -> None:
    assert DnsConfig.parse("[::1]:53").server == "::1"


def test_dns_server_must_be_an_address() -> None:
    with pytest.raises(InvalidInputError, match="IP address"):
        DnsConfig.parse("dns.example.com")


def test_bad_port_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="bad port"):
        split_host_port("dc1:99999", 389, what="--server")


@given(st.text(max_size=30))
def test_host_port_parser_raises_only_input_errors(text: str) -> None:
    with contextlib.suppress(InvalidInputError):
        split_host_port(text, 389, what="--server")


def test_srv_order_follows_priority() -> None:
    records = [ServiceRecord("b", 389, 10, 0), ServiceRecord("a", 389, 0, 100)]
    assert [r.target for r in _order(records)] == ["a", "b"]


def test_silent_dns_server_is_a_timeout_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))  # receives queries, never answers
        port = quiet.getsockname()[1]
        config = DnsConfig("127.0.0.1", port, timeout=0.3)
        with pytest.raises(DnsLookupError, match="did not answer"):
            find_domain_controllers(DOMAIN, config)


def test_address_needs_no_lookup() -> None:
    assert resolve_address("10.0.0.5", DnsConfig()) == ("10.0.0.5",)


@pytest.mark.parametrize("host", ["h\udcff", "a..b", "x" * 70 + ".example.com", "\ud800"])
def test_a_name_no_resolver_can_encode_is_invalid_input(host: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        resolve_address(host, DnsConfig())
    assert "is not a host name" in caught.value.what
    caught.value.what.encode("ascii")  # printable anywhere: the bad byte is escaped
