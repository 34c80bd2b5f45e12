"""``gmsa spec publish``: validate, store the canonical rendering, print the reference."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from gmsa.aws import AwsConfig
from gmsa.cli.main import cli
from gmsa.credspec.render import render
from gmsa.credspec.validate import load_spec
from gmsa.reference import FileLocation, Mode, S3Location, SsmLocation, parse
from gmsa.source.fetcher import SpecFetcher
from gmsa.source.publish import (
    LocalDirTarget,
    PublishTargetError,
    S3Target,
    SsmTarget,
    parse_target,
    publish,
)
from tests.support.moto import ACCOUNT, AwsLab, IamLab

BUCKET = "specs"


def config_for(lab: AwsLab) -> AwsConfig:
    return AwsConfig(
        region=lab.region,
        endpoint_url=lab.endpoint,
        access_key_id=lab.access_key,
        secret_access_key=lab.secret_key,
    )


def canonical(document: dict[str, Any]) -> bytes:
    return render(load_spec(json.dumps(document).encode(), source="test")).encode()


def run(lab: AwsLab, *args: str) -> Result:
    env = {
        "AWS_ACCESS_KEY_ID": lab.access_key,
        "AWS_SECRET_ACCESS_KEY": lab.secret_key,
        "AWS_REGION": lab.region,
        "AWS_ENDPOINT_URL": lab.endpoint,
        "AWS_PROFILE": None,
        "AWS_SESSION_TOKEN": None,
    }
    return CliRunner().invoke(cli, ["spec", "publish", *args], env=env)


def domainless(document: dict[str, Any]) -> dict[str, Any]:
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:gmsa-user-AbCdEf"
    document["ActiveDirectoryConfig"]["HostAccountConfig"] = {
        "PortableCcgVersion": "1",
        "PluginGUID": "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
        "PluginInput": json.dumps({"credentialArn": secret}),
    }
    return document


# --- targets -------------------------------------------------------------------


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


# --- publishing ----------------------------------------------------------------


def test_publish_to_s3_stores_the_canonical_rendering(
    aws: AwsLab, example_spec: dict[str, Any]
) -> None:
    aws.client("s3").create_bucket(Bucket=BUCKET)
    config = config_for(aws)
    result = publish(
        json.dumps(example_spec).encode(),
        parse_target(f"s3://{BUCKET}/ecs/a.json"),
        source="a.json",
        aws=config,
    )
    reference = parse(str(result.reference))
    assert reference.location == S3Location("aws", BUCKET, "ecs/a.json")
    fetched = SpecFetcher(aws=config).fetch(reference.location)
    assert fetched.data == canonical(example_spec)
    assert result.version == fetched.version
    head = aws.client("s3").head_object(Bucket=BUCKET, Key="ecs/a.json")
    assert head["ContentType"] == "application/json"


def test_publish_to_ssm_gives_the_parameter_arn_of_the_caller_account(
    aws: AwsLab, example_spec: dict[str, Any]
) -> None:
    config = config_for(aws)
    result = publish(
        json.dumps(example_spec).encode(),
        parse_target("ssm:/gmsa/webapp01"),
        source="a.json",
        aws=config,
    )
    assert str(result.reference) == (
        f"credentialspec:arn:aws:ssm:{aws.region}:{ACCOUNT}:parameter/gmsa/webapp01"
    )
    location = parse(str(result.reference)).location
    assert isinstance(location, SsmLocation)
    assert SpecFetcher(aws=config).fetch(location).data == canonical(example_spec)


def test_publish_secure_stores_a_secure_string_read_back_decrypted(
    aws: AwsLab, example_spec: dict[str, Any]
) -> None:
    config = config_for(aws)
    result = publish(
        json.dumps(example_spec).encode(),
        parse_target("ssm:webapp01"),
        source="a.json",
        aws=config,
        secure=True,
    )
    stored = aws.client("ssm").get_parameters(Names=["webapp01"])["Parameters"][0]
    assert stored["Type"] == "SecureString"
    location = parse(str(result.reference)).location
    assert SpecFetcher(aws=config).fetch(location).data == canonical(example_spec)


def test_large_spec_goes_to_the_advanced_tier(aws: AwsLab, example_spec: dict[str, Any]) -> None:
    accounts = example_spec["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"]
    accounts += [{"Name": f"App{i:03d}", "Scope": "example.com"} for i in range(60)]
    publish(
        json.dumps(example_spec).encode(),
        parse_target("ssm:/gmsa/big"),
        source="a.json",
        aws=config_for(aws),
    )
    described = aws.client("ssm").describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": ["/gmsa/big"]}]
    )["Parameters"][0]
    assert described["Tier"] == "Advanced"


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


# --- the command -----------------------------------------------------------------


def test_command_prints_the_reference_and_the_next_step(
    aws: AwsLab, example_spec_file: Path
) -> None:
    aws.client("s3").create_bucket(Bucket=BUCKET)
    result = run(aws, str(example_spec_file), f"s3://{BUCKET}/webapp01.json")
    assert result.exit_code == 0, result.output
    reference = f"credentialspec:arn:aws:s3:::{BUCKET}/webapp01.json"
    assert f"  {reference}\n" in result.output
    assert f"gmsa iam policy {reference}" in result.output


def test_command_json_output(aws: AwsLab, example_spec_file: Path) -> None:
    result = run(aws, str(example_spec_file), "ssm:/gmsa/webapp01", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"reference", "target", "bytes", "version"}
    assert out["reference"].endswith(f":{ACCOUNT}:parameter/gmsa/webapp01")
    assert out["version"] == "1"
    assert out["bytes"] == len(canonical(json.loads(example_spec_file.read_text())))


def test_invalid_spec_stores_nothing_and_exits_1(
    aws: AwsLab, tmp_path: Path, example_spec: dict[str, Any]
) -> None:
    aws.client("s3").create_bucket(Bucket=BUCKET)
    example_spec["DomainJoinConfig"]["Sid"] = "not-a-sid"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(example_spec))
    result = run(aws, str(bad), f"s3://{BUCKET}/bad.json", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["findings"]
    assert aws.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_different_spec_already_stored_is_refused_without_overwrite(
    aws: AwsLab, example_spec_file: Path, example_spec: dict[str, Any], tmp_path: Path
) -> None:
    aws.client("s3").create_bucket(Bucket=BUCKET)
    assert run(aws, str(example_spec_file), f"s3://{BUCKET}/a.json").exit_code == 0
    example_spec["DomainJoinConfig"]["NetBiosName"] = "EXAMPLE"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(example_spec))
    refused = run(aws, str(other), f"s3://{BUCKET}/a.json")
    assert refused.exit_code == 1
    assert "--overwrite" in refused.output
    assert run(aws, str(other), f"s3://{BUCKET}/a.json", "--overwrite").exit_code == 0


def test_refusal_by_aws_exits_3_naming_the_action(iam_lab: IamLab, example_spec_file: Path) -> None:
    iam_lab.admin.client("s3").create_bucket(Bucket=BUCKET)
    role = iam_lab.make_role("reader-only", {})
    result = run(iam_lab.admin, str(example_spec_file), f"s3://{BUCKET}/a.json", "--role-arn", role)
    assert result.exit_code == 3
    assert "s3:PutObject" in result.output


def test_missing_bucket_says_to_create_it(aws: AwsLab, example_spec_file: Path) -> None:
    result = run(aws, str(example_spec_file), "s3://no-such-bucket/a.json")
    assert result.exit_code == 3
    assert "create the bucket" in result.output


def test_kms_key_is_refused_for_a_directory(tmp_path: Path, example_spec_file: Path) -> None:
    spec_dir = tmp_path / "CredentialSpecs"
    spec_dir.mkdir()
    result = CliRunner().invoke(
        cli, ["spec", "publish", str(example_spec_file), str(spec_dir), "--kms-key-id", "alias/x"]
    )
    assert result.exit_code == 1
    assert list(spec_dir.iterdir()) == []


def test_ssm_arn_of_another_account_is_refused(aws: AwsLab, example_spec: dict[str, Any]) -> None:
    target = parse_target("arn:aws:ssm:us-east-1:999999999999:parameter/gmsa/app")
    with pytest.raises(PublishTargetError) as caught:
        publish(json.dumps(example_spec).encode(), target, source="a.json", aws=config_for(aws))
    assert "999999999999" in caught.value.what
    assert aws.client("ssm").describe_parameters()["Parameters"] == []


def test_command_shows_the_spec_warnings_after_storing_it(
    tmp_path: Path, example_spec_file: Path
) -> None:
    spec_dir = tmp_path / "CredentialSpecs"
    spec_dir.mkdir()
    result = CliRunner().invoke(cli, ["spec", "publish", str(example_spec_file), str(spec_dir)])
    assert result.exit_code == 0
    assert "warning:" in result.output
