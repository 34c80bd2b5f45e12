"""``msDS-ManagedPassword``: the MSDS-MANAGEDPASSWORD_BLOB of MS-ADTS 2.2.19, decoded.

A domain controller answers an allowed reader with this little-endian blob::

    u16 Version (1)          u16 Reserved         u32 Length
    u16 CurrentPasswordOffset                     u16 PreviousPasswordOffset (0: none)
    u16 QueryPasswordIntervalOffset               u16 UnchangedPasswordIntervalOffset
    ... current password, UTF-16LE, NUL-terminated
    ... previous password, same (optional)
    ... padding, then two u64 intervals in 100 ns units, each at its offset

Every field is read at the offset the header gives, never at a position assumed
from the usual layout (credentials-fetcher assumes 256 bytes at byte 16). The
passwords stay bytes, exactly as AD hashes them; :mod:`gmsa.kerberos.keys` derives
the keys. Errors name fields and offsets only: the bytes are the password.
"""

from __future__ import annotations

import datetime
import struct
from dataclasses import dataclass, field

from gmsa.ad.errors import ManagedPasswordBlobError

HEADER_SIZE = 16
"""Version, Reserved, Length and the four offsets."""
BLOB_VERSION = 1
"""The only version MS-ADTS defines."""

_HEADER = struct.Struct("<HHIHHHH")
_FIX = "read the attribute again; if it stays malformed, the DC's answer is corrupt: try another DC"


@dataclass(frozen=True)
class ManagedPassword:
    """A gMSA's managed password as the DC computed it."""

    current: bytes = field(repr=False)
    """The current password: UTF-16LE code units without the terminating NUL. Secret."""
    previous: bytes | None = field(repr=False)
    """The password before the last rotation, or None when the blob has none. Secret."""
    query_password_interval: datetime.timedelta
    """How long until the password should be read again (the DC's advice)."""
    unchanged_password_interval: datetime.timedelta
    """How long the current password stays unchanged."""


def decode_managed_password(blob: bytes) -> ManagedPassword:
    """Decode ``msDS-ManagedPassword``; any malformed blob raises ManagedPasswordBlobError."""
    data = bytes(blob)
    if len(data) < HEADER_SIZE:
        raise _error(f"the blob is {len(data)} bytes, shorter than its {HEADER_SIZE}-byte header")
    version, _reserved, length, current_at, previous_at, query_at, unchanged_at = _HEADER.unpack(
        data[:HEADER_SIZE]
    )
    if version != BLOB_VERSION:
        raise _error(f"the blob has version {version}; only version {BLOB_VERSION} is defined")
    if length < HEADER_SIZE or length > len(data):
        raise _error(f"the blob's Length field says {length} bytes but {len(data)} were received")
    data = data[:length]
    _check_offset("CurrentPasswordOffset", current_at, length, size=2)
    if previous_at:
        _check_offset("PreviousPasswordOffset", previous_at, length, size=2)
    _check_offset("QueryPasswordIntervalOffset", query_at, length, size=8)
    _check_offset("UnchangedPasswordIntervalOffset", unchanged_at, length, size=8)
    starts = [current_at, query_at, unchanged_at] + ([previous_at] if previous_at else [])
    current = _password(data, "current", current_at, starts)
    if not current:
        raise _error(f"the current password at offset {current_at} is empty")
    previous = _password(data, "previous", previous_at, starts) if previous_at else None
    return ManagedPassword(
        current=current,
        previous=previous or None,
        query_password_interval=_interval(data, query_at),
        unchanged_password_interval=_interval(data, unchanged_at),
    )


def encode_managed_password(
    current: bytes,
    previous: bytes | None = None,
    *,
    query_password_interval: datetime.timedelta = datetime.timedelta(days=30),
    unchanged_password_interval: datetime.timedelta = datetime.timedelta(days=29),
) -> bytes:
    """The blob a DC would send for these UTF-16LE passwords (tests, benchmarks, doubles).

    Laid out as Windows does: header, current, previous, padding to 8 bytes, intervals.
    """
    if len(current) % 2 or (previous is not None and len(previous) % 2):
        raise ValueError("UTF-16LE passwords have an even number of bytes")
    body = bytearray(HEADER_SIZE)
    current_at = len(body)
    body += current + b"\0\0"
    previous_at = 0
    if previous is not None:
        previous_at = len(body)
        body += previous + b"\0\0"
    body += b"\0" * (-len(body) % 8)
    query_at = len(body)
    body += struct.pack("<Q", _hundred_ns(query_password_interval))
    unchanged_at = len(body)
    body += struct.pack("<Q", _hundred_ns(unchanged_password_interval))
    body[:HEADER_SIZE] = _HEADER.pack(
        BLOB_VERSION, 0, len(body), current_at, previous_at, query_at, unchanged_at
    )
    return bytes(body)


def _password(data: bytes, which: str, start: int, starts: list[int]) -> bytes:
    """UTF-16LE units from ``start`` up to the NUL unit, within the field's own region."""
    end = min([s for s in starts if s > start] + [len(data)])
    pos = start
    while pos + 2 <= end:
        if data[pos] == 0 and data[pos + 1] == 0:
            return data[start:pos]
        pos += 2
    raise _error(
        f"the {which} password at offset {start} has no NUL terminator before offset {end}"
    )


def _interval(data: bytes, start: int) -> datetime.timedelta:
    (value,) = struct.unpack_from("<Q", data, start)
    return datetime.timedelta(microseconds=value // 10)


def _hundred_ns(interval: datetime.timedelta) -> int:
    return (interval // datetime.timedelta(microseconds=1)) * 10


def _check_offset(name: str, offset: int, length: int, *, size: int) -> None:
    if offset < HEADER_SIZE or offset + size > length:
        raise _error(
            f"{name} is {offset}, outside the blob's fields (bytes {HEADER_SIZE} to {length})"
        )


def _error(what: str) -> ManagedPasswordBlobError:
    return ManagedPasswordBlobError(what, where="msDS-ManagedPassword", fix=_FIX)


__all__ = [
    "BLOB_VERSION",
    "HEADER_SIZE",
    "ManagedPassword",
    "decode_managed_password",
    "encode_managed_password",
]
