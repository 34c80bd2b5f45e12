"""A Kerberos ticket with what a client keeps beside it: what a ccache entry holds."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from gmsa.kerberos.keys import Key
from gmsa.kerberos.principal import Principal

FLAG_FORWARDABLE = 0x40000000
FLAG_FORWARDED = 0x20000000
FLAG_PROXIABLE = 0x10000000
FLAG_RENEWABLE = 0x00800000
FLAG_INITIAL = 0x00400000
FLAG_PRE_AUTHENT = 0x00200000
FLAG_ENC_PA_REP = 0x00010000
"""TicketFlags bits as a ccache stores them (bit 0 of KerberosFlags is the top bit)."""


@dataclass(frozen=True)
class Ticket:
    """A ticket with its session key: a TGT or a service ticket."""

    client: Principal
    """Whose ticket it is (``WebApp01$@EXAMPLE.COM``)."""
    server: Principal
    """The service it is for; ``krbtgt/REALM@REALM`` for a TGT."""
    key: Key = field(repr=False)
    """The session key shared with the service. Secret."""
    ticket: bytes = field(repr=False)
    """The DER-encoded Ticket as the KDC sent it, opaque to the client."""
    auth_time: datetime.datetime
    """When the client authenticated (timezone-aware)."""
    start_time: datetime.datetime
    """When the ticket becomes valid (the KDC may omit it: then it is ``auth_time``)."""
    end_time: datetime.datetime
    """When the ticket expires: renewal is planned from this."""
    renew_till: datetime.datetime | None = None
    """Renewable until, when the KDC granted a renewable ticket."""
    flags: int = 0
    """TicketFlags (``FLAG_*``) as a 32-bit number, as ccaches store them."""

    @property
    def is_tgt(self) -> bool:
        """Whether this is a ticket-granting ticket."""
        return self.server.components[0].lower() == "krbtgt"

    @property
    def lifetime(self) -> datetime.timedelta:
        """From start to end."""
        return self.end_time - self.start_time

    def expired(self, now: datetime.datetime | None = None) -> bool:
        """Whether the ticket's end time has passed."""
        return (now or datetime.datetime.now(datetime.UTC)) >= self.end_time


__all__ = [
    "FLAG_ENC_PA_REP",
    "FLAG_FORWARDABLE",
    "FLAG_FORWARDED",
    "FLAG_INITIAL",
    "FLAG_PRE_AUTHENT",
    "FLAG_PROXIABLE",
    "FLAG_RENEWABLE",
    "Ticket",
]
