"""SIDs, GUIDs and msDS-GroupMSAMembership descriptors: parsing, building, access evaluation."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmsa.ad.security_descriptor import (
    Ace,
    AceFlag,
    AceType,
    SecurityDescriptor,
    SecurityDescriptorError,
    build_security_descriptor,
    check_read_access,
    guid_from_bytes,
    parse_security_descriptor,
    principals_allowed,
    sid_from_bytes,
    sid_to_bytes,
)

DOMAIN_SID = "S-1-5-21-1004336348-1177238915-682003330"


HOST = DOMAIN_SID + "-1105"


GROUP = DOMAIN_SID + "-1110"


OTHER = DOMAIN_SID + "-1200"


sids = st.builds(
    lambda authority, subs: "S-1-" + "-".join(str(p) for p in (authority, *subs)),
    st.integers(0, (1 << 48) - 1),
    st.lists(st.integers(0, (1 << 32) - 1), max_size=15),
)


def test_sid_text_and_binary_round_trip() -> None:
    assert sid_from_bytes(sid_to_bytes(HOST)) == HOST


def test_well_known_sid_has_the_documented_binary_form() -> None:
    assert sid_to_bytes("S-1-5-32-544") == bytes.fromhex("01020000000000052000000020020000")


def test_guid_is_read_mixed_endian_lowercase_without_braces() -> None:
    raw = bytes.fromhex("d4ab6586 47e9 d04d 9a51 f8254943c90b".replace(" ", ""))
    assert guid_from_bytes(raw) == "8665abd4-e947-4dd0-9a51-f8254943c90b"


@given(sids)
def test_any_sid_round_trips(sid: str) -> None:
    assert sid_from_bytes(sid_to_bytes(sid)) == sid


@given(st.binary(max_size=64))
def test_sid_parser_raises_only_its_typed_error(data: bytes) -> None:
    with contextlib.suppress(SecurityDescriptorError):
        sid_from_bytes(data)


@given(st.text(max_size=40))
def test_sid_text_parser_raises_only_its_typed_error(text: str) -> None:
    with contextlib.suppress(SecurityDescriptorError):
        sid_to_bytes(text)


@given(st.binary(max_size=300))
def test_descriptor_parser_raises_only_its_typed_error(data: bytes) -> None:
    with contextlib.suppress(SecurityDescriptorError):
        parse_security_descriptor(data)


@given(st.lists(sids, max_size=6), sids)
def test_built_descriptor_parses_back_to_its_principals(allowed: list[str], owner: str) -> None:
    parsed = parse_security_descriptor(build_security_descriptor(owner, allowed))
    assert parsed.owner == owner
    assert principals_allowed(parsed) == tuple(dict.fromkeys(allowed))


def test_truncated_descriptor_is_refused() -> None:
    data = build_security_descriptor("S-1-5-32-544", [HOST])
    with pytest.raises(SecurityDescriptorError):
        parse_security_descriptor(data[:-3])


def descriptor(*aces: Ace) -> SecurityDescriptor:
    return SecurityDescriptor(0x8004, "S-1-5-32-544", None, aces)


def ace(kind: AceType, sid: str, mask: int = 0xF01FF, flags: int = 0) -> Ace:
    return Ace(int(kind), flags, mask, sid)


def test_host_in_an_allowed_group_may_read() -> None:
    decision = check_read_access(descriptor(ace(AceType.ACCESS_ALLOWED, GROUP)), [HOST, GROUP])
    assert (decision.allowed, decision.deciding_sid) == (True, GROUP)


def test_deny_before_allow_wins() -> None:
    sd = descriptor(ace(AceType.ACCESS_DENIED, HOST), ace(AceType.ACCESS_ALLOWED, GROUP))
    assert not check_read_access(sd, [HOST, GROUP]).allowed


def test_allow_before_deny_wins() -> None:
    sd = descriptor(ace(AceType.ACCESS_ALLOWED, GROUP), ace(AceType.ACCESS_DENIED, HOST))
    assert check_read_access(sd, [HOST, GROUP]).allowed


def test_inherit_only_ace_does_not_grant() -> None:
    sd = descriptor(ace(AceType.ACCESS_ALLOWED, HOST, flags=AceFlag.INHERIT_ONLY))
    assert not check_read_access(sd, [HOST]).allowed


def test_ace_without_read_access_does_not_grant() -> None:
    sd = descriptor(ace(AceType.ACCESS_ALLOWED, HOST, mask=0x20))  # WRITE_PROPERTY only
    assert not check_read_access(sd, [HOST]).allowed


def test_empty_dacl_grants_no_one() -> None:
    assert not check_read_access(descriptor(), [HOST]).allowed


def test_missing_dacl_grants_everyone() -> None:
    sd = SecurityDescriptor(0x8000, None, None, None)
    assert check_read_access(sd, [OTHER]).allowed


def test_object_ace_with_guid_is_parsed() -> None:
    raw_sid = sid_to_bytes(HOST)
    guid = bytes(range(16))
    body = struct.pack("<I", 1) + guid + raw_sid
    ace_bytes = struct.pack("<BBHI", AceType.ACCESS_ALLOWED_OBJECT, 0, 8 + len(body), 0x10) + body
    acl = struct.pack("<BBHHH", 4, 0, 8 + len(ace_bytes), 1, 0) + ace_bytes
    header = struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20)
    parsed = parse_security_descriptor(header + acl)
    assert parsed.dacl is not None
    assert parsed.dacl[0].object_type == guid_from_bytes(guid)
    assert parsed.dacl[0].sid == HOST
