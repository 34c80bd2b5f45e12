"""ARN leases: specs in S3 and the domain user in Secrets Manager, read with the caller's keys.

``AddKerberosArnLease`` names each spec as ``<S3 ARN>#<lease id>/<directory>``
(``docs/background.md#credentials-fetchers-grpc-api``) and sends AWS credentials
and a region. :func:`parse_arn_entry` splits and checks one entry;
:class:`AwsKeys` holds the credentials for the length of one call (never written,
logged or shown); an :class:`ArnReader` reads the spec and the user secret with
them. :class:`AwsArnReader` does it through :mod:`gmsa.source.s3` (the object's
size is checked before its body is read) and :func:`gmsa.domainless.read_domainless_user`;
tests of the service without AWS give the service another reader.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from gmsa.aws import AwsConfig, AwsOptionError, check_region
from gmsa.domainless import DomainlessUser, read_domainless_user
from gmsa.errors import GmsaError
from gmsa.reference import S3Location, parse_location
from gmsa.source.s3 import S3Source
from gmsa.tickets.errors import LeaseRequestError
from gmsa.tickets.leases import check_caller_name

ENTRY_SEPARATOR = "#"
"""Between the spec's ARN and ``<lease id>/<directory>`` in a ``credspec_arns`` entry."""


@dataclass(frozen=True)
class AwsKeys:
    """The AWS credentials and region of one ARN call. Secret: never printed or stored."""

    access_key_id: str
    """The access key id."""
    secret_access_key: str = field(repr=False)
    """The secret key."""
    session_token: str = field(repr=False)
    """The session token (the agent sends the task execution role's)."""
    region: str
    """The region of the S3 and Secrets Manager calls."""

    def check(self) -> AwsKeys:
        """Return the keys when every field is set; credentials-fetcher requires all four."""
        missing = [
            name
            for name in ("access_key_id", "secret_access_key", "session_token", "region")
            if not getattr(self, name)
        ]
        if missing:
            raise LeaseRequestError(
                f"{', '.join(missing)} must not be empty",
                where=missing[0],
                fix="send the task execution role's access key id, secret key, session token "
                "and the region of the specs",
            )
        try:
            check_region(self.region)
        except AwsOptionError as exc:
            raise LeaseRequestError(exc.what, where="region", fix=exc.fix) from None
        return self


@dataclass(frozen=True)
class ArnEntry:
    """One ``credspec_arns`` entry, split and checked."""

    text: str
    """The entry as sent."""
    location: S3Location
    """The spec's S3 object."""
    lease_id: str
    """The lease the caller chose."""
    directory: str
    """The ticket directory's name the caller chose."""

    @property
    def arn(self) -> str:
        """The spec's S3 ARN, as the response names it."""
        return self.location.arn


def parse_arn_entry(text: str, index: int) -> ArnEntry:
    """Split ``<S3 ARN>#<lease id>/<directory>`` and check each part.

    The part after the last ``#`` must be exactly two plain names (an S3 key may
    itself contain ``#``); the ARN must name an S3 object.
    """
    where = f"credspec_arns[{index}]"
    arn, separator, mount = text.rpartition(ENTRY_SEPARATOR)
    if not separator or not arn:
        raise LeaseRequestError(
            "the entry has no '#<lease id>/<directory>' after the spec's ARN",
            where=where,
            fix="send <S3 ARN of the spec>#<lease id>/<directory>",
        )
    parts = mount.split("/")
    if len(parts) != 2:
        raise LeaseRequestError(
            "after '#' an entry needs exactly <lease id>/<directory>",
            where=where,
            fix="send <S3 ARN of the spec>#<lease id>/<directory>, two plain names",
        )
    lease_id = check_caller_name(parts[0], "lease id", where=where)
    directory = check_caller_name(parts[1], "directory", where=where)
    try:
        location = parse_location(arn)
    except GmsaError as exc:
        raise LeaseRequestError(exc.what, where=where, fix=exc.fix) from None
    if not isinstance(location, S3Location):
        raise LeaseRequestError(
            "an ARN lease reads its spec from S3; this ARN names something else",
            where=where,
            fix="store the spec in S3 (gmsa spec publish) and send the object's ARN",
        )
    return ArnEntry(text, location, lease_id, directory)


class ArnReader(ABC):
    """Reads an ARN lease's spec and user secret with the caller's keys."""

    @abstractmethod
    def read_spec(self, location: S3Location, keys: AwsKeys) -> bytes:
        """The spec object's bytes (at most a credential spec's size)."""

    @abstractmethod
    def read_user(self, secret_arn: str, keys: AwsKeys) -> DomainlessUser:
        """The domain user in the Secrets Manager secret ``secret_arn``."""


@dataclass(frozen=True)
class AwsArnReader(ArnReader):
    """Reads from AWS; ``endpoint_url`` for a private endpoint (else boto3's own choice,
    which honours ``AWS_ENDPOINT_URL``)."""

    endpoint_url: str | None = None
    """Endpoint override for S3 and Secrets Manager."""

    def config(self, keys: AwsKeys) -> AwsConfig:
        """AWS settings for one call: exactly these keys, nothing from the host."""
        return AwsConfig(
            region=keys.region,
            endpoint_url=self.endpoint_url,
            access_key_id=keys.access_key_id,
            secret_access_key=keys.secret_access_key,
            session_token=keys.session_token,
        )

    def read_spec(self, location: S3Location, keys: AwsKeys) -> bytes:
        return S3Source(self.config(keys)).fetch(location).data

    def read_user(self, secret_arn: str, keys: AwsKeys) -> DomainlessUser:
        return read_domainless_user(self.config(keys), secret_arn)


__all__ = [
    "ENTRY_SEPARATOR",
    "ArnEntry",
    "ArnReader",
    "AwsArnReader",
    "AwsKeys",
    "parse_arn_entry",
]
