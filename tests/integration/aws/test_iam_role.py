"""Reading a role's policies from a real IAM endpoint (moto, IAM enforced)."""

from __future__ import annotations

import json

import pytest

from gmsa.aws import AwsConfig
from gmsa.errors import ExitCode
from gmsa.iam import role as role_module
from gmsa.iam.evaluate import evaluate
from gmsa.iam.requirements import Permission
from gmsa.iam.role import RoleReadError, role_name
from gmsa.iam.role import role_policies as read_role_policies
from tests.support.moto import IamLab
from tests.unit.iam.test_role import OBJECT, s3_policy

GET = Permission("s3:GetObject", OBJECT, "read the credential spec object")


def admin_config(iam_lab: IamLab) -> AwsConfig:
    return AwsConfig(
        endpoint_url=iam_lab.aws.endpoint,
        region="us-east-1",
        access_key_id=iam_lab.admin.access_key,
        secret_access_key=iam_lab.admin.secret_key,
    )


def test_inline_policies_are_read_and_named_by_role_and_policy(iam_lab: IamLab) -> None:
    arn = iam_lab.make_role("exec-inline", {"read-spec": s3_policy()})
    (policy,) = read_role_policies(admin_config(iam_lab), arn)
    assert policy.name == "role/exec-inline/inline/read-spec"
    assert evaluate([policy], [GET])[0].allowed


def test_attached_managed_policies_are_read_and_named_by_arn(iam_lab: IamLab) -> None:
    arn = iam_lab.make_role("exec-managed", {}, managed={"gmsa-read": s3_policy()})
    (policy,) = read_role_policies(admin_config(iam_lab), arn)
    assert policy.name == f"arn:aws:iam::{iam_lab.aws.account}:policy/gmsa-read"
    assert evaluate([policy], [GET])[0].allowed


def test_inline_come_before_managed(iam_lab: IamLab) -> None:
    arn = iam_lab.make_role(
        "exec-both", {"a": s3_policy(), "b": s3_policy()}, managed={"m": s3_policy()}
    )
    names = [p.name for p in read_role_policies(admin_config(iam_lab), arn)]
    assert names[:2] == ["role/exec-both/inline/a", "role/exec-both/inline/b"]
    assert names[2].endswith(":policy/m")


def test_managed_policy_is_read_at_its_default_version(iam_lab: IamLab) -> None:
    arn = iam_lab.make_role("exec-versions", {}, managed={"v": s3_policy("arn:aws:s3:::old/*")})
    iam = iam_lab.admin.client("iam")
    policy_arn = f"arn:aws:iam::{iam_lab.aws.account}:policy/v"
    iam.create_policy_version(
        PolicyArn=policy_arn, PolicyDocument=json.dumps(s3_policy()), SetAsDefault=True
    )
    (policy,) = read_role_policies(admin_config(iam_lab), arn)
    assert evaluate([policy], [GET])[0].allowed


def test_role_with_a_path_is_read_by_its_name(iam_lab: IamLab) -> None:
    arn = iam_lab.make_role("exec-path", {"p": s3_policy()})
    with_path = arn.replace(":role/", ":role/team/")
    assert role_name(with_path) == "exec-path"


def test_attached_policies_are_all_read_across_pages(
    iam_lab: IamLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(role_module, "PAGE_SIZE", 2)
    managed = {f"m{i}": s3_policy() for i in range(5)}
    arn = iam_lab.make_role("exec-pages", {}, managed=managed)
    assert len(read_role_policies(admin_config(iam_lab), arn)) == 5


def test_missing_role_is_a_typed_external_error(iam_lab: IamLab) -> None:
    missing = f"arn:aws:iam::{iam_lab.aws.account}:role/no-such-role"
    with pytest.raises(RoleReadError) as info:
        read_role_policies(admin_config(iam_lab), missing)
    assert info.value.exit_code is ExitCode.EXTERNAL
    assert info.value.where == missing
    assert "does not exist" in info.value.what


def test_caller_without_get_role_policy_gets_an_error_naming_the_action(iam_lab: IamLab) -> None:
    arn = iam_lab.make_role("exec-guarded", {"read-spec": s3_policy()})
    iam = iam_lab.admin.client("iam")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(
        UserName="auditor",
        PolicyName="list-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    auditor = AwsConfig(
        endpoint_url=iam_lab.aws.endpoint,
        region="us-east-1",
        access_key_id=key["AccessKeyId"],
        secret_access_key=key["SecretAccessKey"],
    )
    with pytest.raises(RoleReadError) as info:
        read_role_policies(auditor, arn)
    assert "iam:GetRolePolicy" in info.value.what
    assert info.value.where == arn
    assert info.value.exit_code is ExitCode.EXTERNAL
