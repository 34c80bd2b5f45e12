"""Ticket caches written in-process are what MIT's own tools read."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from gmsa.kerberos.ccache import encode_ccache
from gmsa.kerberos.keys import Key
from gmsa.kerberos.principal import Principal
from gmsa.kerberos.ticket import (
    FLAG_FORWARDABLE,
    FLAG_INITIAL,
    FLAG_PRE_AUTHENT,
    FLAG_RENEWABLE,
    Ticket,
)
from tests.support.directory_double import der_ticket
from tests.support.mit import klist, needs_mit

NOW = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)


def ticket(server: Principal | None = None, *, renew: bool = True) -> Ticket:
    server = server or Principal.krbtgt("EXAMPLE.COM")
    return Ticket(
        client=Principal.for_account("WebApp01", "example.com"),
        server=server,
        key=Key(18, bytes(range(32))),
        auth_time=NOW,
        start_time=NOW,
        end_time=NOW + datetime.timedelta(hours=10),
        renew_till=NOW + datetime.timedelta(days=7) if renew else None,
        flags=FLAG_FORWARDABLE | FLAG_INITIAL | FLAG_PRE_AUTHENT | (FLAG_RENEWABLE if renew else 0),
        ticket=der_ticket("EXAMPLE.COM", server, 18, 2, b"\x42" * 64),
    )


def test_starts_with_version_4_and_no_header_tags() -> None:
    assert encode_ccache([ticket()])[:4] == b"\x05\x04\x00\x00"


def test_needs_a_ticket() -> None:
    with pytest.raises(ValueError, match="at least one"):
        encode_ccache([])


def test_session_key_is_not_printed() -> None:
    assert bytes(range(32)).hex() not in repr(ticket())


@needs_mit
def test_klist_reads_principal_service_and_times(tmp_path: Path) -> None:
    path = tmp_path / "krb5cc"
    path.write_bytes(encode_ccache([ticket()]))
    out = klist("-c", str(path))
    assert "Default principal: WebApp01$@EXAMPLE.COM" in out
    assert "krbtgt/EXAMPLE.COM@EXAMPLE.COM" in out
    start = NOW.astimezone().strftime("%m/%d/%y %H:%M:%S")
    end = (NOW + datetime.timedelta(hours=10)).astimezone().strftime("%m/%d/%y %H:%M:%S")
    assert f"{start}  {end}  krbtgt/EXAMPLE.COM@EXAMPLE.COM" in out


@needs_mit
def test_klist_reads_flags_and_encryption_types(tmp_path: Path) -> None:
    path = tmp_path / "krb5cc"
    path.write_bytes(encode_ccache([ticket()]))
    out = klist("-f", "-e", "-c", str(path))
    assert "Flags: FRIA" in out
    assert "Etype (skey, tkt): aes256-cts-hmac-sha1-96, aes256-cts-hmac-sha1-96" in out


@needs_mit
def test_klist_reads_several_tickets(tmp_path: Path) -> None:
    service = Principal(("ldap", "dc1.example.com"), "EXAMPLE.COM", 2)
    path = tmp_path / "krb5cc"
    path.write_bytes(encode_ccache([ticket(), ticket(service, renew=False)]))
    out = klist("-c", str(path))
    assert "krbtgt/EXAMPLE.COM@EXAMPLE.COM" in out
    assert "ldap/dc1.example.com@EXAMPLE.COM" in out
