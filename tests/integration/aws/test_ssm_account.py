"""An SSM reference whose ARN names another account than the credentials in use is refused:
GetParameters takes only the name, so it would silently read the caller's own parameter of
that name. The same account reads as before; the caller's account is asked once per
configuration."""

from __future__ import annotations

import pytest

from gmsa.aws import AwsConfig
from gmsa.reference import SsmLocation, parse
from gmsa.source.ssm import SsmAccountMismatchError, SsmSource
from tests.integration.aws.test_source_ssm import config_for
from tests.support.moto import ACCOUNT, AwsLab

OTHER = "210987654321"
"""A 12-digit account that is not moto's default one."""

NAME = "webapp01-credspec"


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
