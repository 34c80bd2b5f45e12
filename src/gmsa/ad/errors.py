"""Errors of the Active Directory family: each says which server, which step, what to check.

A domain controller that cannot be reached, refuses the credentials or presents
a certificate nobody trusts is an outside system failing (exit code 3); an
account that does not exist or is not a gMSA is the user's input being wrong
(exit code 1).
"""

from __future__ import annotations

from gmsa.errors import ExternalError, InvalidInputError

NETWORK_FIX = (
    "check that DNS gives the DC's address, that the DC is up, and that ports 88 (Kerberos), "
    "389 (LDAP) and 636 (LDAPS) are open between here and the DC"
)


class DirectoryError(ExternalError):
    """The directory (DNS, a DC's LDAP or Kerberos service) failed or refused.

    Concrete errors below add the step that failed; ``where`` names the server.
    """

    code = "directory-failure"


class DnsLookupError(DirectoryError):
    """DNS could not find the domain's DCs or a DC's address."""

    code = "dns-lookup-failed"


class DcUnreachableError(DirectoryError):
    """A DC did not accept a connection or did not answer in time."""

    code = "dc-unreachable"


class TlsError(DirectoryError):
    """The TLS handshake with a DC failed (untrusted or mismatched certificate)."""

    code = "tls-failed"


class AuthenticationError(DirectoryError):
    """The DC or KDC refused the credentials, or the credentials could not be used."""

    code = "authentication-failed"


class KerberosError(DirectoryError):
    """The KDC answered with an error, or a Kerberos message could not be understood."""

    code = "kerberos-failed"

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        fix: str | None = None,
        error_code: int | None = None,
    ) -> None:
        super().__init__(what, where=where, fix=fix)
        self.error_code = error_code
        """The KRB-ERROR code when the KDC sent one."""


class LdapOperationError(DirectoryError):
    """An LDAP operation after the bind failed."""

    code = "ldap-operation-failed"


class CredentialsInputError(InvalidInputError):
    """The way to authenticate is missing or contradictory (no password source, bad keytab)."""

    code = "invalid-credentials-input"


class AccountError(InvalidInputError):
    """A named account does not exist in the domain, or is not a gMSA."""

    code = "account-not-usable"
