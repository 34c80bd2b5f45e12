"""Reading a role's policies: typed errors and policy documents as IAM encodes them."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from gmsa.aws import AwsConfig
from gmsa.errors import InvalidInputError
from gmsa.iam.role import InvalidRoleArnError, RoleReadError, decode_document, role_name
from gmsa.iam.role import role_policies as read_role_policies

OBJECT = "arn:aws:s3:::example-gmsa-specs/specs/webapp01.json"


def s3_policy(resource: str = OBJECT) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}],
    }


def test_unreachable_endpoint_is_a_typed_external_error() -> None:
    config = AwsConfig(
        endpoint_url="http://127.0.0.1:9",
        region="us-east-1",
        access_key_id="a",
        secret_access_key="b",
        max_attempts=1,
        connect_timeout=0.5,
    )
    with pytest.raises(RoleReadError) as info:
        read_role_policies(config, "arn:aws:iam::123456789012:role/r")
    assert "iam:ListRolePolicies" in info.value.what


@pytest.mark.parametrize(
    "arn",
    [
        "exec-role",
        "arn:aws:iam::123456789012:user/admin",
        "arn:aws:iam::12345:role/r",
        "arn:aws:sts::123456789012:assumed-role/r/s",
    ],
)
def test_malformed_role_arn_is_invalid_input(arn: str) -> None:
    with pytest.raises(InvalidRoleArnError) as info:
        role_name(arn)
    assert isinstance(info.value, InvalidInputError)


def test_url_encoded_document_is_decoded() -> None:
    raw = urllib.parse.quote(json.dumps(s3_policy()))
    assert decode_document(raw, "p") == s3_policy()


def test_plain_json_string_document_is_decoded() -> None:
    assert decode_document(json.dumps(s3_policy()), "p") == s3_policy()


def test_already_decoded_document_is_kept() -> None:
    assert decode_document(s3_policy(), "p") == s3_policy()
