"""The domain controller backed credential provider (``--provider active-directory``).

It does what credentials-fetcher does with ``kinit``, ``ldapsearch`` and a shell
pipeline, in-process on :mod:`gmsa.ad`:

1. find a DC of the gMSA's domain (``DOMAIN_CONTROLLER_GMSA`` when set, as with
   credentials-fetcher, else DNS SRV ``_ldap._tcp.dc._msdcs.<domain>``);
2. bind to it over a sealed connection (SASL GSSAPI with confidentiality on 389,
   or LDAPS) as the host from its keytab, or as the domainless user;
3. find ``<Name>$`` under the domain and read ``msDS-ManagedPassword``, decoded
   with :func:`gmsa.ad.managed_password.decode_managed_password`;
4. for :meth:`ActiveDirectoryProvider.get_tgt`, an AS exchange as ``<Name>$@REALM``
   with the keys the service derived, against the DC that answered step 3.

Every failure becomes one of the interface's typed errors naming the DC, the
principal and the fix, so the ECS agent sees a gRPC status that says what
happened. Passwords and keys never reach a message or a log line.

Where to find DCs comes from the environment, so the service's configuration
file stays the same on every host:

``DOMAIN_CONTROLLER_GMSA``
    A DC's host name, optionally ``:PORT`` for LDAP (credentials-fetcher's name).
``GMSA_DNS_SERVER``
    ``ADDRESS[:PORT]`` of a DNS server of the domain instead of the system resolver.
``GMSA_KDC``
    ``HOST[:PORT]`` of the KDC, when it is not the DC itself.
``GMSA_LDAP_PROTECTION``
    ``sealed`` (default) or ``ldaps``; ``GMSA_LDAP_CA_FILE`` names the CA for LDAPS.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ldap3.utils.conv import escape_filter_chars

from gmsa.ad.connection import (
    ConnectOptions,
    Credentials,
    KeytabCredentials,
    LdapConnection,
    PasswordCredentials,
    Protection,
    connect,
)
from gmsa.ad.discovery import (
    DnsConfig,
    find_domain_controllers,
    resolve_address,
    split_host_port,
)
from gmsa.ad.errors import DnsLookupError
from gmsa.ad.managed_password import ManagedPassword, decode_managed_password
from gmsa.domainless import DomainlessUser
from gmsa.errors import ExitCode, GmsaError
from gmsa.kerberos.errors import (
    NETWORK_FIX,
    AuthenticationError,
    CredentialsInputError,
    DcUnreachableError,
    KerberosError,
)
from gmsa.kerberos.kdc import KDC_PORT, KdcClient, KdcEndpoint
from gmsa.kerberos.keys import GmsaKeys
from gmsa.kerberos.ticket import Ticket
from gmsa.singleflight import SingleFlight
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.errors import TicketConfigError
from gmsa.tickets.interface import (
    AccountNotFoundError,
    CredentialProvider,
    CredentialProviderError,
    DomainlessUserError,
    GmsaAccount,
    HostIdentityError,
    Identity,
    PasswordAccessDeniedError,
)
from gmsa.tickets.logformat import note
from gmsa.tickets.providers import DEFAULT_PROVIDER, register_provider

MANAGED_PASSWORD_ATTRIBUTE = "msDS-ManagedPassword"  # noqa: S105 (an attribute name)
GMSA_CLASS = "msds-groupmanagedserviceaccount"
_ATTRIBUTES = ("sAMAccountName", "objectClass", "userAccountControl", MANAGED_PASSWORD_ATTRIBUTE)


class GmsaLogonError(CredentialProviderError):
    """The KDC refused the gMSA's own logon (disabled, no AES, keys that do not match)."""

    code = "gmsa-logon-refused"
    grpc_status = "FAILED_PRECONDITION"


@dataclass(frozen=True)
class DirectorySettings:
    """Where the provider finds domain controllers and how it protects the LDAP channel."""

    server: str | None = None
    """``HOST[:PORT]`` of the DC to use (``DOMAIN_CONTROLLER_GMSA``); None: DNS SRV."""
    dns: DnsConfig = field(default_factory=DnsConfig)
    """DNS server for SRV lookups and DC names (``GMSA_DNS_SERVER``)."""
    kdc: str | None = None
    """``HOST[:PORT]`` of the KDC (``GMSA_KDC``); None: the DC that answered LDAP."""
    protection: Protection = Protection.SEALED
    """``sealed`` (389, Kerberos confidentiality) or ``ldaps`` (636, TLS)."""
    ca_file: Path | None = None
    """CA bundle for LDAPS (``GMSA_LDAP_CA_FILE``); None: the system's."""
    timeout: int = 10
    """Seconds for each connection and each answer."""
    gmsa_ou: str | None = None
    """Where gMSAs are searched (``CF_GMSA_OU``): an OU such as ``OU=gMSAs`` under each
    domain's naming context, or a whole DN (``...,DC=example,DC=com``); None: the domain."""
    connection_max_age: float = 300.0
    """Seconds a sealed LDAP connection is kept for the next read by the same identity
    (0: a new connection, host TGT and bind for every read). Bounded because the DC
    evaluates the reader's groups at bind time: a host added to an allowed group is
    seen by the first connection made after the change."""

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> DirectorySettings:
        """Settings from ``DOMAIN_CONTROLLER_GMSA``, ``GMSA_DNS_SERVER``, ``GMSA_KDC``,
        ``GMSA_LDAP_PROTECTION`` and ``GMSA_LDAP_CA_FILE``."""
        values = os.environ if env is None else env
        protection_text = (values.get("GMSA_LDAP_PROTECTION") or "sealed").strip().lower()
        if protection_text not in (Protection.SEALED, Protection.LDAPS):
            raise TicketConfigError(
                f"GMSA_LDAP_PROTECTION is {protection_text!r}",
                where="GMSA_LDAP_PROTECTION",
                fix="set it to sealed or ldaps (the password is never read unencrypted)",
            )
        try:
            dns = DnsConfig.parse(values.get("GMSA_DNS_SERVER") or None)
        except GmsaError as exc:
            raise TicketConfigError(exc.what, where="GMSA_DNS_SERVER", fix=exc.fix) from None
        ca_file = values.get("GMSA_LDAP_CA_FILE")
        return cls(
            server=(values.get("DOMAIN_CONTROLLER_GMSA") or "").strip() or None,
            dns=dns,
            kdc=(values.get("GMSA_KDC") or "").strip() or None,
            protection=Protection(protection_text),
            ca_file=Path(ca_file) if ca_file else None,
        )


class ActiveDirectoryProvider(CredentialProvider):
    """Reads managed passwords from the gMSA's DCs and gets its TGTs from their KDCs.

    Safe for concurrent use: every call opens its own connection.
    """

    def __init__(self, directory: DirectorySettings | None = None) -> None:
        self.directory = directory or DirectorySettings()
        self._lock = threading.Lock()
        self._kdcs: dict[str, tuple[KdcEndpoint, ...]] = {}
        self._sessions: dict[tuple[object, ...], _Session] = {}
        self._connecting: SingleFlight[tuple[object, ...], _Session] = SingleFlight(self._lock)
        self.connections_opened = 0
        """Sealed LDAP connections made so far (each a host TGT, a service ticket, a bind)."""

    # ----------------------------------------------------------------- password

    def read_password(self, account: GmsaAccount, identity: Identity) -> ManagedPassword:
        """Read and decode ``msDS-ManagedPassword`` of ``account`` as ``identity``.

        A connection made by an earlier read of the same identity and domain is reused
        while it is younger than ``connection_max_age``; if it fails, one new
        connection is tried before the error is reported.
        """
        key = (account.domain.lower(), identity.key)
        while True:
            session, fresh = self._session(key, account, identity)
            note(dc=session.ldap.server.host)
            try:
                with session.lock:
                    blob = self._password_blob(session.ldap, account)
                    server = session.ldap.server
                break
            except CredentialProviderError:
                raise
            except Exception as exc:  # a kept connection may have died in any way
                self._drop(key, session)
                if not fresh:
                    continue
                if isinstance(exc, GmsaError):
                    raise _connect_error(exc, account, identity) from None
                raise
        if self.directory.connection_max_age <= 0:
            self._drop(key, session)
        if self.directory.kdc is None:
            with self._lock:
                self._kdcs[account.domain.lower()] = (
                    KdcEndpoint(server.host, server.address, KDC_PORT),
                )
        return decode_managed_password(blob)

    def _session(
        self, key: tuple[object, ...], account: GmsaAccount, identity: Identity
    ) -> tuple[_Session, bool]:
        """A live connection for ``key`` and whether it was made during this call.

        Callers that find no connection share one attempt to make it (single flight):
        many leases starting at once open one connection, not one each.
        """
        started = time.monotonic()
        max_age = self.directory.connection_max_age
        with self._lock:
            session = self._sessions.get(key)
            # Connections of identities no longer used (an old domainless password) go too.
            stale = [(k, s) for k, s in self._sessions.items() if started - s.opened >= max_age]
        for stale_key, stale_session in stale:
            self._drop(stale_key, stale_session)
        if session is not None and started - session.opened < max_age:
            return session, False
        if max_age <= 0:  # a connection per read, closed after it: nothing to share
            return self._connect(key, account, identity), True

        def kept() -> _Session | None:  # called with self._lock held
            found = self._sessions.get(key)
            fresh = found is not None and time.monotonic() - found.opened < max_age
            return found if fresh else None

        session = self._connecting.run(
            key, lambda: self._connect(key, account, identity), kept=kept
        )
        return session, session.opened >= started

    def _connect(
        self, key: tuple[object, ...], account: GmsaAccount, identity: Identity
    ) -> _Session:
        """A new sealed connection, kept for ``key`` unless connections are not kept."""
        try:
            ldap = connect(self._options(account.domain), _credentials(identity))
        except GmsaError as exc:
            if isinstance(exc, CredentialProviderError):
                raise
            raise _connect_error(exc, account, identity) from None
        session = _Session(ldap, time.monotonic())
        with self._lock:
            self.connections_opened += 1
            if self.directory.connection_max_age > 0:
                previous = self._sessions.get(key)
                self._sessions[key] = session
            else:
                previous = None
        if previous is not None:
            previous.close()
        return session

    def _drop(self, key: tuple[object, ...], session: _Session) -> None:
        with self._lock:
            if self._sessions.get(key) is session:
                del self._sessions[key]
        session.close()

    def close(self) -> None:
        """Close every kept connection."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()

    def _password_blob(self, ldap: LdapConnection, account: GmsaAccount) -> bytes:
        base = search_base(account.domain, self.directory.gmsa_ou)
        sam = f"{account.name}$"
        entries = ldap.search(base, f"(sAMAccountName={escape_filter_chars(sam)})", _ATTRIBUTES)
        where = f"{ldap.server}: {base}"
        if not entries:
            raise AccountNotFoundError(
                f"there is no account {sam} in {account.domain}",
                where=where,
                fix="check DomainJoinConfig.MachineAccountName and DnsName in the credential "
                f"spec, or create the gMSA (New-ADServiceAccount -Name {account.name})",
            )
        entry = entries[0]
        classes = {c.lower() for c in entry.texts("objectClass")}
        if GMSA_CLASS not in classes:
            kind = "computer account" if "computer" in classes else "account"
            raise AccountNotFoundError(
                f"{sam} in {account.domain} is a {kind}, not a group managed service account",
                where=f"{ldap.server}: {entry.dn}",
                fix="name a gMSA in the credential spec's MachineAccountName",
            )
        blob = entry.first(MANAGED_PASSWORD_ATTRIBUTE)
        if not blob:
            reader = ldap.identity
            raise PasswordAccessDeniedError(
                f"{reader} may not retrieve the managed password of {sam} "
                "(the DC did not return msDS-ManagedPassword)",
                where=f"{ldap.server}: {entry.dn}",
                fix=f"add {reader.split('@')[0]} or a group it is in to the gMSA's "
                f"PrincipalsAllowedToRetrieveManagedPassword (Set-ADServiceAccount "
                f"{account.name} -PrincipalsAllowedToRetrieveManagedPassword ...); the DC "
                "reads the host's groups when it logs on, so the change is seen once this "
                "service opens a new connection to the DC (within 5 minutes) or restarts",
            )
        return blob

    def _options(self, domain: str) -> ConnectOptions:
        return ConnectOptions(
            domain=domain,
            server=self.directory.server,
            kdc=self.directory.kdc,
            dns=self.directory.dns,
            protection=self.directory.protection,
            ca_file=self.directory.ca_file,
            timeout=self.directory.timeout,
        )

    # ----------------------------------------------------------------- ticket

    def get_tgt(self, account: GmsaAccount, keys: GmsaKeys) -> Ticket:
        """A TGT for ``NAME$@REALM`` from the KDC, authenticated with the derived AES keys."""
        client = keys.principal
        try:
            kdc = KdcClient(self._kdc_endpoints(account.domain), timeout=5.0)
            ticket = kdc.tgt_with_keys(client, keys)
            note(dc=kdc.answered_by.host)
            return ticket
        except DcUnreachableError as exc:
            raise CredentialProviderError(
                f"cannot reach a KDC of {account.domain} for {client}: {exc.what}",
                where=exc.where,
                fix=NETWORK_FIX,
            ) from None
        except (AuthenticationError, KerberosError) as exc:
            raise GmsaLogonError(
                f"the KDC refused the logon of {client}: {exc.what}",
                where=exc.where,
                fix=exc.fix,
            ) from None
        except GmsaError as exc:
            raise CredentialProviderError(
                f"cannot get a ticket for {client}: {exc.what}", where=exc.where, fix=exc.fix
            ) from None

    def _kdc_endpoints(self, domain: str) -> tuple[KdcEndpoint, ...]:
        if self.directory.kdc:
            host, port = split_host_port(self.directory.kdc, KDC_PORT, what="GMSA_KDC")
            return tuple(
                KdcEndpoint(host, a, port) for a in resolve_address(host, self.directory.dns)
            )
        with self._lock:
            known = self._kdcs.get(domain.lower())
        if known:
            return known
        if self.directory.server:
            host, _ = split_host_port(self.directory.server, 389, what="DOMAIN_CONTROLLER_GMSA")
            hosts = [host]
        else:
            hosts = [r.target for r in find_domain_controllers(domain, self.directory.dns)]
        endpoints = []
        for host in hosts:
            for address in resolve_address(host, self.directory.dns):
                endpoints.append(KdcEndpoint(host, address, KDC_PORT))
        return tuple(endpoints)


class _Session:
    """A bound, sealed connection kept for later reads; one search at a time."""

    def __init__(self, ldap: LdapConnection, opened: float) -> None:
        self.ldap = ldap
        self.opened = opened
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:
            self.ldap.close()


def search_base(domain: str, gmsa_ou: str | None) -> str:
    """Where the gMSA of ``domain`` is searched: its naming context, an OU under it, or
    the DN ``gmsa_ou`` names when it already ends in domain components."""
    context = naming_context(domain)
    if not gmsa_ou:
        return context
    if "dc=" in gmsa_ou.lower():
        return gmsa_ou
    return f"{gmsa_ou.strip().rstrip(',')},{context}"


def naming_context(domain: str) -> str:
    """``example.com`` -> ``DC=example,DC=com``: the base of the domain's account searches."""
    labels = [label for label in domain.strip().rstrip(".").split(".") if label]
    return ",".join(f"DC={escape_dn_value(label)}" for label in labels)


def escape_dn_value(value: str) -> str:
    """Escape an attribute value for a DN (RFC 4514)."""
    out = []
    for index, char in enumerate(value):
        if (
            char in ',+"\\<>;='
            or (char in " #" and index == 0)
            or (char == " " and index == len(value) - 1)
        ):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _credentials(identity: Identity) -> Credentials:
    if isinstance(identity, DomainlessUser):
        user = identity.username
        if "@" not in user and "\\" not in user:
            user = f"{user}@{identity.domain}"
        return PasswordCredentials(user, identity.password)
    return KeytabCredentials(identity.keytab, identity.principal)


def _connect_error(exc: GmsaError, account: GmsaAccount, identity: Identity) -> GmsaError:
    """An AD-layer error from connecting or searching, as the interface's typed error."""
    reader = str(identity)
    if isinstance(exc, DnsLookupError):
        return CredentialProviderError(
            f"cannot find the domain controllers of {account.domain} (the credential spec's "
            f"DnsName): {exc.what}",
            where=exc.where,
            fix="check DomainJoinConfig.DnsName in the credential spec and that this host's "
            "DNS serves the domain's zone, or set DOMAIN_CONTROLLER_GMSA to a DC's host name",
        )
    if isinstance(exc, DcUnreachableError):
        return CredentialProviderError(
            f"cannot reach a domain controller of {account.domain}: {exc.what}",
            where=exc.where,
            fix=NETWORK_FIX,
        )
    if isinstance(exc, CredentialsInputError | AuthenticationError | KerberosError):
        identity_fix = (
            "check the keytab (klist -k) and that the host account exists and is enabled; "
            "rejoin the domain or export the host's keys again"
            if not isinstance(identity, DomainlessUser)
            else "check the domainless user's name, password and domain in the secret the "
            "credential spec points to"
        )
        refused = DomainlessUserError if isinstance(identity, DomainlessUser) else HostIdentityError
        return refused(
            f"{reader} cannot authenticate to {account.domain}: {exc.what}",
            where=exc.where,
            fix=exc.fix or identity_fix,
        )
    if exc.exit_code == ExitCode.INVALID:
        return TicketConfigError(exc.what, where=exc.where, fix=exc.fix)
    return CredentialProviderError(
        f"reading the managed password of {account} failed: {exc.what}",
        where=exc.where,
        fix=exc.fix,
    )


def _factory(settings: ServiceSettings) -> CredentialProvider:
    directory = DirectorySettings.from_environment()
    if settings.domain_controller:
        directory = replace(directory, server=settings.domain_controller)
    if settings.gmsa_ou:
        directory = replace(directory, gmsa_ou=settings.gmsa_ou)
    return ActiveDirectoryProvider(directory)


register_provider(DEFAULT_PROVIDER, _factory)


__all__ = [
    "GMSA_CLASS",
    "MANAGED_PASSWORD_ATTRIBUTE",
    "ActiveDirectoryProvider",
    "DirectorySettings",
    "GmsaLogonError",
    "escape_dn_value",
    "naming_context",
    "search_base",
]
