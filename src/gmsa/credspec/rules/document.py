"""The top level of a credential spec: CmsPlugins and the two configuration objects.

Each part is checked even when another is broken, so one run reports every
problem; the typed :class:`~gmsa.credspec.model.CredentialSpec` is built only
when every part could be read.
"""

from __future__ import annotations

import copy
from typing import Any

from gmsa.credspec.model import KNOWN_CMS_PLUGINS, SPEC_KEYS, CredentialSpec
from gmsa.credspec.rules.accounts import active_directory_config
from gmsa.credspec.rules.domain import WHERE_DOMAIN, domain_join_config
from gmsa.credspec.rules.walker import PathPart, Walker, quote
from gmsa.jsondoc import type_name


def read_document(w: Walker, document: Any) -> CredentialSpec | None:
    """Check a parsed document; the typed spec, or None when a part could not be read."""
    if not isinstance(document, dict):
        w.err(
            "wrong-type",
            (),
            f"a credential spec is a JSON object, not {type_name(document)}",
            'give the spec file itself (it starts with {"CmsPlugins": ...})',
        )
        return None
    found, value = w.get(
        document,
        "CmsPlugins",
        (),
        SPEC_KEYS,
        missing_fix='add "CmsPlugins": ["ActiveDirectory"]',
    )
    plugins = _cms_plugins(w, value) if found else None
    found, value = w.get(
        document,
        "DomainJoinConfig",
        (),
        SPEC_KEYS,
        missing_fix=f"add the domain's identity ({WHERE_DOMAIN})",
    )
    djc = domain_join_config(w, value) if found else None
    found, value = w.get(
        document,
        "ActiveDirectoryConfig",
        (),
        SPEC_KEYS,
        missing_fix='add "ActiveDirectoryConfig": {"GroupManagedServiceAccounts": [...]}',
    )
    adc = active_directory_config(w, value, djc) if found else None
    w.unknown_keys(document, SPEC_KEYS, ())
    if plugins is None or djc is None or adc is None:
        return None
    accounts, host = adc
    return CredentialSpec(
        cms_plugins=plugins,
        domain_join_config=djc,
        group_managed_service_accounts=accounts,
        host_account_config=host,
        extra=dict(w.extra),
        raw=copy.deepcopy(document),
    )


def _cms_plugins(w: Walker, value: Any) -> tuple[str, ...] | None:
    parts: tuple[PathPart, ...] = ("CmsPlugins",)
    fix = 'write "CmsPlugins": ["ActiveDirectory"]'
    if not isinstance(value, list):
        w.err(
            "wrong-type",
            parts,
            f"must be an array of strings, not {type_name(value)}",
            fix,
        )
        return None
    ok = True
    for index, item in enumerate(value):
        if not isinstance(item, str):
            w.err(
                "wrong-type",
                (*parts, index),
                f"must be a string, not {type_name(item)}",
                fix,
            )
            ok = False
    if not ok:
        return None
    plugins = tuple(value)
    if "ActiveDirectory" not in plugins:
        near = [p for p in plugins if p.strip().lower() == "activedirectory"]
        w.err(
            "cms-plugins-no-active-directory",
            parts,
            'CmsPlugins does not contain "ActiveDirectory"'
            + (f" (found {quote(near[0])}: the name is case-sensitive)" if near else "")
            + ": CCG then does nothing for the container",
            fix,
        )
    for index, item in enumerate(plugins):
        if item not in KNOWN_CMS_PLUGINS and item.strip().lower() != "activedirectory":
            w.warn(
                "unknown-cms-plugin",
                (*parts, index),
                f"unknown CMS plugin {quote(item)}",
                'CCG knows only "ActiveDirectory"',
            )
    if len({p.lower() for p in plugins}) != len(plugins):
        w.warn("duplicate-cms-plugin", parts, "a plugin is listed twice", fix)
    return plugins


__all__ = [
    "read_document",
]
