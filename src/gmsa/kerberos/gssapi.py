"""The Kerberos V5 GSS-API mechanism (RFC 4121), initiator side, enough for SASL GSSAPI.

An AD DC only hands out ``msDS-ManagedPassword`` over an encrypted connection;
without LDAPS certificates that means SASL GSSAPI with a confidentiality
layer, which ldap3 does not have and python-gssapi would bring only with the
system's MIT libraries and a compiler. The mechanism is small: an AP-REQ in a
GSS token, the DC's AP-REP (mutual authentication, its subkey and sequence
number), then per-message Wrap tokens sealed with AES. Only AES keys are
handled (RC4's token format differs, and gmsa never asks for RC4).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import struct
from dataclasses import dataclass
from typing import Any

from minikerberos.protocol import asn1_structs as asn1

from gmsa.kerberos.crypto import CHECKSUM_FOR, checksum, decrypt, encrypt
from gmsa.kerberos.errors import DECODE_ERRORS, KerberosError
from gmsa.kerberos.keys import Key
from gmsa.kerberos.ticket import Ticket

KRB5_OID = bytes.fromhex("06092a864886f712010202")
"""DER of the Kerberos V5 mechanism OID 1.2.840.113554.1.2.2."""

_TOK_AP_REQ = b"\x01\x00"
_TOK_AP_REP = b"\x02\x00"
_TOK_ERROR = b"\x03\x00"
_TOK_WRAP = b"\x05\x04"

_SENT_BY_ACCEPTOR = 0x01
_SEALED = 0x02
_ACCEPTOR_SUBKEY = 0x04

_USAGE_ACCEPTOR_SEAL = 22
_USAGE_INITIATOR_SEAL = 24

_GSS_DELEG, _GSS_MUTUAL, _GSS_REPLAY, _GSS_SEQUENCE, _GSS_CONF, _GSS_INTEG = (
    1,
    2,
    4,
    8,
    16,
    32,
)


class GssError(KerberosError):
    """A GSS token from the peer is malformed, forged, replayed or out of order."""

    code = "gss-failed"


@dataclass(frozen=True)
class _Reply:
    key: Key
    acceptor_subkey: bool
    peer_sequence: int


class InitiatorContext:
    """One security context from this client to one service (an LDAP server)."""

    def __init__(self, ticket: Ticket, *, channel_bindings: bytes | None = None) -> None:
        if ticket.key.enctype not in CHECKSUM_FOR:
            raise KerberosError(
                f"the service ticket's session key has enctype {ticket.key.enctype}; "
                "gmsa seals only with AES",
                fix="enable AES on the DC's account (msDS-SupportedEncryptionTypes)",
            )
        self.ticket = ticket
        self._bindings = channel_bindings
        self._sequence = secrets.randbits(31)
        self._ctime = datetime.datetime.now(datetime.UTC)
        self._reply: _Reply | None = None
        self.wrapped = 0
        """Wrap tokens made, for measurements."""

    @property
    def established(self) -> bool:
        """Whether the acceptor's AP-REP has been checked."""
        return self._reply is not None

    def initial_token(self) -> bytes:
        """The first token: an AP-REQ asking for mutual authentication, integrity,
        confidentiality and sequencing."""
        flags = _GSS_MUTUAL | _GSS_SEQUENCE | _GSS_CONF | _GSS_INTEG
        bound = bytes(16)
        if self._bindings is not None:
            # gss_channel_bindings_struct: no addresses, application data only (RFC 4121)
            packed = struct.pack("<IIIII", 0, 0, 0, 0, len(self._bindings)) + self._bindings
            bound = hashlib.md5(packed).digest()  # noqa: S324 (the protocol's choice)
        gss_checksum = struct.pack("<I", 16) + bound + struct.pack("<I", flags)
        now = self._ctime
        authenticator = asn1.Authenticator(
            {
                "authenticator-vno": 5,
                "crealm": self.ticket.client.realm,
                "cname": self.ticket.client.to_asn1(),
                "cusec": now.microsecond,
                "ctime": now.replace(microsecond=0),
                "cksum": asn1.Checksum({"cksumtype": 0x8003, "checksum": gss_checksum}),
                "seq-number": self._sequence,
            }
        )
        try:
            ap_req = asn1.AP_REQ(
                {
                    "pvno": 5,
                    "msg-type": 14,
                    "ap-options": asn1.APOptions({"mutual-required"}),
                    "ticket": asn1.Ticket.load(self.ticket.ticket),
                    "authenticator": asn1.EncryptedData(
                        {
                            "etype": self.ticket.key.enctype,
                            "cipher": encrypt(self.ticket.key, 11, authenticator.dump()),
                        }
                    ),
                }
            ).dump()
        except DECODE_ERRORS as exc:
            raise KerberosError(f"the service ticket cannot be used: {exc}") from None
        return _frame(_TOK_AP_REQ + ap_req)

    def accept_reply(self, token: bytes) -> None:
        """Check the acceptor's AP-REP (or turn its KRB-ERROR into an error)."""
        body = _unframe(token)
        kind, message = body[:2], body[2:]
        if kind == _TOK_ERROR:
            try:
                code = int(asn1.KRB_ERROR.load(message).native["error-code"])
            except DECODE_ERRORS:
                code = -1
            raise GssError(
                f"the server refused the Kerberos ticket (error {code})",
                fix="check the clocks and that the DC's name in --server is its real host name",
            )
        if kind != _TOK_AP_REP:
            raise GssError("the server's GSS token is not an AP-REP")
        try:
            encrypted = asn1.AP_REP.load(message).native["enc-part"]["cipher"]
        except DECODE_ERRORS:
            raise GssError("the server's AP-REP is malformed") from None
        plain = decrypt(self.ticket.key, 12, encrypted, what="server's AP-REP")
        try:
            part: Any = asn1.EncAPRepPart.load(plain).native
        except DECODE_ERRORS:
            raise GssError("the server's AP-REP is malformed") from None
        if part["ctime"] != self._ctime.replace(microsecond=0) or part["cusec"] != (
            self._ctime.microsecond
        ):
            raise GssError("the server's AP-REP answers another authenticator")
        subkey = part.get("subkey")
        key = Key(int(subkey["keytype"]), bytes(subkey["keyvalue"])) if subkey else self.ticket.key
        if key.enctype not in CHECKSUM_FOR:
            raise GssError(f"the server chose subkey enctype {key.enctype}; gmsa needs AES")
        self._reply = _Reply(key, subkey is not None, int(part.get("seq-number") or 0))

    # ----------------------------------------------------------------- per-message

    def wrap(self, data: bytes, *, confidential: bool) -> bytes:
        """A Wrap token: ``data`` sealed (encrypted) or only integrity-protected."""
        reply = self._require()
        flags = (_SEALED if confidential else 0) | (
            _ACCEPTOR_SUBKEY if reply.acceptor_subkey else 0
        )
        sequence = self._sequence
        self._sequence = (self._sequence + 1) & 0xFFFFFFFFFFFFFFFF
        self.wrapped += 1
        if confidential:
            header = _header(flags, 0, 0, sequence)
            return header + encrypt(reply.key, _USAGE_INITIATOR_SEAL, data + header)
        mac = checksum(reply.key, _USAGE_INITIATOR_SEAL, data + _header(flags, 0, 0, sequence))
        return _header(flags, len(mac), 0, sequence) + data + mac

    def unwrap(self, token: bytes) -> bytes:
        """Check and open a Wrap token from the acceptor; return its data."""
        reply = self._require()
        if len(token) < 16:
            raise GssError("a Wrap token is shorter than its header")
        kind, flags, filler, ec, rrc, sequence = struct.unpack(">2sBBHHQ", token[:16])
        if kind != _TOK_WRAP or filler != 0xFF:
            raise GssError("not a Kerberos Wrap token")
        if not flags & _SENT_BY_ACCEPTOR:
            raise GssError("a Wrap token not sent by the server (reflected?)")
        if sequence != reply.peer_sequence:
            raise GssError(
                f"Wrap token out of order (sequence {sequence}, expected {reply.peer_sequence})"
            )
        body = token[16:]
        if body:
            turn = rrc % len(body)
            body = body[turn:] + body[:turn]
        if flags & _SEALED:
            plain = decrypt(reply.key, _USAGE_ACCEPTOR_SEAL, body, what="sealed LDAP message")
            if len(plain) < 16 + ec or plain[-16:] != _header(flags, ec, 0, sequence):
                raise GssError("a sealed Wrap token's protected header does not match")
            data = plain[: len(plain) - 16 - ec]
        else:
            if ec > len(body):
                raise GssError("a Wrap token's checksum is longer than the token")
            data, mac = body[: len(body) - ec], body[len(body) - ec :]
            expected = checksum(
                reply.key, _USAGE_ACCEPTOR_SEAL, data + _header(flags, 0, 0, sequence)
            )
            if not secrets.compare_digest(mac, expected):
                raise GssError("a Wrap token's checksum is wrong (altered in transit?)")
        self._reply = _Reply(reply.key, reply.acceptor_subkey, reply.peer_sequence + 1)
        return data

    def _require(self) -> _Reply:
        if self._reply is None:
            raise GssError("the security context is not established yet")
        return self._reply


def _header(flags: int, ec: int, rrc: int, sequence: int) -> bytes:
    return struct.pack(">2sBBHHQ", _TOK_WRAP, flags, 0xFF, ec, rrc, sequence)


def _frame(inner: bytes) -> bytes:
    """RFC 2743 3.1: [APPLICATION 0] { mechanism OID, inner token }."""
    body = KRB5_OID + inner
    return b"\x60" + _der_length(len(body)) + body


def _der_length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _unframe(token: bytes) -> bytes:
    """The inner token of a framed GSS token (an unframed one is returned as is)."""
    if not token or token[0] != 0x60:
        return b"\x02\x00" + token if token[:1] == b"\x6f" else token
    at = 1
    if len(token) < 2:
        raise GssError("a GSS token is truncated")
    first = token[at]
    at += 1
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or at + count > len(token):
            raise GssError("a GSS token has a bad length")
        at += count
    if token[at : at + len(KRB5_OID)] != KRB5_OID:
        raise GssError("the server answered with another GSS mechanism than Kerberos V5")
    return token[at + len(KRB5_OID) :]


__all__ = [
    "KRB5_OID",
    "GssError",
    "InitiatorContext",
]
