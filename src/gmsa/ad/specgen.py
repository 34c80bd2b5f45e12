"""``gmsa spec new``: a credential spec from the domain, as New-CredentialSpec makes it.

Same fields from the same objects (docs/background.md#new-credentialspec): the
domain's SID and GUID, its DNS and NetBIOS names, the forest root's DNS name,
the account name as typed without a trailing ``$``, two scope entries (DNS,
NetBIOS) for the main account and one (its domain's DNS name) for each
additional account.
Differences on purpose: the account is refused with the reason when it is not
a gMSA (New-CredentialSpec only needs *an* account), the default file name is
lower-cased with a real suffix (no ``TrimEnd(".json")`` bug), keys come in a
stable order, and the host check can be made fatal (``--strict``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gmsa.ad.access import password_access
from gmsa.ad.accounts import (
    Account,
    AccountLookup,
    find_accounts,
    gmsa_problems,
    token_groups,
)
from gmsa.ad.connection import LdapConnection
from gmsa.ad.domain import DomainInfo, read_domain
from gmsa.ad.errors import AccountError
from gmsa.credspec.model import (
    CredentialSpec,
    DomainJoinConfig,
    GroupManagedServiceAccount,
    default_file_name,
)
from gmsa.findings import Finding, error, warning
from gmsa.identifiers import MAX_ACCOUNT_NAME, MAX_NETBIOS_NAME, name_problem, normalize_name


@dataclass(frozen=True)
class AccountRequest:
    """An account named on the command line."""

    name: str
    """The name as typed, without ``$`` or domain."""
    domain: str | None
    """The domain given with ``NAME@DOMAIN`` (or ``DOMAIN\\\\NAME``), if any."""

    @classmethod
    def parse(cls, text: str) -> AccountRequest:
        """``NAME``, ``NAME$``, ``NAME@DOMAIN`` or ``DOMAIN\\\\NAME``."""
        value = text.strip()
        domain: str | None = None
        if "\\" in value:
            domain, value = value.split("\\", 1)
        elif "@" in value:
            value, domain = value.split("@", 1)
        name = normalize_name(value)
        problem = name_problem(name)
        if problem is not None:
            raise AccountError(
                problem,
                where=text,
                fix="give the gMSA's name (sAMAccountName without $), "
                f"at most {MAX_ACCOUNT_NAME} characters",
            )
        return cls(name, domain.strip() or None if domain else None)


@dataclass(frozen=True)
class GeneratedSpec:
    """A credential spec made from the domain, with what was noticed on the way."""

    spec: CredentialSpec
    """The spec, ready to render."""
    domain: DomainInfo
    """The domain it was read from."""
    findings: tuple[Finding, ...]
    """Warnings (host may not retrieve the password, account disabled, not checked...)."""

    @property
    def file_name(self) -> str:
        """New-CredentialSpec's default name: ``<netbios>_<account>.json``, lower case."""
        return default_file_name(self.domain.netbios_name, self.spec.account_name)


def build_spec(
    domain: DomainInfo, account: str, additional: Sequence[tuple[str, str]] = ()
) -> CredentialSpec:
    """The spec for ``account`` (main) and ``(name, scope)`` pairs of additional accounts."""
    accounts = [
        GroupManagedServiceAccount(account, domain.dns_name),
        GroupManagedServiceAccount(account, domain.netbios_name),
    ]
    accounts += [GroupManagedServiceAccount(name, scope) for name, scope in additional]
    return CredentialSpec(
        cms_plugins=("ActiveDirectory",),
        domain_join_config=DomainJoinConfig(
            sid=domain.sid,
            machine_account_name=account,
            guid=domain.guid,
            dns_tree_name=domain.forest_dns_name,
            dns_name=domain.dns_name,
            netbios_name=domain.netbios_name,
        ),
        group_managed_service_accounts=tuple(accounts),
    )


def generate(
    ldap: LdapConnection,
    account: AccountRequest,
    additional: Sequence[AccountRequest] = (),
    *,
    host: str | None = None,
    strict: bool = False,
) -> GeneratedSpec:
    """Read the domain and the accounts, refuse what cannot work, build the spec.

    Raises :class:`AccountError` when the main account (or an additional
    account of this domain) does not exist or is not a gMSA. Host problems are
    warnings, or errors with ``strict`` (the caller decides what errors mean).
    """
    domain = read_domain(ldap)
    if account.domain and domain.find_forest_domain(account.domain) != domain.find_forest_domain(
        domain.dns_name
    ):
        raise AccountError(
            f"the main account must be in the connected domain {domain.dns_name}, "
            f"not {account.domain}",
            where=f"{account.name}@{account.domain}",
            fix="connect to that domain with --domain, or drop the @DOMAIN part",
        )
    local: list[AccountRequest] = [account]
    scoped: list[tuple[str, str]] = []
    findings: list[Finding] = []
    for extra in additional:
        target = domain.find_forest_domain(extra.domain) if extra.domain else None
        if extra.domain and target is None:
            raise AccountError(
                f"{extra.domain} is not a domain of the forest {domain.forest_dns_name}",
                where=f"--additional-account {extra.name}@{extra.domain}",
                fix="name a domain of this forest (its DNS or NetBIOS name)",
            )
        if target is None or target.dns_name == domain.dns_name:
            local.append(extra)
            scoped.append((extra.name, domain.dns_name))
        else:
            scoped.append((extra.name, target.dns_name))
            findings.append(
                warning(
                    "account-not-checked",
                    extra.name,
                    f"{extra.name}$ is in {target.dns_name}; only accounts of "
                    f"{domain.dns_name} were checked",
                    f"run: gmsa doctor --domain {target.dns_name} --account {extra.name}",
                )
            )
    lookup = find_accounts(
        ldap, domain.naming_context, [a.name for a in local], [host] if host else []
    )
    gmsas = [require_gmsa(lookup, request.name, domain) for request in local]
    for request, gmsa in zip(local, gmsas, strict=True):
        # What doctor fails about an account, spec new says too (as warnings).
        for problem in gmsa_problems(request.name, gmsa, lookup):
            findings.append(warning(problem.code, gmsa.name, problem.message, problem.fix))
        if gmsa.disabled:
            findings.append(
                warning(
                    "account-disabled",
                    gmsa.name,
                    f"{gmsa.sam_account_name} is disabled: no host can use it",
                    f"enable it: Enable-ADAccount -Identity '{gmsa.sam_account_name}'",
                )
            )
    if host:
        findings += _host_findings(ldap, lookup, gmsas, host, strict)
    spec = build_spec(domain, account.name, scoped)
    return GeneratedSpec(spec, domain, tuple(findings))


def require_gmsa(lookup: AccountLookup, name: str, domain: DomainInfo) -> Account:
    """The gMSA ``name$``, or an AccountError saying what exists instead."""
    found = lookup.gmsa(name)
    if found is not None and found.is_gmsa:
        return found
    if found is not None:
        raise AccountError(
            f"{found.sam_account_name} is a {found.kind}, not a gMSA",
            where=found.dn,
            fix="name a group managed service account (New-ADServiceAccount creates one)",
        )
    namesake = lookup.conflicts(name)
    hint = (
        f"; there is a {namesake[0].kind} named {namesake[0].sam_account_name}, "
        "which a credential spec cannot use"
        if namesake
        else ""
    )
    raise AccountError(
        f"no account named {name}$ in {domain.dns_name}{hint}",
        where=name,
        fix=f"check the name (Get-ADServiceAccount {name}) or create the gMSA: "
        f"New-ADServiceAccount -Name {name} -DNSHostName {name.lower()}.{domain.dns_name} "
        "-PrincipalsAllowedToRetrieveManagedPassword <hosts group>",
    )


def _host_findings(
    ldap: LdapConnection,
    lookup: AccountLookup,
    gmsas: Sequence[Account],
    host: str,
    strict: bool,
) -> list[Finding]:
    make = error if strict else warning
    host_name = normalize_name(host)
    found = lookup.host(host_name)
    if found is None:
        return [
            make(
                "host-not-found",
                f"{host_name}$",
                f"no computer account {host_name}$ in the domain, so it cannot retrieve "
                "the password",
                f"check --host (the host's computer name, {MAX_NETBIOS_NAME} characters at most)",
            )
        ]
    groups = token_groups(ldap, found.dn)
    findings: list[Finding] = []
    for gmsa in gmsas:
        access = password_access(gmsa, found, groups)
        if access.malformed is not None:
            findings.append(
                make(
                    "unreadable-membership",
                    gmsa.name,
                    f"msDS-GroupMSAMembership of {gmsa.sam_account_name} is malformed: "
                    f"{access.malformed}",
                    "set PrincipalsAllowedToRetrieveManagedPassword again",
                )
            )
        elif not access.allowed:
            findings.append(
                make(
                    "host-not-allowed",
                    gmsa.name,
                    f"{found.sam_account_name} may not retrieve the password of "
                    f"{gmsa.sam_account_name}",
                    f"add {found.sam_account_name} (or a group it is in) to its "
                    f"PrincipalsAllowedToRetrieveManagedPassword: Set-ADServiceAccount "
                    f"{gmsa.name} -PrincipalsAllowedToRetrieveManagedPassword ...; then "
                    "reboot the host or purge its tickets (klist -li 0x3e7 purge)",
                )
            )
    return findings


__all__ = [
    "AccountRequest",
    "GeneratedSpec",
    "build_spec",
    "generate",
    "require_gmsa",
]
