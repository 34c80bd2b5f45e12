"""HostAccountConfig: how a host outside the domain gets a domain identity (portable CCG).

Only the ECS CCG plugin's input is read closely: a JSON string on Windows, an
object on Linux, either way a credentialArn naming the Secrets Manager secret
(or SSM parameter) that holds the domain user. Other plugins' input is only
searched for secrets that have no place in a spec.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from gmsa import jsondoc
from gmsa.credspec.model import (
    AZURE_KEYVAULT_PLUGIN_GUID,
    ECS_CCG_PLUGIN_GUID,
    HOST_ACCOUNT_CONFIG_KEYS,
    KNOWN_PLUGINS,
    HostAccountConfig,
)
from gmsa.credspec.rules.walker import PathPart, Walker, quote
from gmsa.errors import InvalidInputError
from gmsa.findings import json_path
from gmsa.identifiers import REGION_RE, guid_form
from gmsa.jsondoc import type_name
from gmsa.reference import (
    ACCOUNT_ID_RE,
    PARTITIONS,
    SECRET_NAME_RE,
    InvalidReferenceError,
    SsmLocation,
    parse_location,
    region_in_partition,
)

_SECRET_KEYS = ("password", "secretkey", "secretaccesskey")


def host_account_config(w: Walker, value: Any) -> HostAccountConfig | None:
    """Check HostAccountConfig; its typed form, or None when a field is missing or mistyped."""
    base: tuple[PathPart, ...] = ("ActiveDirectoryConfig", "HostAccountConfig")
    obj = w.obj(
        value,
        base,
        f'{{"PortableCcgVersion": "1", "PluginGUID": "{ECS_CCG_PLUGIN_GUID}", "PluginInput": ...}}',
    )
    if obj is None:
        return None
    found_v, raw_v = w.get(
        obj,
        "PortableCcgVersion",
        base,
        HOST_ACCOUNT_CONFIG_KEYS,
        missing_fix='add "PortableCcgVersion": "1"',
    )
    found_g, raw_g = w.get(
        obj,
        "PluginGUID",
        base,
        HOST_ACCOUNT_CONFIG_KEYS,
        missing_fix=f'add "PluginGUID": "{ECS_CCG_PLUGIN_GUID}" (the ECS CCG plugin)',
    )
    found_i, raw_i = w.get(
        obj,
        "PluginInput",
        base,
        HOST_ACCOUNT_CONFIG_KEYS,
        missing_fix='add "PluginInput", e.g. {"credentialArn": '
        '"arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME"}',
    )
    w.unknown_keys(obj, HOST_ACCOUNT_CONFIG_KEYS, base)
    version: str | None = None
    if found_v:
        version = _portable_ccg_version(w, raw_v, (*base, "PortableCcgVersion"))
    plugin: str | None = None
    if found_g:
        plugin = w.string(
            raw_g,
            (*base, "PluginGUID"),
            f'set it to the plugin\'s CLSID, e.g. "{ECS_CCG_PLUGIN_GUID}"',
        )
        if plugin is not None:
            _check_plugin_guid(w, plugin.strip(), (*base, "PluginGUID"))
    plugin_input: dict[str, Any] | str | None = None
    if found_i:
        plugin_input = _plugin_input(w, raw_i, (*base, "PluginInput"), plugin)
    if version is None or plugin is None or plugin_input is None:
        return None
    return HostAccountConfig(
        portable_ccg_version=version,
        plugin_guid=plugin,
        plugin_input=copy.deepcopy(plugin_input),
        plugin_input_is_string=isinstance(plugin_input, str),
    )


def _portable_ccg_version(w: Walker, value: Any, parts: tuple[PathPart, ...]) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 1:
        w.err(
            "wrong-type",
            parts,
            'must be the string "1", not a number',
            'write "PortableCcgVersion": "1"',
        )
        return None
    text = w.string(value, parts, 'write "PortableCcgVersion": "1"')
    if text is not None and text.strip() != "1":
        w.err(
            "unsupported-portable-ccg-version",
            parts,
            f'PortableCcgVersion {quote(text)} is unknown; CCG supports only "1"',
            'write "PortableCcgVersion": "1"',
        )
    return text


def _check_plugin_guid(w: Walker, text: str, parts: tuple[PathPart, ...]) -> None:
    form = w.guid(
        text,
        parts,
        "invalid-plugin-guid",
        f"{quote(text)} is not a CLSID",
        f"use the plugin's CLSID in braces, e.g. {ECS_CCG_PLUGIN_GUID} (the ECS CCG plugin)",
    )
    if form is None:
        return
    braced = form.clsid
    name = KNOWN_PLUGINS.get(braced)
    if not form.braced:
        w.err(
            "plugin-guid-no-braces",
            parts,
            "PluginGUID is a CLSID and is written in braces",
            f"write {quote(braced)}"
            if name or form.dashed
            else f"write {quote('{' + text.strip('{}') + '}')}",
        )
    elif not form.dashed:
        w.err("invalid-plugin-guid", parts, "the CLSID lacks its dashes", f"write {quote(braced)}")
    if name is None:
        w.warn(
            "unknown-plugin",
            parts,
            f"{braced} is not a CCG plugin gmsa knows (ECS: {ECS_CCG_PLUGIN_GUID}, "
            f"Azure Key Vault: {AZURE_KEYVAULT_PLUGIN_GUID})",
            "check the CLSID the plugin registered on the host",
        )


def _plugin_input(
    w: Walker, value: Any, parts: tuple[PathPart, ...], plugin: str | None
) -> dict[str, Any] | str | None:
    if not isinstance(value, str | dict):
        w.err(
            "wrong-type",
            parts,
            f"must be a JSON string or an object, not {type_name(value)}",
            'write {"credentialArn": "arn:aws:secretsmanager:..."} (or the same as a JSON string)',
        )
        return None
    form = guid_form(plugin) if plugin else None
    is_ecs = form is not None and form.clsid == ECS_CCG_PLUGIN_GUID.upper()
    obj = value if isinstance(value, dict) else _plugin_input_string(w, value, parts, is_ecs)
    if obj is not None:
        _no_secrets(w, obj, parts)
        if is_ecs:
            _ecs_plugin_input(w, obj, parts, string_shaped=isinstance(value, str))
    return value


def _plugin_input_string(
    w: Walker, text: str, parts: tuple[PathPart, ...], is_ecs: bool
) -> dict[str, Any] | None:
    """The object inside a string-shaped PluginInput; an error when the ECS plugin's is not."""
    if not text.strip():
        if is_ecs:
            w.err(
                "empty-field",
                parts,
                "PluginInput is empty",
                'write "{\\"credentialArn\\": \\"arn:aws:secretsmanager:...\\"}"',
            )
        return None
    try:
        inner = jsondoc.loads(text, source=json_path(*parts))
    except InvalidInputError as exc:
        if is_ecs:
            w.err(
                "plugin-input-not-json",
                parts,
                f"PluginInput is a string but not JSON: {exc.what}",
                'write it as "{\\"credentialArn\\": \\"arn:aws:secretsmanager:...\\"}" '
                "or as an object",
            )
        return None
    if not isinstance(inner, dict):
        if is_ecs:
            w.err(
                "plugin-input-not-json",
                parts,
                f"PluginInput holds JSON {type_name(inner)}, not an object",
                'write "{\\"credentialArn\\": \\"arn:aws:secretsmanager:...\\"}"',
            )
        return None
    return inner


def _no_secrets(w: Walker, obj: dict[str, Any], parts: tuple[PathPart, ...]) -> None:
    for key in obj:
        if key.lower().replace("_", "") in _SECRET_KEYS:
            w.err(
                "secret-in-spec",
                (*parts, key),
                f"PluginInput holds {quote(key)}: a credential spec is not secret storage "
                "and is readable by whoever may read the task",
                "store the credentials in Secrets Manager and give its ARN as credentialArn",
            )


def _ecs_plugin_input(
    w: Walker, obj: dict[str, Any], parts: tuple[PathPart, ...], *, string_shaped: bool
) -> None:
    keys = [k for k in obj if k.lower() == "credentialarn"]
    spelled = "credentialArn" if string_shaped else "CredentialArn"
    if not keys:
        w.err(
            "plugin-input-no-credential-arn",
            parts,
            "the ECS CCG plugin needs credentialArn: the ARN of the secret holding "
            "the domain user's username, password and domainName",
            f'add "{spelled}": "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME"',
        )
        return
    if len(keys) > 1:
        w.err(
            "plugin-input-ambiguous-credential-arn",
            (*parts, keys[1]),
            f"PluginInput holds {', '.join(repr(k) for k in keys)}; readers differ "
            "on which one counts",
            f"keep only {quote(keys[0])}",
        )
    key = keys[0]
    path = (*parts, key)
    arn = obj[key]
    if not isinstance(arn, str):
        w.err(
            "wrong-type",
            path,
            f"must be a string, not {type_name(arn)}",
            "write the secret's ARN",
        )
        return
    service = _check_credential_arn(w, arn, path)
    if service == "ssm" and not string_shaped:
        w.warn(
            "ssm-credential-on-linux",
            path,
            "an object-shaped PluginInput is the Linux form, and credentials-fetcher "
            "reads the domain user from Secrets Manager only (SSM works on Windows)",
            "store the user in Secrets Manager and give that ARN",
        )


def _check_credential_arn(w: Walker, arn: str, parts: tuple[PathPart, ...]) -> str | None:
    """Check a Secrets Manager secret or SSM parameter ARN; return its service when valid."""
    example = "arn:aws:secretsmanager:us-east-1:111122223333:secret:gmsa-user-AbCdEf"
    fields = arn.split(":", 6)
    if len(fields) < 6 or fields[0] != "arn":
        w.err(
            "invalid-credential-arn",
            parts,
            f"{quote(arn)} is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)",
            f"use the secret's ARN, e.g. {example}",
        )
        return None
    partition, service, region, account = fields[1:5]
    if service == "ssm":
        try:
            location = parse_location(arn)
        except InvalidReferenceError as exc:
            w.err("invalid-credential-arn", parts, f"{exc.part}: {exc.what}", exc.fix)
            return None
        return "ssm" if isinstance(location, SsmLocation) else None
    if service != "secretsmanager":
        w.err(
            "invalid-credential-arn",
            parts,
            f"service {quote(service)}: the ECS plugin reads the domain user from a Secrets "
            "Manager secret or an SSM parameter",
            f"use the secret's ARN, e.g. {example}",
        )
        return None
    ok = True
    if partition not in PARTITIONS:
        close = difflib.get_close_matches(partition, list(PARTITIONS), n=1)
        w.err(
            "invalid-credential-arn",
            parts,
            f"unknown partition {quote(partition)}",
            f"did you mean {quote(close[0])}?" if close else f"use one of {', '.join(PARTITIONS)}",
        )
        ok = False
    if not REGION_RE.match(region):
        w.err(
            "invalid-credential-arn",
            parts,
            f"{quote(region)} is not a region",
            "use the secret's region, e.g. us-east-1",
        )
        ok = False
    elif partition in PARTITIONS and not region_in_partition(partition, region):
        w.err(
            "invalid-credential-arn",
            parts,
            f"region {quote(region)} is not in partition {quote(partition)}",
            "make the partition and region agree (aws-cn: cn-*, aws-us-gov: us-gov-*)",
        )
        ok = False
    if not ACCOUNT_ID_RE.match(account):
        w.err(
            "invalid-credential-arn",
            parts,
            f"the account id {quote(account)} is not 12 digits",
            "copy the secret's ARN from Secrets Manager",
        )
        ok = False
    resource = ":".join(fields[5:])
    kind, _, name = resource.partition(":")
    if kind != "secret" or not SECRET_NAME_RE.match(name):
        w.err(
            "invalid-credential-arn",
            parts,
            "a Secrets Manager ARN ends in secret:NAME",
            f"copy the secret's ARN, e.g. {example}",
        )
        ok = False
    return "secretsmanager" if ok else None


__all__ = [
    "host_account_config",
]
