"""``gmsa iam check`` online: a role's policies read from a real IAM endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from tests.support.moto import IamLab
from tests.unit.cli.test_iam import (
    EXAMPLE_S3_POLICY,
    EXAMPLE_SSM_POLICY,
    S3_REF,
    SSM_REF,
    invoke,
    write,
)


def admin_env(iam_lab: IamLab) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": iam_lab.admin.access_key,
        "AWS_SECRET_ACCESS_KEY": iam_lab.admin.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def online(iam_lab: IamLab, role: str, *args: str, flag: str = "--check-role") -> Result:
    return invoke(
        "check",
        flag,
        role,
        "--endpoint-url",
        iam_lab.aws.endpoint,
        *args,
        env=admin_env(iam_lab),
    )


@pytest.mark.parametrize("flag", ["--check-role", "--role"])  # --role: the deprecated alias
def test_role_with_the_ecs_example_policies_passes(iam_lab: IamLab, flag: str) -> None:
    role = iam_lab.make_role(
        f"exec-ecs-example{flag.count('-') + len(flag)}",
        {"s3": EXAMPLE_S3_POLICY, "ssm": EXAMPLE_SSM_POLICY},
    )
    result = online(iam_lab, role, S3_REF, SSM_REF, flag=flag)
    assert result.exit_code == 0, result.output
    assert f"role/exec-ecs-example{flag.count('-') + len(flag)}/inline/s3" in result.stdout


def test_role_with_a_managed_policy_passes(iam_lab: IamLab) -> None:
    role = iam_lab.make_role("exec-managed", {}, managed={"gmsa-s3": EXAMPLE_S3_POLICY})
    assert online(iam_lab, role, S3_REF).exit_code == 0


def test_role_missing_the_permission_fails(iam_lab: IamLab) -> None:
    role = iam_lab.make_role("exec-ssm-only", {"ssm": EXAMPLE_SSM_POLICY})
    result = online(iam_lab, role, "--json", S3_REF)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["decisions"][0]["outcome"] == "implicit-deny"


def test_role_and_policy_files_are_combined(iam_lab: IamLab, tmp_path: Path) -> None:
    role = iam_lab.make_role("exec-part", {"ssm": EXAMPLE_SSM_POLICY})
    s3 = write(tmp_path, "s3.json", EXAMPLE_S3_POLICY)
    assert online(iam_lab, role, "--policy", s3, S3_REF, SSM_REF).exit_code == 0


def test_missing_role_exits_3(iam_lab: IamLab) -> None:
    role = f"arn:aws:iam::{iam_lab.aws.account}:role/nobody"
    result = online(iam_lab, role, "--json", S3_REF)
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["code"] == "role-read-failed"


def test_caller_who_may_not_read_the_role_exits_3(iam_lab: IamLab) -> None:
    role = iam_lab.make_role("exec-closed", {"s3": EXAMPLE_S3_POLICY})
    iam = iam_lab.admin.client("iam")
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    env = {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = invoke(
        "check", "--check-role", role, "--endpoint-url", iam_lab.aws.endpoint, S3_REF, env=env
    )
    assert result.exit_code == 3
    assert "iam:ListRolePolicies" in result.stderr


def test_unknown_access_key_exits_3(iam_lab: IamLab) -> None:
    role = iam_lab.make_role("exec-unknown", {"s3": EXAMPLE_S3_POLICY})
    env = {
        "AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000000",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = invoke(
        "check", "--check-role", role, "--endpoint-url", iam_lab.aws.endpoint, S3_REF, env=env
    )
    assert result.exit_code == 3
    assert "refused the credentials" in result.stderr
