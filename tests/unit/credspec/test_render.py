"""Rendering: canonical key order, unknown keys and PluginInput shape kept, copies, summary."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from gmsa.credspec.model import CredentialSpec
from gmsa.credspec.render import describe, render, to_document, with_plugin_input
from gmsa.credspec.validate import CredentialSpecError
from tests.unit.credspec.test_examples import ECS_PLUGIN, SECRET_ARN, VALID_EXAMPLES, check, fresh

REG_KEY = "HKLM\\System\\CurrentControlSet\\Services\\AmazonECSCCGPlugin\\arn:task"


def spec_of(document: Any) -> CredentialSpec:
    report = check(document)
    assert report.spec is not None, [f.render() for f in report.findings]
    return report.spec


@pytest.mark.parametrize("name", sorted(VALID_EXAMPLES))
def test_valid_example_renders_back_to_itself(name: str) -> None:
    document = fresh(name)
    assert to_document(spec_of(document)) == document


def test_render_uses_new_credentialspec_key_order() -> None:
    scrambled = {
        "ActiveDirectoryConfig": fresh("domainless-linux")["ActiveDirectoryConfig"],
        "DomainJoinConfig": dict(reversed(list(fresh("full")["DomainJoinConfig"].items()))),
        "CmsPlugins": ["ActiveDirectory"],
    }
    scrambled["ActiveDirectoryConfig"] = dict(reversed(scrambled["ActiveDirectoryConfig"].items()))
    document = to_document(spec_of(scrambled))
    assert list(document) == ["CmsPlugins", "DomainJoinConfig", "ActiveDirectoryConfig"]
    assert list(document["DomainJoinConfig"]) == [
        "Sid",
        "MachineAccountName",
        "Guid",
        "DnsTreeName",
        "DnsName",
        "NetBiosName",
    ]
    assert list(document["ActiveDirectoryConfig"]) == [
        "GroupManagedServiceAccounts",
        "HostAccountConfig",
    ]
    assert list(document["ActiveDirectoryConfig"]["HostAccountConfig"]) == [
        "PortableCcgVersion",
        "PluginGUID",
        "PluginInput",
    ]


def test_unknown_keys_survive_a_round_trip_at_every_level() -> None:
    document = fresh("domainless-linux")
    document["Comment"] = {"owner": "team-a"}
    document["DomainJoinConfig"]["Note"] = "x"
    document["ActiveDirectoryConfig"]["Extra"] = [1, 2]
    document["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"][2]["Team"] = "reports"
    document["ActiveDirectoryConfig"]["HostAccountConfig"]["Vendor"] = True
    rendered = json.loads(render(spec_of(document)))
    assert rendered == document
    assert list(rendered)[-1] == "Comment"


def test_string_plugin_input_stays_the_same_string() -> None:
    document = fresh("domainless-windows")
    text = '{ "credentialArn" : "' + SECRET_ARN + '" }'
    document["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"] = text
    rendered = to_document(spec_of(document))
    assert rendered["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"] == text


def test_object_plugin_input_stays_an_object() -> None:
    rendered = to_document(spec_of(fresh("domainless-linux")))
    assert rendered["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"] == {
        "CredentialArn": SECRET_ARN
    }


def test_render_is_indented_json_ending_in_a_newline(example_spec: dict[str, Any]) -> None:
    text = render(spec_of(example_spec))
    assert text.endswith("}\n")
    assert '\n    "CmsPlugins": [' in text
    assert json.loads(text) == example_spec


def test_rendered_spec_checks_to_the_same_model() -> None:
    spec = spec_of(fresh("domainless-windows"))
    again = check(json.loads(render(spec)))
    assert again.spec == spec
    assert again.findings == ()


def test_spec_built_without_a_document_renders_unknown_keys_from_extra() -> None:
    spec = replace(
        spec_of(fresh("full")),
        raw=None,
        extra={"Comment": "x", "ActiveDirectoryConfig.GroupManagedServiceAccounts[1].Team": "t"},
    )
    document = to_document(spec)
    assert document["Comment"] == "x"
    assert document["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"][1]["Team"] == "t"


def test_to_document_returns_copies_the_caller_may_change() -> None:
    spec = spec_of(fresh("domainless-linux"))
    first = to_document(spec)
    first["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"]["CredentialArn"] = "x"
    assert to_document(spec)["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"] == {
        "CredentialArn": SECRET_ARN
    }


def test_with_plugin_input_keeps_a_string_a_string() -> None:
    spec = with_plugin_input(spec_of(fresh("domainless-windows")), {"regKeyPath": REG_KEY})
    value = to_document(spec)["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"]
    assert isinstance(value, str)
    assert json.loads(value) == {"credentialArn": SECRET_ARN, "regKeyPath": REG_KEY}


def test_with_plugin_input_keeps_an_object_an_object() -> None:
    spec = with_plugin_input(spec_of(fresh("domainless-linux")), {"regKeyPath": REG_KEY})
    value = to_document(spec)["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"]
    assert value == {"CredentialArn": SECRET_ARN, "regKeyPath": REG_KEY}


def test_with_plugin_input_replaces_a_key_spelt_in_another_case() -> None:
    document = fresh("domainless-windows")
    document["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"] = json.dumps(
        {"RegKeyPath": "old", "credentialArn": SECRET_ARN}
    )
    spec = with_plugin_input(spec_of(document), {"regKeyPath": REG_KEY})
    assert spec.host_account_config is not None
    assert json.loads(str(spec.host_account_config.plugin_input)) == {
        "regKeyPath": REG_KEY,
        "credentialArn": SECRET_ARN,
    }


def test_with_plugin_input_leaves_the_original_alone() -> None:
    original = spec_of(fresh("domainless-linux"))
    with_plugin_input(original, {"regKeyPath": REG_KEY})
    assert original.host_account_config is not None
    assert original.host_account_config.plugin_input == {"CredentialArn": SECRET_ARN}


def test_with_plugin_input_result_is_still_valid() -> None:
    spec = with_plugin_input(spec_of(fresh("domainless-windows")), {"regKeyPath": REG_KEY})
    assert check(to_document(spec)).findings == ()


def test_with_plugin_input_refuses_a_domain_joined_spec() -> None:
    with pytest.raises(CredentialSpecError) as caught:
        with_plugin_input(spec_of(fresh("full")), {"regKeyPath": REG_KEY})
    assert caught.value.findings[0].code == "no-host-account-config"


def test_with_plugin_input_refuses_input_that_is_not_json() -> None:
    with pytest.raises(CredentialSpecError) as caught:
        with_plugin_input(spec_of(fresh("azure-keyvault")), {"regKeyPath": REG_KEY})
    assert caught.value.findings[0].code == "plugin-input-not-json"


def test_describe_a_domain_joined_spec() -> None:
    summary = describe(spec_of(fresh("full")))
    assert summary["domain"] == "example.com"
    assert summary["forest"] == "example.com"
    assert summary["netbios_name"] == "EXAMPLE"
    assert summary["sid"] == "S-1-5-21-2554468230-2647958158-2204241789"
    assert summary["guid"] == "8665abd4-e947-4dd0-9a51-f8254943c90b"
    assert summary["main_account"] == "WebApp01"
    assert summary["accounts"] == [
        {"name": "WebApp01", "scopes": ["example.com", "EXAMPLE"]},
        {"name": "Reporting01", "scopes": ["example.com"]},
    ]
    assert summary["domainless"] is False
    assert summary["plugin"] is None


def test_describe_a_domainless_spec_names_plugin_and_credential() -> None:
    summary = describe(spec_of(fresh("domainless-windows")))
    assert summary["domainless"] is True
    assert summary["credential_arn"] == SECRET_ARN
    assert summary["plugin"] == {
        "guid": ECS_PLUGIN,
        "name": "AWS ECS CCG plugin",
        "input_shape": "string",
        "credential_arn": SECRET_ARN,
    }
