"""Who may retrieve a gMSA's password, and whether a given host may.

The DC answers a host's read of ``msDS-ManagedPassword`` by evaluating the
gMSA's ``msDS-GroupMSAMembership`` descriptor against the host's token: its
own SID, every group it is in (nested, and its primary group, usually Domain
Computers) and the SIDs every network logon carries. This module builds that
token from ``tokenGroups`` and runs the same evaluation, so "allowed through
WebHosts" is known before any container starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gmsa.ad.accounts import Account
from gmsa.ad.security_descriptor import (
    SecurityDescriptor,
    SecurityDescriptorError,
    check_read_access,
    parse_security_descriptor,
    principals_allowed,
    principals_denied,
)

LOGON_SIDS = ("S-1-1-0", "S-1-5-2", "S-1-5-11", "S-1-5-15")
"""Everyone, NETWORK, Authenticated Users, This Organization: in every network logon."""


@dataclass(frozen=True)
class Readers:
    """The principals a gMSA's descriptor names."""

    allowed: tuple[str, ...]
    """SIDs granted read access, in DACL order."""
    denied: tuple[str, ...]
    """SIDs explicitly denied."""
    descriptor: SecurityDescriptor
    """The parsed descriptor."""


def readers(gmsa: Account) -> Readers | None:
    """The gMSA's readers; ``None`` when it has no msDS-GroupMSAMembership at all.

    Raises :class:`SecurityDescriptorError` when the attribute is not a valid descriptor.
    """
    if gmsa.membership is None:
        return None
    descriptor = parse_security_descriptor(gmsa.membership)
    return Readers(principals_allowed(descriptor), principals_denied(descriptor), descriptor)


@dataclass(frozen=True)
class HostAccess:
    """Whether a host may retrieve the password, and why."""

    allowed: bool
    """The DC would return the password to this host."""
    deciding_sid: str | None
    """The SID whose ACE decided (the host's own, or one of its groups'), if any."""
    direct: bool
    """The deciding ACE names the host itself rather than a group."""


def host_access(descriptor: SecurityDescriptor, host: Account, groups: Sequence[str]) -> HostAccess:
    """Evaluate the descriptor for the host's logon token."""
    token = [s for s in (host.sid, *groups, *LOGON_SIDS) if s]
    decision = check_read_access(descriptor, token)
    direct = decision.deciding_sid is not None and decision.deciding_sid == host.sid
    return HostAccess(decision.allowed, decision.deciding_sid, direct)


@dataclass(frozen=True)
class PasswordAccess:
    """Who may retrieve one gMSA's password and whether the host asked about may.

    ``gmsa spec new --host`` and ``gmsa doctor`` both report this decision, each
    in its own words.
    """

    readers: Readers | None
    """The principals the descriptor names; None when there is no descriptor or it is malformed."""
    malformed: str | None
    """Why msDS-GroupMSAMembership is not a valid descriptor; None when it is (or is absent)."""
    host: HostAccess | None
    """The host's access; None when no host was asked about or the descriptor is malformed."""

    @property
    def allowed(self) -> bool:
        """The DC would return the password to the host."""
        return self.host is not None and self.host.allowed


def password_access(gmsa: Account, host: Account | None, groups: Sequence[str]) -> PasswordAccess:
    """Decide who may retrieve ``gmsa``'s password, and whether ``host`` (in ``groups``) may.

    A gMSA without msDS-GroupMSAMembership lets no host retrieve its password.
    """
    try:
        who = readers(gmsa)
    except SecurityDescriptorError as exc:
        return PasswordAccess(None, exc.what, None)
    if host is None:
        return PasswordAccess(who, None, None)
    if who is None:
        return PasswordAccess(
            None, None, HostAccess(allowed=False, deciding_sid=None, direct=False)
        )
    return PasswordAccess(who, None, host_access(who.descriptor, host, groups))


__all__ = [
    "LOGON_SIDS",
    "HostAccess",
    "PasswordAccess",
    "Readers",
    "SecurityDescriptorError",
    "host_access",
    "password_access",
    "readers",
]
