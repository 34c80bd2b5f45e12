"""Property tests: no input makes the reference parser raise anything but its typed error."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gmsa.reference import (
    PARTITIONS,
    InvalidReferenceError,
    Reference,
    S3Location,
    SsmLocation,
    parse,
)

PREFIXES = ["credentialspec:", "credentialspecdomainless:", ""]
PIECES = [
    "arn:",
    "aws",
    "aws-cn",
    "s3",
    "ssm",
    ":",
    "::",
    ":::",
    "/",
    "//",
    "..",
    ".",
    "\\",
    "parameter",
    "file://",
    "file:",
    "us-east-1",
    "123456789012",
    "bucket",
    "key.json",
    "C:",
    "*",
    "?",
    "${",
    "}",
    "-",
    "_",
    " ",
    "\x00",
    "\udcff",
    "É",
]

near_references = st.builds(
    lambda prefix, pieces: prefix + "".join(pieces),
    st.sampled_from(PREFIXES),
    st.lists(st.sampled_from(PIECES), max_size=12),
)


def _parse_or_typed_error(value: str) -> Reference | None:
    try:
        return parse(value)
    except InvalidReferenceError as exc:
        assert exc.part
        assert exc.what
        return None


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_arbitrary_text_raises_only_invalid_reference_error(value: str) -> None:
    _parse_or_typed_error(value)


@given(near_references)
@settings(max_examples=500, deadline=None)
def test_near_references_raise_only_invalid_reference_error(value: str) -> None:
    _parse_or_typed_error(value)


@given(near_references)
@settings(max_examples=300, deadline=None)
def test_a_parsed_reference_round_trips_through_its_text(value: str) -> None:
    ref = _parse_or_typed_error(value)
    if ref is not None:
        assert parse(str(ref)) == ref


bucket_names = st.from_regex(r"[a-z0-9]([a-z0-9-]{1,20})[a-z0-9]", fullmatch=True).filter(
    lambda b: not b.startswith(("xn--", "sthree-")) and "--" not in b
)
keys = st.from_regex(r"[A-Za-z0-9!_.'()-]{1,20}(/[A-Za-z0-9!_.'()-]{1,20}){0,3}", fullmatch=True)


@given(st.sampled_from(sorted(PARTITIONS)), bucket_names, keys)
@settings(max_examples=200, deadline=None)
def test_every_well_formed_s3_arn_parses_to_its_parts(
    partition: str, bucket: str, key: str
) -> None:
    ref = parse(f"credentialspec:arn:{partition}:s3:::{bucket}/{key}")
    assert ref.location == S3Location(partition, bucket, key)


names = st.from_regex(r"[A-Za-z0-9_.-]{1,20}(/[A-Za-z0-9_.-]{1,20}){0,3}", fullmatch=True).filter(
    lambda n: not n.lower().startswith(("aws", "ssm"))
)


@given(names, st.from_regex(r"\d{12}", fullmatch=True))
@settings(max_examples=200, deadline=None)
def test_every_well_formed_ssm_arn_keeps_its_arn(name: str, account: str) -> None:
    arn = f"arn:aws:ssm:eu-west-1:{account}:parameter/{name}"
    ref = parse(f"credentialspec:{arn}")
    assert isinstance(ref.location, SsmLocation)
    assert ref.location.arn == arn
