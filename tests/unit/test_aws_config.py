"""AwsConfig without AWS: unreachable or wrong endpoints, profiles, options, secrets kept out."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from gmsa.aws import (
    AwsAccessDeniedError,
    AwsConfig,
    AwsConnectionError,
    AwsCredentialsError,
    AwsError,
    aws_error,
)
from gmsa.cli._aws import aws_config_from, aws_options
from gmsa.errors import InvalidInputError
from tests.support.endpoints import answering
from tests.support.moto import ACCOUNT, free_port


def test_unreachable_endpoint_is_a_typed_error_quickly() -> None:
    config = AwsConfig(
        region="us-east-1",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        access_key_id="testing",
        secret_access_key="testing",
        connect_timeout=0.5,
        read_timeout=0.5,
        max_attempts=1,
    )
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        config.client("s3").get_object(Bucket="b", Key="k")
    error = aws_error(caught.value, action="s3:GetObject", resource="arn:aws:s3:::b/k")
    assert isinstance(error, AwsConnectionError)
    assert str(config.endpoint_url) in error.what
    assert "endpoint" in (error.fix or "")
    assert time.monotonic() - started < 5


def local_config(endpoint: str) -> AwsConfig:
    return AwsConfig(
        region="us-east-1",
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        max_attempts=1,
    )


def test_an_http_500_from_the_endpoint_says_it_is_a_server_error_not_a_refusal() -> None:
    page = b"<html>Internal Server Error</html>"
    with answering(500, page) as endpoint, pytest.raises(Exception) as caught:
        local_config(endpoint).client("ssm").get_parameters(Names=["x"])
    error = aws_error(caught.value, action="ssm:GetParameters", resource="arn:aws:ssm:x")
    assert type(error) is AwsError
    assert "HTTP 500" in error.what
    assert "refus" not in error.what.replace("not a refusal", "")
    assert error.where == "ssm:GetParameters on arn:aws:ssm:x"
    assert "--endpoint-url" in (error.fix or "")


def test_an_answer_that_is_not_aws_names_the_endpoint_as_the_suspect() -> None:
    page = b"<html>a proxy's login page"
    with answering(200, page) as endpoint, pytest.raises(Exception) as caught:
        local_config(endpoint).client("sts").get_caller_identity()
    error = aws_error(caught.value, action="sts:GetCallerIdentity", resource="*")
    assert type(error) is AwsError
    assert "not an AWS response" in error.what
    assert error.where == "sts:GetCallerIdentity on *"
    assert "--endpoint-url" in (error.fix or "")


def test_unknown_profile_is_a_typed_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with pytest.raises(AwsCredentialsError):
        AwsConfig(profile="no-such-profile").session()


def test_secrets_never_appear_in_the_config_repr() -> None:
    config = AwsConfig(access_key_id="AKIDEXAMPLE", secret_access_key="s3cr3t-value")
    assert "s3cr3t-value" not in repr(config)


def _options_command() -> click.Command:
    @click.command()
    @aws_options
    def show(**params: Any) -> None:
        config = aws_config_from(params)
        click.echo(
            json.dumps([config.region, config.endpoint_url, config.profile, config.role_arn])
        )

    return show


def test_aws_options_fall_back_to_the_environment() -> None:
    result = CliRunner().invoke(
        _options_command(),
        [],
        env={
            "AWS_REGION": None,
            "AWS_DEFAULT_REGION": "eu-west-3",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
            "AWS_PROFILE": "ops",
        },
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == ["eu-west-3", "http://127.0.0.1:1", "ops", None]


def test_aws_region_option_beats_the_environment() -> None:
    result = CliRunner().invoke(
        _options_command(),
        ["--region", "us-west-2", "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/exec"],
        env={"AWS_REGION": "eu-west-3"},
    )
    assert json.loads(result.output)[0] == "us-west-2"
    assert json.loads(result.output)[3] == f"arn:aws:iam::{ACCOUNT}:role/exec"


def test_role_arn_that_names_no_role_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        aws_config_from({"role_arn": f"arn:aws:iam::{ACCOUNT}:user/admin"})
    assert "--role-arn" in (caught.value.where or "")


def test_an_access_denied_fix_names_no_option_some_commands_lack() -> None:
    """aws_error serves every command (audit has no --role-arn): its fix names the policy
    to add, not an option."""
    denied = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "no"}, "ResponseMetadata": {}},
        "GetParameters",
    )
    made = aws_error(denied, action="ssm:GetParameters", resource="arn:aws:ssm:::parameter/x")
    assert isinstance(made, AwsAccessDeniedError)
    assert made.fix is not None and "ssm:GetParameters" in made.fix
    assert " --" not in made.fix
