"""The commands that read from AWS, driven with hostile input against the moto server.

The same builders and properties as tests/unit/cli/test_hostile_cli.py, but AWS
answers: before each example, hostile content (a mutated spec, written in a hostile
way) is stored in S3 and SSM where some of the generated references point, so the
commands fetch it, validate it, write it (task prepare) and check roles and policies
with it. References to another account's parameter, missing objects and malformed
ARNs are generated as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.hostile import Draw, Sandbox, json_bytes, mutated, spec_document
from tests.support.hostile_cli import CASES, fuzz, hostile_environment, run_example
from tests.support.moto import ACCOUNT, REGION, AwsLab

BUCKET, KEY = "bucket", "key.json"
PARAMETER = "/gmsa/webapp01"
STORED = [
    f"credentialspec:arn:aws:s3:::{BUCKET}/{KEY}",
    f"credentialspecdomainless:arn:aws:s3:::{BUCKET}/{KEY}",
    f"credentialspec:arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{PARAMETER}",
    f"credentialspecdomainless:arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{PARAMETER}",
    # The same parameter name in another account: never the caller's own parameter.
    f"credentialspec:arn:aws:ssm:{REGION}:999999999999:parameter{PARAMETER}",
    f"credentialspec:arn:aws:s3:::{BUCKET}/missing.json",
]
COMMANDS = ["iam check", "spec publish", "task check", "task patch", "task prepare", "task renew"]
"""The commands that read (or write) specs, policies or roles in AWS."""


@pytest.fixture
def base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: AwsLab
) -> Iterator[tuple[Path, Any]]:
    home = tmp_path / "home"
    home.mkdir()
    hostile_environment(monkeypatch, home)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", aws.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws.secret_key)
    monkeypatch.setenv("AWS_REGION", aws.region)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    monkeypatch.chdir(tmp_path)
    s3, ssm = aws.client("s3"), aws.client("ssm")
    s3.create_bucket(Bucket=BUCKET)
    yield tmp_path, store_hostile_content(s3, ssm)


def store_hostile_content(s3: Any, ssm: Any) -> Any:
    """What an example does first: a hostile spec in S3 and in SSM, where ``STORED`` points."""

    def prepare(draw: Draw, box: Sandbox) -> None:
        document = mutated(draw, spec_document(domainless=draw(st.booleans())))
        data = json_bytes(draw, document)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=data)
        # SSM holds text of at most 8 KiB (4 KiB in the standard tier).
        text = data.decode("utf-8", "replace")[:4000] or "x"
        ssm.put_parameter(Name=PARAMETER, Value=text, Type="String", Overwrite=True)
        box.notes["stored"] = STORED

    return prepare


@pytest.mark.parametrize("command", COMMANDS)
@fuzz
@given(data=st.data())
def test_hostile_content_in_aws_ends_in_a_typed_answer(
    command: str, base: tuple[Path, Any], data: Any
) -> None:
    directory, prepare = base
    run_example(directory, CASES[command], data, prepare)
