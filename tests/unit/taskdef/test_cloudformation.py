"""Reading task definitions out of CloudFormation templates: YAML short-form tags, lines,
intrinsic functions, PascalCase properties, and the execution role's policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gmsa.findings import NOT_CHECKED, Severity
from gmsa.iac.cloudformation import TemplateError, load_template, parse_template, read_document
from gmsa.iam.policy import PolicyError
from gmsa.taskdef.cloudformation import task_definitions
from gmsa.taskdef.iac import IacTaskDefinition
from gmsa.taskdef.lint import lint_task_definition
from gmsa.taskdef.model import TaskDefinitionError

DATA = Path(__file__).parents[2] / "data" / "iac"
WINDOWS_APP = DATA / "cloudformation" / "windows-app.yaml"

SPEC = "credentialspec:arn:aws:s3:::example-gmsa-specs/specs/webapp01.json"


def read(text: str, source: str = "t.yaml") -> list[IacTaskDefinition]:
    document, lines = read_document(text.encode(), source=source)
    return task_definitions(parse_template(document, lines, source=source))


def by_resource(items: list[IacTaskDefinition]) -> dict[str, IacTaskDefinition]:
    return {i.resource: i for i in items}


def template(properties: dict[str, Any], **resources: Any) -> str:
    doc = {"Resources": {"Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": properties}}}
    doc["Resources"].update(resources)
    return json.dumps(doc, indent=2)


def container(**extra: Any) -> dict[str, Any]:
    return {"Name": "web", "Image": "example.com/web", **extra}


# -- task definitions ----------------------------------------------------------------


def test_pascal_case_properties_fill_the_model() -> None:
    (item,) = read(
        template(
            {
                "Family": "web",
                "ExecutionRoleArn": "arn:aws:iam::123456789012:role/exec",
                "NetworkMode": "bridge",
                "RequiresCompatibilities": ["EC2"],
                "RuntimePlatform": {"OperatingSystemFamily": "WINDOWS_SERVER_2019_CORE"},
                "ContainerDefinitions": [
                    container(Hostname="web01", CredentialSpecs=[SPEC]),
                    container(Name="log", DockerSecurityOptions=["no-new-privileges"]),
                ],
            }
        )
    )
    task = item.definition
    assert task is not None
    assert task.family == "web"
    assert task.execution_role_arn == "arn:aws:iam::123456789012:role/exec"
    assert task.network_mode == "bridge"
    assert task.requires_compatibilities == ("EC2",)
    assert task.operating_system_family == "WINDOWS_SERVER_2019_CORE"
    assert [c.name for c in task.containers] == ["web", "log"]
    assert task.containers[0].hostname == "web01"
    assert task.containers[0].credential_specs == (SPEC,)
    assert task.containers[1].docker_security_options == ("no-new-privileges",)
    assert item.policies is None  # the role is not in the template


def test_findings_name_the_resource_the_path_inside_it_and_the_line() -> None:
    text = """Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      NetworkMode: awsvpc
      ContainerDefinitions:
        - Name: web
          Hostname: web01
          CredentialSpecs:
            - credentialspec:arn:aws:s3:::bucket-only
"""
    (item,) = read(text)
    assert item.definition is not None
    report = lint_task_definition(item.definition)
    found = {f.code: f for f in report.findings}
    hostname = found["hostname-in-awsvpc"]
    assert (hostname.resource, hostname.path, hostname.line, hostname.source) == (
        "Task",
        "Properties.ContainerDefinitions[0].Hostname",
        8,
        "t.yaml",
    )
    reference = found["invalid-reference"]
    assert reference.path == "Properties.ContainerDefinitions[0].CredentialSpecs[0]"
    assert reference.line == 10
    assert report.resource == "Task"
    assert report.to_dict()["resource"] == "Task"


def test_a_finding_about_an_absent_value_points_at_its_resource_path() -> None:
    (item,) = read(template({"ContainerDefinitions": [container(CredentialSpecs=[SPEC])]}))
    assert item.definition is not None
    (finding,) = lint_task_definition(item.definition).errors
    assert finding.code == "missing-execution-role"
    assert finding.path == "Properties.ExecutionRoleArn"
    assert "Properties.ContainerDefinitions[0].CredentialSpecs[0] is read" in finding.message


def test_literal_intrinsics_are_resolved() -> None:
    (item,) = read(
        template(
            {
                "ExecutionRoleArn": {
                    "Fn::Join": [":", ["arn", "aws", "iam", "", "123456789012", "role/exec"]]
                },
                "NetworkMode": {"Fn::Select": [1, ["awsvpc", "bridge"]]},
                "ContainerDefinitions": [
                    container(
                        Hostname={"Ref": "AWS::NoValue"},
                        CredentialSpecs=[
                            {
                                "Fn::Sub": [
                                    "credentialspec:arn:aws:s3:::${B}/specs/web.json",
                                    {"B": "bkt"},
                                ]
                            }
                        ],
                    )
                ],
            }
        )
    )
    task = item.definition
    assert task is not None
    assert task.execution_role_arn == "arn:aws:iam::123456789012:role/exec"
    assert task.network_mode == "bridge"
    assert task.containers[0].hostname is None
    assert task.containers[0].credential_specs == (
        "credentialspec:arn:aws:s3:::bkt/specs/web.json",
    )
    assert not task.origin or not task.origin.notes


def test_deploy_time_values_are_not_checked_notes_never_errors() -> None:
    text = template(
        {
            "ExecutionRoleArn": {"Fn::ImportValue": "exec-role"},
            "NetworkMode": {"Ref": "Mode"},
            "RequiresCompatibilities": [{"Ref": "LaunchType"}],
            "RuntimePlatform": {"OperatingSystemFamily": "WINDOWS_SERVER_2016_FULL"},
            "ContainerDefinitions": [
                container(
                    Hostname={"Ref": "HostnameParam"},
                    DockerSecurityOptions=[
                        {"Fn::Sub": "credentialspec:arn:${AWS::Partition}:s3:::b/${Env}.json"},
                        SPEC,
                    ],
                )
            ],
        }
    )
    (item,) = read(text, source="t.json")
    assert item.definition is not None
    report = lint_task_definition(item.definition)
    assert report.errors == []  # no missing role, no missing hostname on Windows Server 2016
    notes = {f.path: f for f in report.infos}
    assert set(notes) == {
        "Properties.ExecutionRoleArn",
        "Properties.NetworkMode",
        "Properties.RequiresCompatibilities[0]",
        "Properties.ContainerDefinitions[0].Hostname",
        "Properties.ContainerDefinitions[0].DockerSecurityOptions[0]",
    }
    assert all(f.code == NOT_CHECKED and f.severity is Severity.INFO for f in report.infos)
    assert "!ImportValue exec-role" in notes["Properties.ExecutionRoleArn"].message
    # The literal reference is checked, under its own index in the template.
    (use,) = item.definition.credential_spec_uses
    assert report.containers[0].references[0].path == (
        "Properties.ContainerDefinitions[0].DockerSecurityOptions[1]"
    )
    assert use.raw == SPEC
    assert report.to_dict()["info"][0]["code"] == NOT_CHECKED


def test_a_task_whose_containers_are_all_deploy_time_values_is_reported_unchecked() -> None:
    (item,) = read(template({"ContainerDefinitions": {"Fn::If": ["C", [], []]}}))
    assert item.definition is None
    report = item.unchecked_report()
    assert report.valid
    assert [f.path for f in report.infos] == ["Properties.ContainerDefinitions"]


def test_a_task_without_containers_is_an_error() -> None:
    with pytest.raises(TaskDefinitionError) as caught:
        read(template({"Family": "x"}))
    assert "Task" in (caught.value.where or "")


def test_wrong_types_and_duplicate_names_say_where() -> None:
    with pytest.raises(TaskDefinitionError) as caught:
        read(template({"ContainerDefinitions": [container(CredentialSpecs="not-a-list")]}))
    where = "t.yaml:10: Task: Properties.ContainerDefinitions[0].CredentialSpecs"
    assert caught.value.where == where
    with pytest.raises(TaskDefinitionError) as caught:
        read(template({"ContainerDefinitions": [container(), container()]}))
    assert "two containers are named 'web'" in caught.value.what
    with pytest.raises(TaskDefinitionError):
        read(template({"ContainerDefinitions": [{"Image": "x"}]}))


def test_every_task_definition_of_the_template_in_order() -> None:
    items = task_definitions(load_template(WINDOWS_APP))
    assert [i.resource for i in items] == ["WebTask", "ReportTask", "BatchTask"]


# -- the execution role's policies -------------------------------------------------

ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {"AssumeRolePolicyDocument": {"Statement": []}},
}


def allow(action: str, resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def role_with(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::IAM::Role", "Properties": properties}


def policy_doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def task_using(role: Any) -> dict[str, Any]:
    return {
        "ExecutionRoleArn": role,
        "ContainerDefinitions": [container(CredentialSpecs=[SPEC])],
    }


def check(text: str) -> tuple[IacTaskDefinition, list[str], list[str]]:
    item = by_resource(read(text))["Task"]
    assert item.definition is not None
    assert item.policies is not None
    report = lint_task_definition(
        item.definition, policies=item.policies, policies_incomplete=item.policies_incomplete
    )
    return item, [f.code for f in report.errors], [f.code for f in report.infos]


def test_inline_policies_of_a_template_role_grant_the_permission() -> None:
    role = role_with(
        Policies=[
            {
                "PolicyName": "spec",
                "PolicyDocument": policy_doc(
                    allow(
                        "s3:GetObject",
                        {"Fn::Sub": "arn:${AWS::Partition}:s3:::example-gmsa-specs/*"},
                    )
                ),
            }
        ]
    )
    item, errors, infos = check(template(task_using({"Fn::GetAtt": ["Exec", "Arn"]}), Exec=role))
    assert (errors, infos) == ([], [])
    assert item.policies_incomplete is None  # the partition is the one the reference names


def test_a_template_role_without_the_permission_is_an_error() -> None:
    role = role_with(
        Policies=[
            {
                "PolicyName": "p",
                "PolicyDocument": policy_doc(allow("s3:GetObject", "arn:aws:s3:::other/*")),
            }
        ]
    )
    _, errors, _ = check(template(task_using({"Ref": "Exec"}), Exec=role))
    assert errors == ["iam-permission-missing"]


def test_attached_policy_resources_count() -> None:
    grant = policy_doc(allow("s3:GetObject", "arn:aws:s3:::example-gmsa-specs/specs/*"))
    for kind, link in (
        ("AWS::IAM::Policy", {"Roles": [{"Ref": "Exec"}], "PolicyName": "p"}),
        ("AWS::IAM::ManagedPolicy", {"Roles": [{"Ref": "Exec"}]}),
        ("AWS::IAM::RolePolicy", {"RoleName": {"Ref": "Exec"}, "PolicyName": "p"}),
    ):
        attached = {"Type": kind, "Properties": {**link, "PolicyDocument": grant}}
        _, errors, _ = check(
            template(task_using({"Fn::GetAtt": ["Exec", "Arn"]}), Exec=ROLE, Grant=attached)
        )
        assert errors == [], kind


def test_managed_policy_of_the_template_named_in_managed_policy_arns_counts() -> None:
    grant = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": policy_doc(allow("s3:GetObject", "*"))},
    }
    role = role_with(ManagedPolicyArns=[{"Ref": "Grant"}])
    _, errors, _ = check(
        template(task_using({"Fn::GetAtt": ["Exec", "Arn"]}), Exec=role, Grant=grant)
    )
    assert errors == []


def test_the_ecs_execution_managed_policy_is_known_and_grants_no_spec() -> None:
    arn = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
            ],
        ]
    }
    item, errors, _ = check(
        template(
            task_using({"Fn::GetAtt": ["Exec", "Arn"]}), Exec=role_with(ManagedPolicyArns=[arn])
        )
    )
    assert item.policies_incomplete is None
    assert errors == ["iam-permission-missing"]


def test_policies_with_deploy_time_values_make_a_denial_not_checked() -> None:
    role = role_with(
        Policies=[
            {
                "PolicyName": "spec",
                "PolicyDocument": policy_doc(
                    allow("s3:GetObject", {"Fn::GetAtt": ["Bucket", "Arn"]})
                ),
            }
        ],
        ManagedPolicyArns=["arn:aws:iam::123456789012:policy/team-specs"],
    )
    item, errors, infos = check(template(task_using({"Fn::GetAtt": ["Exec", "Arn"]}), Exec=role))
    assert errors == []
    assert infos == [NOT_CHECKED]
    assert "!GetAtt Bucket.Arn" in (item.policies_incomplete or "")
    assert "team-specs" in (item.policies_incomplete or "")


def test_a_wrong_policy_in_the_template_is_an_error() -> None:
    role = role_with(
        Policies=[
            {
                "PolicyName": "p",
                "PolicyDocument": policy_doc(
                    {"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}
                ),
            }
        ]
    )
    with pytest.raises(PolicyError):
        read(template(task_using({"Ref": "Exec"}), Exec=role))


@pytest.mark.parametrize("char", ["\x7f", "\x00", "\x1b", "\ufffe"])
def test_a_character_yaml_refuses_is_a_template_error(char: str) -> None:
    """PyYAML checks characters when the loader is made; before, that error escaped as a
    traceback (ReaderError) from task check."""
    with pytest.raises(TemplateError) as caught:
        read_document(f'Resources:\n  A: "x{char}"\n'.encode(), source="t.yaml")
    assert caught.value.where == "t.yaml"
    assert "not valid YAML" in caught.value.what
