"""Credential specs in S3: one GetObject per fetch, HeadObject to revalidate."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError

from gmsa.aws import AWS_FAILURES, AwsConfig, aws_error
from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.reference import Location, S3Location
from gmsa.source.interface import (
    FetchedSpec,
    SpecSource,
    too_large,
)


class S3Source(SpecSource):
    """Reads specs from S3 objects with the configured (or assumed-role) credentials."""

    def __init__(self, aws: AwsConfig) -> None:
        self.aws = aws

    def _client(self) -> Any:
        return self.aws.client("s3")

    def fetch(self, location: Location) -> FetchedSpec:
        """GetObject, refusing an oversized body from its ContentLength before reading it."""
        assert isinstance(location, S3Location)
        try:
            answer = self._client().get_object(Bucket=location.bucket, Key=location.key)
        except AWS_FAILURES as exc:
            raise aws_error(exc, action="s3:GetObject", resource=location.arn) from exc
        body = answer["Body"]
        try:
            length = answer.get("ContentLength")
            if isinstance(length, int) and length > MAX_SPEC_BYTES:
                raise too_large(length, location.arn)
            try:
                data = body.read(MAX_SPEC_BYTES + 1)
            except (BotoCoreError, OSError) as exc:
                raise aws_error(exc, action="s3:GetObject", resource=location.arn) from exc
        finally:
            body.close()
        if len(data) > MAX_SPEC_BYTES:
            raise too_large(f"more than {MAX_SPEC_BYTES}", location.arn)
        etag = answer.get("ETag")
        return FetchedSpec(location=location, data=data, version=str(etag) if etag else None)

    def current_version(self, location: Location) -> str | None:
        """The object's ETag from HeadObject (needs only s3:GetObject)."""
        assert isinstance(location, S3Location)
        try:
            answer = self._client().head_object(Bucket=location.bucket, Key=location.key)
        except AWS_FAILURES as exc:
            raise aws_error(exc, action="s3:GetObject", resource=location.arn) from exc
        etag = answer.get("ETag")
        return str(etag) if etag else None


__all__ = [
    "S3Source",
]
