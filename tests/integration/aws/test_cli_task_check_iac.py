"""``gmsa task check`` on templates and plans with specs and roles read from AWS (moto)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SPEC
from tests.integration.aws.test_cli_task_check import aws_env  # noqa: F401 - fixture
from tests.support.moto import REGION, AwsLab, IamLab
from tests.unit.cli.test_task_check import POLICIES, as_json, run
from tests.unit.cli.test_task_check_iac import CDK, PLAN


def _plan_with_role(tmp_path: Path, role_arn: str) -> Path:
    plan = json.loads(PLAN.read_text())
    for resource in plan["planned_values"]["root_module"]["resources"]:
        resource["values"]["execution_role_arn"] = role_arn
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def test_role_from_aws_checks_every_task_definition_of_a_plan(
    iam_lab: IamLab,
    aws_env: list[str],  # noqa: F811 - fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", iam_lab.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", iam_lab.admin.secret_key)
    role = iam_lab.make_role("plan", {"read": json.loads((POLICIES / "ssm-read.json").read_text())})
    result = run(_plan_with_role(tmp_path, role), "--role-from-aws", *aws_env, "--json")
    assert result.exit_code == 1, result.output
    missing = {
        (f["resource"], f["path"])
        for f in as_json(result)["errors"]
        if f["code"] == "iam-permission-missing"
    }
    # The legacy task reads an S3 spec its role may not read (twice: both fields).
    assert missing == {
        ("aws_ecs_task_definition.legacy", "container_definitions[0].dockerSecurityOptions[0]"),
        ("aws_ecs_task_definition.legacy", "container_definitions[0].credentialSpecs[0]"),
    }


def test_fetch_reads_the_spec_a_cdk_task_names(
    aws: AwsLab,
    aws_env: list[str],  # noqa: F811 - fixture
    tmp_path: Path,
) -> None:
    out = tmp_path / "cdk.out"
    shutil.copytree(CDK, out)
    stack = out / "GmsaWindowsStack.template.json"
    stack.write_text(stack.read_text().replace("eu-west-1", REGION))
    aws.put_parameter("/gmsa/api", json.dumps(EXAMPLE_SPEC))
    result = run(out, "--fetch", *aws_env, "--json")
    assert result.exit_code == 0, result.output
    (report,) = as_json(result)["task_definitions"]
    assert report["containers"][0]["references"][0]["gmsa_name"] == "WebApp01"
    # Hostname api01 differs from the gMSA: a warning off Windows Server 2016.
    warnings = {w["code"]: w for w in report["warnings"]}
    assert warnings["hostname-not-gmsa-name"]["path"] == (
        "Properties.ContainerDefinitions[0].Hostname"
    )
    assert warnings["hostname-not-gmsa-name"]["line"] == 32
