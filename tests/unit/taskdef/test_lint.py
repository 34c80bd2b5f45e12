"""Every gMSA rule of a task definition: each test breaks exactly one rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gmsa.credspec.model import (
    CredentialSpec,
    DomainJoinConfig,
    GroupManagedServiceAccount,
    HostAccountConfig,
)
from gmsa.findings import Severity, warning
from gmsa.reference import Reference, parse
from gmsa.source.resolve import ResolvedSpec
from gmsa.taskdef.lint import TaskReport, lint_task_definition
from gmsa.taskdef.model import TaskDefinition, parse_task_definition

DATA = Path(__file__).parents[2] / "data" / "taskdefs"
ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
S3_REF = "credentialspec:arn:aws:s3:::example-gmsa-specs/specs/webapp01.json"
FILE_REF = "credentialspec:file://webapp01.json"
DOMAINLESS_REF = "credentialspecdomainless:arn:aws:ssm:us-east-1:123456789012:parameter/spec"


def container(name: str = "web", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "app:1", "essential": True, **fields}


def task(*containers: dict[str, Any], **fields: Any) -> TaskDefinition:
    doc: dict[str, Any] = {"family": "app", "executionRoleArn": ROLE, **fields}
    doc["containerDefinitions"] = list(containers) or [container(credentialSpecs=[FILE_REF])]
    return parse_task_definition(doc, source="t.json")


def example_task(name: str) -> TaskDefinition:
    return parse_task_definition(json.loads((DATA / name).read_text()), source=name)


def spec(name: str = "WebApp01", *, domainless: bool = False) -> CredentialSpec:
    return CredentialSpec(
        cms_plugins=("ActiveDirectory",),
        domain_join_config=DomainJoinConfig(
            sid="S-1-5-21-2554468230-2647958158-2204241789",
            machine_account_name=name,
            guid="8665abd4-e947-4dd0-9a51-f8254943c90b",
            dns_tree_name="example.com",
            dns_name="example.com",
            netbios_name="example",
        ),
        group_managed_service_accounts=(GroupManagedServiceAccount(name, "example.com"),),
        host_account_config=HostAccountConfig(
            "1",
            "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
            {"CredentialArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:u-AbCdEf"},
        )
        if domainless
        else None,
    )


def resolved(
    ref: str, spec_: CredentialSpec | None = None, **kw: Any
) -> dict[Reference, ResolvedSpec]:
    parsed = parse(ref)
    return {parsed: ResolvedSpec(parsed, "x", spec_ if spec_ is not None else spec(), **kw)}


def codes(report: TaskReport, severity: Severity | None = None) -> list[str]:
    return [f.code for f in report.findings if severity is None or f.severity is severity]


@pytest.mark.parametrize("name", ["s3.json", "ssm.json", "file.json", "describe-s3.json"])
def test_ecs_example_task_definitions_have_no_findings(name: str) -> None:
    report = lint_task_definition(example_task(name))
    assert report.findings == ()
    assert report.valid


def test_ecs_example_task_definition_with_its_spec_has_no_findings() -> None:
    report = lint_task_definition(example_task("s3.json"), specs=resolved(S3_REF))
    assert report.findings == ()
    assert report.containers[0].references[0].gmsa_name == "WebApp01"


def test_ecs_example_dockersecurityoptions_gets_a_hint_not_a_finding() -> None:
    report = lint_task_definition(example_task("s3.json"))
    assert any("credentialSpecs" in h for h in report.hints)


def test_invalid_reference_names_the_part_and_the_fix() -> None:
    report = lint_task_definition(
        task(container(credentialSpecs=["credentialspec:arn:aws-foo:s3:::bucket/key"]))
    )
    (finding,) = report.findings
    assert finding.code == "invalid-reference"
    assert finding.path == "containerDefinitions[0].credentialSpecs[0]"
    assert "ARN partition" in finding.message
    assert finding.fix


def test_two_credential_specs_in_one_container_is_an_error() -> None:
    report = lint_task_definition(task(container(credentialSpecs=[FILE_REF, FILE_REF])))
    assert codes(report) == ["too-many-credential-specs"]
    assert report.findings[0].path == "containerDefinitions[0].credentialSpecs"


def test_two_credential_specs_in_security_options_is_an_error() -> None:
    report = lint_task_definition(task(container(dockerSecurityOptions=[FILE_REF, FILE_REF])))
    assert codes(report) == ["too-many-credential-specs"]


def test_both_fields_in_one_container_is_an_error() -> None:
    report = lint_task_definition(
        task(container(credentialSpecs=[FILE_REF], dockerSecurityOptions=[FILE_REF]))
    )
    assert codes(report) == ["conflicting-credential-spec-fields"]


def test_mixed_modes_in_one_task_is_a_warning() -> None:
    report = lint_task_definition(
        task(
            container("a", credentialSpecs=[FILE_REF]),
            container("b", credentialSpecs=["credentialspecdomainless:file://b.json"]),
        )
    )
    assert codes(report, Severity.WARNING) == ["mixed-credential-spec-modes"]
    assert report.valid


def test_s3_reference_without_execution_role_is_an_error() -> None:
    doc = json.loads((DATA / "s3.json").read_text())
    del doc["executionRoleArn"]
    report = lint_task_definition(parse_task_definition(doc, source="t"))
    assert codes(report) == ["missing-execution-role"]
    assert report.findings[0].path == "executionRoleArn"


def test_empty_execution_role_counts_as_missing() -> None:
    report = lint_task_definition(task(container(credentialSpecs=[S3_REF]), executionRoleArn=""))
    assert codes(report) == ["missing-execution-role"]


def test_file_reference_needs_no_execution_role() -> None:
    report = lint_task_definition(task(container(credentialSpecs=[FILE_REF]), executionRoleArn=""))
    assert report.findings == ()


def test_execution_role_that_is_not_a_role_arn_is_an_error() -> None:
    report = lint_task_definition(
        task(executionRoleArn="arn:aws:iam::123456789012:user/ecsTaskExecutionRole")
    )
    assert codes(report) == ["invalid-execution-role-arn"]


def test_hostname_in_awsvpc_is_an_error() -> None:
    report = lint_task_definition(
        task(container(hostname="webapp01", credentialSpecs=[FILE_REF]), networkMode="awsvpc")
    )
    assert codes(report) == ["hostname-in-awsvpc"]
    assert report.findings[0].path == "containerDefinitions[0].hostname"


def test_windows_server_2016_with_awsvpc_warns_the_rule_cannot_hold() -> None:
    report = lint_task_definition(
        task(container(credentialSpecs=[FILE_REF]), networkMode="awsvpc"),
        windows_server_2016=True,
    )
    assert codes(report) == ["windows-server-2016-awsvpc"]


def test_shared_hostname_between_gmsa_containers_is_a_warning() -> None:
    report = lint_task_definition(
        task(
            container("a", hostname="webapp01", credentialSpecs=[FILE_REF]),
            container("b", hostname="WEBAPP01", credentialSpecs=[FILE_REF]),
        ),
        specs=resolved(FILE_REF),
    )
    assert codes(report) == ["shared-hostname"]
    assert report.findings[0].path == "containerDefinitions[1].hostname"


def test_hostname_that_differs_from_the_gmsa_is_a_warning() -> None:
    report = lint_task_definition(
        task(container(hostname="web", credentialSpecs=[FILE_REF])), specs=resolved(FILE_REF)
    )
    assert codes(report, Severity.WARNING) == ["hostname-not-gmsa-name"]
    assert report.valid


def test_hostname_that_differs_on_windows_server_2016_is_an_error() -> None:
    report = lint_task_definition(
        task(container(hostname="web", credentialSpecs=[FILE_REF])),
        specs=resolved(FILE_REF),
        windows_server_2016=True,
    )
    assert codes(report, Severity.ERROR) == ["hostname-not-gmsa-name"]


def test_hostname_rule_ignores_case() -> None:
    report = lint_task_definition(
        task(container(hostname="WEBAPP01", credentialSpecs=[FILE_REF])),
        specs=resolved(FILE_REF),
        windows_server_2016=True,
    )
    assert report.findings == ()


def test_runtime_platform_2016_applies_the_hostname_rule_as_an_error() -> None:
    report = lint_task_definition(
        task(
            container(hostname="web", credentialSpecs=[FILE_REF]),
            runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2016_FULL"},
        ),
        specs=resolved(FILE_REF),
    )
    assert codes(report, Severity.ERROR) == ["hostname-not-gmsa-name"]


def test_missing_hostname_on_windows_server_2016_is_an_error_naming_the_gmsa() -> None:
    report = lint_task_definition(
        task(container(credentialSpecs=[FILE_REF])),
        specs=resolved(FILE_REF),
        windows_server_2016=True,
    )
    assert codes(report) == ["hostname-missing"]
    assert "WebApp01" in (report.findings[0].fix or "")


def test_unread_spec_on_windows_server_2016_warns_the_rule_was_not_checked() -> None:
    report = lint_task_definition(
        task(container(hostname="webapp01", credentialSpecs=[FILE_REF])),
        windows_server_2016=True,
    )
    assert codes(report) == ["hostname-rule-unchecked"]


def test_fargate_windows_is_an_error() -> None:
    report = lint_task_definition(
        task(
            container(credentialSpecs=[DOMAINLESS_REF]),
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2019_CORE"},
        )
    )
    assert codes(report) == ["fargate-windows-gmsa"]


def test_fargate_linux_domainless_in_credential_specs_is_clean() -> None:
    report = lint_task_definition(
        task(
            container(credentialSpecs=[DOMAINLESS_REF]),
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            runtimePlatform={"operatingSystemFamily": "LINUX"},
        )
    )
    assert report.findings == ()


def test_fargate_docker_security_options_is_an_error() -> None:
    report = lint_task_definition(
        task(
            container(dockerSecurityOptions=[DOMAINLESS_REF]),
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
        )
    )
    assert codes(report) == ["fargate-docker-security-options"]


def test_fargate_domain_joined_is_an_error() -> None:
    report = lint_task_definition(
        task(container(credentialSpecs=[S3_REF]), requiresCompatibilities=["FARGATE"])
    )
    assert codes(report) == ["fargate-domain-joined"]


def test_fargate_file_reference_is_an_error() -> None:
    report = lint_task_definition(
        task(
            container(credentialSpecs=["credentialspecdomainless:file://a.json"]),
            requiresCompatibilities=["FARGATE"],
        )
    )
    assert codes(report) == ["fargate-file-reference"]


def test_linux_ec2_domain_joined_warns_about_the_ticket_service() -> None:
    report = lint_task_definition(
        task(
            container(credentialSpecs=[S3_REF]),
            runtimePlatform={"operatingSystemFamily": "LINUX"},
        )
    )
    assert codes(report) == ["linux-domain-joined-host"]
    assert report.valid


def test_domainless_on_windows_server_2016_is_an_error() -> None:
    report = lint_task_definition(
        task(container(hostname="webapp01", credentialSpecs=[DOMAINLESS_REF])),
        specs=resolved(DOMAINLESS_REF, spec(domainless=True)),
        windows_server_2016=True,
    )
    assert codes(report) == ["domainless-on-windows-server-2016"]


def test_domainless_reference_to_a_domain_joined_spec_is_an_error() -> None:
    report = lint_task_definition(
        task(container(credentialSpecs=[DOMAINLESS_REF])), specs=resolved(DOMAINLESS_REF)
    )
    assert codes(report) == ["spec-not-domainless"]


def test_domain_joined_reference_to_a_domainless_spec_is_a_warning() -> None:
    report = lint_task_definition(
        task(container(credentialSpecs=[S3_REF])),
        specs=resolved(S3_REF, spec(domainless=True)),
    )
    assert codes(report) == ["spec-is-domainless"]


def test_spec_findings_are_reported_under_the_reference_path() -> None:
    found = warning("gmsa-name-too-long", "DomainJoinConfig.MachineAccountName", "too long")
    report = lint_task_definition(
        task(container(credentialSpecs=[FILE_REF])), specs=resolved(FILE_REF, findings=(found,))
    )
    (finding,) = report.findings
    assert finding.code == "gmsa-name-too-long"
    assert finding.where == (
        "containerDefinitions[0].credentialSpecs[0] -> DomainJoinConfig.MachineAccountName"
    )
    assert finding.to_dict()["path"] == finding.where
    # In the output envelope the path is inside the spec, and the spec is the source.
    assert finding.path == "DomainJoinConfig.MachineAccountName"
    assert finding.referenced_at == "containerDefinitions[0].credentialSpecs[0]"
    assert finding.source is not None


def test_paths_in_describe_output_point_into_the_wrapper() -> None:
    doc = {"taskDefinition": {"containerDefinitions": [container(credentialSpecs=["x"])]}}
    report = lint_task_definition(parse_task_definition(doc, source="t"))
    assert report.findings[0].path == "taskDefinition.containerDefinitions[0].credentialSpecs[0]"


def test_report_json_has_the_contract_fields() -> None:
    report = lint_task_definition(task(container(credentialSpecs=[FILE_REF, "bad"])))
    data = report.to_dict()
    assert data["valid"] is False
    assert data["source"] == "t.json"
    (entry,) = data["containers"]
    assert entry["name"] == "web"
    assert [r["valid"] for r in entry["references"]] == [True, False]
    assert entry["references"][0]["kind"] == "file"
    assert {e["code"] for e in data["errors"]} == {"invalid-reference", "too-many-credential-specs"}
    assert data["warnings"] == []


# IAM: policies against what each reference needs.

S3_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:Get*", "s3:List*"],
            "Resource": [
                "arn:aws:s3:::example-gmsa-specs",
                "arn:aws:s3:::example-gmsa-specs/specs/webapp01.json",
            ],
        }
    ],
}
SSM_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "ssm:GetParameters",
            "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/spec",
        }
    ],
}


def policy(document: dict[str, Any]) -> Any:
    from gmsa.iam.policy import parse_policy

    return parse_policy(document, name="role/inline/read")


def test_ecs_example_s3_policy_allows_the_ecs_example_reference() -> None:
    report = lint_task_definition(example_task("s3.json"), policies=[policy(S3_POLICY)])
    assert report.findings == ()


def test_missing_permission_is_an_error_at_the_reference() -> None:
    report = lint_task_definition(example_task("s3.json"), policies=[policy(SSM_POLICY)])
    assert codes(report) == ["iam-permission-missing"]
    assert report.findings[0].path == "containerDefinitions[0].dockerSecurityOptions[0]"


def test_no_policies_at_all_denies_everything() -> None:
    report = lint_task_definition(example_task("ssm.json"), policies=[])
    assert codes(report) == ["iam-permission-missing"]


def test_file_reference_needs_no_permission() -> None:
    report = lint_task_definition(example_task("file.json"), policies=[])
    assert report.findings == ()


def test_domainless_secret_permission_is_checked_with_the_spec() -> None:
    report = lint_task_definition(
        task(container(credentialSpecs=[DOMAINLESS_REF])),
        specs=resolved(DOMAINLESS_REF, spec(domainless=True)),
        policies=[policy(SSM_POLICY)],
    )
    (finding,) = report.findings
    assert finding.code == "iam-permission-missing"
    assert "secretsmanager:GetSecretValue" in finding.message


def test_domainless_secret_permission_without_the_spec_is_a_warning() -> None:
    report = lint_task_definition(
        task(container(credentialSpecs=[DOMAINLESS_REF])), policies=[policy(SSM_POLICY)]
    )
    assert codes(report) == ["iam-secret-unchecked"]


def test_malformed_secret_arn_in_the_spec_is_an_error() -> None:
    bad = spec(domainless=True)
    bad = CredentialSpec(
        cms_plugins=bad.cms_plugins,
        domain_join_config=bad.domain_join_config,
        group_managed_service_accounts=bad.group_managed_service_accounts,
        host_account_config=HostAccountConfig(
            "1",
            "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
            {"CredentialArn": "arn:aws:secretsmanager:us-east-1:12:secret:u"},
        ),
    )
    report = lint_task_definition(
        task(container(credentialSpecs=[DOMAINLESS_REF])),
        specs=resolved(DOMAINLESS_REF, bad),
        policies=[policy(SSM_POLICY)],
    )
    assert codes(report) == ["invalid-secret-arn"]
