"""Security identifiers and the binary security descriptor of ``msDS-GroupMSAMembership``.

Who may retrieve a gMSA's password is not a list in AD but a self-relative
security descriptor (MS-DTYP 2.4.6) whose DACL grants read access to
principals. This module reads that binary form without any Windows API:
SIDs (MS-DTYP 2.4.2), the descriptor header, the ACL and its ACEs, then
evaluates the DACL for a token the way the DC does (ordered ACEs, a deny
before an allow wins, inherit-only ACEs skipped).

Parsers raise only :class:`SecurityDescriptorError`, whatever the bytes.
"""

from __future__ import annotations

import re
import struct
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, IntFlag

from gmsa.errors import InvalidInputError

_SID_TEXT = re.compile(r"^S-1-(\d+)((?:-\d+){0,15})$", re.IGNORECASE)
_MAX_AUTHORITY = (1 << 48) - 1
_MAX_SUB = (1 << 32) - 1


class SecurityDescriptorError(InvalidInputError):
    """Bytes that should hold a SID or a security descriptor do not."""

    code = "invalid-security-descriptor"


# --------------------------------------------------------------------------- SIDs


def sid_from_bytes(data: bytes) -> str:
    """The text form (``S-1-5-21-...``) of a binary SID that fills ``data`` exactly."""
    sid, used = _read_sid(data, 0)
    if used != len(data):
        raise SecurityDescriptorError(f"{len(data) - used} bytes after the SID")
    return sid


def sid_to_bytes(text: str) -> bytes:
    """The binary form of a SID in text form; for LDAP filters and building descriptors."""
    match = _SID_TEXT.match(text.strip())
    if match is None:
        raise SecurityDescriptorError(f"not a SID: {text!r}", fix="write it as S-1-5-21-...")
    authority = int(match.group(1))
    subs = [int(p) for p in match.group(2).split("-")[1:]]
    if authority > _MAX_AUTHORITY or any(s > _MAX_SUB for s in subs):
        raise SecurityDescriptorError(f"a part of the SID {text!r} is too large")
    return (
        bytes([1, len(subs)])
        + authority.to_bytes(6, "big")
        + b"".join(s.to_bytes(4, "little") for s in subs)
    )


def _read_sid(data: bytes, offset: int) -> tuple[str, int]:
    """The SID at ``offset`` and its length in bytes."""
    if offset < 0 or offset + 8 > len(data):
        raise SecurityDescriptorError("a SID runs past the end of the data")
    revision, count = data[offset], data[offset + 1]
    if revision != 1:
        raise SecurityDescriptorError(f"SID revision {revision}, expected 1")
    if count > 15:
        raise SecurityDescriptorError(f"a SID with {count} sub-authorities (at most 15)")
    end = offset + 8 + 4 * count
    if end > len(data):
        raise SecurityDescriptorError("a SID runs past the end of the data")
    authority = int.from_bytes(data[offset + 2 : offset + 8], "big")
    subs = struct.unpack_from(f"<{count}I", data, offset + 8)
    return "S-1-" + "-".join(str(p) for p in (authority, *subs)), end - offset


def guid_from_bytes(data: bytes) -> str:
    """An objectGUID as AD shows it: lowercase, dashed, no braces (mixed-endian bytes)."""
    if len(data) != 16:
        raise SecurityDescriptorError(f"a GUID is 16 bytes, not {len(data)}")
    return str(uuid.UUID(bytes_le=data))


# --------------------------------------------------------------------------- descriptor


class AceType(IntEnum):
    """ACE types that can appear in a DACL."""

    ACCESS_ALLOWED = 0x00
    ACCESS_DENIED = 0x01
    SYSTEM_AUDIT = 0x02
    ACCESS_ALLOWED_OBJECT = 0x05
    ACCESS_DENIED_OBJECT = 0x06
    SYSTEM_AUDIT_OBJECT = 0x07


class AceFlag(IntFlag):
    """ACE header flags; only INHERIT_ONLY changes what an ACE means for the object itself."""

    OBJECT_INHERIT = 0x01
    CONTAINER_INHERIT = 0x02
    NO_PROPAGATE_INHERIT = 0x04
    INHERIT_ONLY = 0x08
    INHERITED = 0x10


class AccessMask(IntFlag):
    """The access rights that matter for reading a gMSA's password."""

    READ_PROPERTY = 0x00000010
    GENERIC_ALL = 0x10000000
    GENERIC_READ = 0x80000000


_SE_DACL_PRESENT = 0x0004
_SE_SELF_RELATIVE = 0x8000
_OBJECT_TYPE_PRESENT = 0x1
_INHERITED_OBJECT_TYPE_PRESENT = 0x2


@dataclass(frozen=True)
class Ace:
    """One access control entry."""

    type: int
    """An :class:`AceType` value (unknown types are kept as numbers and never grant access)."""
    flags: int
    """:class:`AceFlag` bits."""
    mask: int
    """Access mask."""
    sid: str
    """The trustee."""
    object_type: str | None = None
    """For object ACEs: the property or class GUID the ACE is limited to."""

    @property
    def inherit_only(self) -> bool:
        """Whether the ACE applies only to children, not to the object that holds it."""
        return bool(self.flags & AceFlag.INHERIT_ONLY)


@dataclass(frozen=True)
class SecurityDescriptor:
    """A parsed self-relative security descriptor."""

    control: int
    """SE_* control bits."""
    owner: str | None
    """Owner SID."""
    group: str | None
    """Primary group SID."""
    dacl: tuple[Ace, ...] | None
    """The DACL's entries in order; ``None`` when no DACL is present (everyone allowed)."""


def parse_security_descriptor(data: bytes) -> SecurityDescriptor:
    """Parse a self-relative security descriptor (the form LDAP returns)."""
    if len(data) < 20:
        raise SecurityDescriptorError(f"a security descriptor needs 20 bytes, got {len(data)}")
    revision, _sbz1, control, owner_at, group_at, _sacl_at, dacl_at = struct.unpack_from(
        "<BBHIIII", data, 0
    )
    if revision != 1:
        raise SecurityDescriptorError(f"security descriptor revision {revision}, expected 1")
    if not control & _SE_SELF_RELATIVE:
        raise SecurityDescriptorError("the security descriptor is not in self-relative form")
    owner = _read_sid(data, owner_at)[0] if owner_at else None
    group = _read_sid(data, group_at)[0] if group_at else None
    dacl: tuple[Ace, ...] | None = None
    if control & _SE_DACL_PRESENT and dacl_at:
        dacl = _read_acl(data, dacl_at)
    return SecurityDescriptor(control, owner, group, dacl)


def _read_acl(data: bytes, offset: int) -> tuple[Ace, ...]:
    if offset + 8 > len(data):
        raise SecurityDescriptorError("the DACL runs past the end of the descriptor")
    revision, _sbz1, size, count, _sbz2 = struct.unpack_from("<BBHHH", data, offset)
    if revision not in (2, 4):
        raise SecurityDescriptorError(f"ACL revision {revision}, expected 2 or 4")
    end = offset + size
    if size < 8 or end > len(data):
        raise SecurityDescriptorError("the DACL's size does not fit the descriptor")
    aces: list[Ace] = []
    position = offset + 8
    for _ in range(count):
        if position + 4 > end:
            raise SecurityDescriptorError("an ACE runs past the end of the DACL")
        ace_type, flags, ace_size = struct.unpack_from("<BBH", data, position)
        if ace_size < 8 or position + ace_size > end:
            raise SecurityDescriptorError("an ACE's size does not fit the DACL")
        aces.append(_read_ace(data[position : position + ace_size], ace_type, flags))
        position += ace_size
    return tuple(aces)


def _read_ace(body: bytes, ace_type: int, flags: int) -> Ace:
    mask = struct.unpack_from("<I", body, 4)[0]
    at = 8
    object_type = None
    if ace_type in (
        AceType.ACCESS_ALLOWED_OBJECT,
        AceType.ACCESS_DENIED_OBJECT,
        AceType.SYSTEM_AUDIT_OBJECT,
    ):
        if len(body) < 12:
            raise SecurityDescriptorError("an object ACE is too short")
        present = struct.unpack_from("<I", body, 8)[0]
        at = 12
        for bit in (_OBJECT_TYPE_PRESENT, _INHERITED_OBJECT_TYPE_PRESENT):
            if present & bit:
                if at + 16 > len(body):
                    raise SecurityDescriptorError("an object ACE's GUID runs past its end")
                if bit == _OBJECT_TYPE_PRESENT:
                    object_type = guid_from_bytes(body[at : at + 16])
                at += 16
    sid, _ = _read_sid(body, at)
    return Ace(ace_type, flags, mask, sid, object_type)


def build_security_descriptor(owner: str, allowed: Iterable[str], *, mask: int = 0xF01FF) -> bytes:
    """A self-relative descriptor, owner ``owner``, whose DACL allows ``mask`` to each SID.

    The shape AD tools write into ``msDS-GroupMSAMembership``; used to test the
    parser against itself and to set up directories.
    """
    aces = b""
    sids = list(allowed)
    for sid in sids:
        raw = sid_to_bytes(sid)
        aces += struct.pack("<BBHI", AceType.ACCESS_ALLOWED, 0, 8 + len(raw), mask) + raw
    acl = struct.pack("<BBHHH", 2, 0, 8 + len(aces), len(sids), 0) + aces
    owner_raw = sid_to_bytes(owner)
    header_size = 20
    owner_at = header_size
    dacl_at = owner_at + len(owner_raw)
    header = struct.pack(
        "<BBHIIII", 1, 0, _SE_SELF_RELATIVE | _SE_DACL_PRESENT, owner_at, 0, 0, dacl_at
    )
    return header + owner_raw + acl


# --------------------------------------------------------------------------- access check

_READ = AccessMask.READ_PROPERTY | AccessMask.GENERIC_READ | AccessMask.GENERIC_ALL


def _grants_read(mask: int) -> bool:
    return bool(mask & _READ)


def principals_allowed(descriptor: SecurityDescriptor) -> tuple[str, ...]:
    """SIDs an ACE grants read access to, in DACL order (no token evaluation)."""
    if descriptor.dacl is None:
        return ()
    seen: list[str] = []
    for ace in descriptor.dacl:
        if (
            not ace.inherit_only
            and ace.type in (AceType.ACCESS_ALLOWED, AceType.ACCESS_ALLOWED_OBJECT)
            and ace.object_type is None
            and _grants_read(ace.mask)
            and ace.sid not in seen
        ):
            seen.append(ace.sid)
    return tuple(seen)


def principals_denied(descriptor: SecurityDescriptor) -> tuple[str, ...]:
    """SIDs an ACE denies read access to."""
    if descriptor.dacl is None:
        return ()
    return tuple(
        dict.fromkeys(
            ace.sid
            for ace in descriptor.dacl
            if not ace.inherit_only
            and ace.type in (AceType.ACCESS_DENIED, AceType.ACCESS_DENIED_OBJECT)
            and ace.object_type is None
            and _grants_read(ace.mask)
        )
    )


@dataclass(frozen=True)
class AccessDecision:
    """Whether a token may read, and which ACE decided it."""

    allowed: bool
    """The token may retrieve the password."""
    deciding_sid: str | None
    """The SID of the ACE that allowed or denied; ``None`` when no ACE matched."""


def check_read_access(descriptor: SecurityDescriptor, token: Iterable[str]) -> AccessDecision:
    """Evaluate the DACL for a token (a principal's SID and all its groups' SIDs).

    ACEs are taken in order: the first matching ACE that denies read access ends
    the walk with a refusal, the first that allows it with a grant. A missing
    DACL grants everyone; an empty one grants no one.
    """
    if descriptor.dacl is None:
        return AccessDecision(True, None)
    sids = {s.upper() for s in token}
    for ace in descriptor.dacl:
        if ace.inherit_only or ace.object_type is not None or ace.sid.upper() not in sids:
            continue
        if not _grants_read(ace.mask):
            continue
        if ace.type in (AceType.ACCESS_DENIED, AceType.ACCESS_DENIED_OBJECT):
            return AccessDecision(False, ace.sid)
        if ace.type in (AceType.ACCESS_ALLOWED, AceType.ACCESS_ALLOWED_OBJECT):
            return AccessDecision(True, ace.sid)
    return AccessDecision(False, None)


WELL_KNOWN_SIDS: dict[str, str] = {
    "S-1-1-0": "Everyone",
    "S-1-5-2": "NETWORK",
    "S-1-5-4": "INTERACTIVE",
    "S-1-5-9": "ENTERPRISE DOMAIN CONTROLLERS",
    "S-1-5-11": "Authenticated Users",
    "S-1-5-18": "SYSTEM",
    "S-1-3-0": "CREATOR OWNER",
}
"""SIDs that are not directory objects, with the names Windows shows for them."""


__all__ = [
    "WELL_KNOWN_SIDS",
    "AccessDecision",
    "AccessMask",
    "Ace",
    "AceFlag",
    "AceType",
    "SecurityDescriptor",
    "SecurityDescriptorError",
    "build_security_descriptor",
    "check_read_access",
    "guid_from_bytes",
    "parse_security_descriptor",
    "principals_allowed",
    "principals_denied",
    "sid_from_bytes",
    "sid_to_bytes",
]
