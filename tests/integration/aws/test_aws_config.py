"""AwsConfig against the moto server: sessions, clients, the execution role, typed errors."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from gmsa.aws import (
    AssumeRoleError,
    AwsConfig,
    AwsCredentialsError,
    aws_error,
)
from gmsa.errors import AccessDeniedError
from tests.support.moto import ACCOUNT, AwsLab, IamLab


def config_for(lab: AwsLab, **extra: Any) -> AwsConfig:
    return AwsConfig(
        region=lab.region,
        endpoint_url=lab.endpoint,
        access_key_id=lab.access_key,
        secret_access_key=lab.secret_key,
        **extra,
    )


def test_session_is_made_once_for_all_threads(aws: AwsLab) -> None:
    config = config_for(aws)
    sessions: list[object] = []
    threads = [threading.Thread(target=lambda: sessions.append(config.session())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(s) for s in sessions}) == 1


def test_clients_are_cached_per_service_and_region(aws: AwsLab) -> None:
    config = config_for(aws)
    assert config.client("s3") is config.client("s3")
    assert config.client("ssm") is not config.client("ssm", region="eu-west-1")
    assert config.client("ssm", region="eu-west-1").meta.region_name == "eu-west-1"


def test_role_arn_gives_the_assumed_role_identity(iam_lab: IamLab) -> None:
    role = iam_lab.make_role("execution", {})
    config = config_for(iam_lab.admin, role_arn=role)
    identity = config.client("sts").get_caller_identity()
    assert ":assumed-role/execution/" in identity["Arn"]


def test_assume_role_refused_names_the_role_and_what_to_check(iam_lab: IamLab) -> None:
    iam = iam_lab.admin.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/someone-else"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="untrusting", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    config = config_for(iam_lab.admin, role_arn=role)
    with pytest.raises(AssumeRoleError) as caught:
        config.session()
    assert isinstance(caught.value, AccessDeniedError)
    assert role in (caught.value.where or "")
    assert "trust policy" in (caught.value.fix or "")
    assert "sts:AssumeRole" in (caught.value.fix or "")
    assert iam_lab.admin_arn in (caught.value.fix or "")


def test_missing_credentials_are_a_typed_error(
    aws: AwsLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    config = AwsConfig(region=aws.region, endpoint_url=aws.endpoint)
    with pytest.raises(Exception) as caught:
        config.client("s3").get_object(Bucket="b", Key="k")
    error = aws_error(caught.value, action="s3:GetObject", resource="arn:aws:s3:::b/k")
    assert isinstance(error, AwsCredentialsError)
