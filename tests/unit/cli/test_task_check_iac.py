"""``gmsa task check`` on infrastructure as code: CloudFormation templates (YAML and JSON),
a CDK cloud assembly and a Terraform plan; exit codes, JSON fields, lines in findings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gmsa.cli.main import cli
from gmsa.findings import NOT_CHECKED
from tests.conftest import EXAMPLE_SPEC

DATA = Path(__file__).parents[2] / "data"
IAC = DATA / "iac"
YAML = IAC / "cloudformation" / "windows-app.yaml"
CDK = IAC / "cdk.out"
PLAN = IAC / "terraform" / "plan.json"
POLICIES = DATA / "taskdefs" / "policies"


def run(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["task", "check", *map(str, args)], input=stdin)


def as_json(result: Result) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(result.stdout)
    return value


def where(finding: dict[str, Any]) -> tuple[str, str, int | None]:
    return finding["resource"], finding["path"], finding.get("line")


def test_yaml_template_every_task_definition_and_rule() -> None:
    result = run(YAML, "--json")
    assert result.exit_code == 1, result.output
    data = as_json(result)
    assert data["valid"] is False
    assert data["input_format"] == "cloudformation"
    reports = {r["resource"]: r for r in data["task_definitions"]}
    assert list(reports) == ["WebTask", "ReportTask", "BatchTask"]
    # The web task's role (inline policy, AWS managed policy) reads its spec: clean.
    assert reports["WebTask"]["valid"] is True
    assert reports["WebTask"]["errors"] == reports["WebTask"]["warnings"] == []
    errors = {f["code"]: f for f in data["errors"]}
    assert set(errors) == {
        "hostname-in-awsvpc",
        "iam-permission-missing",
        "fargate-docker-security-options",
    }
    assert where(errors["hostname-in-awsvpc"]) == (
        "ReportTask",
        "Properties.ContainerDefinitions[0].Hostname",
        123,
    )
    # The report role's attached AWS::IAM::Policy grants S3, not the SSM parameter.
    assert where(errors["iam-permission-missing"]) == (
        "ReportTask",
        "Properties.ContainerDefinitions[0].DockerSecurityOptions[0]",
        125,
    )
    assert "ssm:GetParameters" in errors["iam-permission-missing"]["message"]
    # Entry 0 is an !If: the reference is entry 1 of the template's list.
    assert where(errors["fargate-docker-security-options"]) == (
        "BatchTask",
        "Properties.ContainerDefinitions[1].DockerSecurityOptions[1]",
        151,
    )
    assert {f["source"] for f in data["errors"]} == {str(YAML)}
    notes = [where(f) for f in data["info"]]
    assert notes == [
        ("BatchTask", "Properties.ExecutionRoleArn", 135),
        ("BatchTask", "Properties.ContainerDefinitions[0].CredentialSpecs[0]", 146),
        ("BatchTask", "Properties.ContainerDefinitions[1].DockerSecurityOptions[0]", 150),
    ]
    assert {f["code"] for f in data["info"]} == {NOT_CHECKED}


def test_yaml_template_text_names_file_line_resource_and_path() -> None:
    result = run(YAML)
    assert result.exit_code == 1
    out = result.stdout
    assert f"error: {YAML}:123: ReportTask: Properties.ContainerDefinitions[0].Hostname:" in out
    assert (
        f"info: {YAML}:146: BatchTask: Properties.ContainerDefinitions[0].CredentialSpecs[0]:"
        in out
    )
    assert "!Sub credentialspecdomainless:arn:${AWS::Partition}" in out
    assert f"{YAML} WebTask: valid, 0 errors, 0 warnings" in out
    assert f"{YAML} ReportTask: invalid, 2 errors" in out


def test_a_container_whose_spec_is_known_only_at_deploy_time_says_so() -> None:
    lines = run(YAML).stdout.splitlines()
    batch = lines.index("container batch")
    assert lines[batch + 1].startswith(f"  info: {YAML}:146: BatchTask: ")
    assert "CredentialSpecs[0] of container batch is !Sub" in lines[batch + 1]
    assert lines.count("  no credential spec") == 1  # the sidecar's, which has none
    assert lines[-1] == f"{YAML}: 3 task definitions: 1 valid, 2 invalid"


def test_a_template_is_read_from_stdin() -> None:
    result = run("-", "--json", stdin=YAML.read_text())
    assert result.exit_code == 1
    assert as_json(result)["source"] == "<stdin>"
    assert {f["source"] for f in as_json(result)["errors"]} == {"<stdin>"}


def test_json_template_has_lines_too(tmp_path: Path) -> None:
    template = json.loads((CDK / "GmsaWindowsStack.template.json").read_text())
    task = template["Resources"]["ApiTaskDefC6E2B4A7"]["Properties"]
    task["NetworkMode"] = "awsvpc"
    path = tmp_path / "stack.template.json"
    path.write_text(json.dumps(template, indent=1))
    result = run(path, "--json")
    assert result.exit_code == 1
    (error,) = as_json(result)["errors"]
    assert error["code"] == "hostname-in-awsvpc"
    line = path.read_text().splitlines()[error["line"] - 1]
    assert '"Hostname": "api01"' in line


def test_cdk_assembly_is_clean_with_its_default_policy() -> None:
    result = run(CDK, "--json")
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert data["valid"] is True
    assert data["source"] == str(CDK)
    (report,) = data["task_definitions"]
    assert report["resource"] == "ApiTaskDefC6E2B4A7"
    assert report["source"] == str(CDK / "GmsaWindowsStack.template.json")


def test_cdk_assembly_without_the_grant_fails(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    shutil.copytree(CDK, out)
    stack = out / "GmsaWindowsStack.template.json"
    template = json.loads(stack.read_text())
    policy = template["Resources"]["ApiTaskDefExecutionRoleDefaultPolicy1B9D7E3F"]
    del policy["Properties"]["PolicyDocument"]["Statement"][1]
    stack.write_text(json.dumps(template))
    result = run(out, "--json")
    # The log statement names a deploy-time ARN, so the denial is not an error.
    assert result.exit_code == 0, result.output
    (note,) = as_json(result)["info"]
    assert note["code"] == NOT_CHECKED
    assert "!GetAtt ApiTaskDefapiLogGroup7E3C1F2D.Arn" in note["message"]


def test_terraform_plan_rules_and_unknown_values() -> None:
    result = run(PLAN, "--json")
    assert result.exit_code == 1, result.output
    data = as_json(result)
    assert data["input_format"] == "terraform"
    (error,) = data["errors"]
    assert error["code"] == "conflicting-credential-spec-fields"
    assert where(error) == ("aws_ecs_task_definition.legacy", "container_definitions[0]", None)
    assert [where(f) for f in data["info"]] == [
        ("aws_ecs_task_definition.pending", "container_definitions", None),
        ('module.batch.aws_ecs_task_definition.this["prod"]', "execution_role_arn", None),
    ]


def test_terraform_plan_hostname_rule_with_the_spec(tmp_path: Path) -> None:
    specs = tmp_path / "CredentialSpecs"
    specs.mkdir()
    (specs / "webapp01.json").write_text(json.dumps(EXAMPLE_SPEC))
    plan = json.loads(PLAN.read_text())
    web = plan["planned_values"]["root_module"]["resources"][0]["values"]
    containers = json.loads(web["container_definitions"])
    containers[0]["hostname"] = "web"
    web["container_definitions"] = json.dumps(containers)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    result = run(path, "--spec-dir", specs, "--json", "--input-format", "terraform")
    assert result.exit_code == 1
    errors = {(f["code"], f["resource"]) for f in as_json(result)["errors"]}
    assert ("hostname-not-gmsa-name", "aws_ecs_task_definition.web") in errors


def test_only_deploy_time_values_exit_0(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  Task:\n"
        "    Type: AWS::ECS::TaskDefinition\n"
        "    Properties:\n"
        "      ExecutionRoleArn: !Ref ExecRoleArn\n"
        "      ContainerDefinitions:\n"
        "        - Name: web\n"
        "          CredentialSpecs:\n"
        "            - !Sub 'credentialspec:arn:aws:ssm:${AWS::Region}:1:parameter/x'\n"
    )
    result = run(path)
    assert result.exit_code == 0, result.output
    assert "info:" in result.stdout


def test_policy_files_add_to_the_template_role(tmp_path: Path) -> None:
    def missing(result: Result) -> set[str]:
        errors = as_json(result)["errors"]
        return {f["resource"] for f in errors if f["code"] == "iam-permission-missing"}

    # --policy counts for every task definition of the template.
    result = run(YAML, "--json", "--policy", POLICIES / "ssm-read.json")
    assert missing(result) == {"ReportTask", "BatchTask"}
    template = YAML.read_text().replace("parameter/gmsa/reports", "parameter/webapp01-credspec")
    path = tmp_path / "t.yaml"
    path.write_text(template)
    result = run(path, "--json", "--policy", POLICIES / "ssm-read.json")
    assert missing(result) == {"BatchTask"}


@pytest.mark.parametrize(
    ("fmt", "code"),
    [("ecs", "invalid-json"), ("terraform", "invalid-json"), ("cloudformation", None)],
)
def test_input_format_is_obeyed(fmt: str, code: str | None) -> None:
    result = run(YAML, "--input-format", fmt, "--json")
    assert result.exit_code == 1
    if code is not None:
        assert as_json(result)["error"]["code"] == code
    else:
        assert as_json(result)["input_format"] == "cloudformation"


def test_unknown_input_format_is_a_usage_error() -> None:
    assert run(YAML, "--input-format", "pulumi").exit_code == 2


def test_ecs_json_output_keeps_its_shape() -> None:
    data = as_json(run(DATA / "taskdefs" / "s3.json", "--json"))
    assert "input_format" not in data and "task_definitions" not in data
    assert data["info"] == []
