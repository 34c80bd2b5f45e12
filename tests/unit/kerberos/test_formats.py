"""Keytab and credential cache readers, principals, and the GSS Wrap tokens of sealed LDAP."""

from __future__ import annotations

import contextlib
import datetime
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmsa.kerberos.ccache import ccache_path, parse_ccache
from gmsa.kerberos.crypto import encrypt
from gmsa.kerberos.errors import CredentialsInputError, KerberosError
from gmsa.kerberos.gssapi import GssError, InitiatorContext, _header, _Reply
from gmsa.kerberos.keys import AES256, Key
from gmsa.kerberos.keytab import keys_for, parse_keytab
from gmsa.kerberos.principal import Principal
from gmsa.kerberos.ticket import Ticket
from tests.support.samba import REALM


def keytab_entry(name: str, realm: str, enctype: int, key: bytes, kvno: int) -> bytes:
    body = struct.pack(">H", 1)
    body += struct.pack(">H", len(realm)) + realm.encode()
    body += struct.pack(">H", len(name)) + name.encode()
    body += struct.pack(">IIB", 1, 0, kvno & 0xFF)
    body += struct.pack(">HH", enctype, len(key)) + key
    body += struct.pack(">I", kvno)
    return struct.pack(">i", len(body)) + body


def test_keytab_entries_are_read_with_their_32_bit_kvno() -> None:
    data = b"\x05\x02" + keytab_entry("HOST01$", REALM, AES256, bytes(32), 300)
    (entry,) = parse_keytab(data)
    assert (str(entry.principal), entry.kvno, entry.key.enctype) == (f"HOST01$@{REALM}", 300, 18)


def test_keytab_holes_are_skipped() -> None:
    hole = struct.pack(">i", -6) + bytes(6)
    data = b"\x05\x02" + hole + keytab_entry("HOST01$", REALM, AES256, bytes(32), 2)
    assert len(parse_keytab(data)) == 1


def test_newest_key_of_each_enctype_is_used() -> None:
    data = b"\x05\x02" + keytab_entry("HOST01$", REALM, AES256, b"\x01" * 32, 1)
    data += keytab_entry("HOST01$", REALM, AES256, b"\x02" * 32, 2)
    (key,) = keys_for(parse_keytab(data), Principal(("host01$",), REALM))
    assert key.value == b"\x02" * 32


def test_not_a_keytab_is_refused() -> None:
    with pytest.raises(CredentialsInputError, match="not a keytab"):
        parse_keytab(b"\x05\x01")


@given(st.binary(max_size=200))
def test_keytab_parser_raises_only_its_typed_error(data: bytes) -> None:
    with contextlib.suppress(CredentialsInputError):
        parse_keytab(b"\x05\x02" + data)


@given(st.binary(max_size=300))
def test_ccache_parser_raises_only_its_typed_error(data: bytes) -> None:
    with contextlib.suppress(CredentialsInputError):
        parse_ccache(b"\x05\x04" + data)


def test_ccache_name_accepts_file_prefix_and_refuses_keyrings() -> None:
    assert ccache_path("FILE:/tmp/x") == Path("/tmp/x")
    with pytest.raises(CredentialsInputError, match="KEYRING"):
        ccache_path("KEYRING:persistent:0")


def test_principal_parse_takes_a_default_realm() -> None:
    assert str(Principal.parse("HOST01$", default_realm="example.com")) == "HOST01$@EXAMPLE.COM"


def test_principal_without_realm_is_refused() -> None:
    with pytest.raises(CredentialsInputError):
        Principal.parse("HOST01$")


KEY = Key(AES256, bytes(range(32)))


NOW = datetime.datetime.now(datetime.UTC)


def context(peer_sequence: int = 7) -> InitiatorContext:
    ticket = Ticket(
        Principal(("u",), REALM),
        Principal.service("ldap", "dc1.example.com", REALM),
        KEY,
        b"",
        auth_time=NOW,
        start_time=NOW,
        end_time=NOW + datetime.timedelta(hours=10),
    )
    made = InitiatorContext(ticket)
    made._reply = _Reply(KEY, True, peer_sequence)
    return made


def from_acceptor(data: bytes, sequence: int) -> bytes:
    """A sealed Wrap token as the DC makes it (RFC 4121, acceptor subkey, RRC 0)."""
    flags = 0x01 | 0x02 | 0x04
    header = _header(flags, 0, 0, sequence)
    return header + encrypt(KEY, 22, data + header)


def test_sealed_token_from_the_acceptor_opens() -> None:
    assert context().unwrap(from_acceptor(b"hello", 7)) == b"hello"


def test_rotated_token_opens() -> None:
    token = from_acceptor(b"rotated data", 7)
    body = token[16:]
    rotated = token[:6] + struct.pack(">H", 28) + token[8:16] + body[-28:] + body[:-28]
    assert context().unwrap(rotated) == b"rotated data"


def test_altered_token_is_refused() -> None:
    token = bytearray(from_acceptor(b"hello", 7))
    token[-1] ^= 1
    with pytest.raises(KerberosError):
        context().unwrap(bytes(token))


def test_replayed_token_is_refused() -> None:
    ctx = context()
    token = from_acceptor(b"hello", 7)
    ctx.unwrap(token)
    with pytest.raises(GssError, match="out of order"):
        ctx.unwrap(token)


def test_token_that_claims_to_come_from_the_initiator_is_refused() -> None:
    ctx = context()
    own = ctx.wrap(b"hello", confidential=True)
    with pytest.raises(GssError, match="not sent by the server"):
        ctx.unwrap(own)


@given(st.binary(max_size=120))
def test_unwrap_raises_only_kerberos_errors(data: bytes) -> None:
    with contextlib.suppress(KerberosError):
        context().unwrap(data)


@given(st.binary(max_size=120))
def test_accept_reply_raises_only_kerberos_errors(data: bytes) -> None:
    ctx = context()
    ctx._reply = None
    with contextlib.suppress(KerberosError):
        ctx.accept_reply(data)


@pytest.mark.parametrize(
    ("enctype", "expected"),
    [
        (17, "42263c6e89f4fc28b8df68ee09799f15"),
        (18, "fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161"),
    ],
)
def test_aes_string_to_key_matches_rfc_3962_vectors(enctype: int, expected: str) -> None:
    key = Key.from_password(enctype, "password", b"ATHENA.MIT.EDUraeburn", b"\x00\x00\x00\x01")
    assert key.value.hex() == expected


@given(st.text(max_size=20), st.binary(max_size=20))
def test_fast_string_to_key_equals_minikerberos(password: str, salt: bytes) -> None:
    from minikerberos.protocol import encryption

    params = b"\x00\x00\x00\x03"
    expected = encryption.string_to_key(AES256, password.encode(), salt, params).contents
    assert Key.from_password(AES256, password, salt, params).value == expected


def test_key_is_not_printed() -> None:
    assert "0001" not in repr(Key(AES256, bytes(range(32))))
