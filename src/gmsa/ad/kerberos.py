"""A small Kerberos client: ticket-granting and service tickets from a password, a keytab
or a credential cache, in-process (no kinit, no system krb5.conf).

minikerberos supplies the ASN.1 message types and the RFC 3961 crypto; the
exchanges, the KDC transport (TCP with time-outs), the keytab and ccache
readers and every error message are ours, so each failure says which KDC,
which principal and what to check. Only AES (etypes 18 and 17) is offered:
every supported AD domain has it, and the GSS-API layer in
:mod:`gmsa.ad.gssapi` seals with it.

The ticket service of the next step (gMSA tickets from msDS-ManagedPassword)
builds on :class:`KdcClient` and :class:`Key`.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import secrets
import socket
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minikerberos.protocol import asn1_structs as asn1
from minikerberos.protocol import encryption

from gmsa.ad.errors import (
    NETWORK_FIX,
    AuthenticationError,
    CredentialsInputError,
    DcUnreachableError,
    KerberosError,
)

AES256 = 18
AES128 = 17
SUPPORTED_ENCTYPES: tuple[int, ...] = (AES256, AES128)
"""Encryption types gmsa asks for, strongest first."""
CHECKSUM_FOR: dict[int, int] = {AES256: 16, AES128: 15}
"""The keyed checksum type (hmac-sha1-96-aes*) that goes with each enctype."""

NT_PRINCIPAL = 1
NT_SRV_INST = 2
NT_SRV_HST = 3

_MAX_MESSAGE = 1 << 20
_DECODE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)

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


# --------------------------------------------------------------------------- names and keys


@dataclass(frozen=True)
class Principal:
    """A Kerberos principal name."""

    components: tuple[str, ...]
    """Name components: ``("HOST01$",)`` or ``("ldap", "dc1.example.com")``."""
    realm: str
    """The realm, upper case by AD convention."""
    name_type: int = NT_PRINCIPAL
    """NT-PRINCIPAL for users and hosts, NT-SRV-HST for ``service/host``."""

    @classmethod
    def parse(cls, text: str, *, default_realm: str | None = None) -> Principal:
        """``name@REALM`` or ``service/host@REALM``; the realm may come from ``default_realm``."""
        name, _, realm = text.rpartition("@") if "@" in text else (text, "", "")
        realm = realm or (default_realm or "")
        parts = tuple(name.split("/"))
        if not realm or not all(parts):
            raise CredentialsInputError(
                f"not a Kerberos principal: {text!r}",
                fix="write it as NAME@REALM, e.g. HOST01$@EXAMPLE.COM",
            )
        return cls(parts, realm.upper(), NT_SRV_HST if len(parts) == 2 else NT_PRINCIPAL)

    @classmethod
    def service(cls, service: str, host: str, realm: str) -> Principal:
        """A host-based service principal such as ``ldap/dc1.example.com@EXAMPLE.COM``."""
        return cls((service, host.lower()), realm.upper(), NT_SRV_HST)

    def __str__(self) -> str:
        return "/".join(self.components) + "@" + self.realm

    def to_asn1(self) -> dict[str, Any]:
        """The PrincipalName structure."""
        return {"name-type": self.name_type, "name-string": list(self.components)}

    def same_as(self, other: Principal) -> bool:
        """Case-insensitive comparison (AD principals are case-insensitive)."""
        return str(self).lower() == str(other).lower()


@dataclass(frozen=True)
class Key:
    """A Kerberos key (long-term or session)."""

    enctype: int
    """Encryption type number (18 = AES256, 17 = AES128)."""
    value: bytes = field(repr=False)
    """Key bytes; never printed."""

    def crypto(self) -> Any:
        """The minikerberos key object for the crypto functions."""
        try:
            return encryption.Key(self.enctype, self.value)
        except _DECODE_ERRORS as exc:
            raise KerberosError(f"unusable key of enctype {self.enctype}: {exc}") from None

    @classmethod
    def from_password(cls, enctype: int, password: str, salt: bytes, params: bytes | None) -> Key:
        """string-to-key (PBKDF2, 4096 iterations unless the KDC says otherwise)."""
        return cls.from_password_bytes(enctype, password.encode("utf-8"), salt, params)

    @classmethod
    def from_password_bytes(
        cls, enctype: int, password: bytes, salt: bytes, params: bytes | None
    ) -> Key:
        """AES string-to-key (RFC 3962) on password bytes: PBKDF2-HMAC-SHA1 from the
        standard library (C, about 1 ms where the pure-Python one takes 20), then
        minikerberos' random-to-key and derivation with "kerberos"."""
        if enctype not in CHECKSUM_FOR:
            raise KerberosError(f"enctype {enctype} is not supported (AES only)")
        iterations = struct.unpack(">I", params)[0] if params and len(params) == 4 else 4096
        if not 0 < iterations <= 1 << 24:
            raise KerberosError(f"the KDC asks for {iterations} PBKDF2 iterations")
        profile = encryption._enctype_table[enctype]
        seed = hashlib.pbkdf2_hmac("sha1", password, salt, iterations, profile.seedsize)
        key = profile.derive(profile.random_to_key(seed), b"kerberos")
        return cls(enctype, bytes(key.contents))


def encrypt(key: Key, usage: int, plaintext: bytes) -> bytes:
    """RFC 3961 encryption with a fresh confounder."""
    return bytes(encryption.encrypt(key.crypto(), usage, plaintext))


def decrypt(key: Key, usage: int, ciphertext: bytes, *, what: str) -> bytes:
    """RFC 3961 decryption; a wrong key or tampered data becomes a KerberosError."""
    try:
        return bytes(encryption.decrypt(key.crypto(), usage, ciphertext))
    except Exception as exc:  # minikerberos raises ValueError subclasses, and others
        raise KerberosError(
            f"cannot decrypt the {what} (wrong key, or the message was altered)",
            fix="check the password or keytab",
        ) from exc


def checksum(key: Key, usage: int, data: bytes) -> bytes:
    """The keyed checksum that goes with the key's enctype."""
    ctype = CHECKSUM_FOR.get(key.enctype)
    if ctype is None:
        raise KerberosError(f"enctype {key.enctype} is not supported (AES only)")
    return bytes(encryption.make_checksum(ctype, key.crypto(), usage, data))


@dataclass(frozen=True)
class Ticket:
    """A ticket with its session key: a TGT or a service ticket."""

    client: Principal
    """Whose ticket it is."""
    server: Principal
    """The service it is for (``krbtgt/REALM@REALM`` for a TGT)."""
    key: Key
    """The session key shared with the service."""
    ticket: bytes = field(repr=False)
    """The DER-encoded Ticket, opaque to the client."""
    end_time: datetime.datetime | None = None
    """When it expires."""
    auth_time: datetime.datetime | None = None
    """When the client authenticated (from the KDC's reply; None when read from a cache)."""
    start_time: datetime.datetime | None = None
    """When the ticket becomes valid (the KDC may omit it: then it is ``auth_time``)."""
    renew_till: datetime.datetime | None = None
    """Renewable until, when the KDC granted a renewable ticket."""
    flags: int = 0
    """TicketFlags as a 32-bit number, bit 0 (reserved) the most significant, as ccaches
    store them."""

    @property
    def is_tgt(self) -> bool:
        """Whether this is a ticket-granting ticket."""
        return self.server.components[0].lower() == "krbtgt"

    def expired(self, now: datetime.datetime | None = None) -> bool:
        """Whether the ticket's end time has passed."""
        if self.end_time is None:
            return False
        return (now or datetime.datetime.now(datetime.UTC)) >= self.end_time


# --------------------------------------------------------------------------- transport


@dataclass(frozen=True)
class KdcEndpoint:
    """Where a KDC listens."""

    host: str
    """Name shown in messages."""
    address: str
    """Address connected to."""
    port: int = 88
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

    def tgt_with_keys(self, client: Principal, keys: Sequence[Key]) -> Ticket:
        """A TGT from long-term keys, e.g. a host's keytab entries or keys derived from a
        gMSA's password: they need no salt, so the first AS-REQ carries the encrypted
        timestamp with the strongest key (one round trip)."""
        by_type = {k.enctype: k for k in keys}

        def key_for(enctype: int, _salt: bytes | None, _params: bytes | None) -> Key:
            key = by_type.get(enctype)
            if key is None:
                raise AuthenticationError(
                    f"the KDC wants enctype {enctype} for {client} but the keytab has "
                    f"{sorted(by_type) or 'no keys'}",
                    fix="export the account's AES keys into the keytab again",
                )
            return key

        usable = [e for e in SUPPORTED_ENCTYPES if e in by_type]
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
        except _DECODE_ERRORS as exc:
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
            except _DECODE_ERRORS:
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
    except _DECODE_ERRORS:
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
    except _DECODE_ERRORS:
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
    enctype = int(_native(reply)["enc-part"]["etype"])
    _, salt, params = choice
    return _read_kdc_reply(
        reply, key_for(enctype, salt, params), 3, nonce, client, what=f"the TGT for {client}"
    )


def _read_kdc_reply(
    reply: Any, key: Key, usage: int, nonce: int, client: Principal, *, what: str
) -> Ticket:
    native = _native(reply)
    cipher = native["enc-part"]["cipher"]
    plain = decrypt(key, usage, cipher, what=what)
    part: Any = None
    for cls in (asn1.EncASRepPart, asn1.EncTGSRepPart):
        try:
            part = cls.load(plain).native
            break
        except _DECODE_ERRORS:
            continue
    if part is None:
        raise KerberosError(f"cannot read {what}: its encrypted part is malformed")
    if int(part["nonce"]) != nonce:
        raise KerberosError(f"{what} answers another request (nonce mismatch)")
    sname = part["sname"]
    return Ticket(
        client=Principal(tuple(native["cname"]["name-string"]), native["crealm"], client.name_type),
        server=Principal(tuple(sname["name-string"]), part["srealm"], int(sname["name-type"])),
        key=Key(int(part["key"]["keytype"]), bytes(part["key"]["keyvalue"])),
        ticket=asn1.Ticket(native["ticket"]).dump(),
        end_time=part.get("endtime"),
        auth_time=part.get("authtime"),
        start_time=part.get("starttime") or part.get("authtime"),
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


# --------------------------------------------------------------------------- keytab


@dataclass(frozen=True)
class KeytabEntry:
    """One key of a keytab."""

    principal: Principal
    """Whose key."""
    kvno: int
    """Key version number."""
    key: Key
    """The key."""


def parse_keytab(data: bytes, *, source: str = "keytab") -> tuple[KeytabEntry, ...]:
    """Read a keytab (format 0x0502, the one MIT, Heimdal, Samba and AD tools write)."""
    if len(data) < 2 or data[0] != 5 or data[1] != 2:
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
        entries.append(_keytab_entry(data[at : at + size], source))
        at += size
    return tuple(entries)


def _keytab_entry(body: bytes, source: str) -> KeytabEntry:
    reader = _Reader(body, source, "keytab entry")
    count = reader.u16()
    realm = reader.counted16().decode("utf-8", "replace")
    components = tuple(reader.counted16().decode("utf-8", "replace") for _ in range(count))
    name_type = reader.u32()
    reader.u32()  # timestamp
    kvno = reader.u8()
    enctype = reader.u16()
    key = reader.counted16()
    if reader.remaining() >= 4:
        long_kvno = reader.u32()
        kvno = long_kvno or kvno
    if not components:
        raise CredentialsInputError("a keytab entry has no principal name", where=source)
    return KeytabEntry(Principal(components, realm, name_type), kvno, Key(enctype, key))


def read_keytab(path: Path) -> tuple[KeytabEntry, ...]:
    """Read a keytab file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CredentialsInputError(
            "the keytab does not exist", where=str(path), fix="check --keytab"
        ) from None
    except OSError as exc:
        raise CredentialsInputError(
            f"cannot read the keytab: {exc.strerror}",
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


# --------------------------------------------------------------------------- ccache


@dataclass(frozen=True)
class CredentialCache:
    """The tickets of a credential cache file."""

    principal: Principal
    """The cache's default principal (who ran kinit)."""
    tickets: tuple[Ticket, ...]
    """Every ticket in it, configuration entries left out."""

    def tgt(self, realm: str) -> Ticket | None:
        """The TGT for ``realm`` held by the default principal."""
        for ticket in self.tickets:
            server = ticket.server
            if (
                ticket.is_tgt
                and len(server.components) == 2
                and server.components[1].upper() == realm.upper()
                and ticket.client.same_as(self.principal)
            ):
                return ticket
        return None


def parse_ccache(data: bytes, *, source: str = "credential cache") -> CredentialCache:
    """Read a FILE credential cache, format version 4 (what MIT and Heimdal write)."""
    reader = _Reader(data, source, "credential cache")
    version = reader.u16()
    if version != 0x0504:
        raise CredentialsInputError(
            f"unsupported credential cache format 0x{version:04x} (gmsa reads version 4)",
            where=source,
            fix="get a fresh cache with kinit",
        )
    reader.take(reader.u16())  # header tags (KDC time offset)
    principal = _ccache_principal(reader)
    tickets: list[Ticket] = []
    while reader.remaining() > 0:
        client = _ccache_principal(reader)
        server = _ccache_principal(reader)
        enctype = reader.u16()
        key = reader.counted32()
        _auth, _start, end, _renew = (reader.u32() for _ in range(4))
        reader.u8()  # is_skey
        reader.u32()  # ticket flags
        for _ in range(reader.u32()):  # addresses
            reader.u16()
            reader.counted32()
        for _ in range(reader.u32()):  # authdata
            reader.u16()
            reader.counted32()
        ticket = reader.counted32()
        reader.counted32()  # second ticket
        if server.realm == "X-CACHECONF:":
            continue
        tickets.append(
            Ticket(
                client=client,
                server=server,
                key=Key(enctype, key),
                ticket=ticket,
                end_time=datetime.datetime.fromtimestamp(end, datetime.UTC) if end else None,
            )
        )
    return CredentialCache(principal, tuple(tickets))


def _ccache_principal(reader: _Reader) -> Principal:
    name_type = reader.u32()
    count = reader.u32()
    if count > 64:
        raise CredentialsInputError(f"a principal with {count} components", where=reader.source)
    realm = reader.counted32().decode("utf-8", "replace")
    parts = tuple(reader.counted32().decode("utf-8", "replace") for _ in range(count))
    return Principal(parts or ("",), realm, name_type)


def ccache_path(name: str | None) -> Path:
    """The file behind a cache name (``FILE:/path`` or a path), default as MIT's."""
    value = name if name is not None else os.environ.get("KRB5CCNAME")
    if not value:
        return Path(f"/tmp/krb5cc_{os.getuid()}")  # noqa: S108 (MIT's default location)
    kind, sep, rest = value.partition(":")
    if sep and kind.upper() == "FILE":
        return Path(rest)
    if sep and kind.isalpha() and kind.upper() != "FILE" and not value.startswith("/"):
        raise CredentialsInputError(
            f"gmsa reads FILE credential caches, not {kind.upper()}:",
            where=value,
            fix="run: kinit -c FILE:/tmp/gmsa.cc ... and pass --ccache /tmp/gmsa.cc, "
            "or use --keytab",
        )
    return Path(value)


def read_ccache(path: Path) -> CredentialCache:
    """Read a credential cache file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CredentialsInputError(
            "no Kerberos credential cache",
            where=str(path),
            fix="run kinit first, or give --keytab, or --user with a password source",
        ) from None
    except OSError as exc:
        raise CredentialsInputError(
            f"cannot read the credential cache: {exc.strerror}", where=str(path)
        ) from None
    return parse_ccache(data, source=str(path))


class _Reader:
    """Big-endian reads that end in a typed error, never an IndexError."""

    def __init__(self, data: bytes, source: str, what: str) -> None:
        self.data = data
        self.at = 0
        self.source = source
        self.what = what

    def remaining(self) -> int:
        return len(self.data) - self.at

    def take(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise CredentialsInputError(f"the {self.what} is truncated", where=self.source)
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def counted16(self) -> bytes:
        return self.take(self.u16())

    def counted32(self) -> bytes:
        return self.take(self.u32())
