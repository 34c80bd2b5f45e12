"""``gmsa spec new`` against a real DC: New-CredentialSpec's fields, names and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import Run, json_of
from tests.support.samba import (
    DOMAIN,
    GMSA,
    GMSA_DISABLED,
    GMSA_GROUP_CONFLICT,
    GMSA_NO_TRUST,
    GMSA_USER_CONFLICT,
    GMSA_WITH_SPNS,
    HOST_DENIED,
    HOST_DIRECT,
    HOST_NESTED,
    NETBIOS,
    PLAIN_USER,
    DomainLab,
)

pytestmark = pytest.mark.xdist_group("samba")


def test_spec_carries_the_domains_sid_and_guid_as_samba_reports_them(
    gmsa: Run, admin_args: list[str], lab: DomainLab
) -> None:
    result = gmsa("spec", "new", GMSA, "--out", "-", *admin_args)
    assert result.exit_code == 0, result.output
    djc = json.loads(result.stdout)["DomainJoinConfig"]
    assert djc["Sid"] == lab.facts["domain_sid"]
    assert djc["Guid"] == lab.facts["domain_guid"]


def test_spec_names_the_domain_forest_and_netbios_name(gmsa: Run, admin_args: list[str]) -> None:
    djc = json.loads(gmsa("spec", "new", GMSA, "--out", "-", *admin_args).stdout)[
        "DomainJoinConfig"
    ]
    assert (djc["DnsName"], djc["DnsTreeName"], djc["NetBiosName"]) == (DOMAIN, DOMAIN, NETBIOS)


def test_main_account_gets_a_dns_and_a_netbios_scope(gmsa: Run, admin_args: list[str]) -> None:
    document = json.loads(gmsa("spec", "new", GMSA, "--out", "-", *admin_args).stdout)
    assert document["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"] == [
        {"Name": GMSA, "Scope": DOMAIN},
        {"Name": GMSA, "Scope": NETBIOS},
    ]


def test_additional_account_gets_one_scope_entry(gmsa: Run, admin_args: list[str]) -> None:
    result = gmsa(
        "spec", "new", GMSA, "--additional-account", GMSA_WITH_SPNS, "--out", "-", *admin_args
    )
    entries = json.loads(result.stdout)["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"]
    assert entries[2:] == [{"Name": GMSA_WITH_SPNS, "Scope": DOMAIN}]


def test_account_name_is_kept_as_typed_without_the_trailing_dollar(
    gmsa: Run, admin_args: list[str]
) -> None:
    document = json.loads(gmsa("spec", "new", "webAPP01$", "--out", "-", *admin_args).stdout)
    assert document["DomainJoinConfig"]["MachineAccountName"] == "webAPP01"


def test_keys_come_in_new_credentialspec_order(gmsa: Run, admin_args: list[str]) -> None:
    document = json.loads(gmsa("spec", "new", GMSA, "--out", "-", *admin_args).stdout)
    assert list(document) == ["CmsPlugins", "DomainJoinConfig", "ActiveDirectoryConfig"]
    assert list(document["DomainJoinConfig"]) == [
        "Sid",
        "MachineAccountName",
        "Guid",
        "DnsTreeName",
        "DnsName",
        "NetBiosName",
    ]


def test_default_file_is_netbios_underscore_account_lowercased(
    gmsa: Run, admin_args: list[str], tmp_path: Path
) -> None:
    result = gmsa("spec", "new", "WebApp01$", *admin_args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "example_webapp01.json").is_file()


def test_credspec_dir_receives_the_default_file_name(
    gmsa: Run, admin_args: list[str], tmp_path: Path
) -> None:
    specs = tmp_path / "CredentialSpecs"
    specs.mkdir()
    result = gmsa("spec", "new", GMSA, "--credspec-dir", str(specs), *admin_args)
    assert result.exit_code == 0, result.output
    assert [p.name for p in specs.iterdir()] == ["example_webapp01.json"]


def test_generated_spec_passes_spec_validate_without_findings(
    gmsa: Run, admin_args: list[str], tmp_path: Path
) -> None:
    gmsa("spec", "new", GMSA, "--out", "webapp01.json", *admin_args)
    result = gmsa("spec", "validate", "webapp01.json", "--json")
    assert result.exit_code == 0, result.output
    report = json_of(result)["files"][0]
    assert report["errors"] == [] and report["warnings"] == []


@pytest.mark.parametrize("flag", ["--no-overwrite", "--no-clobber"])  # --no-clobber: deprecated
def test_no_overwrite_refuses_an_existing_file_and_keeps_it(
    gmsa: Run, admin_args: list[str], tmp_path: Path, flag: str
) -> None:
    target = tmp_path / "webapp01.json"
    target.write_text("keep me")
    result = gmsa("spec", "new", GMSA, "--out", str(target), flag, *admin_args)
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert target.read_text() == "keep me"


def test_missing_account_is_refused_with_the_reason(gmsa: Run, admin_args: list[str]) -> None:
    result = gmsa("spec", "new", "Nobody01", "--out", "-", *admin_args)
    assert result.exit_code == 1
    assert "no account named Nobody01$ in example.com" in result.output


def test_user_account_is_refused_as_not_a_gmsa(gmsa: Run, admin_args: list[str]) -> None:
    result = gmsa("spec", "new", PLAIN_USER, "--out", "-", *admin_args)
    assert result.exit_code == 1
    assert f"there is a user account named {PLAIN_USER}" in result.output


def test_computer_account_is_refused_as_not_a_gmsa(gmsa: Run, admin_args: list[str]) -> None:
    result = gmsa("spec", "new", HOST_DIRECT, "--out", "-", *admin_args)
    assert result.exit_code == 1
    assert f"{HOST_DIRECT}$ is a computer account, not a gMSA" in result.output


def test_host_not_allowed_is_a_warning_and_the_spec_is_written(
    gmsa: Run, admin_args: list[str], tmp_path: Path
) -> None:
    result = gmsa("spec", "new", GMSA, "--host", f"{HOST_DENIED}$", *admin_args)
    assert result.exit_code == 0
    assert f"{HOST_DENIED}$ may not retrieve the password of {GMSA}$" in result.stderr
    assert (tmp_path / "example_webapp01.json").exists()


def test_host_not_allowed_with_strict_fails_and_writes_nothing(
    gmsa: Run, admin_args: list[str], tmp_path: Path
) -> None:
    result = gmsa("spec", "new", GMSA, "--host", HOST_DENIED, "--strict", *admin_args)
    assert result.exit_code == 1
    assert "not written" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_host_allowed_through_nested_groups_gives_no_warning(
    gmsa: Run, admin_args: list[str]
) -> None:
    result = gmsa("spec", "new", GMSA, "--host", HOST_NESTED, "--strict", "--json", *admin_args)
    assert result.exit_code == 0, result.output
    assert json_of(result)["findings"] == []


def test_disabled_gmsa_gives_a_warning(gmsa: Run, admin_args: list[str]) -> None:
    result = gmsa("spec", "new", GMSA_DISABLED, "--json", "--out", "-", *admin_args)
    codes = [f["code"] for f in json_of(result)["findings"]]
    assert codes == ["account-disabled"]


@pytest.mark.parametrize(
    ("account", "code"),
    [
        (GMSA_USER_CONFLICT, "account-conflict"),
        (GMSA_GROUP_CONFLICT, "account-conflict"),
        (GMSA_NO_TRUST, "account-trust-flag"),
    ],
)
def test_what_doctor_fails_about_an_account_spec_new_warns_in_the_same_words(
    gmsa: Run, admin_args: list[str], account: str, code: str
) -> None:
    doctor = gmsa("doctor", "--account", account, "--skip-network", "--json", *admin_args)
    (check,) = [c for c in json.loads(doctor.stdout)["checks"] if c["id"] == code]
    assert check["status"] == "fail"
    result = gmsa("spec", "new", account, "--json", "--out", "-", *admin_args)
    assert result.exit_code == 0, result.output
    (found,) = [f for f in json_of(result)["findings"] if f["code"] == code]
    assert found["severity"] == "warning"
    assert (found["message"], found["fix"]) == (check["message"], check["fix"])


def test_a_healthy_gmsa_gets_none_of_doctors_account_warnings(
    gmsa: Run, admin_args: list[str]
) -> None:
    result = gmsa("spec", "new", GMSA, "--json", "--out", "-", *admin_args)
    codes = {f["code"] for f in json_of(result)["findings"]}
    assert not codes & {"account-conflict", "account-trust-flag"}


def test_additional_account_in_an_unknown_domain_is_refused(
    gmsa: Run, admin_args: list[str]
) -> None:
    result = gmsa(
        "spec", "new", GMSA, "--additional-account", "Batch01@other.test", "--out", "-", *admin_args
    )
    assert result.exit_code == 1
    assert "other.test is not a domain of the forest example.com" in result.output


def test_json_output_counts_ldap_round_trips(gmsa: Run, admin_args: list[str]) -> None:
    result = gmsa("spec", "new", GMSA, "--json", "--out", "-", *admin_args)
    # sealed bind (3) + rootDSE, domain object, partitions (3) + one account search
    assert json_of(result)["ldap_round_trips"] == 7


def test_too_long_account_name_is_a_usage_mistake_before_any_connection(gmsa: Run) -> None:
    result = gmsa("spec", "new", "ThisNameIsTooLong", "--domain", DOMAIN)
    assert result.exit_code == 1
    assert "at most 15" in result.output
