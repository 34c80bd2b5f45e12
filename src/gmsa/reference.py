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
from typing import Any

from gmsa.errors import InvalidInputError
from gmsa.identifiers import REGION_RE
from gmsa.jsondoc import type_name
from gmsa.printable import has_surrogates, printable

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

SERVICES = ("s3", "ssm")
"""The only ARN services the ECS agent reads credential specs from."""

ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
"""An AWS account id: 12 digits."""
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SSM_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-/]+$")
_SECRET_NAME = r"[A-Za-z0-9/_+=.@-]{1,512}"  # noqa: S105 - a name pattern
SECRET_NAME_RE = re.compile(rf"^{_SECRET_NAME}$")
"""A Secrets Manager secret's name as its ARN ends it (with the random ``-AbCdEf`` suffix)."""
_SECRET_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):secretsmanager:(?P<region>[a-z0-9-]+):"
    rf"(?P<account>\d{{12}}):secret:(?P<name>{_SECRET_NAME})$"
)
_SSM_MAX_NAME = 1011
"""Longest name a user may give a parameter (2048 minus what SSM reserves)."""
_SSM_MAX_LEVELS = 15
_S3_MAX_KEY_BYTES = 1024
_FILE_MAX = 260
_FILE_BAD_CHARS = '<>"|?*'
"""Characters Windows file names cannot hold (Docker reads the file on Windows)."""
_WINDOWS_DEVICES = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{i}" for i in range(1, 10)]
    + [f"lpt{i}" for i in range(1, 10)]
)
_BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_SHOWN_MAX = 200
"""Longest value quoted in an error's ``where`` (a huge paste should not flood a terminal)."""


class InvalidReferenceError(InvalidInputError):
    """A credential spec reference is malformed; ``part`` names the wrong piece."""

    code = "invalid-reference"

    def __init__(self, what: str, *, part: str, value: str, fix: str | None = None) -> None:
        shown = value if len(value) <= _SHOWN_MAX else value[:_SHOWN_MAX] + "..."
        super().__init__(what, where=f"{part} of {shown!r}", fix=fix)
        self.part = part
        """Which piece is wrong: ``prefix``, ``ARN partition``, ``S3 bucket``, ``file path``..."""
        self.value = value
        """The whole reference as given."""

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON, with the part that is wrong."""
        out = super().to_dict()
        out["part"] = self.part
        return out


class Mode(str, Enum):  # noqa: UP042 - str mix-in kept: values compare equal to plain strings
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

    def parts(self) -> dict[str, str]:
        """The named parts, as ``gmsa ref check`` shows them."""
        return {
            "partition": self.partition,
            "bucket": self.bucket,
            "key": self.key,
            "arn": self.arn,
        }

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
        name = self.name.lstrip("/")
        return f"arn:{self.partition}:ssm:{self.region}:{self.account}:parameter/{name}"

    def parts(self) -> dict[str, str]:
        """The named parts, as ``gmsa ref check`` shows them."""
        return {
            "partition": self.partition,
            "region": self.region,
            "account": self.account,
            "name": self.name,
            "arn": self.arn,
        }

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

    def parts(self) -> dict[str, str]:
        """The named parts, as ``gmsa ref check`` shows them."""
        return {"path": self.path}

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
                    fix=f"write {mode.prefix}{value[len(mode.prefix) :]}",
                )
            return mode, value[len(mode.prefix) :]
    return None, value


def _looks_like_location(value: str) -> bool:
    return value.startswith(("arn:", "file://"))


def _suggest_prefix(value: str) -> str | None:
    """A corrected reference for a mistyped prefix, or None when nothing is close."""
    lowered = value.lower()
    for candidate, fixed in _COMMON_MISTAKES.items():
        if lowered.startswith(candidate):
            return fixed + value[len(candidate) :]
    # Where the location starts tells what the prefix was meant to be, whatever
    # separator (':', '=', a space) the user put between them.
    starts = [i for i in (lowered.find("arn:"), lowered.find("file:")) if i > 0]
    if starts:
        cut = min(starts)
        head, rest = value[:cut].rstrip(":= \t"), value[cut:]
    else:
        head, sep, rest = value.partition(":")
        eq_head, eq_sep, eq_rest = value.partition("=")
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
            f"a reference must be a string, not {type_name(value)}",
            part="value",
            value=repr(value),
            fix='write it as "credentialspec:<arn or file://...>"',
        )
    if not value:
        raise InvalidReferenceError(
            "the reference is empty",
            part="value",
            value=value,
            fix="write credentialspec:<arn or file://...>",
        )
    if value != value.strip():
        raise InvalidReferenceError(
            "the reference has leading or trailing white space",
            part="value",
            value=value,
            fix="remove the spaces; the ECS agent does not trim them",
        )
    _refuse_surrogates(value)
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
                fix=f"did you mean {suggestion!r}?"
                if suggestion
                else "write credentialspec:<arn or file://...>",
            )
    for other in (Mode.DOMAINLESS, Mode.DOMAIN_JOINED):
        if rest.lower().startswith(other.prefix):
            raise InvalidReferenceError(
                "the prefix appears twice",
                part="prefix",
                value=value,
                fix=f"keep one: {mode.prefix}{rest[len(other.prefix) :]}",
            )
    return Reference(mode=mode, location=parse_location(rest, original=value))


def _refuse_surrogates(value: str) -> None:
    if has_surrogates(value):
        bad = printable(next(ch for ch in value if has_surrogates(ch)))
        raise InvalidReferenceError(
            f"the reference is not valid Unicode text: it holds {bad} (a byte that is not "
            "UTF-8, or a lone surrogate), and S3 keys, SSM names and file names are UTF-8",
            part="value",
            value=printable(value),
            fix="retype the reference; it was probably mangled by an encoding conversion",
        )


def parse_location(text: str, *, original: str | None = None) -> Location:
    """Parse the part after the prefix: an S3 or SSM ARN, or a ``file://`` path."""
    _refuse_surrogates(original if original is not None else text)
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
    if text.lower().startswith("arn:"):
        raise InvalidReferenceError(
            "an ARN starts with lowercase 'arn:'",
            part="ARN",
            value=shown,
            fix=f"write arn:{text[4:]}",
        )
    if text.startswith(("s3://", "ssm:", "/")):
        fix = (
            "use the object's ARN: arn:aws:s3:::BUCKET/KEY"
            if text.startswith("s3://")
            else (
                "use the parameter's ARN: arn:aws:ssm:REGION:ACCOUNT:parameter/NAME"
                if text.startswith("ssm:")
                else "use file://NAME.json, relative to the CredentialSpecs directory"
            )
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

    def fail(what: str, fix: str) -> InvalidReferenceError:
        return InvalidReferenceError(what, part=part, value=shown, fix=fix)

    if not raw:
        raise fail("the file path is empty", "name a file, e.g. file://webapp01.json")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise fail("the file path holds control characters", "use a plain file name")
    if raw.startswith(("/", "\\")):
        kind = "UNC" if raw.startswith(("//", "\\\\")) else "absolute"
        raise fail(
            f"{kind} paths are not allowed: Docker reads file:// relative to its "
            "CredentialSpecs directory",
            "put the file in the CredentialSpecs directory and give its name, "
            "e.g. file://webapp01.json",
        )
    if re.match(r"^[A-Za-z]:", raw):
        raise fail(
            "drive-letter paths are not allowed: Docker reads file:// relative to its "
            "CredentialSpecs directory",
            "give the path relative to the CredentialSpecs directory",
        )
    if ":" in raw:
        raise fail("the file path holds ':' (an NTFS stream or a drive)", "use a plain file name")
    bad = sorted({ch for ch in raw if ch in _FILE_BAD_CHARS})
    if bad:
        raise fail(
            f"the file path holds {' '.join(bad)}, which Windows file names cannot hold",
            "rename the file with letters, digits, '-', '_' and '.'",
        )
    parts = re.split(r"[\\/]", raw)
    if any(p == ".." for p in parts):
        raise fail(
            "'..' would leave the CredentialSpecs directory",
            "keep the spec inside the CredentialSpecs directory",
        )
    if any(p == "" for p in parts) or parts[-1] == ".":
        raise fail(
            "the file path has an empty component or ends with a separator",
            "name a file, e.g. file://app.json",
        )
    for p in parts:
        if p.split(".", 1)[0].rstrip(" ").lower() in _WINDOWS_DEVICES:
            raise fail(
                f"{p!r} is a Windows device name, not a file",
                "choose another file name",
            )
    if len(raw) > _FILE_MAX:
        raise fail(f"the file path is longer than {_FILE_MAX} characters", "use a shorter name")
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
    check_partition(partition, shown)
    if service == "s3":
        return _parse_s3(partition, region, account, resource, shown)
    if service == "ssm":
        return _parse_ssm(partition, region, account, resource, shown)
    if service == "secretsmanager":
        fix = "a Secrets Manager ARN belongs in the spec's PluginInput, not in the reference"
    elif service.lower() in SERVICES:
        fix = f"write the service in lowercase: {service.lower()}"
    else:
        close = difflib.get_close_matches(service.lower(), SERVICES, n=1, cutoff=0.5)
        fix = (
            f"did you mean {close[0]!r}?"
            if close
            else "store the spec in S3 or SSM Parameter Store (gmsa spec publish does it)"
        )
    raise InvalidReferenceError(
        f"unsupported service {service!r}: only s3 and ssm ARNs are valid references",
        part="ARN service",
        value=shown,
        fix=fix,
    )


def check_partition(partition: str, shown: str) -> None:
    """Refuse a partition AWS does not have, suggesting the closest one."""
    if partition in PARTITIONS:
        return
    if partition.lower() in PARTITIONS:
        fix = f"write it in lowercase: {partition.lower()!r}"
    else:
        close = difflib.get_close_matches(partition.lower(), list(PARTITIONS), n=1)
        fix = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(PARTITIONS)}"
    raise InvalidReferenceError(
        f"unknown partition {partition!r}", part="ARN partition", value=shown, fix=fix
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

    def fail(what: str, fix: str) -> InvalidReferenceError:
        return InvalidReferenceError(what, part="S3 key", value=shown, fix=fix)

    if not sep or not key:
        raise fail(
            "the ARN names a bucket but no object key",
            f"write arn:{partition}:s3:::{bucket}/PATH/TO/SPEC.json",
        )
    if key.endswith("/"):
        raise fail(
            "the key ends with '/', which names a folder, not an object",
            "name the spec object itself",
        )
    if len(key.encode("utf-8")) > _S3_MAX_KEY_BYTES:
        raise fail(f"the key is longer than {_S3_MAX_KEY_BYTES} bytes", "use a shorter key")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise fail("the key holds control characters", "use printable characters")
    if any(ch in key for ch in "*?"):
        raise fail(
            "the key holds a wildcard; a reference names one object", "name the object exactly"
        )
    return S3Location(partition=partition, bucket=bucket, key=key)


def validate_bucket_name(bucket: str, shown: str) -> None:
    """Check S3's general-purpose bucket naming rules."""

    def fail(what: str, fix: str = "check the bucket name") -> InvalidReferenceError:
        return InvalidReferenceError(what, part="S3 bucket", value=shown, fix=fix)

    if not bucket:
        raise fail("the bucket name is empty", "write arn:aws:s3:::BUCKET/KEY")
    if not 3 <= len(bucket) <= 63:
        raise fail(f"bucket names are 3 to 63 characters long, not {len(bucket)}")
    if not _BUCKET_RE.match(bucket):
        raise fail(
            "bucket names use lowercase letters, digits, '.' and '-', and start and end "
            "with a letter or digit",
            f"did you mean {bucket.lower()!r}?"
            if bucket.lower() != bucket and _BUCKET_RE.match(bucket.lower())
            else "check the bucket name",
        )
    if ".." in bucket or ".-" in bucket or "-." in bucket:
        raise fail("bucket names cannot hold '..', '.-' or '-.'")
    try:
        ipaddress.IPv4Address(bucket)
    except ValueError:
        pass
    else:
        raise fail("bucket names cannot be IP addresses")
    if bucket.startswith(_BUCKET_BAD_PREFIXES) or bucket.endswith(_BUCKET_BAD_SUFFIXES):
        raise fail("the bucket name uses a prefix or suffix S3 reserves")


def _parse_ssm(partition: str, region: str, account: str, resource: str, shown: str) -> SsmLocation:
    check_region(partition, region, shown)
    check_account(account, shown, fix="copy the account id from the parameter's ARN")
    kind, sep, rest = resource.partition("/")
    if kind != "parameter" or not sep:
        raise InvalidReferenceError(
            "an SSM reference names a parameter: the resource is parameter/NAME",
            part="ARN resource",
            value=shown,
            fix=f"write arn:{partition}:ssm:{region}:{account}:parameter/NAME",
        )
    if not rest:
        raise InvalidReferenceError(
            "the parameter name is empty",
            part="SSM parameter name",
            value=shown,
            fix="add the parameter's name after parameter/",
        )
    name = f"/{rest}" if "/" in rest else rest
    validate_parameter_name(name, shown)
    return SsmLocation(partition=partition, region=region, account=account, name=name)


def check_account(account: str, shown: str, *, fix: str) -> None:
    """Refuse an account id that is not 12 digits."""
    if not ACCOUNT_ID_RE.match(account):
        raise InvalidReferenceError(
            f"the account id must be 12 digits, not {account!r}",
            part="ARN account",
            value=shown,
            fix=fix,
        )


def region_in_partition(partition: str, region: str) -> bool:
    """Whether ``region`` belongs to the known ``partition`` (``cn-*`` to aws-cn, ...)."""
    expected = PARTITIONS[partition]
    if expected:
        return region.startswith(expected)
    return not any(region.startswith(p) for p in PARTITIONS.values() if p)


def check_region(partition: str, region: str, shown: str) -> None:
    """Refuse an empty or malformed region, or one outside ``partition``."""

    def fail(what: str, fix: str) -> InvalidReferenceError:
        return InvalidReferenceError(what, part="ARN region", value=shown, fix=fix)

    if not region:
        raise fail(
            "the ARN needs a region", f"write arn:{partition}:SERVICE:REGION:ACCOUNT:RESOURCE"
        )
    if not REGION_RE.match(region):
        raise fail(f"{region!r} is not a region name", "use a region such as us-east-1")
    if not region_in_partition(partition, region):
        raise fail(
            f"region {region!r} is not in partition {partition!r}",
            "make the partition and region agree (aws-cn: cn-*, aws-us-gov: us-gov-*)",
        )


def validate_parameter_name(name: str, shown: str) -> None:
    """Check Parameter Store's naming rules on a name as the API takes it."""

    def fail(what: str, fix: str) -> InvalidReferenceError:
        return InvalidReferenceError(what, part="SSM parameter name", value=shown, fix=fix)

    if not _SSM_NAME_RE.match(name):
        raise fail(
            "parameter names use only letters, digits, '_', '.', '-' and '/'",
            "rename the parameter",
        )
    if len(name) > _SSM_MAX_NAME:
        raise fail(f"parameter names are at most {_SSM_MAX_NAME} characters", "use a shorter name")
    if "/" in name:
        if not name.startswith("/"):
            raise fail("a hierarchical parameter name starts with '/'", f"write /{name}")
        segments = name[1:].split("/")
        if any(not s for s in segments):
            raise fail(
                "the parameter name has an empty level ('//' or a trailing '/')",
                "remove the extra '/'",
            )
        if len(segments) > _SSM_MAX_LEVELS:
            raise fail(
                f"parameter hierarchies have at most {_SSM_MAX_LEVELS} levels", "flatten the name"
            )
    first = name.lstrip("/").lower()
    if first.startswith(("aws", "ssm")):
        raise fail("parameter names cannot begin with 'aws' or 'ssm'", "rename the parameter")


@dataclass(frozen=True)
class SecretLocation:
    """A Secrets Manager secret, as its ARN names it (a domainless user's secret)."""

    partition: str
    """AWS partition."""
    region: str
    """Region of the secret; its client must be made there."""
    account: str
    """12-digit account id."""
    name: str
    """The secret's name with its random suffix, as the ARN ends."""


def parse_secret_arn(arn: str) -> SecretLocation | None:
    """The parts of a Secrets Manager secret ARN
    (``arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME``), or ``None`` when
    ``arn`` does not have that form."""
    match = _SECRET_ARN_RE.match(arn)
    if match is None:
        return None
    return SecretLocation(
        partition=match.group("partition"),
        region=match.group("region"),
        account=match.group("account"),
        name=match.group("name"),
    )


__all__ = [
    "ACCOUNT_ID_RE",
    "PARTITIONS",
    "PREFIX_DOMAINLESS",
    "PREFIX_DOMAIN_JOINED",
    "SECRET_NAME_RE",
    "SERVICES",
    "FileLocation",
    "InvalidReferenceError",
    "Location",
    "Mode",
    "Reference",
    "S3Location",
    "SecretLocation",
    "SsmLocation",
    "check_account",
    "check_partition",
    "check_region",
    "parse",
    "parse_location",
    "parse_secret_arn",
    "region_in_partition",
    "validate_bucket_name",
    "validate_parameter_name",
]
