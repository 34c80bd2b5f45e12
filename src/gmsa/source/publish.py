"""Store a credential spec where the ECS agent reads it, and say how to reference it.

The spec is validated first (nothing is stored when it is not valid) and stored
in its canonical rendering, so publishing one spec twice stores the same bytes
and a store's version changes only when the spec does.

Targets (the ``TARGET`` of ``gmsa spec publish``):

- ``s3://BUCKET/KEY`` or ``arn:aws:s3:::BUCKET/KEY``: an S3 object;
- ``ssm:NAME`` or ``ssm:/PATH/NAME`` or ``arn:aws:ssm:REGION:ACCOUNT:parameter/NAME``:
  an SSM parameter;
- ``dir:DIRECTORY``, ``dir:DIRECTORY/NAME.json`` or an existing directory: a file
  in a CredentialSpecs directory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from gmsa.aws import AWS_FAILURES, AwsConfig, AwsNotFoundError, aws_error, code_and_status
from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.credspec.render import render
from gmsa.credspec.validate import CredentialSpecError, check_bytes
from gmsa.errors import ExternalError, GmsaError, InvalidInputError
from gmsa.findings import Finding
from gmsa.fsutil import confined, write_atomic
from gmsa.inputfile import read_input
from gmsa.reference import (
    PARTITIONS,
    FileLocation,
    InvalidReferenceError,
    Mode,
    Reference,
    S3Location,
    SsmLocation,
    parse_location,
    validate_parameter_name,
)
from gmsa.source.interface import SourceNotConfiguredError

SSM_STANDARD_MAX = 4096
"""Largest value of a Standard-tier parameter; above it the Advanced tier is used."""
SSM_ADVANCED_MAX = 8192
"""Largest value any parameter holds."""

TARGET_FORMS = (
    "s3://BUCKET/KEY, arn:aws:s3:::BUCKET/KEY, ssm:NAME, ssm:/PATH/NAME, "
    "arn:aws:ssm:REGION:ACCOUNT:parameter/NAME, dir:DIRECTORY or dir:DIRECTORY/NAME.json"
)


class PublishTargetError(InvalidInputError):
    """The publish target is not one of the accepted forms, or names something invalid."""

    code = "invalid-publish-target"


class SpecExistsError(InvalidInputError):
    """A different spec is already stored at the target and overwriting was not asked for."""

    code = "spec-exists"


@dataclass(frozen=True)
class S3Target:
    """An S3 object to write."""

    location: S3Location
    """Bucket and key (and partition, for the reference)."""


@dataclass(frozen=True)
class SsmTarget:
    """An SSM parameter to write."""

    name: str
    """Parameter name as the API takes it (``/a/b`` or ``name``)."""
    region: str | None
    """Region from the ARN, or None to use the configured one."""
    account: str | None
    """Account from the ARN, or None to ask STS who we are."""
    partition: str | None
    """Partition from the ARN, or None to derive it from the region."""


@dataclass(frozen=True)
class LocalDirTarget:
    """A file in a CredentialSpecs directory."""

    directory: Path
    """The directory (it must exist)."""
    name: str | None
    """File name, or None to use the input file's name."""


Target = S3Target | SsmTarget | LocalDirTarget


@dataclass(frozen=True)
class _Write:
    """How one store refuses to replace what it holds, and how that is told."""

    action: str
    """The IAM action of the write."""
    conflicts: frozenset[str]
    """Error codes the store answers when something is there already."""
    stored: str
    """What a different spec found there is, for the message."""
    other: str
    """What to choose another of instead of overwriting."""


_S3_WRITE = _Write(
    "s3:PutObject",
    frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"}),
    "a different credential spec is already stored in this object",
    "key",
)
_SSM_WRITE = _Write(
    "ssm:PutParameter",
    frozenset({"ParameterAlreadyExists"}),
    "a different value is already stored in this parameter",
    "name",
)


@dataclass(frozen=True)
class PublishResult:
    """What was stored, and how a task definition refers to it."""

    reference: Reference
    """The reference to put in the task definition (domainless when the spec is)."""
    target: str
    """Where it was stored, for a person (``s3://...``, ``ssm:...``, a path)."""
    size: int
    """Bytes stored (the canonical rendering)."""
    version: str | None
    """S3 ETag, SSM parameter version, or the file's inode:size:mtime."""
    unchanged: bool
    """True when the same bytes were already there (nothing was written)."""
    warnings: tuple[Finding, ...] = ()
    """The spec's warnings: it was stored, but something in it looks wrong."""

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` output."""
        return {
            "reference": str(self.reference),
            "target": self.target,
            "bytes": self.size,
            "version": self.version,
        }


def partition_for_region(region: str | None) -> str:
    """The partition a region belongs to (``aws`` when unknown)."""
    if region:
        for partition, prefix in sorted(PARTITIONS.items(), key=lambda p: -len(p[1])):
            if prefix and region.startswith(prefix):
                return partition
    return "aws"


def parse_target(text: str, *, region: str | None = None) -> Target:
    """Parse a publish target; see the module docstring for the forms."""

    def fail(what: str, fix: str = f"write one of: {TARGET_FORMS}") -> PublishTargetError:
        return PublishTargetError(what, where=f"TARGET {text!r}", fix=fix)

    if not text:
        raise fail("the target is empty")
    try:
        if text.startswith("s3://"):
            bucket, _, key = text[len("s3://") :].partition("/")
            arn = f"arn:{partition_for_region(region)}:s3:::{bucket}/{key}"
            s3 = parse_location(arn, original=text)
            assert isinstance(s3, S3Location)
            return S3Target(s3)
        if text.startswith("arn:"):
            location = parse_location(text)
            if isinstance(location, S3Location):
                return S3Target(location)
            assert isinstance(location, SsmLocation)
            return SsmTarget(location.name, location.region, location.account, location.partition)
        if text.startswith("ssm:"):
            name = text[len("ssm:") :]
            if not name:
                raise fail("the parameter name is empty", "write ssm:NAME or ssm:/PATH/NAME")
            validate_parameter_name(name, text)
            return SsmTarget(name, None, None, None)
    except InvalidReferenceError as exc:
        raise PublishTargetError(exc.what, where=exc.where, fix=exc.fix) from None
    if text.startswith("dir:"):
        return _local_dir_target(text, Path(text[len("dir:") :]), fail)
    path = Path(text)
    if path.is_dir():
        return LocalDirTarget(path, None)
    raise fail("the target is not an S3 or SSM location nor an existing directory")


def _local_dir_target(
    text: str, path: Path, fail: Callable[[str, str], PublishTargetError]
) -> LocalDirTarget:
    if not str(path) or str(path) == ".":
        return LocalDirTarget(Path(), None)
    if path.is_dir():
        return LocalDirTarget(path, None)
    if not path.parent.is_dir():
        raise fail(
            f"the directory {path.parent} does not exist",
            "create the CredentialSpecs directory first, or fix the path",
        )
    _check_file_name(path.name, text)
    return LocalDirTarget(path.parent, path.name)


def _check_file_name(name: str, shown: str) -> None:
    try:
        parse_location(f"file://{name}", original=shown)
    except InvalidReferenceError as exc:
        raise PublishTargetError(exc.what, where=exc.where, fix=exc.fix) from None


def publish(
    data: bytes,
    target: Target,
    *,
    source: str,
    aws: AwsConfig | None = None,
    overwrite: bool = False,
    kms_key_id: str | None = None,
    secure: bool = False,
) -> PublishResult:
    """Validate ``data`` (read from ``source``) and store its canonical rendering.

    Raises :class:`~gmsa.credspec.validate.CredentialSpecError` before anything is
    stored when the spec is not valid. Without ``overwrite`` an existing different
    spec is refused (:class:`SpecExistsError`); the same bytes already stored are
    a success with ``unchanged=True``.
    """
    if isinstance(target, LocalDirTarget) and (kms_key_id or secure):
        raise InvalidInputError(
            "--kms-key-id and --secure apply to S3 and SSM targets only",
            where=str(target.directory),
            fix="drop the option, or publish to S3 or SSM",
        )
    report = check_bytes(data, source=source)
    if not report.valid or report.spec is None:
        raise CredentialSpecError(report.findings, source=source)
    spec = report.spec
    body = render(spec).encode("utf-8")
    mode = Mode.DOMAINLESS if spec.is_domainless else Mode.DOMAIN_JOINED
    result = _store(body, target, source, aws, mode, overwrite, kms_key_id, secure)
    return replace(result, warnings=report.warnings)


def _store(
    body: bytes,
    target: Target,
    source: str,
    aws: AwsConfig | None,
    mode: Mode,
    overwrite: bool,
    kms_key_id: str | None,
    secure: bool,
) -> PublishResult:
    if isinstance(target, LocalDirTarget):
        return _publish_file(body, target, source, mode, overwrite=overwrite)
    if aws is None:
        raise SourceNotConfiguredError(
            "publishing to AWS needs AWS settings",
            where=source,
            fix="give --region/--profile/--endpoint-url",
        )
    if isinstance(target, S3Target):
        return _publish_s3(body, target, aws, mode, overwrite=overwrite, kms_key_id=kms_key_id)
    return _publish_ssm(
        body, target, aws, mode, overwrite=overwrite, kms_key_id=kms_key_id, secure=secure
    )


def _publish_file(
    body: bytes, target: LocalDirTarget, source: str, mode: Mode, *, overwrite: bool
) -> PublishResult:
    name = target.name or Path(source).name
    _check_file_name(name, name)
    path = confined(target.directory, name)
    try:
        write_atomic(path, body, exclusive=not overwrite)
        unchanged = False
    except InvalidInputError:
        if _read_file(path) != body:
            raise SpecExistsError(
                "a different credential spec is already stored in this file",
                where=str(path),
                fix="pass --overwrite to replace it, or choose another name",
            ) from None
        unchanged = True
    info = path.stat()
    location = FileLocation(path=name)
    return PublishResult(
        reference=Reference(mode, location),
        target=str(path),
        size=len(body),
        version=f"{info.st_ino}:{info.st_size}:{info.st_mtime_ns}",
        unchanged=unchanged,
    )


def _read_file(path: Path) -> bytes | None:
    """The stored spec, or ``None`` when the path holds no readable spec (never blocks
    on a FIFO or device standing where the spec would go)."""
    try:
        return read_input(path, max_bytes=MAX_SPEC_BYTES, what="credential spec").data
    except GmsaError:
        return None


def _publish_s3(
    body: bytes,
    target: S3Target,
    aws: AwsConfig,
    mode: Mode,
    *,
    overwrite: bool,
    kms_key_id: str | None,
) -> PublishResult:
    location = target.location
    s3 = aws.client("s3")
    arguments: dict[str, Any] = {
        "Bucket": location.bucket,
        "Key": location.key,
        "Body": body,
        "ContentType": "application/json",
    }
    if kms_key_id:
        arguments["ServerSideEncryption"] = "aws:kms"
        arguments["SSEKMSKeyId"] = kms_key_id
    if not overwrite:
        arguments["IfNoneMatch"] = "*"
    version, unchanged = _put_unless_different(
        _S3_WRITE,
        body,
        lambda: s3.put_object(**arguments).get("ETag"),
        lambda: _s3_current(s3, location),
        location.arn,
        location.bucket_arn,
    )
    return PublishResult(
        reference=Reference(mode, location),
        target=f"s3://{location.bucket}/{location.key}",
        size=len(body),
        version=str(version) if version else None,
        unchanged=unchanged,
    )


def _s3_current(s3: Any, location: S3Location) -> tuple[bytes | None, str | None]:
    try:
        answer = s3.get_object(Bucket=location.bucket, Key=location.key)
        with answer["Body"] as stream:
            data = stream.read(MAX_SPEC_BYTES + 1)
    except AWS_FAILURES as exc:
        raise aws_error(exc, action="s3:GetObject", resource=location.arn) from exc
    etag = answer.get("ETag")
    return data, str(etag) if etag else None


def _publish_ssm(
    body: bytes,
    target: SsmTarget,
    aws: AwsConfig,
    mode: Mode,
    *,
    overwrite: bool,
    kms_key_id: str | None,
    secure: bool,
) -> PublishResult:
    if len(body) > SSM_ADVANCED_MAX:
        raise InvalidInputError(
            f"the spec is {len(body)} bytes; SSM parameters hold at most {SSM_ADVANCED_MAX}",
            where=f"ssm:{target.name}",
            fix="publish it to S3 instead",
        )
    region = target.region or aws.region or aws.session().region_name
    if not region:
        raise InvalidInputError(
            "no region for the SSM parameter",
            where=f"ssm:{target.name}",
            fix="give --region, set AWS_REGION, or use the parameter's ARN",
        )
    partition = target.partition or partition_for_region(region)
    caller = aws.caller_account(region=region)
    if target.account and target.account != caller:
        raise PublishTargetError(
            f"the ARN names account {target.account}, but the credentials in use are of "
            f"account {caller}",
            where=f"ARN account of {target.name}",
            fix="publish with credentials of the parameter's account (--profile/--role-arn)",
        )
    location = SsmLocation(partition=partition, region=region, account=caller, name=target.name)
    arguments: dict[str, Any] = {
        "Name": target.name,
        "Value": body.decode("utf-8"),
        "Type": "SecureString" if (secure or kms_key_id) else "String",
        "Overwrite": overwrite,
        "Description": "gMSA credential spec (gmsa spec publish)",
    }
    if kms_key_id:
        arguments["KeyId"] = kms_key_id
    if len(body) > SSM_STANDARD_MAX:
        arguments["Tier"] = "Advanced"
    ssm = aws.client("ssm", region=region)
    version, unchanged = _put_unless_different(
        _SSM_WRITE,
        body,
        lambda: ssm.put_parameter(**arguments).get("Version"),
        lambda: _ssm_current(ssm, location),
        location.arn,
        None,
    )
    return PublishResult(
        reference=Reference(mode, location),
        target=f"ssm:{target.name} ({region})",
        size=len(body),
        version=None if version is None else str(version),
        unchanged=unchanged,
    )


def _ssm_current(ssm: Any, location: SsmLocation) -> tuple[bytes | None, Any]:
    try:
        answer = ssm.get_parameters(Names=[location.name], WithDecryption=True)
    except AWS_FAILURES as exc:
        raise aws_error(exc, action="ssm:GetParameters", resource=location.arn) from exc
    parameters = answer.get("Parameters") or []
    if not parameters:
        return None, None
    return str(parameters[0].get("Value", "")).encode("utf-8"), parameters[0].get("Version")


def _put_unless_different(
    write: _Write,
    body: bytes,
    put: Callable[[], Any],
    current: Callable[[], tuple[bytes | None, Any]],
    resource: str,
    container: str | None,
) -> tuple[Any, bool]:
    """Store ``body`` on ``resource`` with ``put`` (which returns the new version).

    When the store refuses because something is there already, the same bytes
    (read with ``current``) are a success and different ones are
    :class:`SpecExistsError`. ``container`` (a bucket) is named when it is what is
    missing. Returns the version and whether nothing changed.
    """
    try:
        return put(), False
    except ClientError as exc:
        if code_and_status(exc)[0] not in write.conflicts:
            raise _store_error(exc, write.action, resource, container) from exc
        existing, version = current()
        if existing != body:
            raise SpecExistsError(
                write.stored,
                where=resource,
                fix=f"pass --overwrite to replace it, or choose another {write.other}",
            ) from None
        return version, True
    except AWS_FAILURES as exc:
        raise aws_error(exc, action=write.action, resource=resource) from exc


def _store_error(
    exc: ClientError, action: str, resource: str, container: str | None
) -> ExternalError:
    mapped = aws_error(exc, action=action, resource=resource)
    if isinstance(mapped, AwsNotFoundError) and container is not None:
        return AwsNotFoundError(
            f"the bucket does not exist ({code_and_status(exc)[0]})",
            where=f"{action} on {container}",
            fix="create the bucket first (aws s3 mb), or fix the bucket name",
        )
    return mapped


__all__ = [
    "SSM_ADVANCED_MAX",
    "SSM_STANDARD_MAX",
    "TARGET_FORMS",
    "LocalDirTarget",
    "PublishResult",
    "PublishTargetError",
    "S3Target",
    "SpecExistsError",
    "SsmTarget",
    "Target",
    "parse_target",
    "partition_for_region",
    "publish",
]
