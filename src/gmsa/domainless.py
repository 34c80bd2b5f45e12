"""The domain user of a host outside the domain.

A domainless host is not a domain member, so it cannot read a gMSA's managed
password as itself: a domain user allowed to read it (listed in the gMSA's
``msDS-GroupMSAMembership``) does instead. The spec's ``PluginInput`` names a
Secrets Manager secret holding that user (``username``, ``password``,
``domainName``); the Linux host agent reads it and hands it to the ticket
service, which reads passwords as that user.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DomainlessUser:
    """A domain user allowed to read gMSA passwords. Never printed with its password."""

    username: str
    """sAMAccountName or UPN of the user."""
    domain: str
    """The user's domain (DNS name)."""
    password: str = field(repr=False)
    """The user's password. Secret: kept in memory only, never written or logged."""

    @property
    def key(self) -> tuple[str, ...]:
        """Identity for sharing work; two passwords for one user never share results."""
        digest = hashlib.sha256(self.password.encode("utf-8", "surrogatepass")).hexdigest()
        return ("user", self.username.lower(), self.domain.lower(), digest)

    @property
    def user_key(self) -> tuple[str, str]:
        """The user without the password: how leases remember whose they are."""
        return (self.username.lower(), self.domain.lower())

    def __str__(self) -> str:
        return f"{self.username}@{self.domain}"


__all__ = [
    "DomainlessUser",
]
