"""The Kerberos exchanges with a domain's KDCs: a TGT from a password or keys (AS), a
service ticket from a TGT (TGS).

minikerberos supplies the ASN.1 message types; the exchanges, the transport (TCP
with time-outs: AD's tickets with a PAC rarely fit UDP) and every error message
are ours, so each failure says which KDC, which principal and what to check.
Only AES (etypes 18 and 17) is offered: every supported AD domain has it, and
the GSS-API layer in :mod:`gmsa.kerberos.gssapi` seals with it.
"""

from __future__ import annotations

import datetime
import secrets
import socket
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from minikerberos.protocol import asn1_structs as asn1

from gmsa.kerberos.crypto import CHECKSUM_FOR, checksum, decrypt, encrypt
from gmsa.kerberos.errors import (
    DECODE_ERRORS,
    NETWORK_FIX,
    AuthenticationError,
    CredentialsInputError,
    DcUnreachableError,
    KerberosError,
)
from gmsa.kerberos.keys import SUPPORTED_ENCTYPES, GmsaKeys, Key
from gmsa.kerberos.principal import NT_SRV_INST, Principal
from gmsa.kerberos.ticket import Ticket

KDC_PORT = 88
"""Kerberos' TCP port."""

_MAX_MESSAGE = 1 << 20

KDC_ERRORS: dict[int, tuple[str, str]] = {
    6: (
        "the KDC does not know the client principal",
        "check the user or host name and the realm",
    ),
    7: (
        "the KDC does not know the service principal",
        "use the DC's full host name (its ldap/ SPN), not an address or alias",
    ),
    12: ("the KDC's policy refuses this request", "check account restrictions (logon hours)"),
    14: (
        "the KDC offers none of the encryption types gmsa uses (AES)",
        "enable AES for the account (msDS-SupportedEncryptionTypes 0x18)",
    ),
    18: (
        "the account is disabled, locked out or expired",
        "enable or unlock the account in AD",
    ),
    23: ("the account's password has expired", "set a new password"),
    24: (
        "the password or key is wrong",
        "check the password (or keytab: reset the machine account and export it again)",
    ),
    31: ("the ticket or key does not match (integrity check failed)", "get fresh credentials"),
    32: ("the ticket has expired", "get a fresh ticket (kinit) or use a keytab or password"),
    37: (
        "the clocks of this machine and the KDC differ by more than 5 minutes",
        "synchronise this machine's clock (NTP) with the domain",
    ),
    68: ("the KDC is for another realm", "check --domain"),
}
"""KRB-ERROR codes users meet, with what they mean and what to do."""


# --------------------------------------------------------------------------- transport


@dataclass(frozen=True)
class KdcEndpoint:
    """Where a KDC listens."""

    host: str
    """Name shown in messages."""
    address: str
    """Address connected to."""
    port: int = KDC_PORT
    """Kerberos TCP port."""

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class KdcClient:
    """Talks to the domain's KDCs over TCP (AD's tickets with a PAC rarely fit UDP)."""

    def __init__(self, kdcs: Sequence[KdcEndpoint], *, timeout: float = 5.0) -> None:
        if not kdcs:
            raise CredentialsInputError("no KDC to ask for tickets", fix="give --kdc HOST")
        self.kdcs = tuple(kdcs)
        self.timeout = timeout
        self.round_trips = 0
        """KDC exchanges made, for measurements."""
        self._answered_by = self.kdcs[0]

    @property
    def answered_by(self) -> KdcEndpoint:
        """The KDC that answered the last exchange (the first one before any)."""
        return self._answered_by

    # ----------------------------------------------------------------- AS exchange

    def tgt_with_password(self, client: Principal, password: str) -> Ticket:
        """A TGT for a user or host that knows its password.

        The first exchange for a principal learns its salt from the KDC (two round
        trips); later ones in this process send the encrypted timestamp at once (one).
        The salt is never guessed: a wrong guess would count as a bad password.
        """

        def key_for(enctype: int, salt: bytes | None, params: bytes | None) -> Key:
            default_salt = (client.realm + "".join(client.components)).encode()
            return Key.from_password(enctype, password, salt or default_salt, params)

        return self._as_exchange(client, key_for, known=_known_salt(client), remember=True)

    def tgt_with_keys(self, client: Principal, keys: Sequence[Key] | GmsaKeys) -> Ticket:
        """A TGT from long-term keys, e.g. a host's keytab entries or keys derived from a
        gMSA's password: they need no salt, so the first AS-REQ carries the encrypted
        timestamp with the strongest key (one round trip). With :class:`GmsaKeys` only
        the key the exchange uses is derived (AES256 unless the KDC asks for AES128)."""
        derived = keys if isinstance(keys, GmsaKeys) else None
        by_type = {} if isinstance(keys, GmsaKeys) else {k.enctype: k for k in keys}
        if derived is not None:
            usable = list(SUPPORTED_ENCTYPES)
            have = "gmsa derives only the AES keys from a gMSA's password"
        else:
            usable = [e for e in SUPPORTED_ENCTYPES if e in by_type]
            have = f"the keytab has {sorted(by_type) or 'no keys'}"

        def key_of(enctype: int) -> Key | None:
            if derived is not None:
                return derived.key(enctype) if enctype in usable else None
            return by_type.get(enctype)

        def key_for(enctype: int, _salt: bytes | None, _params: bytes | None) -> Key:
            key = key_of(enctype)
            if key is None:
                raise AuthenticationError(
                    f"the KDC wants enctype {enctype} for {client} but {have}",
                    fix="export the account's AES keys into the keytab again",
                )
            return key

        if not usable:
            raise CredentialsInputError(
                f"the keytab holds no AES key for {client}",
                fix="export the account's AES keys (enctypes 17/18) into the keytab",
            )
        return self._as_exchange(
            client, key_for, offered=tuple(usable), known=(usable[0], None, None)
        )

    def _as_exchange(
        self,
        client: Principal,
        key_for: Callable[[int, bytes | None, bytes | None], Key],
        *,
        offered: tuple[int, ...] = SUPPORTED_ENCTYPES,
        known: PreauthChoice | None = None,
        remember: bool = False,
    ) -> Ticket:
        """The AS exchange with encrypted-timestamp pre-authentication.

        With ``known`` (enctype, salt, s2k parameters) the first AS-REQ carries the
        timestamp. If the KDC refuses it (pre-authentication failed or required, enctype
        not supported) the exchange falls back to asking for the KDC's hints, and tries
        again only with a different key: the same key would fail the same way and count
        as a second bad password.
        """
        what = f"a TGT for {client}"
        krbtgt = Principal(("krbtgt", client.realm), client.realm, NT_SRV_INST)
        nonce = secrets.randbits(31)
        body = _request_body(client.realm, krbtgt, nonce, offered, cname=client)
        pac = {
            "padata-type": 128,
            "padata-value": asn1.PA_PAC_REQUEST({"include-pac": True}).dump(),
        }
        choice: PreauthChoice | None = None
        tried: Key | None = None
        refusal: tuple[int, KdcEndpoint] | None = None
        if known is not None and known[0] in offered:
            tried = key_for(*known)
            reply = self._send(
                _as_req(body, pac, tried), what=what, allow_error=_OPTIMISTIC_REFUSALS
            )
            if reply.name != "KRB_ERROR":
                return _read_as_reply(reply, key_for, known, nonce, client, what)
            refusal = (int(_native(reply)["error-code"]), self._answered_by)
            choice = _preauth_hints(reply, offered, client)
        if choice is None:
            probe = asn1.AS_REQ({"pvno": 5, "msg-type": 10, "padata": [pac], "req-body": body})
            reply = self._send(probe.dump(), what=what, allow_error=(25,))
            if reply.name != "KRB_ERROR":  # an account that needs no pre-authentication
                return _read_as_reply(reply, key_for, (0, None, None), nonce, client, what)
            choice = _preauth_choice(reply, offered, client)
        key = key_for(*choice)
        if tried is not None and refusal is not None and key == tried:
            code, kdc = refusal
            raise _kdc_error(24 if code == 25 else code, kdc, what)
        reply = self._send(_as_req(body, pac, key), what=what)
        ticket = _read_as_reply(reply, key_for, choice, nonce, client, what)
        if remember:
            _remember_salt(client, choice)
        return ticket

    # ----------------------------------------------------------------- TGS exchange

    def service_ticket(self, tgt: Ticket, service: Principal) -> Ticket:
        """A ticket for ``service`` (e.g. ``ldap/dc1.example.com``) from a TGT."""
        nonce = secrets.randbits(31)
        body = asn1.KDC_REQ_BODY(
            _request_body(service.realm, service, nonce, SUPPORTED_ENCTYPES, cname=None)
        )
        now = datetime.datetime.now(datetime.UTC)
        ctype = CHECKSUM_FOR.get(tgt.key.enctype)
        if ctype is None:
            raise KerberosError(
                f"the TGT's session key has enctype {tgt.key.enctype}; gmsa needs AES",
                fix="get a TGT with AES (kinit with an AES-enabled account)",
            )
        authenticator = asn1.Authenticator(
            {
                "authenticator-vno": 5,
                "crealm": tgt.client.realm,
                "cname": tgt.client.to_asn1(),
                "cusec": now.microsecond,
                "ctime": now.replace(microsecond=0),
                "cksum": asn1.Checksum(
                    {"cksumtype": ctype, "checksum": checksum(tgt.key, 6, body.dump())}
                ),
            }
        )
        try:
            ticket = asn1.Ticket.load(tgt.ticket)
            ap_req = asn1.AP_REQ(
                {
                    "pvno": 5,
                    "msg-type": 14,
                    "ap-options": asn1.APOptions(set()),
                    "ticket": ticket,
                    "authenticator": asn1.EncryptedData(
                        {
                            "etype": tgt.key.enctype,
                            "cipher": encrypt(tgt.key, 7, authenticator.dump()),
                        }
                    ),
                }
            )
            request = asn1.TGS_REQ(
                {
                    "pvno": 5,
                    "msg-type": 12,
                    "padata": [{"padata-type": 1, "padata-value": ap_req.dump()}],
                    "req-body": body,
                }
            ).dump()
        except DECODE_ERRORS as exc:
            raise KerberosError(f"the cached TGT cannot be used: {exc}") from None
        reply = self._send(request, what=f"a ticket for {service}")
        return _read_kdc_reply(
            reply, tgt.key, 8, nonce, tgt.client, what=f"the ticket for {service}"
        )

    # ----------------------------------------------------------------- transport

    def _send(self, request: bytes, *, what: str, allow_error: tuple[int, ...] = ()) -> Any:
        failures: list[str] = []
        for kdc in self.kdcs:
            try:
                raw = self._exchange(kdc, request)
            except OSError as exc:
                failures.append(f"{kdc}: {_os_reason(exc)}")
                continue
            try:
                reply = asn1.KerberosResponse.load(raw)
                name = reply.name
            except DECODE_ERRORS:
                raise KerberosError(
                    f"the KDC sent a reply that is not Kerberos while asking for {what}",
                    where=str(kdc),
                    fix="check that port 88 of this host is the domain's KDC",
                ) from None
            if name == "KRB_ERROR":
                code = int(_native(reply)["error-code"])
                if code not in allow_error:
                    raise _kdc_error(code, kdc, what)
            self._answered_by = kdc
            return reply
        raise DcUnreachableError(
            f"no KDC answered while asking for {what}: {'; '.join(failures)}",
            where=", ".join(str(k) for k in self.kdcs),
            fix=NETWORK_FIX,
        )

    def _exchange(self, kdc: KdcEndpoint, request: bytes) -> bytes:
        self.round_trips += 1
        with socket.create_connection((kdc.address, kdc.port), timeout=self.timeout) as sock:
            sock.sendall(struct.pack(">I", len(request)) + request)
            length = struct.unpack(">I", _recv_exact(sock, 4))[0]
            if length == 0 or length > _MAX_MESSAGE:
                raise ConnectionError(f"the KDC announced a reply of {length} bytes")
            return _recv_exact(sock, length)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("the KDC closed the connection")
        chunks += chunk
    return bytes(chunks)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "no answer in time"
    return exc.strerror or str(exc) or type(exc).__name__


def _kdc_error(code: int, kdc: KdcEndpoint, what: str) -> KerberosError | AuthenticationError:
    meaning, fix = KDC_ERRORS.get(code, (f"KDC error {code}", "see RFC 4120 section 7.5.9"))
    cls = AuthenticationError if code in (6, 18, 23, 24) else KerberosError
    error = cls(f"{meaning} (asking for {what})", where=str(kdc), fix=fix)
    if isinstance(error, KerberosError):
        error.error_code = code
    return error


def _native(message: Any) -> Any:
    try:
        return message.native
    except DECODE_ERRORS:
        raise KerberosError("the KDC sent a malformed Kerberos message") from None


def _request_body(
    realm: str,
    server: Principal,
    nonce: int,
    enctypes: tuple[int, ...],
    *,
    cname: Principal | None,
) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC)
    # A service ticket asks for nothing its TGT may lack (a kinit TGT is often neither
    # forwardable nor renewable, and asking anyway gets KDC_ERR_BADOPTION).
    options = {"forwardable", "renewable", "canonicalize"} if cname else {"canonicalize"}
    body: dict[str, Any] = {
        "kdc-options": asn1.KDCOptions(options),
        "realm": realm,
        "sname": server.to_asn1(),
        "till": (now + datetime.timedelta(hours=10)).replace(microsecond=0),
        "nonce": nonce,
        "etype": list(enctypes),
    }
    if cname is not None:
        body["cname"] = cname.to_asn1()
        body["rtime"] = (now + datetime.timedelta(days=7)).replace(microsecond=0)
    return body


def _etype_info(error: Any) -> dict[int, tuple[bytes | None, bytes | None]]:
    """The ETYPE-INFO2 hints of a KRB-ERROR: salt and s2k parameters per enctype."""
    native = _native(error)
    hints: dict[int, tuple[bytes | None, bytes | None]] = {}
    try:
        if native.get("e-data"):
            for entry in asn1.METHOD_DATA.load(native["e-data"]).native:
                if entry["padata-type"] == 19:  # PA-ETYPE-INFO2
                    for info in asn1.ETYPE_INFO2.load(entry["padata-value"]).native:
                        salt = info.get("salt")
                        hints[int(info["etype"])] = (
                            salt.encode() if isinstance(salt, str) else salt,
                            info.get("s2kparams"),
                        )
    except DECODE_ERRORS:
        raise KerberosError("the KDC's pre-authentication hints are malformed") from None
    return hints


def _preauth_choice(
    error: Any, offered: tuple[int, ...], client: Principal
) -> tuple[int, bytes | None, bytes | None]:
    """The enctype, salt and s2k parameters the KDC asks pre-authentication with."""
    return _preauth_hints(error, offered, client) or (offered[0], None, None)


def _preauth_hints(error: Any, offered: tuple[int, ...], client: Principal) -> PreauthChoice | None:
    """The KDC's choice among ``offered`` when its error carries ETYPE-INFO2, else None."""
    hints = _etype_info(error)
    for enctype in offered:
        if enctype in hints:
            salt, params = hints[enctype]
            return enctype, salt, params
    if hints:
        raise _kdc_error(14, KdcEndpoint(client.realm, client.realm), f"a TGT for {client}")
    return None


PreauthChoice = tuple[int, bytes | None, bytes | None]
"""(enctype, salt, s2k parameters) to pre-authenticate with."""

_OPTIMISTIC_REFUSALS = (14, 24, 25)
"""What a KDC may answer a first AS-REQ whose timestamp it cannot use: ETYPE_NOSUPP,
PREAUTH_FAILED, PREAUTH_REQUIRED. Each leads to the two-step exchange."""

_SALTS: dict[str, PreauthChoice] = {}
_SALTS_LOCK = threading.Lock()
_SALTS_MAX = 4096


def _known_salt(client: Principal) -> PreauthChoice | None:
    """What the KDC asked this principal to pre-authenticate with last time (salts are
    not secret: the KDC tells them to anyone who asks)."""
    with _SALTS_LOCK:
        return _SALTS.get(str(client).lower())


def _remember_salt(client: Principal, choice: PreauthChoice) -> None:
    with _SALTS_LOCK:
        if len(_SALTS) >= _SALTS_MAX:
            _SALTS.clear()
        _SALTS[str(client).lower()] = choice


def forget_salts() -> None:
    """Forget every salt learnt so far (the next password exchange asks the KDC again)."""
    with _SALTS_LOCK:
        _SALTS.clear()


def _as_req(body: dict[str, Any], pac: dict[str, Any], key: Key) -> bytes:
    """An AS-REQ carrying PA-ENC-TIMESTAMP encrypted with ``key``."""
    now = datetime.datetime.now(datetime.UTC)
    stamp = asn1.PA_ENC_TS_ENC(
        {"patimestamp": now.replace(microsecond=0), "pausec": now.microsecond}
    )
    encrypted = asn1.EncryptedData({"etype": key.enctype, "cipher": encrypt(key, 1, stamp.dump())})
    timestamp = {"padata-type": 2, "padata-value": encrypted.dump()}
    request = asn1.AS_REQ({"pvno": 5, "msg-type": 10, "padata": [timestamp, pac], "req-body": body})
    return bytes(request.dump())


def _read_as_reply(
    reply: Any,
    key_for: Callable[[int, bytes | None, bytes | None], Key],
    choice: PreauthChoice,
    nonce: int,
    client: Principal,
    what: str,
) -> Ticket:
    """The TGT of an AS-REP, decrypted with the key of the enctype the KDC used."""
    try:
        enctype = int(reply.chosen["enc-part"]["etype"].native)
    except DECODE_ERRORS:
        raise KerberosError("the KDC sent a malformed Kerberos message") from None
    _, salt, params = choice
    return _read_kdc_reply(
        reply, key_for(enctype, salt, params), 3, nonce, client, what=f"the TGT for {client}"
    )


def _read_kdc_reply(
    reply: Any, key: Key, usage: int, nonce: int, client: Principal, *, what: str
) -> Ticket:
    # Only the fields used are decoded: the reply's ticket (most of its bytes, with the
    # PAC inside) is kept as received.
    try:
        body = reply.chosen
        cipher = body["enc-part"]["cipher"].native
        cname = tuple(body["cname"]["name-string"].native)
        crealm = body["crealm"].native
        ticket = body["ticket"].untag().dump()
    except DECODE_ERRORS:
        raise KerberosError("the KDC sent a malformed Kerberos message") from None
    plain = decrypt(key, usage, cipher, what=what)
    part: Any = None
    for cls in (asn1.EncASRepPart, asn1.EncTGSRepPart):
        try:
            part = cls.load(plain).native
            break
        except DECODE_ERRORS:
            continue
    if part is None:
        raise KerberosError(f"cannot read {what}: its encrypted part is malformed")
    if int(part["nonce"]) != nonce:
        raise KerberosError(f"{what} answers another request (nonce mismatch)")
    sname = part["sname"]
    auth_time = part.get("authtime")
    end_time = part.get("endtime")
    if auth_time is None or end_time is None:
        raise KerberosError(f"cannot read {what}: it has no authentication or end time")
    return Ticket(
        client=Principal(cname, crealm, client.name_type),
        server=Principal(tuple(sname["name-string"]), part["srealm"], int(sname["name-type"])),
        key=Key(int(part["key"]["keytype"]), bytes(part["key"]["keyvalue"])),
        ticket=ticket,
        auth_time=auth_time,
        start_time=part.get("starttime") or auth_time,
        end_time=end_time,
        renew_till=part.get("renew-till"),
        flags=_ticket_flags(part.get("flags")),
    )


def _ticket_flags(native: Any) -> int:
    """TicketFlags (a set of flag names, or of bit numbers for unnamed bits) as a number."""
    if not native:
        return 0
    bits = {name: bit for bit, name in asn1.TicketFlags._map.items()}
    value = 0
    for flag in native:
        bit = flag if isinstance(flag, int) else bits.get(str(flag))
        if bit is not None and 0 <= bit < 32:
            value |= 1 << (31 - bit)
    return value


__all__ = [
    "KDC_ERRORS",
    "KDC_PORT",
    "KdcClient",
    "KdcEndpoint",
    "PreauthChoice",
    "forget_salts",
]
