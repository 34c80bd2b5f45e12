"""Errors of the Active Directory family: each says which server, which step, what to check.

A domain controller that cannot be reached, refuses the credentials or presents
a certificate nobody trusts is an outside system failing (exit code 3); an
account that does not exist or is not a gMSA is the user's input being wrong
(exit code 1). The base of the family (:class:`DirectoryError`) and the errors
Kerberos shares with it (unreachable DC, refused credentials, KDC errors) live in
:mod:`gmsa.kerberos.errors`, below both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gmsa.errors import InvalidInputError
from gmsa.kerberos.errors import AuthenticationError, DirectoryError


class DnsLookupError(DirectoryError):
    """DNS could not find the domain's DCs or a DC's address."""

    code = "dns-lookup-failed"


class TlsError(DirectoryError):
    """The TLS handshake with a DC failed (untrusted or mismatched certificate)."""

    code = "tls-failed"


class LdapOperationError(DirectoryError):
    """An LDAP operation after the bind failed."""

    code = "ldap-operation-failed"


class ManagedPasswordBlobError(DirectoryError):
    """``msDS-ManagedPassword`` is not a well-formed MSDS-MANAGEDPASSWORD_BLOB.

    The message names the field and offsets, never the bytes: they are the password.
    """

    code = "malformed-password-blob"


class AccountError(InvalidInputError):
    """A named account does not exist in the domain, or is not a gMSA."""

    code = "account-not-usable"


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")
_SSL = re.compile(r"\[SSL: [A-Z_]+\] ([^(]+?)\s*\(_ssl")


def short_reason(text: str) -> str:
    """The useful part of an ldap3 socket error: the OS's or OpenSSL's reason."""
    for pattern in (_SSL, _ERRNO):
        found = pattern.search(text)
        if found:
            return found.group(1).strip()
    return text.split("\n")[0][:300]


def bind_error(result: Mapping[str, Any], where: str, who: str) -> AuthenticationError:
    """Why a DC refused a bind, from the LDAP result it sent."""
    code = int(result.get("result", -1))
    if code == 49:
        return AuthenticationError(
            f"the DC refused the credentials of {who}",
            where=where,
            fix="check the user name and the password (file, variable or prompt); the "
            "account may also be disabled, locked out or expired",
        )
    if code in (8, 13):
        return AuthenticationError(
            f"the DC requires a protected connection for {who}'s bind",
            where=where,
            fix="use --protection sealed (Kerberos) or --protection ldaps",
        )
    return AuthenticationError(
        f"the bind of {who} failed: {result.get('description')} ({result.get('message')})",
        where=where,
        fix="check the credentials and the DC's logs",
    )


__all__ = [
    "AccountError",
    "DnsLookupError",
    "LdapOperationError",
    "ManagedPasswordBlobError",
    "TlsError",
    "bind_error",
    "short_reason",
]
