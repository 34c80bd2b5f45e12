"""MIT keytab files (format 0x0502), read and written.

gmsa reads a host's keytab to bind to the domain as the host, and writes a keytab
of a gMSA's derived keys so standard tools can act as the gMSA (``kinit -k``):
that is also how the derived keys are checked against MIT's own derivation and
against a real KDC. This is the format MIT, Heimdal, Samba and AD tools write.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gmsa.errors import ExternalError
from gmsa.inputfile import InputNotFoundError, read_input
from gmsa.kerberos.binary import Reader, counted16
from gmsa.kerberos.errors import CredentialsInputError
from gmsa.kerberos.keys import Key
from gmsa.kerberos.principal import Principal

KEYTAB_VERSION = 0x0502


@dataclass(frozen=True)
class KeytabEntry:
    """One key of one principal."""

    principal: Principal
    """Whose key it is."""
    key: Key
    """The key."""
    kvno: int = 1
    """Key version number (msDS-KeyVersionNumber)."""
    timestamp: datetime.datetime | None = None
    """When the key was written; now when None."""


# --------------------------------------------------------------------------- reading


def parse_keytab(data: bytes, *, source: str = "keytab") -> tuple[KeytabEntry, ...]:
    """Read a keytab (format 0x0502)."""
    if len(data) < 2 or struct.unpack_from(">H", data)[0] != KEYTAB_VERSION:
        raise CredentialsInputError(
            "not a keytab (expected format 0x0502)",
            where=source,
            fix="give a keytab written by ktutil, samba-tool or ktpass",
        )
    entries: list[KeytabEntry] = []
    at = 2
    while at + 4 <= len(data):
        size = struct.unpack_from(">i", data, at)[0]
        at += 4
        if size == 0:
            break
        if size < 0:
            at += -size  # a hole left by a deleted entry
            continue
        if at + size > len(data):
            raise CredentialsInputError("a keytab entry runs past the end", where=source)
        entries.append(_read_entry(data[at : at + size], source))
        at += size
    return tuple(entries)


def _read_entry(body: bytes, source: str) -> KeytabEntry:
    reader = Reader(body, source, "keytab entry")
    count = reader.u16()
    realm = reader.counted16().decode("utf-8", "replace")
    components = tuple(reader.counted16().decode("utf-8", "replace") for _ in range(count))
    name_type = reader.u32()
    stamp = reader.u32()
    kvno = reader.u8()
    enctype = reader.u16()
    key = reader.counted16()
    if reader.remaining() >= 4:
        long_kvno = reader.u32()
        kvno = long_kvno or kvno
    if not components:
        raise CredentialsInputError("a keytab entry has no principal name", where=source)
    return KeytabEntry(
        Principal(components, realm, name_type),
        Key(enctype, key),
        kvno,
        datetime.datetime.fromtimestamp(stamp, datetime.UTC),
    )


MAX_KEYTAB_BYTES = 1024 * 1024
"""Cap for a keytab file: thousands of keys, far more than any host's."""


def read_keytab(path: Path) -> tuple[KeytabEntry, ...]:
    """Read a keytab file (a regular file only: a FIFO or device is refused)."""
    try:
        data = read_input(path, max_bytes=MAX_KEYTAB_BYTES, what="keytab").data
    except InputNotFoundError:
        raise CredentialsInputError(
            "the keytab does not exist", where=str(path), fix="check --keytab"
        ) from None
    except ExternalError as exc:
        raise CredentialsInputError(
            f"cannot read the keytab: {exc.what}",
            where=str(path),
            fix="run as a user that may read it (the host keytab is root's)",
        ) from None
    return parse_keytab(data, source=str(path))


def keys_for(entries: Sequence[KeytabEntry], principal: Principal) -> tuple[Key, ...]:
    """The newest key of each enctype for ``principal``."""
    newest: dict[int, KeytabEntry] = {}
    for entry in entries:
        if entry.principal.same_as(principal):
            current = newest.get(entry.key.enctype)
            if current is None or entry.kvno >= current.kvno:
                newest[entry.key.enctype] = entry
    return tuple(e.key for e in newest.values())


def default_keytab_principal(entries: Sequence[KeytabEntry]) -> Principal:
    """The host principal of a machine keytab: the first single-component name ending in $."""
    for entry in entries:
        parts = entry.principal.components
        if len(parts) == 1 and parts[0].endswith("$"):
            return entry.principal
    if entries:
        return entries[0].principal
    raise CredentialsInputError("the keytab is empty", fix="export the host's keys into it")


# --------------------------------------------------------------------------- writing


def encode_keytab(entries: Sequence[KeytabEntry]) -> bytes:
    """The keytab file holding ``entries``."""
    out = bytearray(struct.pack(">H", KEYTAB_VERSION))
    now = datetime.datetime.now(datetime.UTC)
    for entry in entries:
        body = bytearray(struct.pack(">H", len(entry.principal.components)))
        body += counted16(entry.principal.realm.encode())
        for component in entry.principal.components:
            body += counted16(component.encode())
        stamp = int((entry.timestamp or now).timestamp())
        body += struct.pack(">IIB", entry.principal.name_type, stamp, entry.kvno & 0xFF)
        body += struct.pack(">H", entry.key.enctype) + counted16(entry.key.value)
        body += struct.pack(">I", entry.kvno)
        out += struct.pack(">i", len(body)) + body
    return bytes(out)


__all__ = [
    "KEYTAB_VERSION",
    "MAX_KEYTAB_BYTES",
    "KeytabEntry",
    "default_keytab_principal",
    "encode_keytab",
    "keys_for",
    "parse_keytab",
    "read_keytab",
]
