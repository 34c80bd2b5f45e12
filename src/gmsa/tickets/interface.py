"""What the ticket service needs from Active Directory, as an interface.

Two steps reach a domain controller: reading the gMSA's managed password as
the host (or a domainless user), and asking the KDC for the gMSA's TGT with the
keys derived from it. Everything else (decoding, key derivation, ccache
writing, leases, renewal, gRPC) is the service's own and does not care who
answers. A :class:`CredentialProvider` answers; the domain controller backed
one is built on :mod:`gmsa.ad`, tests use an in-process double.

Providers raise :class:`CredentialProviderError` (or a subclass) with what,
where and fix; the service turns it into a gRPC status for the ECS agent and a
``last_error`` in ``gmsa tickets status``. Never put a password in one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from gmsa.ad.managed_password import ManagedPassword
from gmsa.domainless import DomainlessUser
from gmsa.errors import ExitCode
from gmsa.kerberos.keys import GmsaKeys
from gmsa.kerberos.ticket import Ticket
from gmsa.tickets.errors import TicketError

DEFAULT_KEYTAB = Path("/etc/krb5.keytab")


class CredentialProviderError(TicketError):
    """The directory could not give the password or the ticket. Providers subclass this.

    By default an outside failure (DC unreachable, KDC refused): exit code 3, gRPC
    UNAVAILABLE, and the renewal scheduler retries with backoff.
    """

    code = "credential-provider-failed"
    exit_code = ExitCode.EXTERNAL
    grpc_status = "UNAVAILABLE"


class AccountNotFoundError(CredentialProviderError):
    """The gMSA named by the spec does not exist in its domain (or is not a gMSA)."""

    code = "gmsa-not-found"
    exit_code = ExitCode.INVALID
    grpc_status = "NOT_FOUND"


class PasswordAccessDeniedError(CredentialProviderError):
    """The reading principal may not retrieve the gMSA's password (msDS-GroupMSAMembership)."""

    code = "gmsa-password-denied"
    grpc_status = "PERMISSION_DENIED"


class HostIdentityError(CredentialProviderError):
    """The identity that reads the password is unusable: no keytab, wrong user password."""

    code = "host-identity-unusable"
    grpc_status = "FAILED_PRECONDITION"


class DomainlessUserError(HostIdentityError):
    """The domain controller refused the domainless user (wrong name, password or domain).

    UNAUTHENTICATED, which the ECS agent does not retry: the same secret would be refused
    again; only a corrected secret (and the next renew) helps.
    """

    code = "domainless-user-refused"
    grpc_status = "UNAUTHENTICATED"


@dataclass(frozen=True)
class GmsaAccount:
    """A gMSA as a credential spec names it."""

    name: str
    """sAMAccountName without ``$`` (the spec's ``MachineAccountName``)."""
    domain: str
    """The domain's DNS name (the spec's ``DomainJoinConfig.DnsName``)."""

    @property
    def realm(self) -> str:
        """The Kerberos realm: the DNS name in upper case."""
        return self.domain.upper()

    @property
    def key(self) -> tuple[str, str]:
        """Identity for sharing work: AD names are case-insensitive."""
        return (self.name.lower(), self.domain.lower())

    def __str__(self) -> str:
        return f"{self.name}$@{self.realm}"


@dataclass(frozen=True)
class HostKeytab:
    """Domain-joined mode: the host reads the password as itself, from its keytab."""

    keytab: Path = DEFAULT_KEYTAB
    """The host's keytab (``/etc/krb5.keytab`` by default)."""
    principal: str | None = None
    """``HOST$@REALM`` to use; None lets the provider pick the keytab's host principal."""

    @property
    def key(self) -> tuple[str, ...]:
        """Identity for sharing work between leases."""
        return ("keytab", str(self.keytab), (self.principal or "").lower())

    def __str__(self) -> str:
        return f"{self.principal or 'the host principal'} from {self.keytab}"


Identity = HostKeytab | DomainlessUser
"""Who reads the gMSA's password: the host itself, or (domainless) a domain user."""


class CredentialProvider(ABC):
    """Reads managed passwords and obtains TGTs from the directory.

    Implementations must be safe to call from several threads at once: the
    service runs acquisitions for different gMSAs in parallel (it never runs two
    at once for the same gMSA and identity).
    """

    @abstractmethod
    def read_password(self, account: GmsaAccount, identity: Identity) -> ManagedPassword:
        """Read and decode ``msDS-ManagedPassword`` of ``account`` as ``identity``.

        Over an encrypted connection only (LDAPS or SASL sign+seal). Raises
        :class:`AccountNotFoundError`, :class:`PasswordAccessDeniedError`,
        :class:`HostIdentityError` (:class:`DomainlessUserError` for a refused
        domainless user) or :class:`CredentialProviderError`.
        """

    @abstractmethod
    def get_tgt(self, account: GmsaAccount, keys: GmsaKeys) -> Ticket:
        """A TGT for ``NAME$@REALM`` from the KDC, authenticated with ``keys``.

        ``keys`` were derived from the password :meth:`read_password` returned; the
        result is written to the lease's ccache as is.
        """


__all__ = [
    "DEFAULT_KEYTAB",
    "AccountNotFoundError",
    "CredentialProvider",
    "CredentialProviderError",
    "DomainlessUserError",
    "GmsaAccount",
    "HostIdentityError",
    "HostKeytab",
    "Identity",
    "PasswordAccessDeniedError",
]
