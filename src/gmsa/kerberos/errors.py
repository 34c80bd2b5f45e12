"""Errors of the domain's network services, Kerberos first: each names the server and the fix.

Kerberos here is always an Active Directory domain's KDC, a service of its domain
controllers, so its failures share their base with the other services of a DC
(LDAP, DNS) in :mod:`gmsa.ad.errors`: a caller that talks to a DC catches
:class:`DirectoryError` for all of them.
"""

from __future__ import annotations

from gmsa.errors import ExternalError, InvalidInputError

NETWORK_FIX = (
    "check that DNS gives the DC's address, that the DC is up, and that ports 88 (Kerberos), "
    "389 (LDAP) and 636 (LDAPS) are open between here and the DC"
)

DECODE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)
"""What the ASN.1 and crypto layers raise on malformed input: each becomes a typed error."""


class DirectoryError(ExternalError):
    """The directory (DNS, a DC's LDAP or Kerberos service) failed or refused.

    Concrete errors below add the step that failed; ``where`` names the server.
    """

    code = "directory-failure"


class DcUnreachableError(DirectoryError):
    """A DC did not accept a connection or did not answer in time."""

    code = "dc-unreachable"


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


class CredentialsInputError(InvalidInputError):
    """The way to authenticate is missing or contradictory (no password source, bad keytab)."""

    code = "invalid-credentials-input"


__all__ = [
    "DECODE_ERRORS",
    "NETWORK_FIX",
    "AuthenticationError",
    "CredentialsInputError",
    "DcUnreachableError",
    "DirectoryError",
    "KerberosError",
]
