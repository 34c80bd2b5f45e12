"""The exact permissions each kind of reference needs, and the ARNs given for secrets and keys."""

from __future__ import annotations

import pytest

from gmsa.iam.requirements import (
    InvalidArnError,
    Permission,
    merge_permissions,
    required_permissions,
    requirement_findings,
)
from gmsa.reference import parse

S3 = "credentialspec:arn:aws:s3:::example-gmsa-specs/specs/webapp01.json"
SSM = "credentialspec:arn:aws:ssm:us-east-1:123456789012:parameter/webapp01-credspec"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gmsa-user-AbCdEf"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def actions(perms: tuple[Permission, ...]) -> list[tuple[str, str]]:
    return [(p.action, p.resource) for p in perms]


def test_s3_reference_needs_get_object_on_the_object() -> None:
    assert actions(required_permissions(parse(S3))) == [
        ("s3:GetObject", "arn:aws:s3:::example-gmsa-specs/specs/webapp01.json")
    ]


def test_ssm_reference_needs_get_parameters_on_the_parameter() -> None:
    assert actions(required_permissions(parse(SSM))) == [
        ("ssm:GetParameters", "arn:aws:ssm:us-east-1:123456789012:parameter/webapp01-credspec")
    ]


def test_file_reference_needs_nothing() -> None:
    assert required_permissions(parse("credentialspec:file://webapp01.json")) == ()


def test_every_permission_says_why() -> None:
    for perm in required_permissions(parse(S3)) + required_permissions(parse(SSM)):
        assert perm.reason.startswith("read the credential spec")


def test_domainless_reference_adds_the_user_secret() -> None:
    ref = parse(S3.replace("credentialspec:", "credentialspecdomainless:"))
    assert ("secretsmanager:GetSecretValue", SECRET) in actions(
        required_permissions(ref, secret_arn=SECRET)
    )


def test_domainless_file_reference_still_needs_the_user_secret() -> None:
    ref = parse("credentialspecdomainless:file://webapp01.json")
    assert actions(required_permissions(ref, secret_arn=SECRET)) == [
        ("secretsmanager:GetSecretValue", SECRET)
    ]


def test_domain_joined_reference_ignores_a_secret() -> None:
    assert len(required_permissions(parse(S3), secret_arn=SECRET)) == 1


def test_user_secret_in_ssm_needs_get_parameters() -> None:
    ref = parse("credentialspecdomainless:file://a.json")
    arn = "arn:aws:ssm:us-east-1:123456789012:parameter/gmsa/user"
    assert actions(required_permissions(ref, secret_arn=arn)) == [("ssm:GetParameters", arn)]


def test_kms_key_adds_decrypt_on_the_key() -> None:
    assert ("kms:Decrypt", KEY) in actions(required_permissions(parse(SSM), kms_key_arn=KEY))


def test_kms_key_is_not_needed_for_a_file_spec() -> None:
    assert required_permissions(parse("credentialspec:file://a.json"), kms_key_arn=KEY) == ()


def test_missing_secret_for_domainless_reference_is_reported() -> None:
    ref = parse("credentialspecdomainless:file://a.json")
    findings = requirement_findings(ref, path="x")
    assert [f.code for f in findings] == ["domainless-secret-unknown"]
    assert findings[0].fix is not None and "--secret-arn" in findings[0].fix


def test_known_secret_leaves_nothing_to_report() -> None:
    ref = parse("credentialspecdomainless:file://a.json")
    assert requirement_findings(ref, secret_arn=SECRET) == []


def test_merge_keeps_each_permission_once_in_first_seen_order() -> None:
    a = required_permissions(parse(S3))
    b = required_permissions(parse(SSM))
    assert merge_permissions([a, b, a]) == a + b


@pytest.mark.parametrize(
    ("arn", "part"),
    [
        ("gmsa-user", "ARN"),
        ("arn:aws:secretsmanager:us-east-1:123456789012", "ARN"),
        ("arn:aws-xx:secretsmanager:us-east-1:123456789012:secret:x", "ARN partition"),
        ("arn:aws:s3:us-east-1:123456789012:secret:x", "ARN service"),
        ("arn:aws:secretsmanager:mars-1:123456789012:secret:x", "ARN region"),
        ("arn:aws:secretsmanager:us-east-1:1234:secret:x", "ARN account"),
        ("arn:aws:secretsmanager:us-east-1:123456789012:key:x", "ARN resource"),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:a b", "secret name"),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/a//b", "SSM parameter name"),
    ],
)
def test_bad_secret_arn_names_the_part(arn: str, part: str) -> None:
    ref = parse("credentialspecdomainless:file://a.json")
    with pytest.raises(InvalidArnError) as info:
        required_permissions(ref, secret_arn=arn)
    assert info.value.part == part


@pytest.mark.parametrize(
    ("arn", "part"),
    [
        ("arn:aws:kms:us-east-1:123456789012:alias/gmsa", "ARN resource"),
        ("arn:aws:kms:us-east-1:123456789012:key/not-a-key", "ARN resource"),
        ("arn:aws:kms:us-east-1:12345:key/1234abcd-12ab-34cd-56ef-1234567890ab", "ARN account"),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", "ARN"),
    ],
)
def test_bad_kms_key_arn_names_the_part(arn: str, part: str) -> None:
    with pytest.raises(InvalidArnError) as info:
        required_permissions(parse(SSM), kms_key_arn=arn)
    assert info.value.part == part


def test_kms_alias_is_refused_with_how_to_find_the_key() -> None:
    with pytest.raises(InvalidArnError) as info:
        required_permissions(parse(SSM), kms_key_arn="arn:aws:kms:us-east-1:123456789012:alias/x")
    assert info.value.fix is not None and "describe-key" in info.value.fix


def test_multi_region_key_is_accepted() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    assert ("kms:Decrypt", key) in actions(required_permissions(parse(SSM), kms_key_arn=key))
