"""Every rule of credential spec references, each error naming the wrong part."""

from __future__ import annotations

import pytest

from gmsa.errors import ExitCode
from gmsa.reference import (
    FileLocation,
    InvalidReferenceError,
    Mode,
    S3Location,
    SsmLocation,
    parse,
    parse_location,
)

S3_REF = "credentialspec:arn:aws:s3:::example-gmsa-specs/specs/webapp01.json"
SSM_REF = "credentialspec:arn:aws:ssm:us-east-1:123456789012:parameter/webapp01-credspec"


def part_of(value: str, **kwargs: bool) -> str:
    with pytest.raises(InvalidReferenceError) as info:
        parse(value, **kwargs)
    return info.value.part


def error_of(value: str) -> InvalidReferenceError:
    with pytest.raises(InvalidReferenceError) as info:
        parse(value)
    return info.value


# --- valid references -------------------------------------------------------------------


def test_ecs_example_s3_reference_parses_into_bucket_and_key() -> None:
    ref = parse(S3_REF)
    assert ref.mode is Mode.DOMAIN_JOINED
    assert ref.location == S3Location("aws", "example-gmsa-specs", "specs/webapp01.json")
    assert ref.kind == "s3"
    assert str(ref) == S3_REF


def test_ecs_example_ssm_reference_parses_into_region_account_and_name() -> None:
    ref = parse(SSM_REF)
    assert ref.location == SsmLocation("aws", "us-east-1", "123456789012", "webapp01-credspec")
    assert ref.kind == "ssm"
    assert str(ref) == SSM_REF


def test_ecs_example_file_reference_parses_into_a_relative_path() -> None:
    ref = parse("credentialspec:file://CredentialSpecFile.json")
    assert ref.location == FileLocation("CredentialSpecFile.json")
    assert not ref.needs_aws


def test_domainless_prefix_gives_domainless_mode() -> None:
    assert parse("credentialspecdomainless:" + S3_REF.split(":", 1)[1]).mode is Mode.DOMAINLESS


def test_hierarchical_parameter_name_gets_a_leading_slash() -> None:
    ref = parse("credentialspec:arn:aws:ssm:us-east-1:123456789012:parameter/gmsa/webapp01")
    assert isinstance(ref.location, SsmLocation)
    assert ref.location.name == "/gmsa/webapp01"
    assert ref.location.arn.endswith(":parameter/gmsa/webapp01")


def test_s3_key_may_contain_slashes() -> None:
    ref = parse("credentialspec:arn:aws:s3:::bucket-1/a/b/c/spec.json")
    assert isinstance(ref.location, S3Location)
    assert ref.location.key == "a/b/c/spec.json"


@pytest.mark.parametrize(
    ("partition", "region"),
    [("aws-cn", "cn-north-1"), ("aws-us-gov", "us-gov-west-1"), ("aws", "eu-west-3")],
)
def test_known_partitions_with_their_regions_parse(partition: str, region: str) -> None:
    ref = parse(f"credentialspec:arn:{partition}:ssm:{region}:123456789012:parameter/x")
    assert isinstance(ref.location, SsmLocation)
    assert ref.location.partition == partition


def test_s3_reference_in_china_partition_parses() -> None:
    ref = parse("credentialspec:arn:aws-cn:s3:::specs-cn/webapp01.json")
    assert isinstance(ref.location, S3Location)
    assert ref.location.bucket_arn == "arn:aws-cn:s3:::specs-cn"


def test_file_reference_in_subdirectory_is_normalized() -> None:
    ref = parse("credentialspec:file://./team\\app.json")
    assert ref.location == FileLocation("team/app.json")


def test_bare_location_is_accepted_when_prefix_not_required() -> None:
    ref = parse("arn:aws:s3:::bucket-1/spec.json", require_prefix=False)
    assert ref.mode is Mode.DOMAIN_JOINED


def test_parse_location_alone_reads_an_ssm_arn() -> None:
    location = parse_location("arn:aws:ssm:us-east-1:123456789012:parameter/x")
    assert isinstance(location, SsmLocation)


def test_location_parts_name_every_piece() -> None:
    assert parse(S3_REF).location.parts() == {
        "partition": "aws",
        "bucket": "example-gmsa-specs",
        "key": "specs/webapp01.json",
        "arn": "arn:aws:s3:::example-gmsa-specs/specs/webapp01.json",
    }


def test_references_are_hashable_and_equal_by_value() -> None:
    assert {parse(S3_REF), parse(S3_REF)} == {parse(S3_REF)}


# --- the error itself -------------------------------------------------------------------


def test_error_is_invalid_input_with_exit_code_1() -> None:
    err = error_of("credentialspec:arn:aws:s3:::b/k")
    assert err.exit_code is ExitCode.INVALID
    assert err.where is not None and "S3 bucket" in err.where


def test_error_json_names_the_part() -> None:
    assert error_of("credentialspec:arn:aws:s3:::b/k").to_dict()["part"] == "S3 bucket"


def test_error_quotes_a_huge_value_shortened() -> None:
    err = error_of("credentialspec:" + "x" * 5000)
    assert err.where is not None and len(err.where) < 300


# --- prefix -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [
        ("credentialspecs:file://a.json", "credentialspec:file://a.json"),
        ("credspec:file://a.json", "credentialspec:file://a.json"),
        ("credentialspec=file://a.json", "credentialspec:file://a.json"),
        ("credentalspec:file://a.json", "credentialspec:file://a.json"),
        ("credentialspecdomainles:file://a.json", "credentialspecdomainless:file://a.json"),
        ("credentialspec arn:aws:s3:::bucket-1/k", "credentialspec:arn:aws:s3:::bucket-1/k"),
    ],
)
def test_prefix_typo_gets_did_you_mean(value: str, suggestion: str) -> None:
    err = error_of(value)
    assert err.part == "prefix"
    assert err.fix == f"did you mean {suggestion!r}?"


def test_unrelated_prefix_gets_no_suggestion() -> None:
    err = error_of("hello:file://a.json")
    assert err.part == "prefix"
    assert err.fix is not None and "did you mean" not in err.fix


def test_uppercase_prefix_is_refused() -> None:
    err = error_of("CredentialSpec:file://a.json")
    assert err.part == "prefix"
    assert err.fix == "write credentialspec:file://a.json"


def test_missing_prefix_is_refused_by_default() -> None:
    assert part_of("arn:aws:s3:::bucket-1/k") == "prefix"


def test_doubled_prefix_is_refused() -> None:
    err = error_of("credentialspec:credentialspec:file://a.json")
    assert err.part == "prefix"
    assert err.fix == "keep one: credentialspec:file://a.json"


@pytest.mark.parametrize("value", ["", " credentialspec:file://a.json", "credentialspec:file://a "])
def test_empty_or_padded_value_is_refused(value: str) -> None:
    assert part_of(value) == "value"


def test_non_string_value_is_refused() -> None:
    assert part_of(42) == "value"  # type: ignore[arg-type]


def test_lone_surrogate_is_refused() -> None:
    assert part_of("credentialspec:file://a\udcff.json") == "value"


# --- location ---------------------------------------------------------------------------


def test_empty_location_is_refused() -> None:
    assert part_of("credentialspec:") == "location"


@pytest.mark.parametrize(
    "location", ["s3://bucket/key", "ssm:/param", "/abs/spec.json", "webapp01.json"]
)
def test_non_arn_non_file_location_is_refused(location: str) -> None:
    assert part_of("credentialspec:" + location) == "location"


def test_s3_url_gets_the_arn_form_as_fix() -> None:
    err = error_of("credentialspec:s3://bucket/key")
    assert err.fix is not None and "arn:aws:s3:::BUCKET/KEY" in err.fix


def test_uppercase_arn_is_refused_with_fix() -> None:
    err = error_of("credentialspec:ARN:aws:s3:::bucket-1/k")
    assert err.part == "ARN"
    assert err.fix == "write arn:aws:s3:::bucket-1/k"


def test_arn_with_too_few_parts_is_refused() -> None:
    assert part_of("credentialspec:arn:aws:s3:bucket") == "ARN"


# --- partition and service --------------------------------------------------------------


def test_unknown_partition_is_refused_with_closest() -> None:
    err = error_of("credentialspec:arn:aws-cm:s3:::bucket-1/k")
    assert err.part == "ARN partition"
    assert err.fix == "did you mean 'aws-cn'?"


def test_uppercase_partition_gets_lowercase_fix() -> None:
    err = error_of("credentialspec:arn:AWS:s3:::bucket-1/k")
    assert err.part == "ARN partition"
    assert err.fix is not None and "'aws'" in err.fix


def test_unsupported_service_is_refused() -> None:
    assert part_of("credentialspec:arn:aws:dynamodb:us-east-1:123456789012:table/t") == (
        "ARN service"
    )


def test_secrets_manager_arn_is_explained_as_plugin_input() -> None:
    err = error_of("credentialspec:arn:aws:secretsmanager:us-east-1:123456789012:secret:x")
    assert err.part == "ARN service"
    assert err.fix is not None and "PluginInput" in err.fix


def test_service_typo_gets_did_you_mean() -> None:
    err = error_of("credentialspec:arn:aws:ssn:us-east-1:123456789012:parameter/x")
    assert err.fix == "did you mean 'ssm'?"


def test_uppercase_service_gets_lowercase_fix() -> None:
    err = error_of("credentialspec:arn:aws:S3:::bucket-1/k")
    assert err.fix == "write the service in lowercase: s3"


# --- S3 ---------------------------------------------------------------------------------


def test_s3_arn_with_region_is_refused() -> None:
    assert part_of("credentialspec:arn:aws:s3:us-east-1::bucket-1/k") == "ARN region/account"


def test_s3_arn_with_account_is_refused() -> None:
    assert part_of("credentialspec:arn:aws:s3::123456789012:bucket-1/k") == "ARN region/account"


@pytest.mark.parametrize(
    "bucket",
    [
        "",
        "ab",
        "a" * 64,
        "Bucket-1",
        "bucket_1",
        "-bucket",
        "bucket-",
        "my..bucket",
        "my.-bucket",
        "192.168.1.1",
        "xn--bucket",
        "sthree-bucket",
        "bucket-s3alias",
        "bucket--ol-s3",
    ],
)
def test_bucket_naming_rules(bucket: str) -> None:
    assert part_of(f"credentialspec:arn:aws:s3:::{bucket}/k.json") == "S3 bucket"


def test_uppercase_bucket_gets_lowercase_suggestion() -> None:
    err = error_of("credentialspec:arn:aws:s3:::My-Bucket/k.json")
    assert err.fix == "did you mean 'my-bucket'?"


@pytest.mark.parametrize(
    "resource",
    [
        "bucket-1",
        "bucket-1/",
        "bucket-1/dir/",
        "bucket-1/a\x01b",
        "bucket-1/spec*.json",
        "bucket-1/" + "k" * 1025,
    ],
)
def test_s3_key_rules(resource: str) -> None:
    assert part_of(f"credentialspec:arn:aws:s3:::{resource}") == "S3 key"


# --- SSM --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "region",
    ["", "useast1", "US-EAST-1", "us-east"],
)
def test_ssm_region_must_be_a_region(region: str) -> None:
    assert part_of(f"credentialspec:arn:aws:ssm:{region}:123456789012:parameter/x") == (
        "ARN region"
    )


@pytest.mark.parametrize(
    ("partition", "region"),
    [
        ("aws", "cn-north-1"),
        ("aws-cn", "us-east-1"),
        ("aws", "us-gov-west-1"),
        ("aws-us-gov", "eu-west-1"),
    ],
)
def test_ssm_region_must_belong_to_the_partition(partition: str, region: str) -> None:
    err = error_of(f"credentialspec:arn:{partition}:ssm:{region}:123456789012:parameter/x")
    assert err.part == "ARN region"
    assert "partition" in err.what


@pytest.mark.parametrize("account", ["", "12345678901", "1234567890123", "12345678901a"])
def test_ssm_account_must_be_12_digits(account: str) -> None:
    assert part_of(f"credentialspec:arn:aws:ssm:us-east-1:{account}:parameter/x") == ("ARN account")


@pytest.mark.parametrize("resource", ["document/x", "parameter", "parameterx", "x"])
def test_ssm_resource_must_be_parameter(resource: str) -> None:
    assert part_of(f"credentialspec:arn:aws:ssm:us-east-1:123456789012:{resource}") == (
        "ARN resource"
    )


@pytest.mark.parametrize(
    "name",
    [
        "",
        "has space",
        "has*star",
        "a//b",
        "a/b/",
        "/".join(["l"] * 16),
        "n" * 1012,
        "awsparam",
        "SSM-param",
        "aws/x",
    ],
)
def test_parameter_name_rules(name: str) -> None:
    assert part_of(f"credentialspec:arn:aws:ssm:us-east-1:123456789012:parameter/{name}") == (
        "SSM parameter name"
    )


def test_parameter_hierarchy_of_15_levels_is_accepted() -> None:
    name = "/".join(["l"] * 15)
    ref = parse(f"credentialspec:arn:aws:ssm:us-east-1:123456789012:parameter/{name}")
    assert isinstance(ref.location, SsmLocation)


# --- file:// ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    ["FILE://a.json", "file:a.json", "file:/a.json"],
)
def test_file_scheme_must_be_lowercase_with_two_slashes(location: str) -> None:
    err = error_of("credentialspec:" + location)
    assert err.part == "scheme"
    assert err.fix == "write file://a.json"


@pytest.mark.parametrize(
    ("path", "word"),
    [
        ("/etc/spec.json", "absolute"),
        ("\\spec.json", "absolute"),
        ("//server/share/spec.json", "UNC"),
        ("\\\\server\\share\\spec.json", "UNC"),
        ("C:/ProgramData/spec.json", "drive-letter"),
        ("c:spec.json", "drive-letter"),
        ("../spec.json", "'..'"),
        ("team/../../spec.json", "'..'"),
        ("team\\..\\..\\spec.json", "'..'"),
    ],
)
def test_file_path_must_stay_inside_credentialspecs(path: str, word: str) -> None:
    err = error_of("credentialspec:file://" + path)
    assert err.part == "file path"
    assert word in err.what


@pytest.mark.parametrize(
    "path",
    [
        "",
        "a.json:stream",
        "a\x00.json",
        "team//a.json",
        "team/",
        ".",
        "a?.json",
        "a|b.json",
        "CON",
        "nul.json",
        "team/lpt1.txt",
        "a" * 261,
    ],
)
def test_file_path_rules(path: str) -> None:
    assert part_of("credentialspec:file://" + path) == "file path"
