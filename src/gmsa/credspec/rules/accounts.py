"""GroupManagedServiceAccounts: each entry's Name and Scope, and the main account's two entries.

New-CredentialSpec lists the main account (MachineAccountName) once with the
domain's DNS name and once with its NetBIOS name; a spec without the DNS
entry fails, one without the NetBIOS entry only looks unusual.
"""

from __future__ import annotations

import json
from typing import Any

from gmsa.credspec.model import (
    ACCOUNT_KEYS,
    ACTIVE_DIRECTORY_CONFIG_KEYS,
    DomainJoinConfig,
    GroupManagedServiceAccount,
    HostAccountConfig,
)
from gmsa.credspec.rules.domain import check_account_name
from gmsa.credspec.rules.host import host_account_config
from gmsa.credspec.rules.walker import PathPart, Walker, quote
from gmsa.identifiers import suggest_account_name
from gmsa.jsondoc import type_name


def active_directory_config(
    w: Walker, value: Any, djc: DomainJoinConfig | None
) -> tuple[tuple[GroupManagedServiceAccount, ...], HostAccountConfig | None] | None:
    """Check ActiveDirectoryConfig: the accounts (against ``djc`` when it could be read)
    and the optional HostAccountConfig; None when either could not be read."""
    base: tuple[PathPart, ...] = ("ActiveDirectoryConfig",)
    obj = w.obj(value, base, 'write {"GroupManagedServiceAccounts": [{"Name": ..., "Scope": ...}]}')
    if obj is None:
        return None
    found, raw = w.get(
        obj,
        "GroupManagedServiceAccounts",
        base,
        ACTIVE_DIRECTORY_CONFIG_KEYS,
        missing_fix='add "GroupManagedServiceAccounts": '
        '[{"Name": "<gMSA>", "Scope": "<domain DNS name>"}]',
    )
    accounts = _accounts(w, raw, djc) if found else None
    host: HostAccountConfig | None = None
    host_ok = True
    found, raw = w.get(obj, "HostAccountConfig", base, ACTIVE_DIRECTORY_CONFIG_KEYS, required=False)
    if found:
        host = host_account_config(w, raw)
        host_ok = host is not None
    w.unknown_keys(obj, ACTIVE_DIRECTORY_CONFIG_KEYS, base)
    if accounts is None or not host_ok:
        return None
    return accounts, host


def _accounts(
    w: Walker, value: Any, djc: DomainJoinConfig | None
) -> tuple[GroupManagedServiceAccount, ...] | None:
    base: tuple[PathPart, ...] = ("ActiveDirectoryConfig", "GroupManagedServiceAccounts")
    example = '[{"Name": "WebApp01", "Scope": "example.com"}]'
    if isinstance(value, dict):
        w.err(
            "wrong-type",
            base,
            "must be an array of accounts, not a single object",
            "wrap the object in [ ]",
        )
        return None
    if not isinstance(value, list):
        w.err(
            "wrong-type",
            base,
            f"must be an array of accounts, not {type_name(value)}",
            f"write {example}",
        )
        return None
    if not value:
        w.err("no-accounts", base, "lists no account", f"add the gMSA, e.g. {example}")
        return None
    accounts: list[GroupManagedServiceAccount] = []
    ok = True
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(value):
        parts = (*base, index)
        entry = w.obj(item, parts, 'write {"Name": "<gMSA>", "Scope": "<domain>"}')
        if entry is None:
            ok = False
            continue
        found_n, raw_n = w.get(
            entry, "Name", parts, ACCOUNT_KEYS, missing_fix='add "Name": the gMSA name without $'
        )
        found_s, raw_s = w.get(
            entry, "Scope", parts, ACCOUNT_KEYS, missing_fix='add "Scope": the domain\'s DNS name'
        )
        name = (
            w.string(raw_n, (*parts, "Name"), "set it to the gMSA's name without $")
            if found_n
            else None
        )
        scope = (
            w.string(raw_s, (*parts, "Scope"), "set it to the domain's DNS or NetBIOS name")
            if found_s
            else None
        )
        w.unknown_keys(entry, ACCOUNT_KEYS, parts)
        if name is not None:
            check_account_name(w, name, (*parts, "Name"))
        if scope is not None:
            _check_scope(w, scope.strip(), (*parts, "Scope"), djc)
        if name is None or scope is None:
            ok = False
            continue
        key = (name.strip().lower(), scope.strip().rstrip(".").lower())
        if key in seen:
            w.warn(
                "duplicate-account",
                parts,
                f"{quote(name)} with scope {quote(scope)} is listed twice",
                "remove the copy",
            )
        seen.add(key)
        accounts.append(GroupManagedServiceAccount(name=name, scope=scope))
    if ok and djc is not None:
        _check_main_account(w, tuple(accounts), djc)
    return tuple(accounts) if ok else None


def _check_scope(
    w: Walker, scope: str, parts: tuple[PathPart, ...], djc: DomainJoinConfig | None
) -> None:
    if "\\" in scope or "@" in scope or "/" in scope:
        w.err(
            "invalid-scope",
            parts,
            f"{quote(scope)} is not a domain name; Scope is the account's domain "
            "(DNS or NetBIOS name)",
            f"write {quote(djc.dns_name)}" if djc else "write the domain's DNS name",
        )
        return
    if djc is None:
        return
    known = {djc.dns_name.strip().rstrip(".").lower(), djc.netbios_name.strip().lower()}
    if scope.rstrip(".").lower() not in known:
        w.warn(
            "scope-unknown-domain",
            parts,
            f"scope {quote(scope)} matches neither DnsName {quote(djc.dns_name)} nor "
            f"NetBiosName {quote(djc.netbios_name)}",
            "fine for an account of another trusted domain; otherwise write "
            f"{quote(djc.dns_name)} or {quote(djc.netbios_name)}",
        )


def _check_main_account(
    w: Walker, accounts: tuple[GroupManagedServiceAccount, ...], djc: DomainJoinConfig
) -> None:
    # Compare the names as meant, so a "$" or a domain reported on its own field does
    # not also make the main account look unlisted.
    main = suggest_account_name(djc.machine_account_name) or djc.machine_account_name
    mine = [a for a in accounts if suggest_account_name(a.name).lower() == main.lower()]
    dns_entry = {"Name": main, "Scope": djc.dns_name}
    netbios_entry = {"Name": main, "Scope": djc.netbios_name}
    base = ("ActiveDirectoryConfig", "GroupManagedServiceAccounts")
    if not mine:
        listed = ", ".join(repr(a.name) for a in accounts)
        w.err(
            "main-account-not-listed",
            ("DomainJoinConfig", "MachineAccountName"),
            f"MachineAccountName {quote(main)} is not among GroupManagedServiceAccounts ({listed})",
            f"add {_compact(dns_entry)} and {_compact(netbios_entry)}, or set "
            "MachineAccountName to the main gMSA",
        )
        return
    scopes = {a.scope.strip().rstrip(".").lower() for a in mine}
    if djc.dns_name.strip().rstrip(".").lower() not in scopes:
        w.err(
            "main-account-no-dns-scope",
            base,
            f"the main account {quote(main)} has no entry with Scope {quote(djc.dns_name)} "
            "(the domain's DNS name)",
            f"add {_compact(dns_entry)}",
        )
    if djc.netbios_name.strip().lower() not in scopes:
        w.warn(
            "main-account-no-netbios-scope",
            base,
            f"the main account {quote(main)} has no entry with Scope "
            f"{quote(djc.netbios_name)} (the NetBIOS name); New-CredentialSpec writes one",
            f"add {_compact(netbios_entry)}",
        )


def _compact(entry: dict[str, str]) -> str:
    return json.dumps(entry, ensure_ascii=False)


__all__ = [
    "active_directory_config",
]
