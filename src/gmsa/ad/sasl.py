"""SASL GSSAPI binds to a DC's LDAP service, and the sealing layer after them.

A DC hands out ``msDS-ManagedPassword`` only over an encrypted connection;
without LDAPS certificates that is LDAP on 389 with a SASL GSSAPI bind and a
Kerberos confidentiality layer (RFC 4752), which ldap3 does not have. The bind
runs the GSS-API mechanism of :mod:`gmsa.kerberos.gssapi`; after it,
:class:`SealedSocket` seals every LDAP message with the session key.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import ldap3
from asn1crypto import x509 as asn1_x509
from ldap3.core import exceptions as ldap_exc
from ldap3.protocol.sasl.sasl import send_sasl_negotiation

from gmsa.ad.errors import bind_error, short_reason
from gmsa.kerberos.errors import NETWORK_FIX, AuthenticationError, DcUnreachableError
from gmsa.kerberos.gssapi import GssError, InitiatorContext
from gmsa.kerberos.ticket import Ticket

_MAX_SASL_BUFFER = 16 * 1024 * 1024
_OUR_MAX_BUFFER = 0xFFFFFF

_NO_LAYER = 1
_INTEGRITY = 2
_CONFIDENTIALITY = 4


def gssapi_bind(
    conn: ldap3.Connection,
    dc: str,
    ticket: Ticket,
    *,
    channel_bindings: bool,
    sealed: bool,
) -> int:
    """SASL GSSAPI (RFC 4752) as ``ticket``'s client to ``dc``; the number of LDAP round trips.

    ``sealed`` asks for the confidentiality layer and wraps the connection's socket
    in a :class:`SealedSocket`; ``channel_bindings`` binds to the TLS certificate
    (LDAPS).
    """
    bindings = _channel_bindings(conn) if channel_bindings else None
    context = InitiatorContext(ticket, channel_bindings=bindings)
    conn.sasl_mechanism = ldap3.GSSAPI
    conn.authentication = ldap3.SASL
    who = str(ticket.client)
    trips = 0
    conn.sasl_in_progress = True
    try:
        result = _sasl_step(conn, dc, context.initial_token())
        trips += 1
        if result.get("saslCreds"):
            context.accept_reply(bytes(result["saslCreds"]))
        if int(result.get("result", -1)) == 14:  # saslBindInProgress
            result = _sasl_step(conn, dc, b"")
            trips += 1
        if int(result.get("result", -1)) != 14 or not result.get("saslCreds"):
            raise bind_error(result, dc, who)
        offer = context.unwrap(bytes(result["saslCreds"]))
        if len(offer) != 4:
            raise GssError("the DC's security-layer offer is malformed")
        layers, server_max = offer[0], int.from_bytes(offer[1:4], "big")
        if sealed:
            if not layers & _CONFIDENTIALITY:
                raise AuthenticationError(
                    "the DC does not offer Kerberos encryption for LDAP",
                    where=dc,
                    fix="use --protection ldaps",
                )
            choice = bytes([_CONFIDENTIALITY]) + _OUR_MAX_BUFFER.to_bytes(3, "big")
        else:
            if not layers & _NO_LAYER:
                raise AuthenticationError(
                    "the DC insists on a Kerberos security layer",
                    where=dc,
                    fix="use --protection sealed",
                )
            choice = bytes([_NO_LAYER]) + b"\x00\x00\x00"
        result = _sasl_step(conn, dc, context.wrap(choice, confidential=False))
        trips += 1
        if int(result.get("result", -1)) != 0:
            raise bind_error(result, dc, who)
    finally:
        conn.sasl_in_progress = False
    conn.bound = True
    if sealed:
        conn.socket = SealedSocket(conn.socket, context, max(server_max, 1024))
    return trips


def _sasl_step(conn: ldap3.Connection, dc: str, payload: bytes) -> dict[str, Any]:
    try:
        result = send_sasl_negotiation(conn, None, payload)  # type: ignore[no-untyped-call]
    except ldap_exc.LDAPException as exc:
        raise DcUnreachableError(
            f"the Kerberos bind to {dc} broke off: {short_reason(str(exc))}",
            where=dc,
            fix=NETWORK_FIX,
        ) from None
    return dict(result or {})


def _channel_bindings(conn: ldap3.Connection) -> bytes | None:
    """RFC 5929 tls-server-end-point bindings, which DCs enforcing LDAP channel binding
    require from Kerberos binds over TLS."""
    try:
        der = conn.socket.getpeercert(binary_form=True)
    except (AttributeError, ValueError, OSError):
        return None
    if not der:
        return None
    try:
        algorithm = asn1_x509.Certificate.load(der).hash_algo
    except (ValueError, TypeError, KeyError):
        algorithm = "sha256"
    if algorithm in ("md5", "sha1") or algorithm not in hashlib.algorithms_available:
        algorithm = "sha256"
    digest = hashlib.new(algorithm, der).digest()
    return b"tls-server-end-point:" + digest


class SealedSocket:
    """A socket look-alike that seals what ldap3 sends and unseals what it receives.

    SASL buffers are a 4-byte big-endian length followed by one Wrap token
    (RFC 4752 section 3.3); ldap3 sees only the plain LDAP byte stream.
    """

    def __init__(self, raw: Any, context: InitiatorContext, peer_max: int) -> None:
        self._raw = raw
        self._context = context
        self._chunk = max(peer_max - 128, 256)
        self._pending = b""

    def sendall(self, data: bytes) -> None:
        """Seal and send ``data``, split to the peer's maximum buffer size."""
        for start in range(0, len(data), self._chunk):
            token = self._context.wrap(data[start : start + self._chunk], confidential=True)
            self._raw.sendall(struct.pack(">I", len(token)) + token)

    def recv(self, size: int) -> bytes:
        """Up to ``size`` plain bytes; reads and unseals one SASL buffer when none are left."""
        if not self._pending:
            header = self._read_exact(4)
            if not header:
                return b""
            length = struct.unpack(">I", header)[0]
            if length > _MAX_SASL_BUFFER:
                raise GssError(f"the DC announced a {length}-byte SASL buffer")
            token = self._read_exact(length)
            if len(token) != length:
                raise GssError("the connection closed inside a SASL buffer")
            self._pending = self._context.unwrap(token)
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def _read_exact(self, size: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            chunk = self._raw.recv(size - len(chunks))
            if not chunk:
                return bytes(chunks)
            chunks += chunk
        return bytes(chunks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


__all__ = [
    "SealedSocket",
    "gssapi_bind",
]
