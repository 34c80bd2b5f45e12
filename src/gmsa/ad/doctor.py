"""``gmsa doctor`` and ``gmsa spec verify``: check a gMSA setup end to end, before it runs.

Each check reports pass / warn / fail with a fix, so the classic failures
(wrong domain SID, host not allowed to retrieve the password, a user named
like the gMSA, a DC that does not answer) show up here rather than as an
opaque container start failure. Checks that depend on an earlier one (every
directory check needs the bind) are reported as skipped when it failed.

Directory reads are batched: the bind, three searches for the domain, one
for all accounts and the host, one for the host's groups, one to name every
SID of every descriptor.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gmsa.ad.access import password_access
from gmsa.ad.accounts import (
    Account,
    AccountLookup,
    AccountProblem,
    conflict_problem,
    find_accounts,
    resolve_sids,
    token_groups,
    trust_flag_problem,
)
from gmsa.ad.connection import (
    LDAP_PORT,
    LDAPS_PORT,
    ConnectOptions,
    Credentials,
    KeytabCredentials,
    LdapConnection,
    connect,
    probe_port,
    realm_of,
)
from gmsa.ad.discovery import find_domain_controllers, resolve_address, split_host_port
from gmsa.ad.domain import DomainInfo, read_domain
from gmsa.ad.errors import DnsLookupError
from gmsa.credspec.model import CredentialSpec
from gmsa.errors import GmsaError
from gmsa.findings import Finding, count, errors_of, warnings_of
from gmsa.identifiers import MAX_ACCOUNT_NAME, MAX_NETBIOS_NAME, name_problem, normalize_name
from gmsa.kerberos.errors import DcUnreachableError, DirectoryError
from gmsa.kerberos.kdc import KDC_PORT
from gmsa.kerberos.keytab import default_keytab_principal, read_keytab

MAX_CLOCK_SKEW = 300
"""Kerberos' default tolerance, seconds."""
CLOCK_WARNING = 60
PORT_TIMEOUT = 2.0
MAX_DCS_PROBED = 8


class Status(StrEnum):
    """Outcome of one check."""

    PASS = "pass"  # noqa: S105 (a check outcome, not a password)
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    """One check's outcome."""

    id: str
    """Stable identifier scripts can match (``host-allowed``)."""
    subject: str
    """What was checked: a domain, a DC, an account, a spec field."""
    status: Status
    """pass / warn / fail / skip."""
    message: str
    """What was found, in one sentence."""
    fix: str | None = None
    """How to fix it (fail and warn)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Data behind the message (principals, ports, SPNs) for --json."""

    def to_dict(self) -> dict[str, Any]:
        """The check as JSON."""
        return {
            "id": self.id,
            "subject": self.subject,
            "status": self.status.value,
            "message": self.message,
            "fix": self.fix,
            "details": self.details,
        }


@dataclass(frozen=True)
class DoctorRequest:
    """What to check."""

    options: ConnectOptions
    """How to reach the domain."""
    credentials: Credentials
    """How to authenticate."""
    spec: CredentialSpec | None = None
    """A credential spec to compare with the domain."""
    spec_findings: tuple[Finding, ...] = ()
    """What ``gmsa spec validate`` found in it (a spec with errors is still compared)."""
    accounts: tuple[str, ...] = ()
    """gMSA names to check (the spec's accounts are added)."""
    host: str | None = None
    """A host (``NAME$``) that must be allowed to retrieve the passwords."""
    network: bool = True
    """Also check DNS SRV records and the DCs' ports."""


@dataclass(frozen=True)
class DoctorReport:
    """All checks of one run."""

    checks: tuple[Check, ...]
    """In the order they ran."""
    round_trips: int
    """LDAP exchanges, bind included."""
    seconds: float
    """Wall time."""
    server: str | None
    """The DC the directory checks used."""
    identity: str | None
    """Who the DC authenticated."""
    reached: bool = True
    """Whether the domain could be reached at all (no DC found or none answered: false)."""

    @property
    def failed(self) -> bool:
        """Whether any check failed."""
        return any(c.status is Status.FAIL for c in self.checks)

    def counts(self) -> dict[str, int]:
        """Number of checks per status."""
        return {s.value: sum(c.status is s for c in self.checks) for s in Status}

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "ok": not self.failed,
            "reached": self.reached,
            "summary": self.counts(),
            "server": self.server,
            "identity": self.identity,
            "ldap_round_trips": self.round_trips,
            "seconds": round(self.seconds, 3),
            "checks": [c.to_dict() for c in self.checks],
        }


def run_doctor(request: DoctorRequest) -> DoctorReport:
    """Run every check the request calls for."""
    started = time.perf_counter()
    checks: list[Check] = []
    options = request.options
    try:
        domain_name = realm_of(options, request.credentials)
    except GmsaError as exc:
        checks.append(_from_error("credentials", "credentials", exc))
        return DoctorReport(tuple(checks), 0, time.perf_counter() - started, None, None)
    if domain_name is None and request.spec is not None:
        domain_name = request.spec.domain_join_config.dns_name.lower()
    if domain_name is not None:
        # connect() would otherwise read the keytab or ticket cache again to learn it.
        options = dataclasses.replace(options, domain=domain_name)
    if request.network:
        checks += _network_checks(options, domain_name)
    try:
        ldap = connect(options, request.credentials)
    except GmsaError as exc:
        checks.append(_from_error("ldap-bind", options.server or domain_name or "domain", exc))
        checks.append(
            Check(
                "directory-checks",
                domain_name or "domain",
                Status.SKIP,
                "the domain, account and host checks need a connection to a DC",
            )
        )
        reached = not isinstance(exc, DcUnreachableError | DnsLookupError)
        return DoctorReport(
            tuple(checks), 0, time.perf_counter() - started, None, None, reached=reached
        )
    with ldap:
        checks.append(
            Check(
                "ldap-bind",
                str(ldap.server),
                Status.PASS,
                f"authenticated as {ldap.identity} over {ldap.protection.value} LDAP",
                details={"round_trips": ldap.bind_round_trips},
            )
        )
        try:
            checks += _directory_checks(ldap, request)
        except DirectoryError as exc:
            checks.append(_from_error("directory", str(ldap.server), exc))
        return DoctorReport(
            tuple(checks),
            ldap.round_trips,
            time.perf_counter() - started,
            str(ldap.server),
            ldap.identity,
        )


def _from_error(check_id: str, subject: str, exc: GmsaError) -> Check:
    where = f" ({exc.where})" if exc.where else ""
    return Check(check_id, subject, Status.FAIL, exc.what + where, exc.fix)


# --------------------------------------------------------------------------- network


def _network_checks(options: ConnectOptions, domain: str | None) -> list[Check]:
    checks: list[Check] = []
    hosts: list[str] = []
    if domain:
        try:
            records = find_domain_controllers(domain, options.dns)
        except DirectoryError as exc:
            checks.append(_from_error("dns-srv", domain, exc))
        else:
            listing = ", ".join(f"{r.target}:{r.port}" for r in records)
            checks.append(
                Check(
                    "dns-srv",
                    domain,
                    Status.PASS,
                    f"_ldap._tcp.dc._msdcs.{domain} lists {count(len(records), 'DC')}: {listing}",
                    details={"records": [r.target for r in records]},
                )
            )
            hosts = [r.target for r in records]
    if options.server:
        try:
            hosts = [split_host_port(options.server, LDAP_PORT, what="--server")[0]]
        except GmsaError as exc:
            return [*checks, _from_error("dc-ports", options.server, exc)]
    for host in hosts[:MAX_DCS_PROBED]:
        checks.append(_port_check(host, options))
    return checks


def _port_check(host: str, options: ConnectOptions) -> Check:
    try:
        addresses = resolve_address(host, options.dns)
    except DirectoryError as exc:
        return _from_error("dc-ports", host, exc)
    address = addresses[0]
    ports = (KDC_PORT, LDAP_PORT, LDAPS_PORT)
    timeout = min(float(options.timeout), PORT_TIMEOUT)
    with ThreadPoolExecutor(max_workers=len(ports)) as pool:
        results = list(pool.map(lambda p: probe_port(address, p, timeout), ports))
    closed = {p: r for p, r in zip(ports, results, strict=True) if r is not None}
    details = {"address": address, "closed": {str(p): r for p, r in closed.items()}}
    if not closed:
        return Check(
            "dc-ports",
            host,
            Status.PASS,
            f"{host} ({address}) answers on 88, 389 and 636",
            details=details,
        )
    listing = ", ".join(f"{p} ({r})" for p, r in closed.items())
    return Check(
        "dc-ports",
        host,
        Status.FAIL,
        f"{host} ({address}) does not answer on {listing}",
        "open TCP 88 (Kerberos), 389 (LDAP) and 636 (LDAPS) from here to the DC; if the DC "
        "is gone, remove its DNS records",
        details,
    )


# --------------------------------------------------------------------------- directory


def _directory_checks(ldap: LdapConnection, request: DoctorRequest) -> list[Check]:
    checks: list[Check] = []
    domain = read_domain(ldap)
    checks.append(_clock_check(domain))
    names = list(dict.fromkeys(name for name in map(normalize_name, request.accounts) if name))
    if request.spec is not None and _is_this_domain(request.spec, domain):
        for name in request.spec.account_names:
            if name.lower() not in (n.lower() for n in names):
                names.append(name)
    host = request.host or _keytab_host(request.credentials)
    lookup = find_accounts(ldap, domain.naming_context, names, [host] if host else [])
    if request.spec is not None:
        checks.append(_validity_check(request.spec_findings))
        checks += _spec_checks(request.spec, domain, lookup)
    host_account: Account | None = None
    groups: tuple[str, ...] = ()
    if host:
        host_account = lookup.host(host)
        if host_account is None:
            checks.append(
                Check(
                    "host-exists",
                    f"{normalize_name(host)}$",
                    Status.FAIL,
                    f"no computer account {normalize_name(host)}$ in {domain.dns_name}",
                    f"check --host: the host's computer name ({MAX_NETBIOS_NAME} characters "
                    "at most), joined to the domain",
                )
            )
        else:
            groups = token_groups(ldap, host_account.dn)
    gmsas: list[Account] = []
    for name in names:
        account_checks, gmsa = _account_checks(name, lookup, domain)
        checks += account_checks
        if gmsa is not None:
            gmsas.append(gmsa)
    checks += _reader_checks(ldap, domain, gmsas, host_account, groups)
    return checks


def _keytab_host(credentials: Credentials) -> str | None:
    """The host a keytab belongs to: doctor run with the host's keytab checks that host."""
    if not isinstance(credentials, KeytabCredentials):
        return None
    if credentials.principal:
        name = credentials.principal.split("@")[0]
        return name if name.endswith("$") else None
    try:
        principal = default_keytab_principal(read_keytab(credentials.path))
    except GmsaError:
        return None
    name = principal.components[0]
    return name if len(principal.components) == 1 and name.endswith("$") else None


def _clock_check(domain: DomainInfo) -> Check:
    if domain.dc_time is None:
        return Check("clock", "clock", Status.SKIP, "the DC did not report its time")
    skew = (datetime.datetime.now(datetime.UTC) - domain.dc_time).total_seconds()
    details = {"skew_seconds": round(skew, 1)}
    fix = "synchronise this machine with the domain's time source (NTP)"
    if abs(skew) > MAX_CLOCK_SKEW:
        return Check(
            "clock",
            "clock",
            Status.FAIL,
            f"this machine's clock is {skew:+.0f} s off the DC's; Kerberos allows 300 s",
            fix,
            details,
        )
    if abs(skew) > CLOCK_WARNING:
        return Check(
            "clock",
            "clock",
            Status.WARN,
            f"this machine's clock is {skew:+.0f} s off",
            fix,
            details,
        )
    return Check("clock", "clock", Status.PASS, "clocks agree with the DC", details=details)


def _is_this_domain(spec: CredentialSpec, domain: DomainInfo) -> bool:
    djc = spec.domain_join_config
    return djc.dns_name.lower() == domain.dns_name.lower() or (
        djc.netbios_name.lower() == domain.netbios_name.lower()
    )


# ----------------------------------------------------------------- spec fields


def _spec_checks(spec: CredentialSpec, domain: DomainInfo, lookup: AccountLookup) -> list[Check]:
    djc = spec.domain_join_config
    checks = [_sid_check(djc.sid, domain, lookup), _guid_check(djc.guid, domain, lookup)]
    where_fix = "Get-ADDomain | Select DomainSID, ObjectGUID, Forest, DNSRoot, NetBIOSName"
    for check_id, field_name, given, expected in (
        ("spec-dns-name", "DnsName", djc.dns_name, domain.dns_name),
        ("spec-dns-tree-name", "DnsTreeName", djc.dns_tree_name, domain.forest_dns_name),
        ("spec-netbios-name", "NetBiosName", djc.netbios_name, domain.netbios_name),
    ):
        subject = f"DomainJoinConfig.{field_name}"
        if given.lower().rstrip(".") == expected.lower():
            checks.append(Check(check_id, subject, Status.PASS, f"{given} matches the domain"))
        else:
            checks.append(
                Check(
                    check_id,
                    subject,
                    Status.FAIL,
                    f"{given!r} is not the domain's {field_name} ({expected!r})",
                    f"set {field_name} to {expected!r} (or regenerate: gmsa spec new "
                    f"{spec.account_name}); on Windows: {where_fix}",
                    {"expected": expected, "found": given},
                )
            )
    checks.append(_scope_check(spec, domain))
    return checks


def _validity_check(findings: Sequence[Finding]) -> Check:
    errors = errors_of(findings)
    warnings = warnings_of(findings)
    details = {"findings": [{**f.to_dict(), "severity": f.severity.value} for f in findings]}
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return Check(
            "spec-valid",
            "credential spec",
            Status.FAIL,
            f"{first.path}: {first.message}{more}",
            first.fix or "run: gmsa spec validate FILE",
            details,
        )
    if warnings:
        return Check(
            "spec-valid",
            "credential spec",
            Status.WARN,
            f"{count(len(warnings), 'warning')}, first: {warnings[0].message}",
            warnings[0].fix,
            details,
        )
    return Check("spec-valid", "credential spec", Status.PASS, "the spec is valid")


def _sid_check(sid: str, domain: DomainInfo, lookup: AccountLookup) -> Check:
    subject = "DomainJoinConfig.Sid"
    if sid.upper() == domain.sid.upper():
        return Check("spec-sid", subject, Status.PASS, "the domain's SID")
    owner = next(
        (a for a in lookup.accounts.values() if a.sid and a.sid.upper() == sid.upper()), None
    )
    if owner is not None:
        what = f"{sid} is the SID of {owner.sam_account_name} (the {owner.kind}), not the domain's"
    elif sid.upper().startswith(domain.sid.upper() + "-"):
        what = f"{sid} is the SID of an account of this domain, not the domain's"
    else:
        what = f"{sid} is not the SID of {domain.dns_name}"
    return Check(
        "spec-sid",
        subject,
        Status.FAIL,
        what,
        f"set Sid to the domain's SID {domain.sid} ((Get-ADDomain).DomainSID)",
        {"expected": domain.sid, "found": sid},
    )


def _guid_check(guid: str, domain: DomainInfo, lookup: AccountLookup) -> Check:
    subject = "DomainJoinConfig.Guid"
    given = guid.strip("{}").lower()
    if given == domain.guid:
        return Check("spec-guid", subject, Status.PASS, "the domain's objectGUID")
    owner = next((a for a in lookup.accounts.values() if a.guid == given), None)
    what = (
        f"{guid} is the objectGUID of {owner.sam_account_name}, not the domain's"
        if owner is not None
        else f"{guid} is not the objectGUID of {domain.dns_name}"
    )
    return Check(
        "spec-guid",
        subject,
        Status.FAIL,
        what,
        f"set Guid to the domain's objectGUID {domain.guid} ((Get-ADDomain).ObjectGUID)",
        {"expected": domain.guid, "found": guid},
    )


def _scope_check(spec: CredentialSpec, domain: DomainInfo) -> Check:
    subject = "ActiveDirectoryConfig.GroupManagedServiceAccounts"
    unknown = [
        f"{a.name} ({a.scope})"
        for a in spec.group_managed_service_accounts
        if domain.find_forest_domain(a.scope) is None
    ]
    if not unknown:
        return Check("spec-scopes", subject, Status.PASS, "every Scope is a domain of the forest")
    return Check(
        "spec-scopes",
        subject,
        Status.FAIL,
        f"Scope not a domain of the forest {domain.forest_dns_name}: {', '.join(unknown)}",
        f"use the account's domain: {domain.dns_name} or {domain.netbios_name}",
    )


# ----------------------------------------------------------------- accounts


def _failed(problem: AccountProblem, subject: str) -> Check:
    """A failed check from an account problem, in its own words."""
    return Check(
        problem.code, subject, Status.FAIL, problem.message, problem.fix, dict(problem.details)
    )


def _account_checks(
    name: str, lookup: AccountLookup, domain: DomainInfo
) -> tuple[list[Check], Account | None]:
    checks: list[Check] = []
    subject = f"{name}$"
    problem = name_problem(name)
    if problem is None:
        checks.append(Check("account-name", subject, Status.PASS, "a valid gMSA name"))
    else:
        checks.append(
            Check(
                "account-name",
                subject,
                Status.FAIL,
                problem,
                f"gMSA names are at most {MAX_ACCOUNT_NAME} characters without $ "
                "(the NetBIOS limit)",
            )
        )
    found = lookup.gmsa(name)
    conflicts = lookup.conflicts(name)
    if found is None and conflicts:
        other = conflicts[0]
        checks.append(
            Check(
                "account-exists",
                subject,
                Status.FAIL,
                f"{other.sam_account_name} is a {other.kind}, not a gMSA (there is no {name}$)",
                "a credential spec must name a group managed service account: create one with "
                f"New-ADServiceAccount -Name {name} ... or fix the name",
                {"dn": other.dn},
            )
        )
        return checks, None
    conflict = conflict_problem(name, lookup)
    if conflict is not None:
        checks.append(_failed(conflict, subject))
    else:
        checks.append(
            Check("account-conflict", subject, Status.PASS, f"no other account named {name}")
        )
    if found is None:
        checks.append(
            Check(
                "account-exists",
                subject,
                Status.FAIL,
                f"no account named {name}$ in {domain.dns_name}",
                f"create it: New-ADServiceAccount -Name {name} -DNSHostName "
                f"{name.lower()}.{domain.dns_name} "
                "-PrincipalsAllowedToRetrieveManagedPassword <hosts group>",
            )
        )
        return checks, None
    if not found.is_gmsa:
        checks.append(
            Check(
                "account-exists",
                subject,
                Status.FAIL,
                f"{found.sam_account_name} is a {found.kind}, not a gMSA",
                "a credential spec must name a group managed service account",
                {"dn": found.dn},
            )
        )
        return checks, None
    checks.append(
        Check(
            "account-exists", subject, Status.PASS, f"a gMSA: {found.dn}", details={"dn": found.dn}
        )
    )
    if found.disabled:
        checks.append(
            Check(
                "account-enabled",
                subject,
                Status.FAIL,
                f"{found.sam_account_name} is disabled",
                f"Enable-ADAccount -Identity '{found.sam_account_name}' (samba-tool user enable)",
            )
        )
    else:
        checks.append(Check("account-enabled", subject, Status.PASS, "enabled"))
    trust = trust_flag_problem(found)
    if trust is None:
        checks.append(
            Check("account-trust-flag", subject, Status.PASS, "WORKSTATION_TRUST_ACCOUNT set")
        )
    else:
        checks.append(_failed(trust, subject))
    if found.spns:
        checks.append(
            Check(
                "account-spns",
                subject,
                Status.PASS,
                f"SPNs: {', '.join(found.spns)}",
                details={"spns": list(found.spns)},
            )
        )
    else:
        checks.append(
            Check(
                "account-spns",
                subject,
                Status.PASS,
                "no SPNs (add HTTP/name with setspn -S if clients reach the service by Kerberos)",
                details={"spns": []},
            )
        )
    return checks, found


def _reader_checks(
    ldap: LdapConnection,
    domain: DomainInfo,
    gmsas: Sequence[Account],
    host: Account | None,
    groups: tuple[str, ...],
) -> list[Check]:
    decided = {gmsa.sam_account_name: password_access(gmsa, host, groups) for gmsa in gmsas}
    checks: list[Check] = []
    all_sids: list[str] = []
    for gmsa in gmsas:
        access = decided[gmsa.sam_account_name]
        if access.malformed is not None:
            checks.append(
                Check(
                    "password-readers",
                    gmsa.sam_account_name,
                    Status.FAIL,
                    f"msDS-GroupMSAMembership is not a valid security descriptor: "
                    f"{access.malformed}",
                    f"set it again: Set-ADServiceAccount {gmsa.name} "
                    "-PrincipalsAllowedToRetrieveManagedPassword <hosts group>",
                )
            )
        elif access.readers is not None:
            all_sids += [*access.readers.allowed, *access.readers.denied]
    if host is not None and host.sid:
        all_sids.append(host.sid)
    names = resolve_sids(ldap, domain.naming_context, all_sids) if all_sids else {}

    def named(sid: str) -> str:
        return names.get(sid, sid)

    for gmsa in gmsas:
        access = decided[gmsa.sam_account_name]
        if access.malformed is not None:
            continue
        who = access.readers
        subject = gmsa.sam_account_name
        fix_readers = (
            f"Set-ADServiceAccount {gmsa.name} -PrincipalsAllowedToRetrieveManagedPassword "
            "<hosts group>"
        )
        if who is None or not who.allowed:
            checks.append(
                Check(
                    "password-readers",
                    subject,
                    Status.FAIL,
                    "no principal may retrieve the password",
                    fix_readers,
                    {"allowed": []},
                )
            )
        else:
            principals = [{"sid": s, "name": names.get(s)} for s in who.allowed]
            denied = [{"sid": s, "name": names.get(s)} for s in who.denied]
            listing = ", ".join(named(s) for s in who.allowed)
            checks.append(
                Check(
                    "password-readers",
                    subject,
                    Status.PASS,
                    f"may be retrieved by: {listing}",
                    details={"allowed": principals, "denied": denied},
                )
            )
        if host is None or access.host is None:
            continue
        allowed, via, direct = access.host.allowed, access.host.deciding_sid, access.host.direct
        host_name = host.sam_account_name
        if allowed:
            how = "directly" if direct else f"through {named(via) if via else 'a group'}"
            checks.append(
                Check(
                    "host-allowed",
                    subject,
                    Status.PASS,
                    f"{host_name} may retrieve the password ({how})",
                    details={"host": host_name, "via": named(via) if via else None},
                )
            )
        else:
            denied_by = f" (denied by an ACE for {named(via)})" if via else ""
            checks.append(
                Check(
                    "host-allowed",
                    subject,
                    Status.FAIL,
                    f"{host_name} may not retrieve the password{denied_by}",
                    f"add {host_name} or a group it is in: {fix_readers}; then reboot the host "
                    "or purge its tickets (klist -li 0x3e7 purge) so its groups are refreshed",
                    {"host": host_name},
                )
            )
    return checks


__all__ = [
    "CLOCK_WARNING",
    "MAX_CLOCK_SKEW",
    "MAX_DCS_PROBED",
    "PORT_TIMEOUT",
    "Check",
    "DoctorReport",
    "DoctorRequest",
    "Status",
    "run_doctor",
]
