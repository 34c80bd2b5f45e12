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


__all__ = [
    "LOGON_SIDS",
    "HostAccess",
    "Readers",
    "SecurityDescriptorError",
    "host_access",
    "readers",
]
