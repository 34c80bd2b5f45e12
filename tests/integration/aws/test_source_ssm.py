"""SSM source: GetParameters with decryption, as the ECS agent reads parameters."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gmsa.aws import AwsConfig
from gmsa.errors import AccessDeniedError, NotFoundError
from gmsa.reference import SsmLocation, parse
from gmsa.source.fetcher import SpecFetcher
from gmsa.source.ssm import SsmSource
from tests.support.moto import ACCOUNT, AwsLab, IamLab


def config_for(lab: AwsLab, **extra: Any) -> AwsConfig:
    return AwsConfig(
        region=lab.region,
        endpoint_url=lab.endpoint,
        access_key_id=lab.access_key,
        secret_access_key=lab.secret_key,
        **extra,
    )


def location(arn: str) -> SsmLocation:
    found = parse(arn, require_prefix=False).location
    assert isinstance(found, SsmLocation)
    return found


def test_fetch_returns_the_value_and_its_version(aws: AwsLab, example_spec: dict[str, Any]) -> None:
    value = json.dumps(example_spec)
    arn = aws.put_parameter("/gmsa/webapp01", value)
    fetched = SsmSource(config_for(aws)).fetch(location(arn))
    assert fetched.data == value.encode()
    assert fetched.version == "1"


def test_fetch_uses_get_parameters_once(aws: AwsLab) -> None:
    arn = aws.put_parameter("webapp01", "{}")
    config = config_for(aws)
    calls: list[str] = []
    config.client("ssm", region=aws.region).meta.events.register(
        "before-call.ssm", lambda model, **_: calls.append(model.name)
    )
    SsmSource(config).fetch(location(arn))
    assert calls == ["GetParameters"]


def test_secure_string_comes_back_decrypted(aws: AwsLab) -> None:
    arn = aws.put_parameter("/gmsa/secure", '{"a": 1}', secure=True)
    assert SsmSource(config_for(aws)).fetch(location(arn)).data == b'{"a": 1}'


def test_unknown_parameter_is_not_found(aws: AwsLab) -> None:
    missing = location(f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/gmsa/missing")
    with pytest.raises(NotFoundError) as caught:
        SsmSource(config_for(aws)).fetch(missing)
    assert caught.value.exit_code == 3
    assert "/gmsa/missing" in caught.value.what


def test_parameter_is_read_in_the_region_of_its_arn(aws: AwsLab) -> None:
    aws.session().client("ssm", region_name="eu-west-1", endpoint_url=aws.endpoint).put_parameter(
        Name="/gmsa/eu", Value="{}", Type="String"
    )
    eu = location(f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/gmsa/eu")
    assert SsmSource(config_for(aws)).fetch(eu).data == b"{}"


def test_execution_role_with_get_parameters_fetches(iam_lab: IamLab) -> None:
    arn = iam_lab.admin.put_parameter("/gmsa/webapp01", "{}")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": arn}],
    }
    role = iam_lab.make_role("exec-ssm", {"ssm": policy})
    fetcher = SpecFetcher(aws=config_for(iam_lab.admin, role_arn=role))
    assert fetcher.fetch(location(arn)).data == b"{}"


def test_execution_role_without_get_parameters_is_denied(iam_lab: IamLab) -> None:
    arn = iam_lab.admin.put_parameter("/gmsa/webapp01", "{}")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    role = iam_lab.make_role("exec-s3-only", {"s3": policy})
    fetcher = SpecFetcher(aws=config_for(iam_lab.admin, role_arn=role))
    with pytest.raises(AccessDeniedError) as caught:
        fetcher.fetch(location(arn))
    assert "ssm:GetParameters" in caught.value.what
    assert arn in (caught.value.fix or "")
