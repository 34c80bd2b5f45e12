"""Example credential specs the other credspec tests start from, and that each is valid.

The examples are what New-CredentialSpec writes (domain-joined, several
accounts) and what ECS users write for domainless hosts (PluginInput as a JSON
string on Windows, as an object on Linux).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from gmsa.credspec.validate import SpecReport, check_document
from tests.conftest import EXAMPLE_SPEC

ECS_PLUGIN = "{859E1386-BDB4-49E8-85C7-3070B13920E1}"
AZURE_PLUGIN = "{CCC2A336-D7F3-4818-A213-272B7924213E}"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:gmsa-user-AbCdEf"
SSM_ARN = "arn:aws:ssm:us-east-1:111122223333:parameter/gmsa/user"

FULL: dict[str, Any] = {
    "CmsPlugins": ["ActiveDirectory"],
    "DomainJoinConfig": {
        "Sid": "S-1-5-21-2554468230-2647958158-2204241789",
        "MachineAccountName": "WebApp01",
        "Guid": "8665abd4-e947-4dd0-9a51-f8254943c90b",
        "DnsTreeName": "example.com",
        "DnsName": "example.com",
        "NetBiosName": "EXAMPLE",
    },
    "ActiveDirectoryConfig": {
        "GroupManagedServiceAccounts": [
            {"Name": "WebApp01", "Scope": "example.com"},
            {"Name": "WebApp01", "Scope": "EXAMPLE"},
            {"Name": "Reporting01", "Scope": "example.com"},
        ]
    },
}
"""What New-CredentialSpec writes for WebApp01 with one additional account."""


def _domainless(plugin_input: Any, plugin: str = ECS_PLUGIN) -> dict[str, Any]:
    doc = copy.deepcopy(FULL)
    doc["ActiveDirectoryConfig"]["HostAccountConfig"] = {
        "PortableCcgVersion": "1",
        "PluginGUID": plugin,
        "PluginInput": plugin_input,
    }
    return doc


DOMAINLESS_WINDOWS = _domainless(json.dumps({"credentialArn": SECRET_ARN}))
"""Domainless, Windows form: PluginInput is a JSON string."""
DOMAINLESS_LINUX = _domainless({"CredentialArn": SECRET_ARN})
"""Domainless, Linux form: PluginInput is an object."""
DOMAINLESS_WINDOWS_SSM = _domainless(json.dumps({"credentialArn": SSM_ARN}))
"""Domainless on Windows with the user in SSM Parameter Store."""
AZURE_KEYVAULT = _domainless(
    "ObjectId=00000000-1111-2222-3333-444444444444;"
    "SecretUri=https://vault.example.net/secrets/gmsa",
    plugin=AZURE_PLUGIN,
)
"""The Azure Key Vault plugin, whose input is not JSON."""

CLEAN_EXAMPLES: dict[str, dict[str, Any]] = {
    "full": FULL,
    "domainless-windows": DOMAINLESS_WINDOWS,
    "domainless-linux": DOMAINLESS_LINUX,
    "domainless-windows-ssm": DOMAINLESS_WINDOWS_SSM,
    "azure-keyvault": AZURE_KEYVAULT,
}
"""Specs without a single finding."""

VALID_EXAMPLES: dict[str, dict[str, Any]] = {"ecs-example": EXAMPLE_SPEC, **CLEAN_EXAMPLES}
"""Every valid example, the Amazon ECS documentation's (one warning) included."""


def fresh(name: str) -> dict[str, Any]:
    """A deep copy of an example, safe to change."""
    return copy.deepcopy(VALID_EXAMPLES[name])


def check(document: Any) -> SpecReport:
    return check_document(document, source="test.json")


def pairs(report: SpecReport) -> set[tuple[str, str]]:
    """(code, path) of every finding."""
    return {(f.code, f.path) for f in report.findings}


@pytest.mark.parametrize("name", sorted(CLEAN_EXAMPLES))
def test_clean_example_has_no_finding(name: str) -> None:
    report = check(fresh(name))
    assert report.findings == ()
    assert report.valid
    assert report.spec is not None


def test_ecs_example_spec_is_valid(example_spec: dict[str, Any]) -> None:
    report = check(example_spec)
    assert report.valid
    assert report.spec is not None


def test_ecs_example_only_warns_about_the_missing_netbios_scope(
    example_spec: dict[str, Any],
) -> None:
    report = check(example_spec)
    assert pairs(report) == {
        ("main-account-no-netbios-scope", "ActiveDirectoryConfig.GroupManagedServiceAccounts")
    }


def test_domainless_windows_keeps_plugin_input_as_string() -> None:
    spec = check(fresh("domainless-windows")).spec
    assert spec is not None and spec.host_account_config is not None
    assert spec.host_account_config.plugin_input_is_string
    assert spec.host_account_config.credential_arn == SECRET_ARN


def test_domainless_linux_keeps_plugin_input_as_object() -> None:
    spec = check(fresh("domainless-linux")).spec
    assert spec is not None and spec.host_account_config is not None
    assert not spec.host_account_config.plugin_input_is_string
    assert spec.host_account_config.credential_arn == SECRET_ARN


def test_several_accounts_are_all_in_the_model() -> None:
    spec = check(fresh("full")).spec
    assert spec is not None
    assert spec.account_names == ("WebApp01", "Reporting01")
    assert len(spec.group_managed_service_accounts) == 3
