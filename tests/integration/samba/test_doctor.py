"""``gmsa doctor`` and ``gmsa spec verify``: each failing check is provoked by a domain (or a
spec) that is wrong in exactly that way, against a real DC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Run
from tests.support.samba import (
    DOMAIN,
    GMSA,
    GMSA_DISABLED,
    GMSA_DOMAIN_COMPUTERS,
    GMSA_GROUP_CONFLICT,
    GMSA_NO_READERS,
    GMSA_NO_TRUST,
    GMSA_USER_CONFLICT,
    GMSA_WITH_SPNS,
    HOST_DENIED,
    HOST_DIRECT,
    HOST_NESTED,
    HOST_PRIMARY,
    PLAIN_USER,
    SPNS,
    STALE_DC_NAME,
    DomainLab,
)
from tests.unit.ad.test_doctor import checks

pytestmark = pytest.mark.xdist_group("samba")


def one(result: Any, check_id: str, subject: str | None = None) -> dict[str, Any]:
    matches = [c for c in checks(result) if c["id"] == check_id and subject in (None, c["subject"])]
    assert len(matches) == 1, [c["id"] + ":" + c["subject"] for c in checks(result)]
    return matches[0]


@pytest.fixture
def good_spec(gmsa: Run, admin_args: list[str], tmp_path: Path) -> dict[str, Any]:
    """A spec for WebApp01 generated from the domain."""
    result = gmsa("spec", "new", GMSA, "--out", "-", *admin_args)
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def write_spec(tmp_path: Path, document: dict[str, Any], name: str = "spec.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def doctor_with_spec(
    gmsa: Run, admin_args: list[str], tmp_path: Path, document: dict[str, Any], *more: str
) -> Any:
    return gmsa("doctor", "--spec", write_spec(tmp_path, document), "--json", *more, *admin_args)


def test_generated_spec_and_allowed_host_pass_every_check(
    gmsa: Run, admin_args: list[str], tmp_path: Path, good_spec: dict[str, Any]
) -> None:
    result = doctor_with_spec(gmsa, admin_args, tmp_path, good_spec, "--host", HOST_DIRECT)
    assert result.exit_code == 0, result.output
    statuses = {c["id"]: c["status"] for c in checks(result)}
    assert set(statuses.values()) == {"pass"}
    assert {"dns-srv", "dc-ports", "ldap-bind", "clock", "host-allowed"} <= set(statuses)


def test_human_output_lists_checks_and_a_summary(
    gmsa: Run, admin_args: list[str], tmp_path: Path, good_spec: dict[str, Any]
) -> None:
    result = gmsa("doctor", "--spec", write_spec(tmp_path, good_spec), *admin_args)
    assert result.exit_code == 0, result.output
    assert "✓ pass  spec-sid" in result.output
    assert "0 failed" in result.output.splitlines()[-1]


def test_the_gmsas_own_sid_in_the_spec_is_recognised(
    gmsa: Run, admin_args: list[str], tmp_path: Path, good_spec: dict[str, Any], lab: DomainLab
) -> None:
    good_spec["DomainJoinConfig"]["Sid"] = lab.facts["accounts"][f"{GMSA}$"]["sid"]
    result = doctor_with_spec(gmsa, admin_args, tmp_path, good_spec)
    check = one(result, "spec-sid")
    assert result.exit_code == 1
    assert check["status"] == "fail"
    assert f"SID of {GMSA}$ (the gMSA), not the domain's" in check["message"]
    assert lab.facts["domain_sid"] in check["fix"]


def test_another_domains_sid_fails(
    gmsa: Run, admin_args: list[str], tmp_path: Path, good_spec: dict[str, Any]
) -> None:
    good_spec["DomainJoinConfig"]["Sid"] = "S-1-5-21-1-2-3"
    check = one(doctor_with_spec(gmsa, admin_args, tmp_path, good_spec), "spec-sid")
    assert check["status"] == "fail"
    assert "is not the SID of example.com" in check["message"]


def test_the_gmsas_guid_in_the_spec_fails(
    gmsa: Run, admin_args: list[str], tmp_path: Path, good_spec: dict[str, Any], lab: DomainLab
) -> None:
    good_spec["DomainJoinConfig"]["Guid"] = lab.facts["accounts"][f"{GMSA}$"]["guid"]
    check = one(doctor_with_spec(gmsa, admin_args, tmp_path, good_spec), "spec-guid")
    assert check["status"] == "fail"
    assert f"objectGUID of {GMSA}$" in check["message"]


@pytest.mark.parametrize(
    ("field", "check_id", "value"),
    [
        ("DnsName", "spec-dns-name", "example.org"),
        ("DnsTreeName", "spec-dns-tree-name", "corp.example.org"),
        ("NetBiosName", "spec-netbios-name", "EXAMPLE2"),
    ],
)
def test_wrong_domain_names_fail(
    gmsa: Run,
    admin_args: list[str],
    tmp_path: Path,
    good_spec: dict[str, Any],
    field: str,
    check_id: str,
    value: str,
) -> None:
    good_spec["DomainJoinConfig"][field] = value
    check = one(doctor_with_spec(gmsa, admin_args, tmp_path, good_spec), check_id)
    assert check["status"] == "fail"
    assert check["details"]["found"] == value


def test_scope_outside_the_forest_fails(
    gmsa: Run, admin_args: list[str], tmp_path: Path, good_spec: dict[str, Any]
) -> None:
    good_spec["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"][1]["Scope"] = "elsewhere"
    check = one(doctor_with_spec(gmsa, admin_args, tmp_path, good_spec), "spec-scopes")
    assert check["status"] == "fail"


def test_missing_account_named_in_the_spec_fails(
    gmsa: Run, admin_args: list[str], tmp_path: Path, good_spec: dict[str, Any]
) -> None:
    good_spec["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"].append(
        {"Name": "Nobody01", "Scope": DOMAIN}
    )
    check = one(
        doctor_with_spec(gmsa, admin_args, tmp_path, good_spec), "account-exists", "Nobody01$"
    )
    assert check["status"] == "fail"
    assert "no account named Nobody01$" in check["message"]


def test_user_account_named_in_the_spec_is_not_a_gmsa(
    gmsa: Run, admin_args: list[str], tmp_path: Path, good_spec: dict[str, Any]
) -> None:
    good_spec["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"].append(
        {"Name": PLAIN_USER, "Scope": DOMAIN}
    )
    result = doctor_with_spec(gmsa, admin_args, tmp_path, good_spec)
    check = one(result, "account-exists", f"{PLAIN_USER}$")
    assert check["status"] == "fail"
    assert f"{PLAIN_USER} is a user account, not a gMSA" in check["message"]


def test_spec_verify_checks_the_spec_without_network_checks(
    gmsa: Run, admin_args: list[str], tmp_path: Path, good_spec: dict[str, Any], lab: DomainLab
) -> None:
    good_spec["DomainJoinConfig"]["Sid"] = lab.facts["accounts"][f"{GMSA}$"]["sid"]
    result = gmsa("spec", "verify", write_spec(tmp_path, good_spec), "--json", *admin_args)
    assert result.exit_code == 1
    ids = [c["id"] for c in checks(result)]
    assert "spec-sid" in ids and "dns-srv" not in ids


def test_spec_verify_reports_validation_errors_and_still_compares(
    gmsa: Run, admin_args: list[str], tmp_path: Path, good_spec: dict[str, Any], lab: DomainLab
) -> None:
    good_spec["DomainJoinConfig"]["Guid"] = "{" + lab.facts["domain_guid"] + "}"
    result = gmsa("spec", "verify", write_spec(tmp_path, good_spec), "--json", *admin_args)
    assert result.exit_code == 1
    assert one(result, "spec-valid")["status"] == "fail"
    assert one(result, "spec-guid")["status"] == "pass"


def test_spec_verify_refuses_a_file_that_is_not_a_spec(
    gmsa: Run, admin_args: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "list.json"
    path.write_text("[]")
    result = gmsa("spec", "verify", str(path), *admin_args)
    assert result.exit_code == 1
    assert "not valid" in result.output


def doctor_account(gmsa: Run, admin_args: list[str], name: str, *more: str) -> Any:
    return gmsa("doctor", "--account", name, "--skip-network", "--json", *more, *admin_args)


def test_disabled_gmsa_fails(gmsa: Run, admin_args: list[str]) -> None:
    check = one(doctor_account(gmsa, admin_args, GMSA_DISABLED), "account-enabled")
    assert check["status"] == "fail"
    assert "Enable-ADAccount" in check["fix"]


def test_user_named_like_the_gmsa_without_dollar_is_a_conflict(
    gmsa: Run, admin_args: list[str]
) -> None:
    check = one(doctor_account(gmsa, admin_args, GMSA_USER_CONFLICT), "account-conflict")
    assert check["status"] == "fail"
    assert f"a user account named {GMSA_USER_CONFLICT} exists" in check["message"]


def test_group_named_like_the_gmsa_without_dollar_is_a_conflict(
    gmsa: Run, admin_args: list[str]
) -> None:
    check = one(doctor_account(gmsa, admin_args, GMSA_GROUP_CONFLICT), "account-conflict")
    assert check["status"] == "fail"
    assert f"a group named {GMSA_GROUP_CONFLICT}" in check["message"]


def test_gmsa_without_the_workstation_trust_flag_fails(gmsa: Run, admin_args: list[str]) -> None:
    check = one(doctor_account(gmsa, admin_args, GMSA_NO_TRUST), "account-trust-flag")
    assert check["status"] == "fail"
    assert check["details"]["userAccountControl"] == 0x2000


def test_spns_of_the_gmsa_are_listed(gmsa: Run, admin_args: list[str]) -> None:
    check = one(doctor_account(gmsa, admin_args, GMSA_WITH_SPNS), "account-spns")
    assert sorted(check["details"]["spns"]) == sorted(SPNS)


def test_name_longer_than_15_characters_fails(gmsa: Run, admin_args: list[str]) -> None:
    check = one(doctor_account(gmsa, admin_args, "WebApplication01"), "account-name")
    assert check["status"] == "fail"
    assert "at most 15" in check["message"]


def test_gmsa_nobody_may_read_fails(gmsa: Run, admin_args: list[str]) -> None:
    check = one(doctor_account(gmsa, admin_args, GMSA_NO_READERS), "password-readers")
    assert check["status"] == "fail"


def test_password_readers_are_named(gmsa: Run, admin_args: list[str]) -> None:
    check = one(doctor_account(gmsa, admin_args, GMSA), "password-readers")
    names = [p["name"] for p in check["details"]["allowed"]]
    assert names == [f"{HOST_DIRECT}$", "WebHosts"]


def test_host_not_allowed_fails_with_the_fix(gmsa: Run, admin_args: list[str]) -> None:
    result = doctor_account(gmsa, admin_args, GMSA, "--host", f"{HOST_DENIED}$")
    check = one(result, "host-allowed")
    assert result.exit_code == 1
    assert check["status"] == "fail"
    assert "PrincipalsAllowedToRetrieveManagedPassword" in check["fix"]


def test_host_allowed_directly_passes(gmsa: Run, admin_args: list[str]) -> None:
    check = one(doctor_account(gmsa, admin_args, GMSA, "--host", HOST_DIRECT), "host-allowed")
    assert (check["status"], check["message"].endswith("(directly)")) == ("pass", True)


def test_host_allowed_through_a_nested_group_passes_naming_the_group(
    gmsa: Run, admin_args: list[str]
) -> None:
    check = one(doctor_account(gmsa, admin_args, GMSA, "--host", HOST_NESTED), "host-allowed")
    assert check["status"] == "pass"
    assert check["details"]["via"] == "WebHosts"


def test_host_allowed_through_its_primary_group_passes(gmsa: Run, admin_args: list[str]) -> None:
    result = doctor_account(gmsa, admin_args, GMSA_DOMAIN_COMPUTERS, "--host", HOST_PRIMARY)
    check = one(result, "host-allowed")
    assert (check["status"], check["details"]["via"]) == ("pass", "Domain Computers")


def test_unknown_host_fails(gmsa: Run, admin_args: list[str]) -> None:
    check = one(doctor_account(gmsa, admin_args, GMSA, "--host", "NOHOST9"), "host-exists")
    assert check["status"] == "fail"


def test_keytab_run_checks_the_keytabs_host(gmsa: Run, lab: DomainLab) -> None:
    result = gmsa(
        "doctor",
        "--account",
        GMSA,
        "--skip-network",
        "--json",
        "--domain",
        DOMAIN,
        "--dns-server",
        lab.dns_server,
        "--keytab",
        str(lab.denied_host_keytab),
    )
    check = one(result, "host-allowed")
    assert check["details"]["host"] == f"{HOST_DENIED}$"
    assert check["status"] == "fail"


def test_dc_not_answering_on_its_ports_fails_and_directory_checks_are_skipped(
    gmsa: Run, admin_args: list[str]
) -> None:
    result = gmsa(
        "doctor",
        "--account",
        GMSA,
        "--server",
        STALE_DC_NAME,
        "--timeout",
        "1",
        "--json",
        *admin_args,
    )
    assert result.exit_code == 3  # the domain could not be reached at all
    assert json.loads(result.stdout)["reached"] is False
    ports = one(result, "dc-ports")
    assert ports["status"] == "fail"
    assert sorted(ports["details"]["closed"]) == ["389", "636", "88"]
    assert one(result, "ldap-bind")["status"] == "fail"
    assert one(result, "directory-checks")["status"] == "skip"


def test_domain_without_srv_records_fails_the_dns_check(gmsa: Run, lab: DomainLab) -> None:
    args = [a if a != DOMAIN else "emea.example.com" for a in lab.connection_args()]
    result = gmsa("doctor", "--account", GMSA, "--json", *args)
    check = one(result, "dns-srv")
    assert check["status"] == "fail"
    assert "_ldap._tcp.dc._msdcs.emea.example.com" in check["message"]


def test_srv_records_of_the_domain_list_the_dc(gmsa: Run, admin_args: list[str]) -> None:
    check = one(gmsa("doctor", "--account", GMSA, "--json", *admin_args), "dns-srv")
    assert check["details"]["records"] == ["dc1.example.com"]


def test_clock_check_against_the_dc_passes(gmsa: Run, admin_args: list[str]) -> None:
    check = one(doctor_account(gmsa, admin_args, GMSA), "clock")
    assert check["status"] == "pass"
