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
:attr:`LdapConnection.round_trips` so callers can measure and batch.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import ldap3
from ldap3.core import exceptions as ldap_exc

from gmsa.ad.discovery import DnsConfig, find_domain_controllers, resolve_address, split_host_port
from gmsa.ad.errors import LdapOperationError, TlsError, bind_error, short_reason
from gmsa.ad.sasl import gssapi_bind
from gmsa.errors import GmsaError
from gmsa.kerberos.ccache import ccache_path, read_ccache
from gmsa.kerberos.errors import (
    NETWORK_FIX,
    AuthenticationError,
    CredentialsInputError,
    DcUnreachableError,
    DirectoryError,
)
from gmsa.kerberos.kdc import KDC_PORT, KdcClient, KdcEndpoint
from gmsa.kerberos.keytab import KeytabEntry, default_keytab_principal, keys_for, read_keytab
from gmsa.kerberos.principal import Principal
from gmsa.kerberos.ticket import Ticket

LDAP_PORT = 389
LDAPS_PORT = 636
DEFAULT_TIMEOUT = 10


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


class LdapConnection:
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

    def __enter__(self) -> LdapConnection:
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
        entries = read_keytab(credentials.path)
        principal = _keytab_principal(credentials, entries, None)
        return principal.realm.lower()
    cache = read_ccache(ccache_path(_ccache_name(credentials)))
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


def connect(options: ConnectOptions, credentials: Credentials) -> LdapConnection:
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
    kdc_client: KdcClient | None = None
    tgt: Ticket | None = None
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
                    ticket = kdc_client.service_ticket(tgt, Principal.service("ldap", host, realm))
                    trips = gssapi_bind(
                        conn,
                        str(dc),
                        ticket,
                        channel_bindings=options.protection is Protection.LDAPS,
                        sealed=options.protection is Protection.SEALED,
                    )
                    identity = str(tgt.client)
                else:
                    assert isinstance(credentials, PasswordCredentials)
                    identity, trips = _simple_bind(conn, dc, credentials, domain)
            except BaseException:
                _quiet_close(conn)
                raise
            return LdapConnection(
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
def connected(options: ConnectOptions, credentials: Credentials) -> Iterator[LdapConnection]:
    """:func:`connect` as a context manager that always closes."""
    ldap = connect(options, credentials)
    try:
        yield ldap
    finally:
        ldap.close()


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
    entries: Sequence[KeytabEntry],
    realm: str | None,
) -> Principal:
    if credentials.principal:
        return Principal.parse(credentials.principal, default_realm=realm)
    return default_keytab_principal(entries)


def _kdc_client(options: ConnectOptions, dc_host: str, dc_address: str) -> KdcClient:
    if options.kdc:
        host, port = split_host_port(options.kdc, KDC_PORT, what="--kdc")
        endpoints = [KdcEndpoint(host, a, port) for a in resolve_address(host, options.dns)]
    else:
        endpoints = [KdcEndpoint(dc_host, dc_address, KDC_PORT)]
    return KdcClient(endpoints, timeout=float(options.timeout))


def _tgt(client: KdcClient, credentials: Credentials, realm: str) -> Ticket:
    if isinstance(credentials, PasswordCredentials):
        name, _ = split_user(credentials.user)
        principal = Principal((name,), realm)
        return client.tgt_with_password(principal, credentials.password)
    if isinstance(credentials, KeytabCredentials):
        entries = read_keytab(credentials.path)
        principal = _keytab_principal(credentials, entries, realm)
        keys = keys_for(entries, principal)
        if not keys:
            raise CredentialsInputError(
                f"the keytab has no keys for {principal}",
                where=str(credentials.path),
                fix="give --principal with a name the keytab holds (klist -k FILE)",
            )
        return client.tgt_with_keys(principal, keys)
    path = ccache_path(_ccache_name(credentials))
    cache = read_ccache(path)
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
                f"the TLS handshake with {dc} failed: {short_reason(text)}",
                where=str(dc),
                fix="give the CA that signed the DC's certificate with --ca-file, check that "
                "the certificate names the DC's host name, or use --protection sealed",
            ) from None
        reason = "no answer in time" if "timed out" in lowered else short_reason(text)
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
            f"the bind to {dc} failed: {short_reason(str(exc))}", where=str(dc), fix=NETWORK_FIX
        ) from None
    finally:
        conn.password = None
    if not ok:
        raise bind_error(conn.result or {}, str(dc), bind_name)
    return bind_name, 1


def probe_port(address: str, port: int, timeout: float) -> str | None:
    """None when a TCP connection to ``address:port`` succeeds, else why it failed."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return None
    except TimeoutError:
        return "no answer in time"
    except OSError as exc:
        return exc.strerror or type(exc).__name__


__all__ = [
    "DEFAULT_TIMEOUT",
    "LDAPS_PORT",
    "LDAP_PORT",
    "CacheCredentials",
    "ConnectOptions",
    "Credentials",
    "DomainController",
    "Entry",
    "KeytabCredentials",
    "LdapConnection",
    "PasswordCredentials",
    "Protection",
    "certificate_names_host",
    "connect",
    "connected",
    "probe_port",
    "realm_of",
    "split_user",
]
