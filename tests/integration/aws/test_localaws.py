"""The lab endpoint authorizes SSM and Secrets Manager on resource ARNs, as AWS does."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support.moto import REGION, IamLab


def _assume(lab: IamLab, role_arn: str) -> boto3.Session:
    creds = lab.admin.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="gmsa-tests")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def _policy(action: str, resource: str) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
    }


def test_ssm_policy_on_the_parameter_arn_allows_it(iam_lab: IamLab) -> None:
    arn = iam_lab.admin.put_parameter("/specs/app", "{}")
    role = iam_lab.make_role("r1", {"p": _policy("ssm:GetParameters", arn)})
    ssm = _assume(iam_lab, role).client("ssm", endpoint_url=iam_lab.aws.endpoint)
    assert ssm.get_parameters(Names=["/specs/app"])["Parameters"][0]["Value"] == "{}"


def test_ssm_policy_on_another_parameter_is_refused(iam_lab: IamLab) -> None:
    iam_lab.admin.put_parameter("/specs/app", "{}")
    other = iam_lab.admin.put_parameter("/specs/other", "{}")
    role = iam_lab.make_role("r2", {"p": _policy("ssm:GetParameters", other)})
    ssm = _assume(iam_lab, role).client("ssm", endpoint_url=iam_lab.aws.endpoint)
    with pytest.raises(ClientError) as caught:
        ssm.get_parameters(Names=["/specs/app"])
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_secret_policy_on_another_secret_is_refused(iam_lab: IamLab) -> None:
    iam_lab.admin.put_secret("gmsa/user", {"username": "u", "password": "p", "domainName": "d"})
    other = iam_lab.admin.put_secret("gmsa/other", {"username": "u"})
    role = iam_lab.make_role("r3", {"p": _policy("secretsmanager:GetSecretValue", other)})
    sm = _assume(iam_lab, role).client("secretsmanager", endpoint_url=iam_lab.aws.endpoint)
    assert json.loads(sm.get_secret_value(SecretId=other)["SecretString"]) == {"username": "u"}
    with pytest.raises(ClientError) as caught:
        sm.get_secret_value(SecretId="gmsa/user")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
