"""Each rule of a credential spec, broken on its own: the finding's code, path and fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from gmsa.credspec.validate import SpecReport, check_document
from gmsa.findings import Finding, Severity
from tests.unit.credspec.test_examples import SECRET_ARN, SSM_ARN, check, fresh

DJC = "DomainJoinConfig"
ACCOUNTS = "ActiveDirectoryConfig.GroupManagedServiceAccounts"
HAC = "ActiveDirectoryConfig.HostAccountConfig"

Doc = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    """A mutation setting the value at a dotted path (``[n]`` for list items)."""

    def apply(doc: Doc) -> None:
        node, last = _walk(doc, path)
        node[last] = value

    return apply


def _delete(path: str) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        node, last = _walk(doc, path)
        del node[last]

    return apply


def _walk(doc: Doc, path: str) -> tuple[Any, Any]:
    parts: list[Any] = []
    for piece in path.split("."):
        name, _, index = piece.partition("[")
        parts.append(name)
        if index:
            parts.append(int(index.rstrip("]")))
    node: Any = doc
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def _input(value: Any) -> Callable[[Doc], None]:
    return _set(f"{HAC}.PluginInput", value)


def only_error(report: SpecReport) -> Finding:
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    assert len(errors) == 1, [f.render() for f in errors]
    return errors[0]


def the_warning(report: SpecReport, code: str) -> Finding:
    assert report.valid, [f.render() for f in report.findings]
    matches = [f for f in report.findings if f.code == code]
    assert len(matches) == 1, [f.render() for f in report.findings]
    assert matches[0].severity is Severity.WARNING
    return matches[0]


# (example, mutation, code, path, text the fix must contain)
ERROR_CASES: dict[str, tuple[str, Callable[[Doc], None], str, str, str]] = {
    "missing sid": ("full", _delete(f"{DJC}.Sid"), "missing-field", f"{DJC}.Sid", "DomainSID"),
    "sid is a number": ("full", _set(f"{DJC}.Sid", 21), "wrong-type", f"{DJC}.Sid", ""),
    "missing cms plugins": (
        "full",
        _delete("CmsPlugins"),
        "missing-field",
        "CmsPlugins",
        '["ActiveDirectory"]',
    ),
    "cms plugins a string": (
        "full",
        _set("CmsPlugins", "ActiveDirectory"),
        "wrong-type",
        "CmsPlugins",
        '["ActiveDirectory"]',
    ),
    "cms plugins without active directory": (
        "full",
        _set("CmsPlugins", ["Kerberos"]),
        "cms-plugins-no-active-directory",
        "CmsPlugins",
        '["ActiveDirectory"]',
    ),
    "account sid instead of domain sid": (
        "full",
        _set(f"{DJC}.Sid", "S-1-5-21-2554468230-2647958158-2204241789-1104"),
        "sid-not-domain-sid",
        f"{DJC}.Sid",
        '"S-1-5-21-2554468230-2647958158-2204241789"',
    ),
    "builtin sid": (
        "full",
        _set(f"{DJC}.Sid", "S-1-5-32-544"),
        "sid-not-domain-sid",
        f"{DJC}.Sid",
        "DomainSID",
    ),
    "not a sid": (
        "full",
        _set(f"{DJC}.Sid", "example-domain"),
        "invalid-sid",
        f"{DJC}.Sid",
        "DomainSID",
    ),
    "sid part over 32 bits": (
        "full",
        _set(f"{DJC}.Sid", "S-1-5-21-1-2-99999999999"),
        "invalid-sid",
        f"{DJC}.Sid",
        "",
    ),
    "guid in braces": (
        "full",
        _set(f"{DJC}.Guid", "{8665ABD4-E947-4DD0-9A51-F8254943C90B}"),
        "guid-braces",
        f"{DJC}.Guid",
        '"8665abd4-e947-4dd0-9a51-f8254943c90b"',
    ),
    "guid without dashes": (
        "full",
        _set(f"{DJC}.Guid", "8665abd4e9474dd09a51f8254943c90b"),
        "invalid-guid",
        f"{DJC}.Guid",
        '"8665abd4-e947-4dd0-9a51-f8254943c90b"',
    ),
    "not a guid": (
        "full",
        _set(f"{DJC}.Guid", "8665abd4"),
        "invalid-guid",
        f"{DJC}.Guid",
        "ObjectGUID",
    ),
    "nil guid": (
        "full",
        _set(f"{DJC}.Guid", "00000000-0000-0000-0000-000000000000"),
        "invalid-guid",
        f"{DJC}.Guid",
        "ObjectGUID",
    ),
    "main name with dollar": (
        "full",
        _set(f"{DJC}.MachineAccountName", "WebApp01$"),
        "account-name-dollar",
        f"{DJC}.MachineAccountName",
        '"WebApp01"',
    ),
    "account name with dollar": (
        "full",
        _set(f"{ACCOUNTS}[2].Name", "Reporting01$"),
        "account-name-dollar",
        f"{ACCOUNTS}[2].Name",
        '"Reporting01"',
    ),
    "name with netbios domain": (
        "full",
        _set(f"{ACCOUNTS}[2].Name", "EXAMPLE\\Reporting01"),
        "account-name-has-domain",
        f"{ACCOUNTS}[2].Name",
        '"Reporting01"',
    ),
    "name with upn domain": (
        "full",
        _set(f"{DJC}.MachineAccountName", "WebApp01@example.com"),
        "account-name-has-domain",
        f"{DJC}.MachineAccountName",
        '"WebApp01"',
    ),
    "name with illegal character": (
        "full",
        _set(f"{ACCOUNTS}[2].Name", "Report*01"),
        "account-name-illegal-character",
        f"{ACCOUNTS}[2].Name",
        "",
    ),
    "name with a space": (
        "full",
        _set(f"{ACCOUNTS}[2].Name", "Report 01"),
        "account-name-illegal-character",
        f"{ACCOUNTS}[2].Name",
        "",
    ),
    "name all digits": (
        "full",
        _set(f"{ACCOUNTS}[2].Name", "12345"),
        "account-name-illegal-character",
        f"{ACCOUNTS}[2].Name",
        "",
    ),
    "name over 15 characters": (
        "full",
        _set(f"{ACCOUNTS}[2].Name", "ReportingService01"),
        "account-name-too-long",
        f"{ACCOUNTS}[2].Name",
        "without $",
    ),
    "main account not listed": (
        "full",
        _set(f"{DJC}.MachineAccountName", "Other01"),
        "main-account-not-listed",
        f"{DJC}.MachineAccountName",
        '{"Name": "Other01", "Scope": "example.com"}',
    ),
    "main account without dns scope": (
        "full",
        _set(f"{ACCOUNTS}[0].Scope", "EXAMPLE"),
        "main-account-no-dns-scope",
        ACCOUNTS,
        '{"Name": "WebApp01", "Scope": "example.com"}',
    ),
    "netbios name with dot": (
        "full",
        _set(f"{DJC}.NetBiosName", "EXAMPLE.COM"),
        "netbios-name-has-dot",
        f"{DJC}.NetBiosName",
        "NetBIOSName",
    ),
    "netbios name over 15": (
        "full",
        _set(f"{DJC}.NetBiosName", "EXAMPLECORPORATE"),
        "netbios-name-too-long",
        f"{DJC}.NetBiosName",
        "NetBIOSName",
    ),
    "netbios name illegal character": (
        "full",
        _set(f"{DJC}.NetBiosName", "EXA*MPLE"),
        "netbios-name-illegal-character",
        f"{DJC}.NetBiosName",
        "",
    ),
    "invalid dns tree name": (
        "full",
        _set(f"{DJC}.DnsTreeName", "exa mple.com"),
        "invalid-dns-name",
        f"{DJC}.DnsTreeName",
        "",
    ),
    "wrong key case": (
        "full",
        lambda d: d[DJC].__setitem__("sid", d[DJC].pop("Sid")),
        "key-case",
        f"{DJC}.sid",
        'to "Sid"',
    ),
    "misspelt key": (
        "full",
        lambda d: d[DJC].__setitem__("MachineAcountName", d[DJC].pop("MachineAccountName")),
        "missing-field",
        f"{DJC}.MachineAccountName",
        'rename "MachineAcountName"',
    ),
    "no accounts": ("full", _set(ACCOUNTS, []), "no-accounts", ACCOUNTS, ""),
    "accounts an object": (
        "full",
        _set(ACCOUNTS, {"Name": "WebApp01", "Scope": "example.com"}),
        "wrong-type",
        ACCOUNTS,
        "[ ]",
    ),
    "account without scope": (
        "full",
        _delete(f"{ACCOUNTS}[2].Scope"),
        "missing-field",
        f"{ACCOUNTS}[2].Scope",
        "",
    ),
    "scope with spaces around": (
        "full",
        _set(f"{ACCOUNTS}[2].Scope", " example.com"),
        "surrounding-whitespace",
        f"{ACCOUNTS}[2].Scope",
        '"example.com"',
    ),
    "scope is an account": (
        "full",
        _set(f"{ACCOUNTS}[2].Scope", "EXAMPLE\\Reporting01"),
        "invalid-scope",
        f"{ACCOUNTS}[2].Scope",
        "",
    ),
    "empty domain dns name": (
        "ecs-example",
        _set(f"{DJC}.DnsTreeName", ""),
        "empty-field",
        f"{DJC}.DnsTreeName",
        "",
    ),
    "portable ccg version 2": (
        "domainless-windows",
        _set(f"{HAC}.PortableCcgVersion", "2"),
        "unsupported-portable-ccg-version",
        f"{HAC}.PortableCcgVersion",
        '"1"',
    ),
    "portable ccg version a number": (
        "domainless-windows",
        _set(f"{HAC}.PortableCcgVersion", 1),
        "wrong-type",
        f"{HAC}.PortableCcgVersion",
        '"1"',
    ),
    "plugin guid without braces": (
        "domainless-windows",
        _set(f"{HAC}.PluginGUID", "859E1386-BDB4-49E8-85C7-3070B13920E1"),
        "plugin-guid-no-braces",
        f"{HAC}.PluginGUID",
        '"{859E1386-BDB4-49E8-85C7-3070B13920E1}"',
    ),
    "plugin guid not a guid": (
        "domainless-windows",
        _set(f"{HAC}.PluginGUID", "ecs-plugin"),
        "invalid-plugin-guid",
        f"{HAC}.PluginGUID",
        "{859E1386",
    ),
    "missing plugin input": (
        "domainless-windows",
        _delete(f"{HAC}.PluginInput"),
        "missing-field",
        f"{HAC}.PluginInput",
        "credentialArn",
    ),
    "plugin input a number": (
        "domainless-windows",
        _input(7),
        "wrong-type",
        f"{HAC}.PluginInput",
        "credentialArn",
    ),
    "plugin input string not json": (
        "domainless-windows",
        _input("credentialArn=" + SECRET_ARN),
        "plugin-input-not-json",
        f"{HAC}.PluginInput",
        "credentialArn",
    ),
    "plugin input string holds an array": (
        "domainless-windows",
        _input("[1]"),
        "plugin-input-not-json",
        f"{HAC}.PluginInput",
        "",
    ),
    "plugin input without credential arn": (
        "domainless-linux",
        _input({"Arn": SECRET_ARN}),
        "plugin-input-no-credential-arn",
        f"{HAC}.PluginInput",
        '"CredentialArn"',
    ),
    "credential arn two spellings": (
        "domainless-linux",
        _input({"CredentialArn": SECRET_ARN, "credentialArn": SECRET_ARN}),
        "plugin-input-ambiguous-credential-arn",
        f"{HAC}.PluginInput.credentialArn",
        "",
    ),
    "credential arn short account": (
        "domainless-windows",
        _input(json.dumps({"credentialArn": SECRET_ARN.replace("111122223333", "1111")})),
        "invalid-credential-arn",
        f"{HAC}.PluginInput.credentialArn",
        "",
    ),
    "credential arn unknown partition": (
        "domainless-linux",
        _input({"CredentialArn": SECRET_ARN.replace(":aws:", ":amazon:")}),
        "invalid-credential-arn",
        f"{HAC}.PluginInput.CredentialArn",
        "aws",
    ),
    "credential arn region outside partition": (
        "domainless-linux",
        _input({"CredentialArn": SECRET_ARN.replace(":aws:", ":aws-cn:")}),
        "invalid-credential-arn",
        f"{HAC}.PluginInput.CredentialArn",
        "cn-",
    ),
    "credential arn bad region": (
        "domainless-linux",
        _input({"CredentialArn": SECRET_ARN.replace("us-east-1", "useast")}),
        "invalid-credential-arn",
        f"{HAC}.PluginInput.CredentialArn",
        "us-east-1",
    ),
    "credential arn of s3": (
        "domainless-linux",
        _input({"CredentialArn": "arn:aws:s3:::bucket/user.json"}),
        "invalid-credential-arn",
        f"{HAC}.PluginInput.CredentialArn",
        "secretsmanager",
    ),
    "credential arn not an arn": (
        "domainless-linux",
        _input({"CredentialArn": "gmsa-user"}),
        "invalid-credential-arn",
        f"{HAC}.PluginInput.CredentialArn",
        "arn:aws:secretsmanager:",
    ),
    "credential arn without secret name": (
        "domainless-linux",
        _input({"CredentialArn": "arn:aws:secretsmanager:us-east-1:111122223333:gmsa"}),
        "invalid-credential-arn",
        f"{HAC}.PluginInput.CredentialArn",
        "",
    ),
    "ssm credential arn without account": (
        "domainless-windows",
        _input(json.dumps({"credentialArn": SSM_ARN.replace("111122223333", "")})),
        "invalid-credential-arn",
        f"{HAC}.PluginInput.credentialArn",
        "",
    ),
    "password in plugin input": (
        "domainless-linux",
        _input({"CredentialArn": SECRET_ARN, "Password": "Hunter2!x"}),
        "secret-in-spec",
        f"{HAC}.PluginInput.Password",
        "Secrets Manager",
    ),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_breaking_one_rule_gives_exactly_its_error(case: str) -> None:
    example, mutate, code, path, fix_text = ERROR_CASES[case]
    doc = fresh(example)
    mutate(doc)
    report = check(doc)
    found = only_error(report)
    assert (found.code, found.path) == (code, path)
    assert found.message
    assert found.fix is not None and fix_text in found.fix


WARNING_CASES: dict[str, tuple[str, Callable[[Doc], None], str, str]] = {
    "guid in uppercase": (
        "full",
        _set(f"{DJC}.Guid", "8665ABD4-E947-4DD0-9A51-F8254943C90B"),
        "guid-uppercase",
        f"{DJC}.Guid",
    ),
    "sid with lowercase s": (
        "full",
        _set(f"{DJC}.Sid", "s-1-5-21-1-2-3"),
        "sid-lowercase",
        f"{DJC}.Sid",
    ),
    "main account without netbios scope": (
        "full",
        _delete(f"{ACCOUNTS}[1]"),
        "main-account-no-netbios-scope",
        ACCOUNTS,
    ),
    "scope of another domain": (
        "full",
        _set(f"{ACCOUNTS}[2].Scope", "other.org"),
        "scope-unknown-domain",
        f"{ACCOUNTS}[2].Scope",
    ),
    "domain outside the forest tree": (
        "full",
        _set(f"{DJC}.DnsTreeName", "other.org"),
        "domain-outside-tree",
        f"{DJC}.DnsTreeName",
    ),
    "dns name with trailing dot": (
        "full",
        _set(f"{DJC}.DnsTreeName", "example.com."),
        "dns-name-trailing-dot",
        f"{DJC}.DnsTreeName",
    ),
    "unknown top-level key": ("full", _set("Comment", "prod"), "unknown-key", "Comment"),
    "unknown key in an account": (
        "full",
        _set(f"{ACCOUNTS}[2].Sid", "S-1-5-21-1-2-3-4"),
        "unknown-key",
        f"{ACCOUNTS}[2].Sid",
    ),
    "unknown key in host config": (
        "domainless-linux",
        _set(f"{HAC}.Note", 1),
        "unknown-key",
        f"{HAC}.Note",
    ),
    "account listed twice": (
        "full",
        lambda d: d["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"].append(
            {"Name": "reporting01", "Scope": "EXAMPLE.COM"}
        ),
        "duplicate-account",
        f"{ACCOUNTS}[3]",
    ),
    "unknown cms plugin": (
        "full",
        _set("CmsPlugins", ["ActiveDirectory", "Other"]),
        "unknown-cms-plugin",
        "CmsPlugins[1]",
    ),
    "name with a dot": (
        "full",
        _set(f"{ACCOUNTS}[2].Name", "Report.01"),
        "account-name-dot",
        f"{ACCOUNTS}[2].Name",
    ),
    "unknown plugin": (
        "domainless-windows",
        _set(f"{HAC}.PluginGUID", "{11111111-2222-3333-4444-555555555555}"),
        "unknown-plugin",
        f"{HAC}.PluginGUID",
    ),
    "ssm user on linux": (
        "domainless-linux",
        _input({"CredentialArn": SSM_ARN}),
        "ssm-credential-on-linux",
        f"{HAC}.PluginInput.CredentialArn",
    ),
}


@pytest.mark.parametrize("case", sorted(WARNING_CASES))
def test_something_that_looks_wrong_is_only_a_warning(case: str) -> None:
    example, mutate, code, path = WARNING_CASES[case]
    doc = fresh(example)
    mutate(doc)
    found = the_warning(check(doc), code)
    assert found.path == path
    assert found.fix


def test_account_sid_fix_names_the_rid() -> None:
    doc = fresh("full")
    doc[DJC]["Sid"] = "S-1-5-21-2554468230-2647958158-2204241789-1104"
    found = only_error(check(doc))
    assert "1104" in found.message


def test_several_problems_are_all_reported() -> None:
    doc = fresh("full")
    doc[DJC]["Guid"] = "{8665abd4-e947-4dd0-9a51-f8254943c90b}"
    doc[DJC]["MachineAccountName"] = "WebApp01$"
    doc["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"][2]["Name"] = "x" * 16
    codes = {f.code for f in check(doc).errors}
    assert codes == {"guid-braces", "account-name-dollar", "account-name-too-long"}


def test_domain_and_dollar_together_give_one_finding_with_the_bare_name() -> None:
    doc = fresh("full")
    doc[DJC]["MachineAccountName"] = "EXAMPLE\\WebApp01$"
    found = only_error(check(doc))
    assert found.code == "account-name-has-domain"
    assert found.fix == 'write "WebApp01"'


def test_names_compare_without_case() -> None:
    doc = fresh("full")
    doc[DJC]["MachineAccountName"] = "webapp01"
    assert check(doc).findings == ()


def test_credential_arn_key_is_accepted_in_any_case() -> None:
    doc = fresh("domainless-linux")
    doc["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"] = {"CREDENTIALARN": SECRET_ARN}
    assert check(doc).findings == ()


def test_unknown_plugin_input_is_not_read_as_ecs_input() -> None:
    doc = fresh("azure-keyvault")
    doc["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"] = "not json at all"
    assert check(doc).valid


def test_secret_values_never_appear_in_findings() -> None:
    doc = fresh("domainless-linux")
    doc["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"] = {
        "CredentialArn": SECRET_ARN,
        "password": "Sup3r-S3cret-Value",
    }
    text = json.dumps(check(doc).to_dict())
    assert "Sup3r-S3cret-Value" not in text


@pytest.mark.parametrize("value", [[], "spec", 3, None, True])
def test_a_document_that_is_not_an_object_is_one_error_at_the_root(value: Any) -> None:
    report = check(value)
    found = only_error(report)
    assert (found.code, found.path) == ("wrong-type", "")
    assert report.spec is None


def test_missing_fields_prevent_building_the_model() -> None:
    doc = fresh("full")
    del doc[DJC]["Guid"]
    assert check(doc).spec is None


def test_rule_errors_still_build_the_model() -> None:
    doc = fresh("full")
    doc[DJC]["Guid"] = "{8665abd4-e947-4dd0-9a51-f8254943c90b}"
    report = check(doc)
    assert not report.valid
    assert report.spec is not None


def test_unknown_keys_are_kept_in_the_model_by_path() -> None:
    doc = fresh("full")
    doc["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"][2]["Team"] = "reports"
    spec = check(doc).spec
    assert spec is not None
    assert spec.extra == {f"{ACCOUNTS}[2].Team": "reports"}


def test_report_to_dict_splits_errors_and_warnings() -> None:
    doc = fresh("ecs-example")
    doc[DJC]["Guid"] = "nope"
    data = check(doc).to_dict()
    assert data["valid"] is False
    assert data["source"] == "test.json"
    assert [e["code"] for e in data["errors"]] == ["invalid-guid"]
    assert [w["code"] for w in data["warnings"]] == ["main-account-no-netbios-scope"]
    assert set(data["errors"][0]) >= {"path", "message", "fix", "code"}


def test_a_braced_guid_is_said_to_have_braces() -> None:
    doc = fresh("full")
    doc["DomainJoinConfig"]["Guid"] = "{8665abd4-e947-4dd0-9a51-f8254943c90b}"
    (finding,) = [f for f in check_document(doc, source="s").findings if f.code == "guid-braces"]
    assert finding.message.startswith('"{8665abd4-e947-4dd0-9a51-f8254943c90b}" has braces')
