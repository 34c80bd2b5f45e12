"""MIT credential cache files (format 0x0504, "FILE:" ccaches) written in-process.

The ECS agent mounts the lease directory into the container and the application's
Kerberos library (MIT or Heimdal) reads ``krb5cc`` from it, so the file must be
exactly what ``kinit`` would have written: version 4, big-endian, the default
principal, then one credential per ticket. Tickets are written as the KDC sent
them (DER bytes); the session key and times come from the decrypted reply.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from gmsa.tickets.keys import KerberosKey
from gmsa.tickets.principal import PrincipalName

CCACHE_VERSION = 0x0504

FLAG_FORWARDABLE = 0x40000000
FLAG_FORWARDED = 0x20000000
FLAG_PROXIABLE = 0x10000000
FLAG_RENEWABLE = 0x00800000
FLAG_INITIAL = 0x00400000
FLAG_PRE_AUTHENT = 0x00200000
FLAG_ENC_PA_REP = 0x00010000
"""TicketFlags bits as a ccache stores them (bit 0 of KerberosFlags is the top bit)."""

_U32_MAX = 0xFFFFFFFF


@dataclass(frozen=True)
class KerberosTicket:
    """A ticket with everything a client keeps beside it: what a ccache entry holds."""

    client: PrincipalName
    """Whose ticket it is (``WebApp01$@EXAMPLE.COM``)."""
    server: PrincipalName
    """The service it is for; ``krbtgt/REALM@REALM`` for a TGT."""
    session_key: KerberosKey = field(repr=False)
    """The session key from the KDC's encrypted reply. Secret."""
    auth_time: datetime.datetime
    """When the client authenticated (timezone-aware)."""
    start_time: datetime.datetime
    """When the ticket becomes valid."""
    end_time: datetime.datetime
    """When the ticket expires: renewal is planned from this."""
    renew_till: datetime.datetime | None
    """Renewable until, when the KDC granted a renewable ticket."""
    flags: int
    """TicketFlags (``FLAG_*``)."""
    ticket: bytes = field(repr=False)
    """The DER-encoded Ticket as the KDC sent it."""

    @property
    def lifetime(self) -> datetime.timedelta:
        """From start to end."""
        return self.end_time - self.start_time


def encode_ccache(tickets: Sequence[KerberosTicket]) -> bytes:
    """A credential cache whose default principal is the first ticket's client."""
    if not tickets:
        raise ValueError("a credential cache needs at least one ticket")
    out = bytearray(struct.pack(">HH", CCACHE_VERSION, 0))
    out += _principal(tickets[0].client)
    for ticket in tickets:
        out += _principal(ticket.client)
        out += _principal(ticket.server)
        out += struct.pack(">H", ticket.session_key.enctype) + _counted(ticket.session_key.value)
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
        out += _counted(ticket.ticket)
        out += _counted(b"")  # second ticket (user-to-user only)
    return bytes(out)


def _principal(name: PrincipalName) -> bytes:
    out = bytearray(struct.pack(">II", name.name_type, len(name.components)))
    out += _counted(name.realm.encode())
    for component in name.components:
        out += _counted(component.encode())
    return bytes(out)


def _counted(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _stamp(moment: datetime.datetime) -> int:
    return min(max(int(moment.timestamp()), 0), _U32_MAX)
