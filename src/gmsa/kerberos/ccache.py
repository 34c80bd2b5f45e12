"""MIT credential cache files (format 0x0504, "FILE:" ccaches), read and written.

gmsa reads a cache ``kinit`` wrote to bind as its user, and writes the cache of a
lease: the ECS agent mounts the lease directory into the container and the
application's Kerberos library (MIT or Heimdal) reads ``krb5cc`` from it, so the
file must be exactly what ``kinit`` would have written: version 4, big-endian,
the default principal, then one credential per ticket. Tickets are written as
the KDC sent them (DER bytes); the session key and times come from the
decrypted reply.
"""

from __future__ import annotations

import datetime
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gmsa.errors import ExternalError
from gmsa.inputfile import InputNotFoundError, read_input
from gmsa.kerberos.binary import Reader, counted32
from gmsa.kerberos.errors import CredentialsInputError
from gmsa.kerberos.keys import Key
from gmsa.kerberos.principal import Principal
from gmsa.kerberos.ticket import Ticket

CCACHE_VERSION = 0x0504

_U32_MAX = 0xFFFFFFFF
_CONFIG_REALM = "X-CACHECONF:"
_MAX_COMPONENTS = 64


@dataclass(frozen=True)
class CredentialCache:
    """The tickets of a credential cache file."""

    principal: Principal
    """The cache's default principal (who ran kinit)."""
    tickets: tuple[Ticket, ...]
    """Every ticket in it, configuration entries left out."""

    def tgt(self, realm: str) -> Ticket | None:
        """The TGT for ``realm`` held by the default principal."""
        for ticket in self.tickets:
            server = ticket.server
            if (
                ticket.is_tgt
                and len(server.components) == 2
                and server.components[1].upper() == realm.upper()
                and ticket.client.same_as(self.principal)
            ):
                return ticket
        return None


# --------------------------------------------------------------------------- reading


def parse_ccache(data: bytes, *, source: str = "credential cache") -> CredentialCache:
    """Read a FILE credential cache, format version 4 (what MIT and Heimdal write)."""
    reader = Reader(data, source, "credential cache")
    version = reader.u16()
    if version != CCACHE_VERSION:
        raise CredentialsInputError(
            f"unsupported credential cache format 0x{version:04x} (gmsa reads version 4)",
            where=source,
            fix="get a fresh cache with kinit",
        )
    reader.take(reader.u16())  # header tags (KDC time offset)
    principal = _read_principal(reader)
    tickets: list[Ticket] = []
    while reader.remaining() > 0:
        client = _read_principal(reader)
        server = _read_principal(reader)
        enctype = reader.u16()
        key = reader.counted32()
        auth, start, end, renew = (reader.u32() for _ in range(4))
        reader.u8()  # is_skey
        flags = reader.u32()
        for _ in range(reader.u32()):  # addresses
            reader.u16()
            reader.counted32()
        for _ in range(reader.u32()):  # authdata
            reader.u16()
            reader.counted32()
        ticket = reader.counted32()
        reader.counted32()  # second ticket
        if server.realm == _CONFIG_REALM:
            continue
        auth_time = _time(auth)
        tickets.append(
            Ticket(
                client=client,
                server=server,
                key=Key(enctype, key),
                ticket=ticket,
                auth_time=auth_time,
                start_time=_time(start) if start else auth_time,
                end_time=_time(end),
                renew_till=_time(renew) if renew else None,
                flags=flags,
            )
        )
    return CredentialCache(principal, tuple(tickets))


MAX_CCACHE_BYTES = 16 * 1024 * 1024
"""Cap for a credential cache file: thousands of tickets, far more than any real one."""


def read_ccache(path: Path) -> CredentialCache:
    """Read a credential cache file (a regular file only: a FIFO or device is refused)."""
    try:
        data = read_input(path, max_bytes=MAX_CCACHE_BYTES, what="credential cache").data
    except InputNotFoundError:
        raise CredentialsInputError(
            "no Kerberos credential cache",
            where=str(path),
            fix="run kinit first, or give --keytab, or --user with a password source",
        ) from None
    except ExternalError as exc:
        raise CredentialsInputError(
            f"cannot read the credential cache: {exc.what}", where=str(path), fix=exc.fix
        ) from None
    return parse_ccache(data, source=str(path))


def ccache_path(name: str | None) -> Path:
    """The file behind a cache name (``FILE:/path`` or a path), default as MIT's."""
    value = name if name is not None else os.environ.get("KRB5CCNAME")
    if not value:
        return Path(f"/tmp/krb5cc_{os.getuid()}")  # noqa: S108 (MIT's default location)
    kind, sep, rest = value.partition(":")
    if sep and kind.upper() == "FILE":
        return Path(rest)
    if sep and kind.isalpha() and kind.upper() != "FILE" and not value.startswith("/"):
        raise CredentialsInputError(
            f"gmsa reads FILE credential caches, not {kind.upper()}:",
            where=value,
            fix="run: kinit -c FILE:/tmp/gmsa.cc ... and pass --ccache /tmp/gmsa.cc, "
            "or use --keytab",
        )
    return Path(value)


def _read_principal(reader: Reader) -> Principal:
    name_type = reader.u32()
    count = reader.u32()
    if count > _MAX_COMPONENTS:
        raise CredentialsInputError(f"a principal with {count} components", where=reader.source)
    realm = reader.counted32().decode("utf-8", "replace")
    parts = tuple(reader.counted32().decode("utf-8", "replace") for _ in range(count))
    return Principal(parts or ("",), realm, name_type)


def _time(stamp: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC)


# --------------------------------------------------------------------------- writing


def encode_ccache(tickets: Sequence[Ticket]) -> bytes:
    """A credential cache whose default principal is the first ticket's client."""
    if not tickets:
        raise ValueError("a credential cache needs at least one ticket")
    out = bytearray(struct.pack(">HH", CCACHE_VERSION, 0))
    out += _principal(tickets[0].client)
    for ticket in tickets:
        out += _principal(ticket.client)
        out += _principal(ticket.server)
        out += struct.pack(">H", ticket.key.enctype) + counted32(ticket.key.value)
        out += struct.pack(
            ">IIII",
            _stamp(ticket.auth_time),
            _stamp(ticket.start_time),
            _stamp(ticket.end_time),
            _stamp(ticket.renew_till) if ticket.renew_till else 0,
        )
        out += struct.pack(">BI", 0, ticket.flags & _U32_MAX)
        out += struct.pack(">I", 0)  # addresses
        out += struct.pack(">I", 0)  # authorization data
        out += counted32(ticket.ticket)
        out += counted32(b"")  # second ticket (user-to-user only)
    return bytes(out)


def _principal(name: Principal) -> bytes:
    out = bytearray(struct.pack(">II", name.name_type, len(name.components)))
    out += counted32(name.realm.encode())
    for component in name.components:
        out += counted32(component.encode())
    return bytes(out)


def _stamp(moment: datetime.datetime) -> int:
    return min(max(int(moment.timestamp()), 0), _U32_MAX)


__all__ = [
    "CCACHE_VERSION",
    "MAX_CCACHE_BYTES",
    "CredentialCache",
    "ccache_path",
    "encode_ccache",
    "parse_ccache",
    "read_ccache",
]
