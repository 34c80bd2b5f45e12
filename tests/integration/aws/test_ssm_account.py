"""An SSM reference whose ARN names another account than the credentials in use is refused:
GetParameters takes only the name, so it would silently read the caller's own parameter of
that name. The same account reads as before; the caller's account is asked once per
configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gmsa.aws import AwsConfig
from gmsa.reference import SsmLocation, parse
from gmsa.source.ssm import SsmAccountMismatchError, SsmSource
from tests.conftest import EXAMPLE_SPEC
from tests.support.moto import ACCOUNT, AwsLab
from tests.unit.cli.test_task_check import DATA, as_json, example_doc, run, write

OTHER = "210987654321"
"""A 12-digit account that is not moto's default one."""

NAME = "webapp01-credspec"


def config_for(lab: AwsLab, **extra: Any) -> AwsConfig:
    return AwsConfig(
        region=lab.region,
        endpoint_url=lab.endpoint,
        access_key_id=lab.access_key,
        secret_access_key=lab.secret_key,
        **extra,
    )


def location(account: str, name: str = NAME) -> SsmLocation:
    found = parse(f"arn:aws:ssm:us-east-1:{account}:parameter/{name}", require_prefix=False)
    assert isinstance(found.location, SsmLocation)
    return found.location


def calls_of(config: AwsConfig, service: str) -> list[str]:
    """The API calls ``config``'s client of ``service`` makes from now on."""
    calls: list[str] = []
    config.client(service, region="us-east-1").meta.events.register(
        f"before-call.{service}", lambda model, **_: calls.append(model.name)
    )
    return calls


def test_another_accounts_parameter_is_refused_not_read_from_the_callers(aws: AwsLab) -> None:
    aws.put_parameter(NAME, "the caller's own parameter of that name")
    config = config_for(aws)
    ssm_calls = calls_of(config, "ssm")
    with pytest.raises(SsmAccountMismatchError) as caught:
        SsmSource(config).fetch(location(OTHER))
    error = caught.value
    assert error.exit_code == 1
    assert error.code == "account-mismatch"
    assert f"account {OTHER}" in error.what
    assert f"account {ACCOUNT}" in error.what
    assert error.where == f"ssm:GetParameters on arn:aws:ssm:us-east-1:{OTHER}:parameter/{NAME}"
    assert f"role of account {OTHER}" in (error.fix or "")
    assert f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/{NAME}" in (error.fix or "")
    assert ssm_calls == []  # nothing was read


def test_the_callers_own_account_reads_as_before(aws: AwsLab) -> None:
    aws.put_parameter(NAME, "{}")
    assert SsmSource(config_for(aws)).fetch(location(ACCOUNT)).data == b"{}"


def test_a_role_of_the_parameters_account_reads_it(aws: AwsLab) -> None:
    role_arn = f"arn:aws:iam::{OTHER}:role/gmsa-reader"
    config = config_for(aws, role_arn=role_arn)
    assert config.caller_account() == OTHER
    ssm = config.client("ssm", region="us-east-1")
    ssm.put_parameter(Name=NAME, Value='"other"', Type="String")
    aws.put_parameter(NAME, '"default"')
    assert SsmSource(config).fetch(location(OTHER)).data == b'"other"'
    with pytest.raises(SsmAccountMismatchError):
        SsmSource(config).fetch(location(ACCOUNT))


def test_the_callers_account_is_asked_once_per_configuration(aws: AwsLab) -> None:
    aws.put_parameter(NAME, "{}")
    aws.put_parameter("second", "{}")
    config = config_for(aws)
    sts_calls = calls_of(config, "sts")
    source = SsmSource(config)
    for name in (NAME, "second", NAME):
        source.fetch(location(ACCOUNT, name))
    with pytest.raises(SsmAccountMismatchError):
        source.fetch(location(OTHER))
    assert sts_calls == ["GetCallerIdentity"]


@pytest.fixture
def aws_env(aws: AwsLab, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", aws.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws.secret_key)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return ["--region", aws.region, "--endpoint-url", aws.endpoint]


def test_task_check_fetch_reports_the_account_mismatch(
    aws: AwsLab, aws_env: list[str], tmp_path: Path
) -> None:
    aws.put_parameter(NAME, json.dumps(EXAMPLE_SPEC))
    document = example_doc("ssm.json")
    reference = f"credentialspec:arn:aws:ssm:us-east-1:{OTHER}:parameter/{NAME}"
    document["containerDefinitions"][0]["dockerSecurityOptions"] = [reference]
    result = run(write(tmp_path / "t.json", document), "--fetch", *aws_env, "--json")
    assert result.exit_code == 1, result.output
    (found,) = as_json(result)["errors"]
    assert found["code"] == "account-mismatch"
    assert OTHER in found["message"]
    same = run(DATA / "ssm.json", "--fetch", *aws_env, "--json")
    assert same.exit_code == 0, same.output
