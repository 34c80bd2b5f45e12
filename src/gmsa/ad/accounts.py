"""Accounts: gMSAs, the hosts that use them, and whatever else carries their names.

One search finds every named gMSA (``NAME$``), every account named ``NAME``
without the ``$`` (a user or group that collides with it) and every host, so
a spec with five accounts costs one round trip, not fifteen. A host's
transitive groups come from ``tokenGroups`` (the DC computes them, primary
group included); SIDs found in a security descriptor are named in one more
search.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntFlag

from ldap3.utils.conv import escape_filter_chars

from gmsa.ad.connection import Entry, LdapConnection
from gmsa.ad.security_descriptor import (
    WELL_KNOWN_SIDS,
    SecurityDescriptorError,
    guid_from_bytes,
    sid_from_bytes,
    sid_to_bytes,
)
from gmsa.identifiers import normalize_name

_ACCOUNT_ATTRIBUTES = (
    "sAMAccountName",
    "objectClass",
    "objectSid",
    "objectGUID",
    "userAccountControl",
    "servicePrincipalName",
    "dNSHostName",
    "msDS-GroupMSAMembership",
    "msDS-ManagedPasswordInterval",
    "primaryGroupID",
)


class Uac(IntFlag):
    """userAccountControl bits (MS-ADTS 2.2.16) that the checks read."""

    ACCOUNTDISABLE = 0x0002
    LOCKOUT = 0x0010
    PASSWD_NOTREQD = 0x0020
    NORMAL_ACCOUNT = 0x0200
    INTERDOMAIN_TRUST_ACCOUNT = 0x0800
    WORKSTATION_TRUST_ACCOUNT = 0x1000
    SERVER_TRUST_ACCOUNT = 0x2000
    DONT_EXPIRE_PASSWORD = 0x10000
    TRUSTED_FOR_DELEGATION = 0x80000
    NOT_DELEGATED = 0x100000


@dataclass(frozen=True)
class Account:
    """A security principal found in the directory."""

    dn: str
    """Distinguished name."""
    sam_account_name: str
    """sAMAccountName, ``$`` included for computers and gMSAs."""
    object_classes: tuple[str, ...]
    """objectClass values, lower case."""
    sid: str | None
    """objectSid."""
    guid: str | None
    """objectGUID."""
    uac: int
    """userAccountControl (0 for groups)."""
    spns: tuple[str, ...]
    """servicePrincipalName values."""
    dns_host_name: str | None
    """dNSHostName (gMSAs and computers)."""
    membership: bytes | None
    """msDS-GroupMSAMembership, the binary security descriptor (gMSAs)."""
    password_interval: int | None
    """msDS-ManagedPasswordInterval in days (gMSAs)."""

    @property
    def is_gmsa(self) -> bool:
        """Whether this is a group managed service account."""
        return "msds-groupmanagedserviceaccount" in self.object_classes

    @property
    def kind(self) -> str:
        """What the account is, in the words AD tools use."""
        classes = self.object_classes
        if self.is_gmsa:
            return "gMSA"
        if "msds-managedserviceaccount" in classes:
            return "standalone managed service account (sMSA)"
        if "computer" in classes:
            return "computer account"
        if "group" in classes:
            return "group"
        if "user" in classes:
            return "user account"
        return classes[-1] if classes else "object"

    @property
    def disabled(self) -> bool:
        """ACCOUNTDISABLE is set."""
        return bool(self.uac & Uac.ACCOUNTDISABLE)

    @property
    def name(self) -> str:
        """sAMAccountName without a trailing ``$``."""
        return self.sam_account_name.removesuffix("$")


@dataclass(frozen=True)
class AccountLookup:
    """Accounts found by :func:`find_accounts`, by lower-case sAMAccountName."""

    accounts: dict[str, Account]
    """Every account found."""

    def gmsa(self, name: str) -> Account | None:
        """The account ``NAME$`` (whatever its class)."""
        return self.accounts.get(normalize_name(name).lower() + "$")

    def conflicts(self, name: str) -> tuple[Account, ...]:
        """Accounts named ``NAME`` without the ``$``."""
        found = self.accounts.get(normalize_name(name).lower())
        return (found,) if found is not None else ()

    def host(self, name: str) -> Account | None:
        """A host's computer account (``NAME$``)."""
        return self.accounts.get(normalize_name(name).lower() + "$")


def find_accounts(
    ldap: LdapConnection, base: str, names: Iterable[str], hosts: Iterable[str] = ()
) -> AccountLookup:
    """One search for gMSAs ``NAME$``, collisions ``NAME`` and hosts ``HOST$``."""
    wanted: list[str] = []
    for name in names:
        plain = normalize_name(name)
        if plain:
            wanted += [plain + "$", plain]
    for host in hosts:
        plain = normalize_name(host)
        if plain:
            wanted.append(plain + "$")
    unique = list(dict.fromkeys(w.lower() for w in wanted))
    if not unique:
        return AccountLookup({})
    terms = "".join(f"(sAMAccountName={escape_filter_chars(w)})" for w in unique)
    entries = ldap.search(base, f"(|{terms})", _ACCOUNT_ATTRIBUTES)
    accounts = {}
    for entry in entries:
        account = _account(entry)
        accounts[account.sam_account_name.lower()] = account
    return AccountLookup(accounts)


def _account(entry: Entry) -> Account:
    sid_raw, guid_raw = entry.first("objectSid"), entry.first("objectGUID")
    try:
        sid = sid_from_bytes(sid_raw) if sid_raw is not None else None
    except SecurityDescriptorError:
        sid = None
    try:
        guid = guid_from_bytes(guid_raw) if guid_raw is not None else None
    except SecurityDescriptorError:
        guid = None
    return Account(
        dn=entry.dn,
        sam_account_name=entry.text("sAMAccountName") or "",
        object_classes=tuple(c.lower() for c in entry.texts("objectClass")),
        sid=sid,
        guid=guid,
        uac=entry.integer("userAccountControl") or 0,
        spns=entry.texts("servicePrincipalName"),
        dns_host_name=entry.text("dNSHostName"),
        membership=entry.first("msDS-GroupMSAMembership"),
        password_interval=entry.integer("msDS-ManagedPasswordInterval"),
    )


def token_groups(ldap: LdapConnection, dn: str) -> tuple[str, ...]:
    """SIDs of every group an account is in, nested and primary group included."""
    entry = ldap.read(dn, ["tokenGroups"])
    if entry is None:
        return ()
    sids: list[str] = []
    for raw in entry.values("tokenGroups"):
        try:
            sids.append(sid_from_bytes(raw))
        except SecurityDescriptorError:
            continue
    return tuple(sids)


def resolve_sids(ldap: LdapConnection, base: str, sids: Sequence[str]) -> dict[str, str]:
    """Names (``DOMAIN\\\\name``-less sAMAccountNames) for SIDs, in one search.

    Well-known SIDs that are not objects get their usual names; SIDs nobody
    owns any more stay unnamed (the caller shows the SID).
    """
    names: dict[str, str] = {}
    lookup: list[str] = []
    for sid in dict.fromkeys(sids):
        if sid in WELL_KNOWN_SIDS:
            names[sid] = WELL_KNOWN_SIDS[sid]
        else:
            lookup.append(sid)
    if not lookup:
        return names
    terms = "".join(f"(objectSid={_escape_binary(sid_to_bytes(s))})" for s in lookup)
    # Builtin groups (S-1-5-32-*) live under CN=Builtin, inside the domain's naming context.
    for entry in ldap.search(base, f"(|{terms})", ["objectSid", "sAMAccountName"]):
        raw = entry.first("objectSid")
        if raw is None:
            continue
        try:
            names[sid_from_bytes(raw)] = entry.text("sAMAccountName") or entry.dn
        except SecurityDescriptorError:
            continue
    return names


def _escape_binary(data: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in data)


@dataclass(frozen=True)
class AccountProblem:
    """Something wrong with a gMSA that a credential spec can still name: ``doctor``
    reports it as a failed check, ``spec new`` as a warning, in the same words."""

    code: str
    """The check's id and the finding's code, e.g. ``account-conflict``."""
    message: str
    """What is wrong."""
    fix: str
    """How to fix it."""
    details: dict[str, object]
    """What ``doctor --json`` shows beside it."""


def conflict_problem(name: str, lookup: AccountLookup) -> AccountProblem | None:
    """Another account (a user, group or computer) named like the gMSA ``name``."""
    conflicts = lookup.conflicts(name)
    if not conflicts:
        return None
    other = conflicts[0]
    return AccountProblem(
        "account-conflict",
        f"a {other.kind} named {other.sam_account_name} exists next to {name}$; "
        "Kerberos and CCG can pick the wrong one",
        f"rename or remove {other.dn}",
        {"conflict": other.dn},
    )


def trust_flag_problem(found: Account) -> AccountProblem | None:
    """A gMSA without WORKSTATION_TRUST_ACCOUNT in its userAccountControl."""
    if found.uac & Uac.WORKSTATION_TRUST_ACCOUNT:
        return None
    return AccountProblem(
        "account-trust-flag",
        f"userAccountControl 0x{found.uac:x} lacks WORKSTATION_TRUST_ACCOUNT (0x1000)",
        "a gMSA is a workstation trust account: Set-ADServiceAccount -Replace "
        "@{userAccountControl=0x1000}",
        {"userAccountControl": found.uac},
    )


def gmsa_problems(name: str, found: Account, lookup: AccountLookup) -> list[AccountProblem]:
    """Everything :func:`conflict_problem` and :func:`trust_flag_problem` find."""
    found_problems = (conflict_problem(name, lookup), trust_flag_problem(found))
    return [problem for problem in found_problems if problem is not None]


__all__ = [
    "Account",
    "AccountLookup",
    "AccountProblem",
    "Uac",
    "conflict_problem",
    "find_accounts",
    "gmsa_problems",
    "resolve_sids",
    "token_groups",
    "trust_flag_problem",
]
