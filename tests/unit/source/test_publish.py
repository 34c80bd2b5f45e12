"""``gmsa spec publish`` targets, and publishing into a local folder."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from gmsa.cli.main import cli
from gmsa.credspec.render import render
from gmsa.credspec.validate import load_spec
from gmsa.reference import FileLocation, Mode, S3Location, parse
from gmsa.source.fetcher import SpecFetcher
from gmsa.source.publish import (
    LocalDirTarget,
    PublishTargetError,
    S3Target,
    SpecExistsError,
    SsmTarget,
    parse_target,
    publish,
)
from tests.support.cli import within
from tests.support.moto import ACCOUNT


def canonical(document: dict[str, Any]) -> bytes:
    return render(load_spec(json.dumps(document).encode(), source="test")).encode()


def domainless(document: dict[str, Any]) -> dict[str, Any]:
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:gmsa-user-AbCdEf"
    document["ActiveDirectoryConfig"]["HostAccountConfig"] = {
        "PortableCcgVersion": "1",
        "PluginGUID": "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
        "PluginInput": json.dumps({"credentialArn": secret}),
    }
    return document


def test_s3_uri_target() -> None:
    target = parse_target("s3://specs/ecs/webapp01.json")
    assert target == S3Target(S3Location("aws", "specs", "ecs/webapp01.json"))


def test_s3_uri_in_a_china_region_uses_its_partition() -> None:
    target = parse_target("s3://specs/a.json", region="cn-north-1")
    assert isinstance(target, S3Target)
    assert target.location.partition == "aws-cn"


def test_s3_object_arn_target() -> None:
    assert isinstance(parse_target("arn:aws:s3:::specs/a.json"), S3Target)


@pytest.mark.parametrize(
    ("text", "name"), [("ssm:webapp01", "webapp01"), ("ssm:/gmsa/webapp01", "/gmsa/webapp01")]
)
def test_ssm_name_targets(text: str, name: str) -> None:
    assert parse_target(text) == SsmTarget(name, None, None, None)


def test_ssm_parameter_arn_target_keeps_region_and_account() -> None:
    target = parse_target(f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/gmsa/app")
    assert target == SsmTarget("/gmsa/app", "eu-west-1", ACCOUNT, "aws")


def test_existing_directory_target(tmp_path: Path) -> None:
    assert parse_target(str(tmp_path)) == LocalDirTarget(tmp_path, None)


def test_dir_target_with_a_file_name(tmp_path: Path) -> None:
    assert parse_target(f"dir:{tmp_path}/app.json") == LocalDirTarget(tmp_path, "app.json")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "s3://",
        "s3://Bad_Bucket/key.json",
        "s3://bucket",
        "ssm:",
        "ssm:aws-reserved",
        "ssm:a//b",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
        "dir:/no/such/directory/x.json",
        "no-such-directory-or-scheme",
    ],
)
def test_malformed_targets_are_refused(text: str) -> None:
    with pytest.raises(PublishTargetError) as caught:
        parse_target(text)
    assert caught.value.fix


PREFIXES = ["", "s3://", "ssm:", "ssm:/", "dir:", "arn:aws:s3:::", "arn:aws:ssm:us-east-1:"]


@given(st.tuples(st.sampled_from(PREFIXES), st.text(max_size=60)).map("".join))
def test_parse_target_raises_only_its_typed_error(text: str) -> None:
    with contextlib.suppress(PublishTargetError):
        parse_target(text)


def test_publish_to_a_directory_writes_the_file_named_after_the_input(
    tmp_path: Path, example_spec_file: Path, example_spec: dict[str, Any]
) -> None:
    spec_dir = tmp_path / "CredentialSpecs"
    spec_dir.mkdir()
    result = publish(
        example_spec_file.read_bytes(),
        parse_target(f"dir:{spec_dir}"),
        source=str(example_spec_file),
    )
    assert str(result.reference) == "credentialspec:file://webapp01.json"
    location = parse(str(result.reference)).location
    assert location == FileLocation("webapp01.json")
    assert SpecFetcher(spec_dir=spec_dir).fetch(location).data == canonical(example_spec)


def test_domainless_spec_gets_the_domainless_prefix(
    tmp_path: Path, example_spec: dict[str, Any]
) -> None:
    result = publish(
        json.dumps(domainless(example_spec)).encode(),
        parse_target(f"dir:{tmp_path}/app.json"),
        source="app.json",
    )
    assert result.reference.mode is Mode.DOMAINLESS
    assert str(result.reference) == "credentialspecdomainless:file://app.json"


def test_republishing_the_same_spec_is_unchanged(
    tmp_path: Path, example_spec: dict[str, Any]
) -> None:
    data = json.dumps(example_spec).encode()
    publish(data, parse_target(str(tmp_path)), source="a.json")
    again = publish(
        json.dumps(example_spec, indent=8).encode(), parse_target(str(tmp_path)), source="a.json"
    )
    assert again.unchanged


def test_a_fifo_where_the_spec_would_go_is_refused_without_blocking(
    tmp_path: Path, example_spec: dict[str, Any]
) -> None:
    os.mkfifo(tmp_path / "a.json")
    with within(5), pytest.raises(SpecExistsError):
        publish(json.dumps(example_spec).encode(), parse_target(str(tmp_path)), source="a.json")


def test_kms_key_is_refused_for_a_directory(tmp_path: Path, example_spec_file: Path) -> None:
    spec_dir = tmp_path / "CredentialSpecs"
    spec_dir.mkdir()
    result = CliRunner().invoke(
        cli, ["spec", "publish", str(example_spec_file), str(spec_dir), "--kms-key-id", "alias/x"]
    )
    assert result.exit_code == 1
    assert list(spec_dir.iterdir()) == []


def test_command_shows_the_spec_warnings_after_storing_it(
    tmp_path: Path, example_spec_file: Path
) -> None:
    spec_dir = tmp_path / "CredentialSpecs"
    spec_dir.mkdir()
    result = CliRunner().invoke(cli, ["spec", "publish", str(example_spec_file), str(spec_dir)])
    assert result.exit_code == 0
    assert "warning:" in result.output
