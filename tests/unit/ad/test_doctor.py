"""``gmsa doctor`` checks that need no domain: a malformed server, the clock."""

from __future__ import annotations

import datetime
from typing import Any

from gmsa.ad.connection import ConnectOptions
from gmsa.ad.doctor import Status, _clock_check, _network_checks
from gmsa.ad.domain import DomainInfo
from tests.support.cli import json_of
from tests.support.samba import (
    DOMAIN,
)


def checks(result: Any) -> list[dict[str, Any]]:
    assert result.exit_code in (0, 1, 3), result.output  # 3: the domain was not reached
    found: list[dict[str, Any]] = json_of(result)["checks"]
    return found


def test_malformed_server_fails_the_port_check_instead_of_probing_it() -> None:
    checks = _network_checks(ConnectOptions(server="[dc1.example.com"), None)
    assert [(c.id, c.status) for c in checks] == [("dc-ports", Status.FAIL)]
    assert "unclosed [" in checks[0].message


def domain_at(when: datetime.datetime) -> DomainInfo:
    return DomainInfo(
        DOMAIN,
        "EXAMPLE",
        "S-1-5-21-1-2-3",
        "00000000-0000-0000-0000-000000000000",
        DOMAIN,
        "DC=example,DC=com",
        "CN=Configuration,DC=example,DC=com",
        "dc1.example.com",
        when,
        (),
    )


def test_clock_more_than_five_minutes_off_fails() -> None:
    now = datetime.datetime.now(datetime.UTC)
    check = _clock_check(domain_at(now - datetime.timedelta(minutes=7)))
    assert check.status is Status.FAIL


def test_clock_a_little_off_warns() -> None:
    now = datetime.datetime.now(datetime.UTC)
    assert _clock_check(domain_at(now + datetime.timedelta(minutes=2))).status is Status.WARN
