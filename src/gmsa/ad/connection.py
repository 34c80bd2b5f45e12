"""Connecting to a domain controller: find it, reach it, authenticate, protect the channel.

Three protections (``--protection``):

``sealed`` (default)
    LDAP on 389 with a SASL GSSAPI bind and Kerberos confidentiality: every
    LDAP message after the bind is encrypted with the session key. Needs
    Kerberos credentials (a ticket cache, a keytab, or a password used to get
    a TGT) and no certificates, which is what most AD domains allow.
``ldaps``
    TLS on 636, the DC's certificate checked against the system's CAs or
    ``--ca-file``. Kerberos credentials bind with GSSAPI (with TLS channel
    bindings); a password binds with a simple bind.
``plain``
    LDAP on 389 without protection, only when asked: DCs usually refuse
    simple binds there, and nothing secret should travel that way.

Every LDAP request, bind steps included, is counted in
:attr:`Directory.round_trips` so callers can measure and batch.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import re
import socket
import ssl
import struct
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import ldap3
from asn1crypto import x509 as asn1_x509
from ldap3.core import exceptions as ldap_exc
from ldap3.protocol.sasl.sasl import send_sasl_negotiation

from gmsa.ad import kerberos
from gmsa.ad.discovery import DnsConfig, find_domain_controllers, resolve_address, split_host_port
from gmsa.ad.errors import (
    NETWORK_FIX,
    AuthenticationError,
    CredentialsInputError,
    DcUnreachableError,
    DirectoryError,
    LdapOperationError,
    TlsError,
)
from gmsa.ad.gssapi import GssError, InitiatorContext
from gmsa.errors import GmsaError

LDAP_PORT = 389
LDAPS_PORT = 636
KERBEROS_PORT = 88
DEFAULT_TIMEOUT = 10
_MAX_SASL_BUFFER = 16 * 1024 * 1024
_OUR_MAX_BUFFER = 0xFFFFFF

_NO_LAYER = 1
_INTEGRITY = 2
_CONFIDENTIALITY = 4


class Protection(StrEnum):
    """How the LDAP connection is protected."""

    SEALED = "sealed"
    """389 with Kerberos (SASL GSSAPI) encryption."""
    LDAPS = "ldaps"
    """636 with TLS."""
    PLAIN = "plain"
    """389 without protection (only when asked)."""


# --------------------------------------------------------------------------- credentials


@dataclass(frozen=True)
class CacheCredentials:
    """Use the current Kerberos ticket cache (``kinit``'s)."""

    path: Path | None = None
    """The cache file; ``None`` for $KRB5CCNAME or /tmp/krb5cc_UID."""


@dataclass(frozen=True)
class KeytabCredentials:
    """Use keys from a keytab, e.g. the host's /etc/krb5.keytab."""

    path: Path
    """The keytab file."""
    principal: str | None = None
    """Whose keys (``HOST01$@EXAMPLE.COM``); ``None`` for the keytab's host principal."""


@dataclass(frozen=True)
class PasswordCredentials:
    """A user (or computer) name and its password."""

    user: str
    """``name``, ``name@domain`` or ``DOMAIN\\name``."""
    password: str = field(repr=False)
    """Never printed or logged."""


Credentials = CacheCredentials | KeytabCredentials | PasswordCredentials


@dataclass(frozen=True)
class ConnectOptions:
    """Where and how to connect."""

    domain: str | None = None
    """The domain's DNS name; ``None`` to take it from the credentials."""
    server: str | None = None
    """A DC's host name (or address, without Kerberos); ``None`` to find DCs in DNS."""
    kdc: str | None = None
    """``HOST[:PORT]`` of a KDC; ``None`` for the DC being connected to."""
    dns: DnsConfig = field(default_factory=DnsConfig)
    """DNS server used to find DCs and resolve their names."""
    protection: Protection = Protection.SEALED
    """Channel protection."""
    ca_file: Path | None = None
    """CA bundle for LDAPS; ``None`` for the system's."""
    timeout: int = DEFAULT_TIMEOUT
    """Seconds for each connect and each answer."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Entry:
    """One directory object from a search, attribute names lower-cased."""

    dn: str
    """Distinguished name."""
    attributes: Mapping[str, tuple[bytes, ...]]
    """Raw values by lower-case attribute name."""

    def values(self, name: str) -> tuple[bytes, ...]:
        """All raw values of an attribute (empty when absent)."""
        return self.attributes.get(name.lower(), ())

    def first(self, name: str) -> bytes | None:
        """The first raw value, or None."""
        found = self.values(name)
        return found[0] if found else None

    def text(self, name: str) -> str | None:
        """The first value as text."""
        value = self.first(name)
        return value.decode("utf-8", "replace") if value is not None else None

    def texts(self, name: str) -> tuple[str, ...]:
        """All values as text."""
        return tuple(v.decode("utf-8", "replace") for v in self.values(name))

    def integer(self, name: str) -> int | None:
        """The first value as an integer (LDAP INTEGER syntax), or None."""
        value = self.text(name)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None


@dataclass(frozen=True)
class DomainController:
    """The DC a directory connection reached."""

    host: str
    """Its host name (or the address given)."""
    address: str
    """The address connected to."""
    port: int
    """The LDAP port."""

    def __str__(self) -> str:
        return (
            f"{self.host} ({self.address}:{self.port})"
            if self.host != self.address
            else (f"{self.address}:{self.port}")
        )


class Directory:
    """An authenticated LDAP connection to one DC. Use :func:`connect` to make one."""

    def __init__(
        self,
        conn: ldap3.Connection,
        server: DomainController,
        *,
        domain: str,
        identity: str,
        protection: Protection,
        round_trips: int,
        kdc_round_trips: int = 0,
    ) -> None:
        self._conn = conn
        self.server = server
        """The DC reached."""
        self.domain = domain
        """The domain's DNS name as used to connect."""
        self.identity = identity
        """Who the DC authenticated (``user@REALM`` or a Kerberos principal)."""
        self.protection = protection
        """How the channel is protected."""
        self.bind_round_trips = round_trips
        """LDAP exchanges the bind took."""
        self.round_trips = round_trips
        """LDAP exchanges so far, bind included."""
        self.kdc_round_trips = kdc_round_trips
        """Kerberos exchanges with the KDC the bind needed (0 for a simple bind)."""

    def search(
        self,
        base: str,
        ldap_filter: str,
        attributes: Sequence[str],
        *,
        scope: str = "subtree",
    ) -> list[Entry]:
        """One search request; a missing base gives an empty list."""
        scopes: dict[str, Literal["BASE", "LEVEL", "SUBTREE"]] = {
            "base": "BASE",
            "one": "LEVEL",
            "subtree": "SUBTREE",
        }
        self.round_trips += 1
        try:
            self._conn.search(
                base,
                ldap_filter,
                search_scope=scopes[scope],
                attributes=list(attributes),
            )
        except GmsaError:
            raise
        except ldap_exc.LDAPException as exc:
            raise LdapOperationError(
                f"the search failed: {exc}",
                where=f"{self.server}: {base}",
                fix="check the connection to the DC and retry",
            ) from exc
        result = self._conn.result or {}
        code = int(result.get("result", 0))
        if code == 32:  # noSuchObject
            return []
        if code not in (0, 4):  # success, sizeLimitExceeded (partial results)
            raise LdapOperationError(
                f"the DC refused a search: {result.get('description')} "
                f"({result.get('message') or 'no detail'})",
                where=f"{self.server}: {base}",
                fix="check that the account may read the directory",
            )
        entries: list[Entry] = []
        for item in self._conn.response or []:
            if item.get("type") != "searchResEntry":
                continue
            raw = item.get("raw_attributes") or {}
            entries.append(
                Entry(
                    str(item.get("dn", "")),
                    {str(k).lower(): tuple(bytes(v) for v in vs) for k, vs in raw.items()},
                )
            )
        return entries

    def read(self, dn: str, attributes: Sequence[str]) -> Entry | None:
        """One object by DN (a base search), or None."""
        found = self.search(dn, "(objectClass=*)", attributes, scope="base")
        return found[0] if found else None

    def close(self) -> None:
        """Unbind and close; errors while closing are ignored."""
        with contextlib.suppress(Exception):  # it may be broken already
            self._conn.unbind()

    def __enter__(self) -> Directory:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- connecting


def realm_of(options: ConnectOptions, credentials: Credentials) -> str | None:
    """The domain to work in: --domain, else what the credentials name."""
    if options.domain:
        return options.domain.strip().rstrip(".").lower()
    if isinstance(credentials, PasswordCredentials):
        _, domain = split_user(credentials.user)
        return domain.lower() if domain and "." in domain else None
    if isinstance(credentials, KeytabCredentials):
        entries = kerberos.read_keytab(credentials.path)
        principal = _keytab_principal(credentials, entries, None)
        return principal.realm.lower()
    cache = kerberos.read_ccache(kerberos.ccache_path(_ccache_name(credentials)))
    return cache.principal.realm.lower()


def split_user(user: str) -> tuple[str, str | None]:
    """``name@domain``, ``DOMAIN\\name`` or ``name`` into (name, domain)."""
    if "\\" in user:
        domain, _, name = user.partition("\\")
        return name, domain or None
    name, at, domain = user.rpartition("@")
    if at:
        return name, domain or None
    return user, None


def connect(options: ConnectOptions, credentials: Credentials) -> Directory:
    """Find a DC, connect, authenticate and protect the channel.

    DCs from DNS are tried in SRV order until one answers; the errors of all
    attempts are reported if none does.
    """
    domain = realm_of(options, credentials)
    if domain is None:
        raise CredentialsInputError(
            "the domain is not known",
            fix="give --domain (e.g. --domain example.com) or --user NAME@DOMAIN",
        )
    realm = domain.upper()
    kerberos_bind = options.protection is Protection.SEALED or not isinstance(
        credentials, PasswordCredentials
    )
    port = LDAPS_PORT if options.protection is Protection.LDAPS else LDAP_PORT
    if options.server:
        host, port = split_host_port(options.server, port, what="--server")
        candidates = [host]
    else:
        candidates = [record.target for record in find_domain_controllers(domain, options.dns)]
    kdc_client: kerberos.KdcClient | None = None
    tgt: kerberos.Ticket | None = None
    failures: list[str] = []
    for host in candidates:
        if kerberos_bind:
            _require_host_name(host)
        try:
            addresses = resolve_address(host, options.dns)
        except DirectoryError as exc:
            failures.append(f"{host}: {exc.what}")
            continue
        for address in addresses:
            dc = DomainController(host, address, port)
            try:
                conn = _open(dc, options)
            except DcUnreachableError as exc:
                failures.append(exc.what)
                continue
            try:
                if kerberos_bind:
                    if kdc_client is None or tgt is None:
                        kdc_client = _kdc_client(options, host, address)
                        tgt = _tgt(kdc_client, credentials, realm)
                    ticket = kdc_client.service_ticket(
                        tgt, kerberos.Principal.service("ldap", host, realm)
                    )
                    trips = _gssapi_bind(conn, dc, ticket, options.protection)
                    identity = str(tgt.client)
                else:
                    assert isinstance(credentials, PasswordCredentials)
                    identity, trips = _simple_bind(conn, dc, credentials, domain)
            except BaseException:
                _quiet_close(conn)
                raise
            return Directory(
                conn,
                dc,
                domain=domain,
                identity=identity,
                protection=options.protection,
                round_trips=trips,
                kdc_round_trips=kdc_client.round_trips if kdc_client is not None else 0,
            )
    raise DcUnreachableError(
        "no domain controller could be reached: " + "; ".join(failures),
        where=", ".join(candidates),
        fix=NETWORK_FIX,
    )


@contextmanager
def connected(options: ConnectOptions, credentials: Credentials) -> Iterator[Directory]:
    """:func:`connect` as a context manager that always closes."""
    directory = connect(options, credentials)
    try:
        yield directory
    finally:
        directory.close()


def _require_host_name(host: str) -> None:
    if not _is_address(host):
        return
    raise CredentialsInputError(
        f"Kerberos needs the DC's host name, not the address {host}",
        where="--server",
        fix="give the DC's full host name (e.g. dc1.example.com) with --server, "
        "or use --protection ldaps with --user and a password",
    )


def _ccache_name(credentials: CacheCredentials) -> str | None:
    return str(credentials.path) if credentials.path is not None else None


def _keytab_principal(
    credentials: KeytabCredentials,
    entries: Sequence[kerberos.KeytabEntry],
    realm: str | None,
) -> kerberos.Principal:
    if credentials.principal:
        return kerberos.Principal.parse(credentials.principal, default_realm=realm)
    return kerberos.default_keytab_principal(entries)


def _kdc_client(options: ConnectOptions, dc_host: str, dc_address: str) -> kerberos.KdcClient:
    if options.kdc:
        host, port = split_host_port(options.kdc, KERBEROS_PORT, what="--kdc")
        endpoints = [
            kerberos.KdcEndpoint(host, a, port) for a in resolve_address(host, options.dns)
        ]
    else:
        endpoints = [kerberos.KdcEndpoint(dc_host, dc_address, KERBEROS_PORT)]
    return kerberos.KdcClient(endpoints, timeout=float(options.timeout))


def _tgt(client: kerberos.KdcClient, credentials: Credentials, realm: str) -> kerberos.Ticket:
    if isinstance(credentials, PasswordCredentials):
        name, _ = split_user(credentials.user)
        principal = kerberos.Principal((name,), realm)
        return client.tgt_with_password(principal, credentials.password)
    if isinstance(credentials, KeytabCredentials):
        entries = kerberos.read_keytab(credentials.path)
        principal = _keytab_principal(credentials, entries, realm)
        keys = kerberos.keys_for(entries, principal)
        if not keys:
            raise CredentialsInputError(
                f"the keytab has no keys for {principal}",
                where=str(credentials.path),
                fix="give --principal with a name the keytab holds (klist -k FILE)",
            )
        return client.tgt_with_keys(principal, keys)
    path = kerberos.ccache_path(_ccache_name(credentials))
    cache = kerberos.read_ccache(path)
    tgt = cache.tgt(realm)
    if tgt is None:
        raise AuthenticationError(
            f"the credential cache has no ticket-granting ticket for {realm}",
            where=str(path),
            fix=f"run: kinit USER@{realm}",
        )
    if tgt.expired():
        raise AuthenticationError(
            f"the ticket-granting ticket of {cache.principal} has expired",
            where=str(path),
            fix=f"run: kinit {cache.principal}",
        )
    return tgt


def _open(dc: DomainController, options: ConnectOptions) -> ldap3.Connection:
    use_ssl = options.protection is Protection.LDAPS
    tls = None
    if use_ssl:
        tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED,
            ca_certs_file=str(options.ca_file) if options.ca_file else None,
            valid_names=[dc.host],
            sni=None if _is_address(dc.host) else dc.host,
        )
    server = ldap3.Server(
        dc.address,
        port=dc.port,
        use_ssl=use_ssl,
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=options.timeout,
    )
    conn = ldap3.Connection(
        server,
        client_strategy=ldap3.SYNC,
        receive_timeout=int(options.timeout),
        raise_exceptions=False,
        auto_referrals=False,
        read_only=True,
        check_names=False,
    )
    try:
        conn.open(read_server_info=False)
    except ldap_exc.LDAPException as exc:
        text = str(exc)
        lowered = text.lower()
        if use_ssl and ("ssl" in lowered or "certificate" in lowered or "tls" in lowered):
            raise TlsError(
                f"the TLS handshake with {dc} failed: {_short(text)}",
                where=str(dc),
                fix="give the CA that signed the DC's certificate with --ca-file, check that "
                "the certificate names the DC's host name, or use --protection sealed",
            ) from None
        reason = "no answer in time" if "timed out" in lowered else _short(text)
        raise DcUnreachableError(
            f"cannot connect to {dc}: {reason}", where=str(dc), fix=NETWORK_FIX
        ) from None
    if use_ssl and not certificate_names_host(conn.socket.getpeercert(), dc.host):
        _quiet_close(conn)
        raise TlsError(
            f"the DC's certificate does not name {dc.host}",
            where=str(dc),
            fix="connect with the name the certificate holds (the DC's full host name), "
            "or use --protection sealed",
        )
    return conn


def certificate_names_host(certificate: Any, host: str) -> bool:
    """Whether a validated certificate (``getpeercert()`` form) names ``host``: a DNS
    subjectAltName (one leading ``*.`` label allowed) or an IP one for an address. The
    check is on the name asked for, not on the address connected to."""
    if not isinstance(certificate, dict):
        return False
    wanted = host.lower().rstrip(".")
    is_address = _is_address(wanted)
    for kind, value in certificate.get("subjectAltName", ()):
        candidate = str(value).lower().rstrip(".")
        if is_address and kind == "IP Address":
            if ipaddress.ip_address(candidate.strip()) == ipaddress.ip_address(wanted):
                return True
        elif not is_address and kind == "DNS":
            if candidate == wanted:
                return True
            parent = wanted.split(".", 1)[1] if "." in wanted else None
            if candidate.startswith("*.") and parent == candidate[2:]:
                return True
    return False


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")
_SSL = re.compile(r"\[SSL: [A-Z_]+\] ([^(]+?)\s*\(_ssl")


def _short(text: str) -> str:
    """The useful part of an ldap3 socket error: the OS's or OpenSSL's reason."""
    for pattern in (_SSL, _ERRNO):
        found = pattern.search(text)
        if found:
            return found.group(1).strip()
    return text.split("\n")[0][:300]


def _quiet_close(conn: ldap3.Connection) -> None:
    with contextlib.suppress(Exception):  # best effort while reporting another error
        conn.unbind()


# --------------------------------------------------------------------------- binds


def _simple_bind(
    conn: ldap3.Connection, dc: DomainController, credentials: PasswordCredentials, domain: str
) -> tuple[str, int]:
    name, user_domain = split_user(credentials.user)
    qualified = "\\" in credentials.user
    bind_name = credentials.user if qualified else f"{name}@{user_domain or domain}"
    conn.user = bind_name
    conn.password = credentials.password
    conn.authentication = ldap3.SIMPLE
    try:
        ok = conn.bind()
    except ldap_exc.LDAPException as exc:
        raise DcUnreachableError(
            f"the bind to {dc} failed: {_short(str(exc))}", where=str(dc), fix=NETWORK_FIX
        ) from None
    finally:
        conn.password = None
    if not ok:
        _raise_bind_result(conn.result or {}, dc, bind_name)
    return bind_name, 1


def _raise_bind_result(result: Mapping[str, Any], dc: DomainController, who: str) -> None:
    code = int(result.get("result", -1))
    if code == 49:
        raise AuthenticationError(
            f"the DC refused the credentials of {who}",
            where=str(dc),
            fix="check the user name and the password (file, variable or prompt); the "
            "account may also be disabled, locked out or expired",
        )
    if code in (8, 13):
        raise AuthenticationError(
            f"the DC requires a protected connection for {who}'s bind",
            where=str(dc),
            fix="use --protection sealed (Kerberos) or --protection ldaps",
        )
    raise AuthenticationError(
        f"the bind of {who} failed: {result.get('description')} ({result.get('message')})",
        where=str(dc),
        fix="check the credentials and the DC's logs",
    )


def _gssapi_bind(
    conn: ldap3.Connection,
    dc: DomainController,
    ticket: kerberos.Ticket,
    protection: Protection,
) -> int:
    """SASL GSSAPI (RFC 4752), with a confidentiality layer when ``sealed``."""
    bindings = _channel_bindings(conn) if protection is Protection.LDAPS else None
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
            _raise_bind_result(result, dc, who)
        offer = context.unwrap(bytes(result["saslCreds"]))
        if len(offer) != 4:
            raise GssError("the DC's security-layer offer is malformed")
        layers, server_max = offer[0], int.from_bytes(offer[1:4], "big")
        if protection is Protection.SEALED:
            if not layers & _CONFIDENTIALITY:
                raise AuthenticationError(
                    "the DC does not offer Kerberos encryption for LDAP",
                    where=str(dc),
                    fix="use --protection ldaps",
                )
            choice = bytes([_CONFIDENTIALITY]) + _OUR_MAX_BUFFER.to_bytes(3, "big")
        else:
            if not layers & _NO_LAYER:
                raise AuthenticationError(
                    "the DC insists on a Kerberos security layer",
                    where=str(dc),
                    fix="use --protection sealed",
                )
            choice = bytes([_NO_LAYER]) + b"\x00\x00\x00"
        result = _sasl_step(conn, dc, context.wrap(choice, confidential=False))
        trips += 1
        if int(result.get("result", -1)) != 0:
            _raise_bind_result(result, dc, who)
    finally:
        conn.sasl_in_progress = False
    conn.bound = True
    if protection is Protection.SEALED:
        conn.socket = SealedSocket(conn.socket, context, max(server_max, 1024))
    return trips


def _sasl_step(conn: ldap3.Connection, dc: DomainController, payload: bytes) -> dict[str, Any]:
    try:
        result = send_sasl_negotiation(conn, None, payload)  # type: ignore[no-untyped-call]
    except ldap_exc.LDAPException as exc:
        raise DcUnreachableError(
            f"the Kerberos bind to {dc} broke off: {_short(str(exc))}",
            where=str(dc),
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


def probe_port(address: str, port: int, timeout: float) -> str | None:
    """None when a TCP connection to ``address:port`` succeeds, else why it failed."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return None
    except TimeoutError:
        return "no answer in time"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
