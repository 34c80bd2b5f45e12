"""Parse and check credential specs: every problem as a finding with a JSON path and a fix.

CCG (Windows) and credentials-fetcher (Linux) fail late and opaquely on a wrong
spec: a domain SID copied from the account, a GUID in braces, a name with ``$``.
This module reads the document the way :mod:`gmsa.jsondoc` reads every JSON
input (BOMs, UTF-16, duplicate keys refused, size cap), then walks it once with
the rules of :mod:`gmsa.credspec.rules` and reports *all* problems at once,
errors for what will fail and warnings for what works but looks wrong. Unknown
keys are kept (and warned about) so a spec with vendor additions survives a
round trip.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gmsa import jsondoc
from gmsa.credspec.model import MAX_SPEC_BYTES, CredentialSpec
from gmsa.credspec.rules.document import read_document
from gmsa.credspec.rules.walker import Walker
from gmsa.errors import InvalidInputError
from gmsa.findings import Finding, count, error, errors_of, has_errors, warning, warnings_of
from gmsa.inputfile import STDIN, STDIN_SOURCE, InputFileError

CREDENTIALS_FETCHER_MAX_BYTES = 4000
"""credentials-fetcher refuses S3 objects larger than this."""


class CredentialSpecError(InvalidInputError):
    """A credential spec is not valid; :attr:`findings` holds every problem found.

    ``what``/``where``/``fix`` summarise the first error so the one-line
    diagnostics are useful on their own; ``to_dict`` carries all findings.
    """

    code = "invalid-credential-spec"

    def __init__(self, findings: Sequence[Finding], *, source: str) -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        self.source = source
        errors = errors_of(self.findings) or list(self.findings)
        if errors:
            first = errors[0]
            more = f" (and {count(len(errors) - 1, 'more error')})" if len(errors) > 1 else ""
            what = f"the credential spec is not valid: {first.message}{more}"
            where = f"{source}: {first.path}" if first.path else source
            fix = first.fix
        else:
            what, where, fix = "the credential spec is not valid", source, None
        super().__init__(what, where=where, fix=fix or "run: gmsa spec validate FILE")

    def diagnostics(self) -> str:
        """The summary, then every finding (as ``--json`` has them all)."""
        lines = [super().diagnostics(), *("  " + f.render() for f in self.findings)]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON, with every finding."""
        out = super().to_dict()
        out["findings"] = [f.to_dict() for f in self.findings]
        return out


@dataclass(frozen=True)
class SpecReport:
    """The outcome of checking one credential spec."""

    source: str
    """What was checked: a file path, an ARN, or ``<stdin>``."""
    spec: CredentialSpec | None
    """The typed spec; ``None`` when missing or mistyped fields prevent building it."""
    findings: tuple[Finding, ...]
    """Every error and warning, in document order."""
    resource: str | None = None
    """For a spec embedded in a template or plan: the resource that holds it (a
    CloudFormation logical id, a Terraform address); :attr:`source` is the file."""
    path: str | None = None
    """With :attr:`resource`: where in the resource the spec is (``Properties.Value``)."""
    line: int | None = None
    """With :attr:`resource`: the line of :attr:`path`, where the file has lines."""

    @property
    def valid(self) -> bool:
        """Whether no finding is an error (warnings do not make a spec invalid)."""
        return not has_errors(self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Only the errors."""
        return tuple(errors_of(self.findings))

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Only the warnings."""
        return tuple(warnings_of(self.findings))

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON: source, valid, errors and warnings (and, for an embedded
        spec, its resource, path and line)."""
        out: dict[str, Any] = {
            "source": self.source,
            "valid": self.valid,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
        }
        if self.resource is not None:
            out["resource"] = self.resource
            out["path"] = self.path
            out["line"] = self.line
        return out


# --------------------------------------------------------------------------- entry points


def check_bytes(data: bytes, *, source: str, in_s3: bool = True) -> SpecReport:
    """Check a spec as stored. Never raises for content: every problem is a finding.
    ``in_s3``: it may be stored in S3 (false for a value known to be an SSM
    parameter's), where credentials-fetcher limits its size."""
    if len(data) > MAX_SPEC_BYTES:
        return SpecReport(source, None, (too_large(len(data)),))
    try:
        document = jsondoc.loads(data, source=source, max_bytes=MAX_SPEC_BYTES)
    except InvalidInputError as exc:
        return SpecReport(source, None, (input_error_finding(exc, source),))
    report = check_document(document, source=source)
    if in_s3 and len(data) > CREDENTIALS_FETCHER_MAX_BYTES:
        size = warning(
            "larger-than-credentials-fetcher-limit",
            "",
            f"the spec is {len(data)} bytes; credentials-fetcher (Linux hosts) refuses specs "
            f"in S3 over {CREDENTIALS_FETCHER_MAX_BYTES} bytes",
            "remove unused keys and white space if Linux hosts will read it from S3",
        )
        report = SpecReport(report.source, report.spec, (*report.findings, size))
    return report


def check_document(document: Any, *, source: str) -> SpecReport:
    """Check an already parsed JSON value. Never raises: every problem is a finding."""
    walker = Walker()
    spec = read_document(walker, document)
    return SpecReport(source, spec, tuple(walker.findings))


def load_spec(data: bytes, *, source: str) -> CredentialSpec:
    """Parse a spec that must be valid; raise :class:`CredentialSpecError` otherwise."""
    report = check_bytes(data, source=source)
    if not report.valid or report.spec is None:
        raise CredentialSpecError(report.findings, source=source)
    return report.spec


def check_path(path: Path) -> SpecReport:
    """Read and check a spec file; a missing, oversized or wrong file is an error finding.

    Only a file that exists but cannot be read (permissions, I/O) raises, as
    :class:`~gmsa.errors.ExternalError`: that is the file system's failure, not the spec's.
    """
    source = str(path)
    try:
        data = jsondoc.read_bytes(path, max_bytes=MAX_SPEC_BYTES, what="credential spec")
    except jsondoc.JsonDocumentError:
        try:
            size = path.stat().st_size
        except OSError:
            size = MAX_SPEC_BYTES + 1
        return SpecReport(source, None, (too_large(size),))
    except InputFileError as exc:  # missing, a FIFO/socket/device/directory, a link loop
        return SpecReport(source, None, (error(exc.code, "", exc.what, exc.fix),))
    return check_bytes(data, source=source)


def read_argument(name: str) -> tuple[bytes, str]:
    """The bytes of one spec FILE argument (``-`` is standard input, read up to one byte
    past :data:`MAX_SPEC_BYTES` so a larger one shows) and the name to report it by.
    A file goes through the shared input reader and its limit (typed errors)."""
    if name == STDIN:
        return sys.stdin.buffer.read(MAX_SPEC_BYTES + 1), STDIN_SOURCE
    return jsondoc.read_bytes(Path(name), max_bytes=MAX_SPEC_BYTES, what="credential spec"), name


def check_argument(name: str) -> SpecReport:
    """Check one FILE argument (``-`` is standard input), as :func:`check_path` does."""
    if name == STDIN:
        data, source = read_argument(name)
        return check_bytes(data, source=source)
    return check_path(Path(name))


def too_large(size: int) -> Finding:
    """The error about a document of ``size`` bytes, too large to be a credential spec."""
    return error(
        "spec-too-large",
        "",
        f"the document is larger than the {MAX_SPEC_BYTES}-byte limit of a credential spec "
        f"({size} bytes read)",
        "a credential spec is a few hundred bytes: check that this is the right file",
    )


def input_error_finding(exc: InvalidInputError, source: str) -> Finding:
    """Turn an error reading ``source`` (strict JSON, a template) into a finding whose
    message carries line and column."""
    message = exc.what
    where = exc.where or ""
    if where.startswith(source + ":"):
        line_col = where[len(source) + 1 :]
        line, _, col = line_col.partition(":")
        if line.isdigit() and col.isdigit():
            message = f"{message} (line {line}, column {col})"
    path = exc.json_path if isinstance(exc, jsondoc.JsonDocumentError) else ""
    return error(exc.code, path, message, exc.fix)


__all__ = [
    "CREDENTIALS_FETCHER_MAX_BYTES",
    "CredentialSpecError",
    "SpecReport",
    "check_argument",
    "check_bytes",
    "check_document",
    "check_path",
    "input_error_finding",
    "load_spec",
    "read_argument",
    "too_large",
]
