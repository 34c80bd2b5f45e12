"""The exact IAM permissions a host needs to use one credential spec reference.

These are the calls gmsa's own fetch code makes with the task execution role,
which are the calls the ECS agent makes: ``s3:GetObject`` for an S3 object (a
HEAD to revalidate a cached copy is authorized as ``s3:GetObject`` too),
``ssm:GetParameters`` (plural: the agent batches parameter reads) for a
parameter, ``secretsmanager:GetSecretValue`` for a domainless host's user
secret and ``kms:Decrypt`` when a customer-managed key encrypts any of them.
Broad grants such as ``s3:Get*`` work but are more than a host needs; the
policy generated from these is the least that works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gmsa.errors import InvalidInputError
from gmsa.findings import Finding, warning
from gmsa.reference import (
    SECRET_NAME_RE,
    InvalidReferenceError,
    Mode,
    Reference,
    S3Location,
    SsmLocation,
    check_account,
    check_partition,
    check_region,
    parse_location,
)

ACTION_S3_GET_OBJECT = "s3:GetObject"
ACTION_SSM_GET_PARAMETERS = "ssm:GetParameters"
ACTION_GET_SECRET_VALUE = "secretsmanager:GetSecretValue"  # noqa: S105 - an IAM action name
ACTION_KMS_DECRYPT = "kms:Decrypt"

ACTION_ORDER: tuple[str, ...] = (
    ACTION_S3_GET_OBJECT,
    ACTION_SSM_GET_PARAMETERS,
    ACTION_GET_SECRET_VALUE,
    ACTION_KMS_DECRYPT,
)
"""The order actions are listed in, so generated policies are stable."""

_KMS_KEY_RE = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$"
)


class InvalidArnError(InvalidInputError):
    """An ARN given for a secret or a key is malformed; ``part`` names the wrong piece."""

    code = "invalid-arn"

    def __init__(self, what: str, *, part: str, value: str, fix: str | None = None) -> None:
        super().__init__(what, where=f"{part} of {value!r}", fix=fix)
        self.part = part
        """Which piece is wrong."""
        self.value = value
        """The ARN as given."""


@dataclass(frozen=True)
class Permission:
    """One IAM action on one resource that the host's calls need."""

    action: str
    """The IAM action, e.g. ``s3:GetObject``."""
    resource: str
    """The exact ARN it is needed on."""
    reason: str
    """Why the host needs it, as a verb phrase, e.g. ``read the credential spec object``."""

    def to_dict(self) -> dict[str, str]:
        """The permission as JSON."""
        return {"action": self.action, "resource": self.resource, "reason": self.reason}


def required_permissions(
    reference: Reference,
    *,
    secret_arn: str | None = None,
    kms_key_arn: str | None = None,
) -> tuple[Permission, ...]:
    """What the task execution role must allow for ``reference``.

    ``secret_arn`` is the domainless user secret the spec's PluginInput names (only
    domainless references read it); ``kms_key_arn`` a customer-managed key that
    encrypts the spec object, the SecureString parameter or the secret. A
    ``file://`` spec needs no permission of its own. Raises
    :class:`InvalidArnError` for a malformed secret or key ARN.
    """
    out: list[Permission] = []
    location = reference.location
    if isinstance(location, S3Location):
        out.append(
            Permission(ACTION_S3_GET_OBJECT, location.arn, "read the credential spec object")
        )
    elif isinstance(location, SsmLocation):
        out.append(
            Permission(
                ACTION_SSM_GET_PARAMETERS, location.arn, "read the credential spec parameter"
            )
        )
    if reference.mode is Mode.DOMAINLESS and secret_arn is not None:
        out.append(secret_permission(secret_arn))
    if kms_key_arn is not None:
        key = validate_kms_key_arn(kms_key_arn)
        if out:
            out.append(
                Permission(
                    ACTION_KMS_DECRYPT,
                    key,
                    "decrypt the credential spec or user secret with the customer-managed key",
                )
            )
    return tuple(out)


def requirement_findings(
    reference: Reference, *, secret_arn: str | None = None, path: str = ""
) -> list[Finding]:
    """What :func:`required_permissions` could not know from what it was given."""
    out: list[Finding] = []
    if reference.mode is Mode.DOMAINLESS and secret_arn is None:
        out.append(
            warning(
                "domainless-secret-unknown",
                path,
                "a domainless host also reads the domain user secret that the spec's "
                "PluginInput names (secretsmanager:GetSecretValue); without its ARN that "
                "permission is not included",
                "give --secret-arn with the credentialArn of the spec's PluginInput",
            )
        )
    return out


def merge_permissions(groups: list[tuple[Permission, ...]]) -> tuple[Permission, ...]:
    """All permissions of several references once each, in first-seen order."""
    seen: dict[tuple[str, str], Permission] = {}
    for group in groups:
        for permission in group:
            seen.setdefault((permission.action, permission.resource), permission)
    return tuple(seen.values())


def secret_permission(secret_arn: str) -> Permission:
    """The permission to read a domainless user secret: Secrets Manager or SSM."""
    reason = "read the domainless user's credentials named in the spec's PluginInput"
    fields = secret_arn.split(":", 6)
    if len(fields) >= 3 and fields[0] == "arn" and fields[2] == "ssm":
        try:
            location = parse_location(secret_arn)
        except InvalidReferenceError as exc:
            raise InvalidArnError(exc.what, part=exc.part, value=secret_arn, fix=exc.fix) from None
        if isinstance(location, SsmLocation):
            return Permission(ACTION_SSM_GET_PARAMETERS, location.arn, reason)
    validate_secret_arn(secret_arn)
    return Permission(ACTION_GET_SECRET_VALUE, secret_arn, reason)


def _arn_resource(arn: str, service: str, example: str) -> str:
    """Check partition, service, region and account of ``arn``; return its resource part."""
    fields = arn.split(":", 5)
    if len(fields) < 6 or fields[0] != "arn":
        raise InvalidArnError(
            f"not a {service} ARN", part="ARN", value=arn, fix=f"give the full ARN, e.g. {example}"
        )
    try:
        check_partition(fields[1], arn)
        if fields[2] != service:
            raise InvalidArnError(
                f"the service is {fields[2]!r}, not {service}",
                part="ARN service",
                value=arn,
                fix=f"give a {service} ARN, e.g. {example}",
            )
        check_region(fields[1], fields[3], arn)
        check_account(fields[4], arn, fix=f"copy the ARN from {service}")
    except InvalidReferenceError as exc:
        raise InvalidArnError(exc.what, part=exc.part, value=arn, fix=exc.fix) from None
    return fields[5]


def validate_secret_arn(arn: str) -> str:
    """Check a Secrets Manager secret ARN (``...:secret:NAME-AbCdEf``); return it."""
    example = "arn:aws:secretsmanager:us-east-1:111122223333:secret:gmsa-user-AbCdEf"
    kind, _, name = _arn_resource(arn, "secretsmanager", example).partition(":")
    if kind != "secret" or not name:
        raise InvalidArnError(
            "the resource of a secret ARN is secret:NAME",
            part="ARN resource",
            value=arn,
            fix=f"e.g. {example}",
        )
    if not SECRET_NAME_RE.match(name):
        raise InvalidArnError(
            "secret names use letters, digits and /_+=.@-",
            part="secret name",
            value=arn,
            fix="copy the ARN from Secrets Manager",
        )
    return arn


def validate_kms_key_arn(arn: str) -> str:
    """Check a KMS key ARN (``...:key/ID``); aliases are refused. Return it."""
    example = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    kind, _, key_id = _arn_resource(arn, "kms", example).partition("/")
    if kind == "alias":
        raise InvalidArnError(
            "IAM authorizes kms:Decrypt on the key itself, not on an alias",
            part="ARN resource",
            value=arn,
            fix="give the key's ARN (aws kms describe-key --key-id alias/NAME shows it)",
        )
    if kind != "key" or not _KMS_KEY_RE.match(key_id):
        raise InvalidArnError(
            "the resource of a key ARN is key/KEY-ID (a UUID or mrk-...)",
            part="ARN resource",
            value=arn,
            fix=f"e.g. {example}",
        )
    return arn


__all__ = [
    "ACTION_GET_SECRET_VALUE",
    "ACTION_KMS_DECRYPT",
    "ACTION_ORDER",
    "ACTION_S3_GET_OBJECT",
    "ACTION_SSM_GET_PARAMETERS",
    "InvalidArnError",
    "Permission",
    "merge_permissions",
    "required_permissions",
    "requirement_findings",
    "secret_permission",
    "validate_kms_key_arn",
    "validate_secret_arn",
]
