"""The credential spec: the JSON document CCG (Windows) and credentials-fetcher (Linux) read.

These classes are the validated, typed form; the constants are what every
reader and writer of a spec agrees on (its size limit, its keys, the plugins
known). Parsing and checking live in :mod:`gmsa.credspec.validate`; rendering
in :mod:`gmsa.credspec.render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gmsa import jsondoc

MAX_SPEC_BYTES = 64 * 1024
"""Largest credential spec accepted from a file, standard input or any store
(the cap Kubernetes puts on an inline spec)."""

ECS_CCG_PLUGIN_GUID = "{859E1386-BDB4-49E8-85C7-3070B13920E1}"
"""CLSID of the AWS ECS CCG plugin (domainless hosts on ECS)."""
AZURE_KEYVAULT_PLUGIN_GUID = "{CCC2A336-D7F3-4818-A213-272B7924213E}"
"""CLSID of the Azure Key Vault CCG plugin."""

KNOWN_PLUGINS: dict[str, str] = {
    ECS_CCG_PLUGIN_GUID.upper(): "AWS ECS CCG plugin",
    AZURE_KEYVAULT_PLUGIN_GUID.upper(): "Azure Key Vault CCG plugin",
}
"""CCG plugins by braced, uppercase CLSID, with a name for people."""

KNOWN_CMS_PLUGINS = ("ActiveDirectory",)
"""The only CmsPlugins value CCG knows."""

SPEC_KEYS = ("CmsPlugins", "DomainJoinConfig", "ActiveDirectoryConfig")
"""The keys of a spec's top level, in the order New-CredentialSpec writes them."""
DOMAIN_JOIN_CONFIG_KEYS = (
    "Sid",
    "MachineAccountName",
    "Guid",
    "DnsTreeName",
    "DnsName",
    "NetBiosName",
)
"""The keys of DomainJoinConfig, in order."""
ACTIVE_DIRECTORY_CONFIG_KEYS = ("GroupManagedServiceAccounts", "HostAccountConfig")
"""The keys of ActiveDirectoryConfig, in order."""
ACCOUNT_KEYS = ("Name", "Scope")
"""The keys of one GroupManagedServiceAccounts entry, in order."""
HOST_ACCOUNT_CONFIG_KEYS = ("PortableCcgVersion", "PluginGUID", "PluginInput")
"""The keys of HostAccountConfig, in order."""


@dataclass(frozen=True)
class DomainJoinConfig:
    """The domain the gMSA belongs to, as the container will present it."""

    sid: str
    """The **domain's** objectSid (``S-1-5-21-a-b-c``), not the gMSA's."""
    machine_account_name: str
    """sAMAccountName of the main gMSA without ``$`` or domain."""
    guid: str
    """The domain's objectGUID: lowercase, dashed, no braces."""
    dns_tree_name: str
    """Forest root DNS name."""
    dns_name: str
    """The domain's DNS name."""
    netbios_name: str
    """The domain's NetBIOS name."""


@dataclass(frozen=True)
class GroupManagedServiceAccount:
    """One ``GroupManagedServiceAccounts`` entry."""

    name: str
    """sAMAccountName without ``$``."""
    scope: str
    """The domain, as DNS name or NetBIOS name."""


@dataclass(frozen=True)
class HostAccountConfig:
    """How a host outside the domain obtains credentials (domainless / portable CCG)."""

    portable_ccg_version: str
    """Always ``"1"`` today."""
    plugin_guid: str
    """The CCG plugin's CLSID, in braces."""
    plugin_input: dict[str, Any] | str
    """Plugin-specific input. The ECS plugin reads a Secrets Manager or SSM ARN from it."""
    plugin_input_is_string: bool = False
    """Whether PluginInput was a JSON *string* (Windows ECS) rather than an object (Linux)."""

    @property
    def plugin_input_object(self) -> dict[str, Any] | None:
        """PluginInput as an object whatever its shape, or None when it is not JSON."""
        if isinstance(self.plugin_input, dict):
            return self.plugin_input
        try:
            value = jsondoc.loads(self.plugin_input, source="PluginInput")
        except jsondoc.JsonDocumentError:
            return None
        return value if isinstance(value, dict) else None

    @property
    def credential_arn(self) -> str | None:
        """The user secret's ARN the ECS plugin reads (``credentialArn``, any case)."""
        obj = self.plugin_input_object
        if obj is None:
            return None
        for key, value in obj.items():
            if key.lower() == "credentialarn" and isinstance(value, str):
                return value
        return None


@dataclass(frozen=True)
class CredentialSpec:
    """A whole credential spec."""

    cms_plugins: tuple[str, ...]
    """Always contains ``ActiveDirectory``."""
    domain_join_config: DomainJoinConfig
    """The domain."""
    group_managed_service_accounts: tuple[GroupManagedServiceAccount, ...]
    """Accounts the container may use; the main one appears with DNS and NetBIOS scopes."""
    host_account_config: HostAccountConfig | None = None
    """Present only for domainless hosts."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Unknown keys kept as read (JSON path -> value) so rendering loses nothing."""
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    """The document as parsed, for round trips that keep unknown keys in place."""

    @property
    def account_name(self) -> str:
        """The main gMSA's name (``MachineAccountName``)."""
        return self.domain_join_config.machine_account_name

    @property
    def account_names(self) -> tuple[str, ...]:
        """Every distinct gMSA name, main one first, in document order."""
        names = [self.account_name]
        for account in self.group_managed_service_accounts:
            if account.name.lower() not in (n.lower() for n in names):
                names.append(account.name)
        return tuple(names)

    @property
    def is_domainless(self) -> bool:
        """Whether the spec is for a host outside the domain."""
        return self.host_account_config is not None


def default_file_name(netbios_name: str, account: str) -> str:
    """The file name New-CredentialSpec gives a spec: ``<netbios>_<account>.json``,
    lower-cased."""
    return f"{netbios_name}_{account}.json".lower()


__all__ = [
    "ACCOUNT_KEYS",
    "ACTIVE_DIRECTORY_CONFIG_KEYS",
    "AZURE_KEYVAULT_PLUGIN_GUID",
    "DOMAIN_JOIN_CONFIG_KEYS",
    "ECS_CCG_PLUGIN_GUID",
    "HOST_ACCOUNT_CONFIG_KEYS",
    "KNOWN_CMS_PLUGINS",
    "KNOWN_PLUGINS",
    "MAX_SPEC_BYTES",
    "SPEC_KEYS",
    "CredentialSpec",
    "DomainJoinConfig",
    "GroupManagedServiceAccount",
    "HostAccountConfig",
    "default_file_name",
]
