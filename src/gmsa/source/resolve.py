"""Following references to their credential specs, for checks that need the spec itself.

A task definition check reads the spec behind each reference (the hostname rule,
the spec's own validity, the secret a domainless spec names). A spec that does
not exist, is too large or does not parse is a finding there, not a failure:
the task would fail to start with it, and the check says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gmsa.aws import AwsConfig
from gmsa.credspec.model import CredentialSpec
from gmsa.credspec.validate import check_bytes
from gmsa.errors import InvalidInputError, NotFoundError
from gmsa.findings import Finding, error
from gmsa.reference import FileLocation, Reference
from gmsa.source.fetcher import SpecFetcher


@dataclass(frozen=True)
class ResolvedSpec:
    """The credential spec a reference points at, read for the checks that need it."""

    reference: Reference
    """The reference that was followed."""
    source: str
    """Where the spec was read from (a file path or an ARN), for messages."""
    spec: CredentialSpec | None
    """The parsed spec; ``None`` when it could not be read or did not parse."""
    findings: tuple[Finding, ...] = ()
    """Problems of the spec itself, with paths inside the spec document."""


def resolve_specs(
    references: Iterable[Reference],
    *,
    spec_dir: Path | None = None,
    aws: AwsConfig | None = None,
) -> dict[Reference, ResolvedSpec]:
    """Read the spec of every reference that can be read with what was given.

    ``file://`` references need ``spec_dir`` (the host's CredentialSpecs directory
    or a copy of it); S3 and SSM references need ``aws``. The others are skipped.
    """
    resolved: dict[Reference, ResolvedSpec] = {}
    for ref in references:
        if ref in resolved:
            continue
        is_file = isinstance(ref.location, FileLocation)
        if (is_file and spec_dir is None) or (not is_file and aws is None):
            continue
        resolved[ref] = read_spec(ref, spec_dir=spec_dir, aws=aws)
    return resolved


def read_spec(
    reference: Reference,
    *,
    spec_dir: Path | None = None,
    aws: AwsConfig | None = None,
) -> ResolvedSpec:
    """Fetch and validate the spec one reference points at.

    A spec that does not exist, is too large or does not parse becomes a finding
    (the task would fail with it); any other failure of AWS or the file system
    raises its :class:`~gmsa.errors.ExternalError` (exit 3).
    """
    location = reference.location
    if isinstance(location, FileLocation):
        if spec_dir is None:
            raise InvalidInputError(
                f"{reference} is a file:// reference, but no spec directory was given",
                where=str(reference),
                fix="give --credspec-dir with the host's CredentialSpecs directory (or a copy)",
            )
        source = str(Path(spec_dir) / location.path)
    else:
        source = reference.location_text
    fetcher = SpecFetcher(aws=aws, spec_dir=spec_dir)
    try:
        fetched = fetcher.fetch(location)
        report = check_bytes(fetched.data, source=source)
    except NotFoundError as exc:
        found = error(
            "spec-not-found",
            "",
            f"the spec does not exist ({source})",
            exc.fix or "publish the spec, or correct the reference",
        )
        return ResolvedSpec(reference, source, None, (found,))
    except InvalidInputError as exc:
        return ResolvedSpec(reference, source, None, (error(exc.code, "", exc.what, exc.fix),))
    return ResolvedSpec(reference, source, report.spec, tuple(report.findings))


__all__ = [
    "ResolvedSpec",
    "read_spec",
    "resolve_specs",
]
