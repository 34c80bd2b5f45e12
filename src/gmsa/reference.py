"""Credential spec references: the ``credentialspec:`` values of a task definition.

A reference is a prefix (``credentialspec:`` for domain-joined hosts,
``credentialspecdomainless:`` for hosts outside the domain) and a location: an
S3 object ARN, an SSM parameter ARN or a ``file://`` path relative to the
host's CredentialSpecs directory. The ECS agent checks these only at task
launch and misses partitions and path traversal; here each wrong part is named
before anything runs.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass
from enum import Enum

from gmsa.errors import InvalidInputError

PREFIX_DOMAIN_JOINED = "credentialspec:"
PREFIX_DOMAINLESS = "credentialspecdomainless:"

PARTITIONS: dict[str, str] = {
    "aws": "",
    "aws-cn": "cn-",
    "aws-us-gov": "us-gov-",
    "aws-iso": "us-iso-",
    "aws-iso-b": "us-isob-",
    "aws-iso-e": "eu-isoe-",
    "aws-iso-f": "us-isof-",
    "aws-eusc": "eusc-",
}
"""Known partitions and the region prefix each one's regions start with."""

_REGION_RE = re.compile(r"^[a-z]{2,5}(-[a-z]+)+-\d{1,2}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SSM_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-/]+$")
_SSM_MAX_NAME = 2048
_SSM_MAX_LEVELS = 15
_S3_MAX_KEY_BYTES = 1024
_FILE_MAX = 260
_BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


class InvalidReferenceError(InvalidInputError):
    """A credential spec reference is malformed; ``part`` names the wrong piece."""

    code = "invalid-reference"

    def __init__(self, what: str, *, part: str, value: str, fix: str | None = None) -> None:
        super().__init__(what, where=f"{part} of {value!r}", fix=fix)
        self.part = part
        self.value = value


class Mode(str, Enum):
    """Which kind of host the reference is for."""

    DOMAIN_JOINED = "domain-joined"
    DOMAINLESS = "domainless"

    @property
    def prefix(self) -> str:
        """The task-definition prefix of this mode."""
        return PREFIX_DOMAIN_JOINED if self is Mode.DOMAIN_JOINED else PREFIX_DOMAINLESS


@dataclass(frozen=True)
class S3Location:
    """An S3 object holding a credential spec."""

    partition: str
    """AWS partition, e.g. ``aws``."""
    bucket: str
    """Bucket name."""
    key: str
    """Object key; may contain ``/``."""

    @property
    def arn(self) -> str:
        """The object's ARN."""
        return f"arn:{self.partition}:s3:::{self.bucket}/{self.key}"

    @property
    def bucket_arn(self) -> str:
        """The bucket's ARN."""
        return f"arn:{self.partition}:s3:::{self.bucket}"

    def __str__(self) -> str:
        return self.arn


@dataclass(frozen=True)
class SsmLocation:
    """An SSM Parameter Store parameter holding a credential spec."""

    partition: str
    """AWS partition."""
    region: str
    """Region of the parameter."""
    account: str
    """12-digit account id."""
    name: str
    """Parameter name as the SSM API takes it: ``/a/b`` for hierarchies, ``name`` otherwise."""

    @property
    def arn(self) -> str:
        """The parameter's ARN (``parameter/name`` or ``parameter/a/b``)."""
        return f"arn:{self.partition}:ssm:{self.region}:{self.account}:parameter/{self.name.lstrip('/')}"

    def __str__(self) -> str:
        return self.arn


@dataclass(frozen=True)
class FileLocation:
    """A spec file relative to the host's CredentialSpecs directory."""

    path: str
    """Relative path with ``/`` separators, e.g. ``webapp01.json`` or ``team/app.json``."""

    @property
    def uri(self) -> str:
        """The ``file://`` form."""
        return f"file://{self.path}"

    def __str__(self) -> str:
        return self.uri


Location = S3Location | SsmLocation | FileLocation


@dataclass(frozen=True)
class Reference:
    """A parsed, valid credential spec reference."""

    mode: Mode
    """Domain-joined or domainless host."""
    location: Location
    """Where the spec lives."""

    @property
    def needs_aws(self) -> bool:
        """Whether fetching it needs AWS credentials (the task execution role)."""
        return not isinstance(self.location, FileLocation)

    @property
    def kind(self) -> str:
        """``s3``, ``ssm`` or ``file``."""
        if isinstance(self.location, S3Location):
            return "s3"
        if isinstance(self.location, SsmLocation):
            return "ssm"
        return "file"

    @property
    def location_text(self) -> str:
        """The location part as written after the prefix."""
        return str(self.location)

    def __str__(self) -> str:
        return f"{self.mode.prefix}{self.location}"


_COMMON_MISTAKES: dict[str, str] = {
    "credentialspec=": "credentialspec:",
    "credentialspecs:": "credentialspec:",
    "credspec:": "credentialspec:",
    "credential-spec:": "credentialspec:",
    "credential_spec:": "credentialspec:",
    "credentialspecdomainless=": "credentialspecdomainless:",
    "credentialspec-domainless:": "credentialspecdomainless:",
    "credentialspecsdomainless:": "credentialspecdomainless:",
}


def _split_prefix(value: str) -> tuple[Mode | None, str]:
    lowered = value.lower()
    for mode in (Mode.DOMAINLESS, Mode.DOMAIN_JOINED):
        if lowered.startswith(mode.prefix):
            if not value.startswith(mode.prefix):
                raise InvalidReferenceError(
                    "the prefix must be lowercase",
                    part="prefix",
                    value=value,
                    fix=f"write {mode.prefix}{value[len(mode.prefix):]}",
                )
            return mode, value[len(mode.prefix) :]
    return None, value


def _looks_like_location(value: str) -> bool:
    return value.startswith(("arn:", "file://"))


def _suggest_prefix(value: str) -> str | None:
    head, sep, rest = value.partition(":")
    eq_head, eq_sep, eq_rest = value.partition("=")
    for candidate, fixed in _COMMON_MISTAKES.items():
        if value.lower().startswith(candidate):
            return fixed + value[len(candidate) :]
    if eq_sep and ":" not in eq_head:
        head, rest = eq_head, eq_rest
    elif not sep:
        return None
    close = difflib.get_close_matches(
        head.lower(), [PREFIX_DOMAIN_JOINED[:-1], PREFIX_DOMAINLESS[:-1]], n=1, cutoff=0.6
    )
    return f"{close[0]}:{rest}" if close else None


def parse(value: str, *, require_prefix: bool = True) -> Reference:
    """Parse a reference; raise :class:`InvalidReferenceError` naming the wrong part.

    With ``require_prefix=False`` a bare location (an ARN or ``file://``) is taken as
    a domain-joined reference, which is what commands like ``iam policy`` accept.
    """
    if not isinstance(value, str):
        raise InvalidReferenceError(
            f"a reference must be a string, not {type(value).__name__}",
            part="value",
            value=repr(value),
            fix='write it as "credentialspec:<arn or file://...>"',
        )
    if value != value.strip():
        raise InvalidReferenceError(
            "the reference has leading or trailing white space",
            part="value",
            value=value,
            fix="remove the spaces; the ECS agent does not trim them",
        )
    mode, rest = _split_prefix(value)
    if mode is None:
        if _looks_like_location(value) and not require_prefix:
            mode, rest = Mode.DOMAIN_JOINED, value
        elif _looks_like_location(value):
            raise InvalidReferenceError(
                "the reference has no credentialspec: prefix",
                part="prefix",
                value=value,
                fix=f"write {PREFIX_DOMAIN_JOINED}{value} (or {PREFIX_DOMAINLESS}... for "
                "hosts outside the domain)",
            )
        else:
            suggestion = _suggest_prefix(value)
            raise InvalidReferenceError(
                "unknown prefix: a reference starts with credentialspec: or "
                "credentialspecdomainless:",
                part="prefix",
                value=value,
                fix=f"did you mean {suggestion!r}?" if suggestion else
                "write credentialspec:<arn or file://...>",
            )
    return Reference(mode=mode, location=parse_location(rest, original=value))


def parse_location(text: str, *, original: str | None = None) -> Location:
    """Parse the part after the prefix: an S3 or SSM ARN, or a ``file://`` path."""
    shown = original if original is not None else text
    if not text:
        raise InvalidReferenceError(
            "the location after the prefix is empty",
            part="location",
            value=shown,
            fix="add an S3 object ARN, an SSM parameter ARN or file://NAME.json",
        )
    if text.lower().startswith("file:"):
        return _parse_file(text, shown)
    if text.startswith("arn:"):
        return _parse_arn(text, shown)
    if text.startswith(("s3://", "ssm:", "/")):
        fix = "use the object's ARN: arn:aws:s3:::BUCKET/KEY" if text.startswith("s3://") else (
            "use the parameter's ARN: arn:aws:ssm:REGION:ACCOUNT:parameter/NAME"
            if text.startswith("ssm:") else "use file://NAME.json, relative to the "
            "CredentialSpecs directory"
        )
        raise InvalidReferenceError(
            "only ARNs and file:// paths are references", part="location", value=shown, fix=fix
        )
    raise InvalidReferenceError(
        "the location is neither an ARN nor a file:// path",
        part="location",
        value=shown,
        fix="write an S3 or SSM ARN (arn:aws:...) or file://NAME.json",
    )


def _parse_file(text: str, shown: str) -> FileLocation:
    if not text.startswith("file://"):
        raise InvalidReferenceError(
            "a file reference starts with file:// (lowercase, two slashes)",
            part="scheme",
            value=shown,
            fix=f"write file://{text.split(':', 1)[1].lstrip('/')}",
        )
    raw = text[len("file://") :]
    part = "file path"
    if not raw:
        raise InvalidReferenceError("the file path is empty", part=part, value=shown,
                              fix="name a file, e.g. file://webapp01.json")
    if any(ord(ch) < 0x20 for ch in raw):
        raise InvalidReferenceError("the file path holds control characters", part=part, value=shown,
                              fix="use a plain file name")
    if raw.startswith(("/", "\\")):
        kind = "UNC" if raw.startswith(("//", "\\\\")) else "absolute"
        raise InvalidReferenceError(
            f"{kind} paths are not allowed: Docker reads file:// relative to its "
            "CredentialSpecs directory",
            part=part,
            value=shown,
            fix="put the file in the CredentialSpecs directory and give its name, "
            "e.g. file://webapp01.json",
        )
    if re.match(r"^[A-Za-z]:", raw):
        raise InvalidReferenceError(
            "drive-letter paths are not allowed: Docker reads file:// relative to its "
            "CredentialSpecs directory",
            part=part,
            value=shown,
            fix="give the path relative to the CredentialSpecs directory",
        )
    if ":" in raw:
        raise InvalidReferenceError("the file path holds ':' (an NTFS stream or a drive)",
                              part=part, value=shown, fix="use a plain file name")
    parts = re.split(r"[\\/]", raw)
    if any(p == ".." for p in parts):
        raise InvalidReferenceError(
            "'..' would leave the CredentialSpecs directory",
            part=part,
            value=shown,
            fix="keep the spec inside the CredentialSpecs directory",
        )
    if any(p == "" for p in parts) or parts[-1] in (".",):
        raise InvalidReferenceError("the file path has an empty component or ends with a separator",
                              part=part, value=shown, fix="name a file, e.g. file://app.json")
    if len(raw) > _FILE_MAX:
        raise InvalidReferenceError(f"the file path is longer than {_FILE_MAX} characters",
                              part=part, value=shown, fix="use a shorter name")
    normalized = "/".join(p for p in parts if p != ".")
    return FileLocation(path=normalized)


def _parse_arn(text: str, shown: str) -> S3Location | SsmLocation:
    fields = text.split(":", 5)
    if len(fields) < 6:
        raise InvalidReferenceError(
            "an ARN has six ':'-separated parts: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE",
            part="ARN",
            value=shown,
            fix="e.g. arn:aws:s3:::BUCKET/KEY or arn:aws:ssm:REGION:ACCOUNT:parameter/NAME",
        )
    _, partition, service, region, account, resource = fields
    if partition not in PARTITIONS:
        close = difflib.get_close_matches(partition, list(PARTITIONS), n=1)
        raise InvalidReferenceError(
            f"unknown partition {partition!r}",
            part="ARN partition",
            value=shown,
            fix=f"did you mean {close[0]!r}?" if close else
            f"use one of {', '.join(PARTITIONS)}",
        )
    if service == "s3":
        return _parse_s3(partition, region, account, resource, shown)
    if service == "ssm":
        return _parse_ssm(partition, region, account, resource, shown)
    raise InvalidReferenceError(
        f"unsupported service {service!r}: only s3 and ssm ARNs are valid references",
        part="ARN service",
        value=shown,
        fix="store the spec in S3 or SSM Parameter Store (gmsa spec publish does it)"
        if service != "secretsmanager" else
        "a Secrets Manager ARN belongs in the spec's PluginInput, not in the reference",
    )


def _parse_s3(partition: str, region: str, account: str, resource: str, shown: str) -> S3Location:
    if region or account:
        raise InvalidReferenceError(
            "an S3 object ARN has empty region and account fields",
            part="ARN region/account",
            value=shown,
            fix=f"write arn:{partition}:s3:::BUCKET/KEY",
        )
    bucket, sep, key = resource.partition("/")
    validate_bucket_name(bucket, shown)
    if not sep or not key:
        raise InvalidReferenceError(
            "the ARN names a bucket but no object key",
            part="S3 key",
            value=shown,
            fix=f"write arn:{partition}:s3:::{bucket}/PATH/TO/SPEC.json",
        )
    if key.endswith("/"):
        raise InvalidReferenceError("the key ends with '/', which names a folder, not an object",
                              part="S3 key", value=shown, fix="name the spec object itself")
    if len(key.encode("utf-8")) > _S3_MAX_KEY_BYTES:
        raise InvalidReferenceError(f"the key is longer than {_S3_MAX_KEY_BYTES} bytes",
                              part="S3 key", value=shown, fix="use a shorter key")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise InvalidReferenceError("the key holds control characters", part="S3 key",
                              value=shown, fix="use printable characters")
    if any(ch in key for ch in "*?"):
        raise InvalidReferenceError("the key holds a wildcard; a reference names one object",
                              part="S3 key", value=shown, fix="name the object exactly")
    return S3Location(partition=partition, bucket=bucket, key=key)


def validate_bucket_name(bucket: str, shown: str) -> None:
    """Check S3's general-purpose bucket naming rules."""
    part = "S3 bucket"
    if not bucket:
        raise InvalidReferenceError("the bucket name is empty", part=part, value=shown,
                              fix="write arn:aws:s3:::BUCKET/KEY")
    if not 3 <= len(bucket) <= 63:
        raise InvalidReferenceError(f"bucket names are 3 to 63 characters long, not {len(bucket)}",
                              part=part, value=shown, fix="check the bucket name")
    if not _BUCKET_RE.match(bucket):
        raise InvalidReferenceError(
            "bucket names use lowercase letters, digits, '.' and '-', and start and end "
            "with a letter or digit",
            part=part,
            value=shown,
            fix=f"did you mean {bucket.lower()!r}?" if bucket.lower() != bucket else
            "check the bucket name",
        )
    if ".." in bucket or ".-" in bucket or "-." in bucket:
        raise InvalidReferenceError("bucket names cannot hold '..', '.-' or '-.'",
                              part=part, value=shown, fix="check the bucket name")
    try:
        ipaddress.IPv4Address(bucket)
    except ValueError:
        pass
    else:
        raise InvalidReferenceError("bucket names cannot be IP addresses", part=part, value=shown,
                              fix="check the bucket name")
    if bucket.startswith(_BUCKET_BAD_PREFIXES) or bucket.endswith(_BUCKET_BAD_SUFFIXES):
        raise InvalidReferenceError("the bucket name uses a prefix or suffix S3 reserves",
                              part=part, value=shown, fix="check the bucket name")


def _parse_ssm(partition: str, region: str, account: str, resource: str,
               shown: str) -> SsmLocation:
    if not region:
        raise InvalidReferenceError("an SSM ARN needs a region", part="ARN region", value=shown,
                              fix=f"write arn:{partition}:ssm:REGION:ACCOUNT:parameter/NAME")
    if not _REGION_RE.match(region):
        raise InvalidReferenceError(f"{region!r} is not a region name", part="ARN region",
                              value=shown, fix="use a region such as us-east-1")
    expected = PARTITIONS[partition]
    if expected and not region.startswith(expected) or (
        not expected and any(region.startswith(p) for p in PARTITIONS.values() if p)
    ):
        raise InvalidReferenceError(
            f"region {region!r} is not in partition {partition!r}",
            part="ARN region",
            value=shown,
            fix="make the partition and region agree (aws-cn: cn-*, aws-us-gov: us-gov-*)",
        )
    if not _ACCOUNT_RE.match(account):
        raise InvalidReferenceError("the account id must be 12 digits", part="ARN account",
                              value=shown, fix="copy the account id from the parameter's ARN")
    kind, sep, rest = resource.partition("/")
    if kind != "parameter" or not sep:
        raise InvalidReferenceError(
            "an SSM reference names a parameter: the resource is parameter/NAME",
            part="ARN resource",
            value=shown,
            fix=f"write arn:{partition}:ssm:{region}:{account}:parameter/NAME",
        )
    if not rest:
        raise InvalidReferenceError("the parameter name is empty", part="SSM parameter name",
                              value=shown, fix="add the parameter's name after parameter/")
    name = f"/{rest}" if "/" in rest else rest
    validate_parameter_name(name, shown)
    return SsmLocation(partition=partition, region=region, account=account, name=name)


def validate_parameter_name(name: str, shown: str) -> None:
    """Check Parameter Store's naming rules on a name as the API takes it."""
    part = "SSM parameter name"
    if not _SSM_NAME_RE.match(name):
        raise InvalidReferenceError(
            "parameter names use only letters, digits, '_', '.', '-' and '/'",
            part=part, value=shown, fix="rename the parameter",
        )
    if len(name) > _SSM_MAX_NAME:
        raise InvalidReferenceError(f"parameter names are at most {_SSM_MAX_NAME} characters",
                              part=part, value=shown, fix="use a shorter name")
    if "/" in name:
        if not name.startswith("/"):
            raise InvalidReferenceError("a hierarchical parameter name starts with '/'", part=part,
                                  value=shown, fix=f"write /{name}")
        segments = name[1:].split("/")
        if any(not s for s in segments):
            raise InvalidReferenceError("the parameter name has an empty level ('//' or a trailing "
                                  "'/')", part=part, value=shown, fix="remove the extra '/'")
        if len(segments) > _SSM_MAX_LEVELS:
            raise InvalidReferenceError(f"parameter hierarchies have at most {_SSM_MAX_LEVELS} levels",
                                  part=part, value=shown, fix="flatten the name")
    first = name.lstrip("/").lower()
    if first.startswith(("aws", "ssm")):
        raise InvalidReferenceError("parameter names cannot begin with 'aws' or 'ssm'", part=part,
                              value=shown, fix="rename the parameter")
