"""``gmsa spec publish`` to S3 and SSM: validate, store the canonical rendering, print it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gmsa.aws import AwsConfig
from gmsa.cli.main import cli
from gmsa.reference import S3Location, SsmLocation, parse
from gmsa.source.fetcher import SpecFetcher
from gmsa.source.publish import (
    PublishTargetError,
    parse_target,
    publish,
)
from tests.support.moto import ACCOUNT, AwsLab, IamLab
from tests.unit.source.test_publish import canonical

BUCKET = "specs"


def config_for(lab: AwsLab) -> AwsConfig:
    return AwsConfig(
        region=lab.region,
        endpoint_url=lab.endpoint,
        access_key_id=lab.access_key,
        secret_access_key=lab.secret_key,
    )


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
    # Today's fields, beside the envelope's and what the text output also shows.
    assert set(out) == {"reference", "target", "bytes", "version"} | {
        "ok", "findings", "unchanged", "warnings", "next"
    }  # fmt: skip
    assert out["ok"] is True
    assert out["unchanged"] is False
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


def test_ssm_arn_of_another_account_is_refused(aws: AwsLab, example_spec: dict[str, Any]) -> None:
    target = parse_target("arn:aws:ssm:us-east-1:999999999999:parameter/gmsa/app")
    with pytest.raises(PublishTargetError) as caught:
        publish(json.dumps(example_spec).encode(), target, source="a.json", aws=config_for(aws))
    assert "999999999999" in caught.value.what
    assert aws.client("ssm").describe_parameters()["Parameters"] == []
