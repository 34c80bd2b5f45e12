"""Render a credential spec: canonical JSON, copies with PluginInput updates, a summary.

New-CredentialSpec's key order is not stable between runs; gmsa always writes
the order below so that stored specs diff cleanly. Unknown keys are written
back where they were found (after the known keys of their object) and
PluginInput keeps its shape: the ECS agent on Windows reads a JSON *string*,
credentials-fetcher on Linux an *object*, and converting one into the other
breaks the reader that expected it.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from typing import Any

from gmsa import jsondoc
from gmsa.credspec.model import (
    ACCOUNT_KEYS,
    ACTIVE_DIRECTORY_CONFIG_KEYS,
    DOMAIN_JOIN_CONFIG_KEYS,
    HOST_ACCOUNT_CONFIG_KEYS,
    KNOWN_PLUGINS,
    SPEC_KEYS,
    CredentialSpec,
    HostAccountConfig,
)
from gmsa.findings import error
from gmsa.identifiers import guid_form

_KNOWN: dict[tuple[str, ...], tuple[str, ...]] = {
    (): SPEC_KEYS,
    ("DomainJoinConfig",): DOMAIN_JOIN_CONFIG_KEYS,
    ("ActiveDirectoryConfig",): ACTIVE_DIRECTORY_CONFIG_KEYS,
    ("ActiveDirectoryConfig", "GroupManagedServiceAccounts", "[]"): ACCOUNT_KEYS,
    ("ActiveDirectoryConfig", "HostAccountConfig"): HOST_ACCOUNT_CONFIG_KEYS,
}

_PATH_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def to_document(spec: CredentialSpec) -> dict[str, Any]:
    """The spec as a JSON object in New-CredentialSpec's key order, unknown keys kept."""
    djc = spec.domain_join_config
    domain: dict[str, Any] = {
        "Sid": djc.sid,
        "MachineAccountName": djc.machine_account_name,
        "Guid": djc.guid,
        "DnsTreeName": djc.dns_tree_name,
        "DnsName": djc.dns_name,
        "NetBiosName": djc.netbios_name,
    }
    domain.update(_extras(spec, ("DomainJoinConfig",)))
    accounts: list[dict[str, Any]] = []
    for index, account in enumerate(spec.group_managed_service_accounts):
        entry: dict[str, Any] = {"Name": account.name, "Scope": account.scope}
        entry.update(_extras(spec, ("ActiveDirectoryConfig", "GroupManagedServiceAccounts", index)))
        accounts.append(entry)
    ad: dict[str, Any] = {"GroupManagedServiceAccounts": accounts}
    host = spec.host_account_config
    if host is not None:
        host_doc: dict[str, Any] = {
            "PortableCcgVersion": host.portable_ccg_version,
            "PluginGUID": host.plugin_guid,
            "PluginInput": _plugin_input_value(host),
        }
        host_doc.update(_extras(spec, ("ActiveDirectoryConfig", "HostAccountConfig")))
        ad["HostAccountConfig"] = host_doc
    ad.update(_extras(spec, ("ActiveDirectoryConfig",)))
    document: dict[str, Any] = {
        "CmsPlugins": list(spec.cms_plugins),
        "DomainJoinConfig": domain,
        "ActiveDirectoryConfig": ad,
    }
    document.update(_extras(spec, ()))
    return document


def render(spec: CredentialSpec) -> str:
    """The spec as canonical JSON text, the one way gmsa writes specs."""
    return jsondoc.dumps(to_document(spec))


def with_plugin_input(spec: CredentialSpec, updates: dict[str, str]) -> CredentialSpec:
    """A copy of a domainless spec with PluginInput keys set, its shape preserved.

    The host agent sets ``regKeyPath`` this way for domainless Windows tasks. A key
    already present in another letter case is replaced in place, so the result
    never holds two spellings of one key. Raises
    :class:`~gmsa.credspec.validate.CredentialSpecError` when the spec has no
    HostAccountConfig or its PluginInput is not a JSON object.
    """
    from gmsa.credspec.validate import CredentialSpecError

    path = "ActiveDirectoryConfig.HostAccountConfig"
    host = spec.host_account_config
    if host is None:
        raise CredentialSpecError(
            (
                error(
                    "no-host-account-config",
                    path,
                    "the spec has no HostAccountConfig, so it is not a domainless spec",
                    "credentialspecdomainless: needs a spec with HostAccountConfig",
                ),
            ),
            source="credential spec",
        )
    current = host.plugin_input_object
    if current is None:
        raise CredentialSpecError(
            (
                error(
                    "plugin-input-not-json",
                    f"{path}.PluginInput",
                    "PluginInput is not a JSON object, so keys cannot be set in it",
                    'write it as {"credentialArn": "..."} or as that object in a JSON string',
                ),
            ),
            source="credential spec",
        )
    merged: dict[str, Any] = {}
    pending = dict(updates)
    lowered = {key.lower(): key for key in updates}
    for key, value in current.items():
        wanted = lowered.get(key.lower())
        if wanted is None:
            merged[key] = copy.deepcopy(value)
        elif wanted in pending:
            merged[wanted] = pending.pop(wanted)
    merged.update(pending)
    string_shaped = isinstance(host.plugin_input, str) or host.plugin_input_is_string
    new_input: dict[str, Any] | str = json.dumps(merged) if string_shaped else merged
    new_host = replace(host, plugin_input=new_input, plugin_input_is_string=string_shaped)
    return replace(spec, host_account_config=new_host)


def describe(spec: CredentialSpec) -> dict[str, Any]:
    """What a person wants to know about a spec, as data (``gmsa spec show --json``)."""
    djc = spec.domain_join_config
    scopes: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for account in spec.group_managed_service_accounts:
        key = account.name.lower()
        names.setdefault(key, account.name)
        scopes.setdefault(key, []).append(account.scope)
    plugin: dict[str, Any] | None = None
    host = spec.host_account_config
    if host is not None:
        form = guid_form(host.plugin_guid)
        braced = form.clsid if form else host.plugin_guid
        plugin = {
            "guid": host.plugin_guid,
            "name": KNOWN_PLUGINS.get(braced),
            "input_shape": "string" if isinstance(host.plugin_input, str) else "object",
            "credential_arn": host.credential_arn,
        }
    return {
        "domain": djc.dns_name,
        "forest": djc.dns_tree_name,
        "netbios_name": djc.netbios_name,
        "sid": djc.sid,
        "guid": djc.guid,
        "main_account": djc.machine_account_name,
        "accounts": [{"name": names[key], "scopes": scopes[key]} for key in names],
        "domainless": spec.is_domainless,
        "plugin": plugin,
        "credential_arn": host.credential_arn if host is not None else None,
        "cms_plugins": list(spec.cms_plugins),
    }


def _plugin_input_value(host: HostAccountConfig) -> dict[str, Any] | str:
    if isinstance(host.plugin_input, str):
        return host.plugin_input
    if host.plugin_input_is_string:
        return json.dumps(host.plugin_input)
    return copy.deepcopy(host.plugin_input)


def _known_for(parts: tuple[str | int, ...]) -> tuple[str, ...]:
    shape = tuple("[]" if isinstance(p, int) else p for p in parts)
    return _KNOWN.get(shape, ())


def _extras(spec: CredentialSpec, parts: tuple[str | int, ...]) -> dict[str, Any]:
    """Unknown keys of the object at ``parts``: from the parsed document when there is one
    (exact, whatever the keys hold), else from :attr:`CredentialSpec.extra`."""
    known = {k.lower() for k in _known_for(parts)}
    if isinstance(spec.raw, dict):
        node: Any = spec.raw
        for part in parts:
            if isinstance(part, int):
                node = node[part] if isinstance(node, list) and part < len(node) else None
            elif isinstance(node, dict):
                node = node[part] if part in node else _case_insensitive(node, part)
            else:
                node = None
        if not isinstance(node, dict):
            return {}
        return {k: copy.deepcopy(v) for k, v in node.items() if k.lower() not in known}
    out: dict[str, Any] = {}
    for path, value in spec.extra.items():
        tokens = _split_path(path)
        if (
            tokens
            and tuple(tokens[:-1]) == parts
            and isinstance(tokens[-1], str)
            and tokens[-1].lower() not in known
        ):
            out[tokens[-1]] = copy.deepcopy(value)
    return out


def _case_insensitive(node: dict[str, Any], part: str) -> Any:
    return next((v for k, v in node.items() if k.lower() == part.lower()), None)


def _split_path(path: str) -> list[str | int]:
    return [int(index) if index else name for index, name in _PATH_TOKEN.findall(path)]


__all__ = [
    "describe",
    "render",
    "to_document",
    "with_plugin_input",
]
