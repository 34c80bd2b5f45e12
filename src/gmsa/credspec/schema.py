"""The JSON Schema of a credential spec, for editors and other tools.

Editors (VS Code, JetBrains) show a schema's titles and descriptions as help
while a spec is typed. The schema accepts every spec ``gmsa spec validate``
accepts (warnings included, unknown keys included: readers ignore them) and
rejects what it can express of the errors; rules that need two fields at once
(the main account's scopes, the ECS plugin's credentialArn) are left to
``gmsa spec validate``.
"""

from __future__ import annotations

import copy
from typing import Any

from gmsa.credspec.model import (
    ACCOUNT_KEYS,
    AZURE_KEYVAULT_PLUGIN_GUID,
    DOMAIN_JOIN_CONFIG_KEYS,
    ECS_CCG_PLUGIN_GUID,
    HOST_ACCOUNT_CONFIG_KEYS,
    SPEC_KEYS,
)
from gmsa.identifiers import (
    ACCOUNT_NAME_ILLEGAL,
    DNS_LABEL_PATTERN,
    GUID_PATTERN,
    MAX_ACCOUNT_NAME,
    MAX_NETBIOS_NAME,
    NETBIOS_NAME_ILLEGAL,
)

SCHEMA_ID = "urn:gmsa:schema:credential-spec:1"
"""The schema's ``$id``; a URN because the schema ships with the package, not a web site."""


def _in_class(chars: str) -> str:
    """``chars`` escaped for a regular expression's character class."""
    return "".join("\\" + c if c in "\\[]" else c for c in chars)


_ACCOUNT_BAD = _in_class(ACCOUNT_NAME_ILLEGAL + "$") + "\\s\\x00-\\x1f"
_NETBIOS_BAD = _in_class(NETBIOS_NAME_ILLEGAL) + "\\x00-\\x1f."
_ECS_PATTERN = (
    "^\\{"
    + "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in ECS_CCG_PLUGIN_GUID[1:-1])
    + "\\}$"
)


def _account_name(title: str, description: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_ACCOUNT_NAME,
        "pattern": f"^[^{_ACCOUNT_BAD}.]([^{_ACCOUNT_BAD}]*[^{_ACCOUNT_BAD}.])?$",
        "examples": ["WebApp01"],
    }


_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "gMSA credential spec",
    "description": (
        "The credential spec a Windows container (CCG) or a Linux host "
        "(credentials-fetcher) reads to act as a group Managed Service Account. It holds "
        "no secrets. Generate it with New-CredentialSpec or gmsa, check it with "
        "'gmsa spec validate'."
    ),
    "type": "object",
    "required": list(SPEC_KEYS),
    "properties": {
        "CmsPlugins": {
            "title": "CMS plugins",
            "description": 'Always ["ActiveDirectory"].',
            "type": "array",
            "items": {"type": "string"},
            "contains": {"const": "ActiveDirectory"},
            "default": ["ActiveDirectory"],
        },
        "DomainJoinConfig": {
            "title": "Domain",
            "description": (
                "The Active Directory domain of the main gMSA: "
                "Get-ADDomain | Select DomainSID, ObjectGUID, Forest, DNSRoot, NetBIOSName."
            ),
            "type": "object",
            "required": list(DOMAIN_JOIN_CONFIG_KEYS),
            "properties": {
                "Sid": {
                    "title": "Domain SID",
                    "description": (
                        "The DOMAIN's objectSid (S-1-5-21-a-b-c), not the gMSA's: an account "
                        "SID has a fourth number (its RID) and makes CCG fail."
                    ),
                    "type": "string",
                    "pattern": "^[Ss]-1-5-21-[0-9]{1,10}-[0-9]{1,10}-[0-9]{1,10}$",
                    "examples": ["S-1-5-21-2554468230-2647958158-2204241789"],
                },
                "MachineAccountName": _account_name(
                    "Main gMSA name",
                    "The main gMSA's name: its sAMAccountName without the trailing $ and "
                    f"without a domain, at most {MAX_ACCOUNT_NAME} characters. Also listed in "
                    "GroupManagedServiceAccounts.",
                ),
                "Guid": {
                    "title": "Domain GUID",
                    "description": (
                        "The DOMAIN's objectGUID, lowercase, with dashes, without braces."
                    ),
                    "type": "string",
                    "pattern": f"^{GUID_PATTERN}$",
                    "examples": ["8665abd4-e947-4dd0-9a51-f8254943c90b"],
                },
                "DnsTreeName": {
                    "title": "Forest DNS name",
                    "description": "The DNS name of the forest root domain.",
                    "$ref": "#/$defs/dnsName",
                },
                "DnsName": {
                    "title": "Domain DNS name",
                    "description": "The domain's DNS name (its DNS root).",
                    "$ref": "#/$defs/dnsName",
                },
                "NetBiosName": {
                    "title": "Domain NetBIOS name",
                    "description": (
                        f"The domain's NetBIOS name: at most {MAX_NETBIOS_NAME} characters, "
                        "no dots."
                    ),
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_NETBIOS_NAME,
                    "pattern": f"^[^{_NETBIOS_BAD}\\s]([^{_NETBIOS_BAD}]*[^{_NETBIOS_BAD}\\s])?$",
                    "examples": ["EXAMPLE"],
                },
            },
        },
        "ActiveDirectoryConfig": {
            "title": "Accounts",
            "description": "The gMSAs the container may use, and for domainless hosts how "
            "the host obtains them.",
            "type": "object",
            "required": ["GroupManagedServiceAccounts"],
            "properties": {
                "GroupManagedServiceAccounts": {
                    "title": "gMSAs",
                    "description": (
                        "Every gMSA the container may use. The main one (MachineAccountName) "
                        "appears twice: with Scope = the DNS name and Scope = the NetBIOS name."
                    ),
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "title": "gMSA",
                        "type": "object",
                        "required": list(ACCOUNT_KEYS),
                        "properties": {
                            "Name": _account_name(
                                "gMSA name",
                                "The gMSA's sAMAccountName without $ and without a domain.",
                            ),
                            "Scope": {
                                "title": "Scope",
                                "description": "The account's domain: its DNS or NetBIOS name.",
                                "type": "string",
                                "minLength": 1,
                                "pattern": "^[^\\\\/@\\s]([^\\\\/@]*[^\\\\/@\\s])?$",
                                "examples": ["example.com", "EXAMPLE"],
                            },
                        },
                    },
                },
                "HostAccountConfig": {
                    "title": "Domainless host",
                    "description": (
                        "Only for hosts NOT joined to the domain (portable CCG): which plugin "
                        "gives the host a domain identity, and its input."
                    ),
                    "type": "object",
                    "required": list(HOST_ACCOUNT_CONFIG_KEYS),
                    "if": {
                        "properties": {"PluginGUID": {"pattern": _ECS_PATTERN}},
                        "required": ["PluginGUID"],
                    },
                    "then": {"properties": {"PluginInput": {"$ref": "#/$defs/ecsPluginInput"}}},
                    "properties": {
                        "PortableCcgVersion": {
                            "title": "Portable CCG version",
                            "description": 'Always the string "1".',
                            "const": "1",
                        },
                        "PluginGUID": {
                            "title": "CCG plugin CLSID",
                            "description": (
                                f"The plugin's CLSID in braces: {ECS_CCG_PLUGIN_GUID} for the "
                                f"AWS ECS CCG plugin, {AZURE_KEYVAULT_PLUGIN_GUID} for Azure "
                                "Key Vault."
                            ),
                            "type": "string",
                            "pattern": f"^\\{{{GUID_PATTERN}\\}}$",
                            "examples": [ECS_CCG_PLUGIN_GUID],
                        },
                        "PluginInput": {
                            "title": "Plugin input",
                            "description": (
                                "Plugin-specific. For the ECS plugin: the ARN of the Secrets "
                                "Manager secret (or SSM parameter) holding the domain user, as "
                                'a JSON string on Windows ("{\\"credentialArn\\": '
                                '\\"arn:...\\"}") or an object on Linux '
                                '({"CredentialArn": "arn:..."}).'
                            ),
                            "type": ["string", "object"],
                        },
                    },
                },
            },
        },
    },
    "$defs": {
        "ecsPluginInput": {
            "description": "The ECS CCG plugin's input: the domain user's secret ARN.",
            "anyOf": [
                {"type": "string", "pattern": "\\S"},
                {
                    "type": "object",
                    "properties": {
                        "credentialArn": {"$ref": "#/$defs/credentialArn"},
                        "CredentialArn": {"$ref": "#/$defs/credentialArn"},
                    },
                },
            ],
        },
        "dnsName": {
            "type": "string",
            "maxLength": 254,
            "pattern": f"^{DNS_LABEL_PATTERN}(\\.{DNS_LABEL_PATTERN})*\\.?$",
            "examples": ["example.com"],
        },
        "credentialArn": {
            "title": "Domain user secret ARN",
            "description": (
                'ARN of the secret holding {"username", "password", "domainName"}: '
                "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME or an SSM parameter ARN."
            ),
            "type": "string",
            "pattern": "^arn:[a-z-]+:(secretsmanager|ssm):[a-z0-9-]+:[0-9]{12}:"
            "(secret:|parameter/).+$",
        },
    },
}


def json_schema() -> dict[str, Any]:
    """The credential spec's JSON Schema (draft 2020-12); a fresh copy the caller may change."""
    return copy.deepcopy(_SCHEMA)


__all__ = [
    "SCHEMA_ID",
    "json_schema",
]
