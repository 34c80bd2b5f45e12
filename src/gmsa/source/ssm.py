"""Credential specs in SSM Parameter Store, read with GetParameters as the ECS agent does.

``GetParameters`` (plural) with decryption on is the one call the agent makes,
so the one permission a task execution role holds (``ssm:GetParameters``) is
enough, and SecureString parameters come back decrypted.
"""

from __future__ import annotations

from typing import Any

from gmsa.aws import AWS_FAILURES, AwsConfig, AwsNotFoundError, aws_error
from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.reference import Location, SsmLocation
from gmsa.source.interface import FetchedSpec, SpecSource, too_large


class SsmSource(SpecSource):
    """Reads specs from parameters in the region their ARN names."""

    def __init__(self, aws: AwsConfig) -> None:
        self.aws = aws

    def _client(self, location: SsmLocation) -> Any:
        return self.aws.client("ssm", region=location.region)

    def fetch(self, location: Location) -> FetchedSpec:
        """One GetParameters call; an unknown name is :class:`~gmsa.aws.AwsNotFoundError`."""
        assert isinstance(location, SsmLocation)
        try:
            answer = self._client(location).get_parameters(
                Names=[location.name], WithDecryption=True
            )
        except AWS_FAILURES as exc:
            raise aws_error(exc, action="ssm:GetParameters", resource=location.arn) from exc
        parameters = answer.get("Parameters") or []
        if not parameters or location.name in (answer.get("InvalidParameters") or []):
            raise AwsNotFoundError(
                f"the parameter {location.name} does not exist in {location.region} "
                f"(account {location.account})",
                where=f"ssm:GetParameters on {location.arn}",
                fix="publish the spec there (gmsa spec publish FILE ssm:NAME), or correct the "
                "parameter name, region or account in the reference",
            )
        value = parameters[0].get("Value", "")
        data = value.encode("utf-8")
        if len(data) > MAX_SPEC_BYTES:
            raise too_large(len(data), location.arn)
        version = parameters[0].get("Version")
        return FetchedSpec(
            location=location, data=data, version=None if version is None else str(version)
        )


__all__ = [
    "SsmSource",
]
