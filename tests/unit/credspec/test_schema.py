"""The published JSON Schema agrees with the validator on valid and broken specs."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from gmsa.credspec.schema import json_schema
from tests.unit.credspec.test_examples import SECRET_ARN, VALID_EXAMPLES, check, fresh

VALIDATOR = jsonschema.Draft202012Validator(json_schema())


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_field_has_help_for_editors() -> None:
    schema = json_schema()
    djc = schema["properties"]["DomainJoinConfig"]["properties"]
    adc = schema["properties"]["ActiveDirectoryConfig"]["properties"]
    host = adc["HostAccountConfig"]["properties"]
    account = adc["GroupManagedServiceAccounts"]["items"]["properties"]
    for field in [*djc.values(), *host.values(), *account.values(), *adc.values()]:
        assert field.get("title") and field.get("description")


def test_json_schema_returns_a_fresh_copy() -> None:
    json_schema()["title"] = "changed"
    assert json_schema()["title"] != "changed"


@pytest.mark.parametrize("name", sorted(VALID_EXAMPLES))
def test_valid_example_matches_the_schema(name: str) -> None:
    VALIDATOR.validate(fresh(name))


def test_spec_with_warnings_only_matches_the_schema() -> None:
    document = fresh("full")
    document["DomainJoinConfig"]["Guid"] = document["DomainJoinConfig"]["Guid"].upper()
    document["Comment"] = "kept"
    document["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"][2]["Name"] = "Report.01"
    assert check(document).valid
    VALIDATOR.validate(document)


def _break(path: list[Any], value: Any) -> dict[str, Any]:
    document = fresh("domainless-linux")
    node: Any = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return document


HOST = ["ActiveDirectoryConfig", "HostAccountConfig"]
BROKEN: dict[str, dict[str, Any]] = {
    "account sid": _break(["DomainJoinConfig", "Sid"], "S-1-5-21-1-2-3-1104"),
    "guid in braces": _break(
        ["DomainJoinConfig", "Guid"], "{8665abd4-e947-4dd0-9a51-f8254943c90b}"
    ),
    "name with dollar": _break(["DomainJoinConfig", "MachineAccountName"], "WebApp01$"),
    "name too long": _break(["DomainJoinConfig", "MachineAccountName"], "A" * 16),
    "netbios with dot": _break(["DomainJoinConfig", "NetBiosName"], "EXAMPLE.COM"),
    "no active directory plugin": _break(["CmsPlugins"], ["Other"]),
    "no accounts": _break(["ActiveDirectoryConfig", "GroupManagedServiceAccounts"], []),
    "version a number": _break([*HOST, "PortableCcgVersion"], 1),
    "plugin guid without braces": _break(
        [*HOST, "PluginGUID"], "859E1386-BDB4-49E8-85C7-3070B13920E1"
    ),
    "ecs credential arn not an arn": _break([*HOST, "PluginInput"], {"CredentialArn": "x"}),
    "plugin input a number": _break([*HOST, "PluginInput"], 3),
    "missing sid": _break(["DomainJoinConfig"], {"MachineAccountName": "WebApp01"}),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_spec_fails_the_schema_and_the_validator(name: str) -> None:
    document = BROKEN[name]
    assert not check(document).valid
    assert not VALIDATOR.is_valid(document)


def test_string_plugin_input_matches_the_schema() -> None:
    document = _break([*HOST, "PluginInput"], json.dumps({"credentialArn": SECRET_ARN}))
    VALIDATOR.validate(document)
