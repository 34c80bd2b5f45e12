"""Credential specs in SSM Parameter Store, read with GetParameters as the ECS agent does.

``GetParameters`` (plural) with decryption on is the one call the agent makes,
so the one permission a task execution role holds (``ssm:GetParameters``) is
enough, and SecureString parameters come back decrypted.
"""

from __future__ import annotations

from typing import Any

from gmsa.aws import AWS_FAILURES, AwsConfig, AwsNotFoundError, aws_error
from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.errors import InvalidInputError
from gmsa.reference import Location, SsmLocation
from gmsa.source.interface import FetchedSpec, SpecSource, too_large


class SsmAccountMismatchError(InvalidInputError):
    """The reference names a parameter of another account than the credentials in use.

    ``GetParameters`` takes the parameter's name, not its ARN: asked as another
    account, it would silently read *that* account's parameter of the same name.
    """

    code = "account-mismatch"


class SsmSource(SpecSource):
    """Reads specs from parameters in the region their ARN names."""

    def __init__(self, aws: AwsConfig) -> None:
        self.aws = aws

    def _client(self, location: SsmLocation) -> Any:
        return self.aws.client("ssm", region=location.region)

    def _check_account(self, location: SsmLocation) -> None:
        caller = self.aws.caller_account(region=location.region)
        if caller == location.account:
            return
        raise SsmAccountMismatchError(
            f"the reference names a parameter of account {location.account}, but the "
            f"credentials in use are of account {caller} (GetParameters takes only the "
            f"name, so it would read account {caller}'s parameter {location.name})",
            where=f"ssm:GetParameters on {location.arn}",
            fix=f"read it as a role of account {location.account} (the task definition's "
            f"executionRoleArn, or --role-arn), or reference the parameter of account {caller} "
            f"(arn:{location.partition}:ssm:{location.region}:{caller}:parameter/"
            f"{location.name.lstrip('/')})",
        )

    def fetch(self, location: Location) -> FetchedSpec:
        """One GetParameters call; an unknown name is :class:`~gmsa.aws.AwsNotFoundError`.

        Refused with :class:`SsmAccountMismatchError` when the ARN's account is not
        the account of the credentials in use (STS, asked once per configuration).
        """
        assert isinstance(location, SsmLocation)
        self._check_account(location)
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
    "SsmAccountMismatchError",
    "SsmSource",
]
