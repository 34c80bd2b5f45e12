"""MIT keytab files (format 0x0502) written from derived keys.

A keytab of a gMSA's keys lets standard tools act as the gMSA (``kinit -k``),
which is how the keys derived here are checked against MIT's own derivation
and against a real KDC. Reading keytabs is :mod:`gmsa.ad.kerberos`'s job.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from gmsa.tickets.keys import KerberosKey
from gmsa.tickets.principal import PrincipalName

KEYTAB_VERSION = 0x0502


@dataclass(frozen=True)
class KeytabEntry:
    """One key of one principal."""

    principal: PrincipalName
    """Whose key it is."""
    key: KerberosKey
    """The key."""
    kvno: int = 1
    """Key version number (msDS-KeyVersionNumber)."""
    timestamp: datetime.datetime | None = None
    """When the key was written; now when None."""


def encode_keytab(entries: Sequence[KeytabEntry]) -> bytes:
    """The keytab file holding ``entries``."""
    out = bytearray(struct.pack(">H", KEYTAB_VERSION))
    now = datetime.datetime.now(datetime.UTC)
    for entry in entries:
        body = bytearray(struct.pack(">H", len(entry.principal.components)))
        body += _counted(entry.principal.realm.encode())
        for component in entry.principal.components:
            body += _counted(component.encode())
        stamp = int((entry.timestamp or now).timestamp())
        body += struct.pack(">IIB", entry.principal.name_type, stamp, entry.kvno & 0xFF)
        body += struct.pack(">H", entry.key.enctype) + _counted(entry.key.value)
        body += struct.pack(">I", entry.kvno)
        out += struct.pack(">i", len(body)) + body
    return bytes(out)


def _counted(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data
