"""The policy ``gmsa iam policy`` prints really lets a role read the spec, on an endpoint
that enforces IAM: the role is assumed through STS and makes the host's own calls.

The lab endpoint (``gmsa.localaws``) authorizes S3, SSM and Secrets Manager
calls on their resource ARNs, so each generated policy is proved exactly as
printed, and a policy for another object, parameter or secret is refused.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from gmsa.cli.main import cli
from tests.support.moto import IamLab

BUCKET = "example-gmsa-specs"
KEY = "specs/webapp01.json"
SPEC = b'{"CmsPlugins": ["ActiveDirectory"]}'


def generated_policy(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["iam", "policy", *args])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def assume(iam_lab: IamLab, name: str, policy: dict[str, Any]) -> boto3.Session:
    """A session of a new role whose only permissions are ``policy``."""
    arn = iam_lab.make_role(name, {"gmsa": policy})
    credentials = iam_lab.admin.client("sts").assume_role(RoleArn=arn, RoleSessionName="gmsa-test")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    )


def client(iam_lab: IamLab, session: boto3.Session, service: str) -> Any:
    return session.client(service, endpoint_url=iam_lab.aws.endpoint)  # type: ignore[call-overload]


def status(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


def test_generated_s3_policy_lets_the_role_get_and_head_the_object(iam_lab: IamLab) -> None:
    arn = iam_lab.admin.put_object(BUCKET, KEY, SPEC)
    session = assume(iam_lab, "exec-s3", generated_policy(f"credentialspec:{arn}"))
    s3 = client(iam_lab, session, "s3")
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == SPEC
    assert s3.head_object(Bucket=BUCKET, Key=KEY)["ContentLength"] == len(SPEC)


def test_generated_s3_policy_for_another_object_does_not_let_the_role_read(
    iam_lab: IamLab,
) -> None:
    iam_lab.admin.put_object(BUCKET, KEY, SPEC)
    policy = generated_policy(f"arn:aws:s3:::{BUCKET}/specs/other.json")
    s3 = client(iam_lab, assume(iam_lab, "exec-s3-other", policy), "s3")
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=BUCKET, Key=KEY)
    assert status(info) == 403


def test_role_without_the_s3_permission_cannot_read(iam_lab: IamLab) -> None:
    iam_lab.admin.put_object(BUCKET, KEY, SPEC)
    policy = generated_policy("arn:aws:ssm:us-east-1:123456789012:parameter/webapp01-credspec")
    s3 = client(iam_lab, assume(iam_lab, "exec-no-s3", policy), "s3")
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=BUCKET, Key=KEY)
    assert status(info) == 403


def test_generated_ssm_action_lets_the_role_get_parameters(iam_lab: IamLab) -> None:
    arn = iam_lab.admin.put_parameter("/gmsa/webapp01", SPEC.decode())
    policy = generated_policy(f"credentialspec:{arn}")
    ssm = client(iam_lab, assume(iam_lab, "exec-ssm", policy), "ssm")
    response = ssm.get_parameters(Names=["/gmsa/webapp01"], WithDecryption=True)
    assert [p["Value"] for p in response["Parameters"]] == [SPEC.decode()]


def test_get_parameter_singular_is_not_enough_for_get_parameters(iam_lab: IamLab) -> None:
    iam_lab.admin.put_parameter("/gmsa/webapp01", SPEC.decode())
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}],
    }
    ssm = client(iam_lab, assume(iam_lab, "exec-ssm-singular", policy), "ssm")
    with pytest.raises(ClientError) as info:
        ssm.get_parameters(Names=["/gmsa/webapp01"], WithDecryption=True)
    assert status(info) == 403


def test_generated_secret_action_lets_a_domainless_role_read_the_user(iam_lab: IamLab) -> None:
    user = {"username": "gmsa-reader", "password": "not-real", "domainName": "example.com"}
    secret = iam_lab.admin.put_secret("gmsa-user", user)
    policy = generated_policy(
        "credentialspecdomainless:file://webapp01.json", "--secret-arn", secret
    )
    secrets = client(iam_lab, assume(iam_lab, "exec-secret", policy), "secretsmanager")
    assert json.loads(secrets.get_secret_value(SecretId=secret)["SecretString"]) == user


def test_domainless_policy_without_the_secret_cannot_read_the_user(iam_lab: IamLab) -> None:
    secret = iam_lab.admin.put_secret("gmsa-user", {"username": "u", "password": "p"})
    policy = generated_policy(f"arn:aws:s3:::{BUCKET}/{KEY}")
    secrets = client(iam_lab, assume(iam_lab, "exec-no-secret", policy), "secretsmanager")
    with pytest.raises(ClientError) as info:
        secrets.get_secret_value(SecretId=secret)
    assert status(info) == 403


def test_generated_ssm_policy_for_another_parameter_does_not_let_the_role_read(
    iam_lab: IamLab,
) -> None:
    iam_lab.admin.put_parameter("/gmsa/webapp01", SPEC.decode())
    other = iam_lab.admin.put_parameter("/gmsa/other", SPEC.decode())
    ssm = client(iam_lab, assume(iam_lab, "exec-ssm-other", generated_policy(other)), "ssm")
    with pytest.raises(ClientError) as info:
        ssm.get_parameters(Names=["/gmsa/webapp01"], WithDecryption=True)
    assert status(info) == 403


def test_generated_secret_policy_for_another_secret_does_not_let_the_role_read(
    iam_lab: IamLab,
) -> None:
    secret = iam_lab.admin.put_secret("gmsa-user", {"username": "u", "password": "p"})
    other = iam_lab.admin.put_secret("gmsa-other", {"username": "v", "password": "q"})
    policy = generated_policy(
        "credentialspecdomainless:file://webapp01.json", "--secret-arn", other
    )
    secrets = client(iam_lab, assume(iam_lab, "exec-secret-other", policy), "secretsmanager")
    with pytest.raises(ClientError) as info:
        secrets.get_secret_value(SecretId=secret)
    assert status(info) == 403
