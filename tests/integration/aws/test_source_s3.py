"""S3 source: one GetObject per fetch, size refused before reading, typed errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gmsa.aws import AwsConfig
from gmsa.errors import AccessDeniedError, NotFoundError
from gmsa.reference import S3Location
from gmsa.source.fetcher import SpecFetcher
from gmsa.source.interface import SpecTooLargeError
from gmsa.source.s3 import S3Source
from tests.support.moto import AwsLab, IamLab

LOCATION = S3Location(partition="aws", bucket="specs", key="ecs/webapp01.json")


def config_for(lab: AwsLab, **extra: Any) -> AwsConfig:
    return AwsConfig(
        region=lab.region,
        endpoint_url=lab.endpoint,
        access_key_id=lab.access_key,
        secret_access_key=lab.secret_key,
        **extra,
    )


def count_calls(config: AwsConfig, service: str) -> list[str]:
    """Names of the API calls the shared client makes from now on."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    config.client(service).meta.events.register(f"before-call.{service}", record)
    return calls


def test_fetch_returns_the_object_and_its_etag(aws: AwsLab, example_spec: dict[str, Any]) -> None:
    body = json.dumps(example_spec).encode()
    aws.put_object(LOCATION.bucket, LOCATION.key, body)
    fetched = S3Source(config_for(aws)).fetch(LOCATION)
    assert fetched.data == body
    assert fetched.version and fetched.version.strip('"')


def test_fetch_makes_exactly_one_request(aws: AwsLab) -> None:
    aws.put_object(LOCATION.bucket, LOCATION.key, b"{}")
    config = config_for(aws)
    calls = count_calls(config, "s3")
    S3Source(config).fetch(LOCATION)
    assert calls == ["GetObject"]


def test_missing_object_is_not_found_naming_the_action(aws: AwsLab) -> None:
    aws.put_object(LOCATION.bucket, "other.json", b"{}")
    with pytest.raises(NotFoundError) as caught:
        S3Source(config_for(aws)).fetch(LOCATION)
    assert caught.value.exit_code == 3
    assert "s3:GetObject" in (caught.value.where or "")
    assert LOCATION.arn in (caught.value.where or "")


def test_missing_bucket_is_not_found(aws: AwsLab) -> None:
    with pytest.raises(NotFoundError):
        S3Source(config_for(aws)).fetch(LOCATION)


def test_object_over_64_kib_is_refused(aws: AwsLab) -> None:
    aws.put_object(LOCATION.bucket, LOCATION.key, b" " * (70 * 1024))
    with pytest.raises(SpecTooLargeError) as caught:
        S3Source(config_for(aws)).fetch(LOCATION)
    assert str(70 * 1024) in caught.value.what


def test_object_of_exactly_64_kib_is_read(aws: AwsLab) -> None:
    aws.put_object(LOCATION.bucket, LOCATION.key, b" " * (64 * 1024))
    assert len(S3Source(config_for(aws)).fetch(LOCATION).data) == 64 * 1024


def test_current_version_is_the_etag_from_head(aws: AwsLab) -> None:
    aws.put_object(LOCATION.bucket, LOCATION.key, b"{}")
    source = S3Source(config_for(aws))
    assert source.current_version(LOCATION) == source.fetch(LOCATION).version


def test_execution_role_allowed_to_read_fetches(iam_lab: IamLab) -> None:
    iam_lab.admin.put_object(LOCATION.bucket, LOCATION.key, b"{}")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:Get*", "s3:List*"],
                "Resource": [f"arn:aws:s3:::{LOCATION.bucket}", LOCATION.arn],
            }
        ],
    }
    role = iam_lab.make_role("exec-s3", {"s3": policy})
    fetcher = SpecFetcher(aws=config_for(iam_lab.admin, role_arn=role))
    assert fetcher.fetch(LOCATION).data == b"{}"


def test_execution_role_without_the_read_is_denied_naming_action_and_resource(
    iam_lab: IamLab,
) -> None:
    iam_lab.admin.put_object(LOCATION.bucket, LOCATION.key, b"{}")
    other = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "*"}],
    }
    role = iam_lab.make_role("exec-ssm-only", {"ssm": other})
    fetcher = SpecFetcher(aws=config_for(iam_lab.admin, role_arn=role))
    with pytest.raises(AccessDeniedError) as caught:
        fetcher.fetch(LOCATION)
    assert caught.value.exit_code == 3
    assert "s3:GetObject" in caught.value.what
    assert "s3:GetObject" in (caught.value.fix or "")
    assert LOCATION.arn in (caught.value.fix or "")
