"""What every command prints for a program: one JSON envelope, or a SARIF log.

Every ``--json`` document (``--format json``) is an object with ``ok`` and
``findings`` and, beside them, the command's own results under named keys;
:func:`output_schema` describes it (``gmsa schema output`` prints it).
``--format sarif`` turns the same findings into a SARIF 2.1.0 log whose results
point at the file and, where the file is JSON, the line of the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gmsa import __version__, jsondoc
from gmsa.errors import GmsaError
from gmsa.findings import Finding, Severity, has_errors

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
"""The published SARIF 2.1.0 schema a log names in ``$schema``."""
_SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_MAX_LOCATED_BYTES = jsondoc.DEFAULT_MAX_BYTES

LineLookup = Callable[[str, str], int | None]
"""``(source, path) -> line``: where a JSON path is in a source file, or ``None``."""

_FINDING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["severity", "code", "message", "fix", "path", "source"],
    "properties": {
        "severity": {"enum": [s.value for s in Severity]},
        "code": {
            "type": "string",
            "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
            "description": "Stable, kebab-case: scripts match on it.",
        },
        "message": {"type": "string", "minLength": 1},
        "fix": {"type": ["string", "null"], "description": "How to fix it, when there is a way."},
        "path": {
            "type": ["string", "null"],
            "pattern": "^(?!.* -> )(?!arn:)(?!credentialspec)[^\\s]",
            "description": "A JSON path inside source (A.B[0].C), or null; never a reference.",
        },
        "source": {
            "type": ["string", "null"],
            "description": "The file or reference the finding is about.",
        },
        "referenced_at": {
            "type": "string",
            "description": "The JSON path in the checked input that refers to source.",
        },
        "resource": {
            "type": "string",
            "description": "The template or plan resource (logical id, Terraform address) "
            "path is inside.",
        },
        "line": {
            "type": "integer",
            "minimum": 1,
            "description": "The line of the value in source, where the input has lines.",
        },
    },
}


def output_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every ``--json`` document follows."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "gmsa --json output",
        "description": "Every gmsa --json document: ok, findings, and the command's own "
        "results under named keys beside them.",
        "type": "object",
        "required": ["ok", "findings"],
        "properties": {
            "ok": {
                "type": "boolean",
                "description": "Whether the command did what was asked and found no error.",
            },
            "findings": {"type": "array", "items": {"$ref": "#/$defs/finding"}},
            "error": {"$ref": "#/$defs/error"},
        },
        "additionalProperties": True,
        "$defs": {
            "finding": _FINDING_SCHEMA,
            "error": {
                "type": "object",
                "required": ["code", "message", "where", "fix", "exit_code"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "where": {"type": ["string", "null"]},
                    "fix": {"type": ["string", "null"]},
                    "exit_code": {"type": "integer"},
                },
            },
        },
    }


def envelope(
    findings: Iterable[Finding],
    *,
    ok: bool | None = None,
    source: str | None = None,
    results: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``--json`` document: ``ok`` (default: no finding is an error), every finding
    (about ``source`` unless it names its own), and ``results`` beside them."""
    found = list(findings)
    document: dict[str, Any] = {
        "ok": not has_errors(found) if ok is None else ok,
        "findings": [f.to_json(source) for f in found],
    }
    for key, value in (results or {}).items():
        document.setdefault(key, value)
    return document


def error_findings(exc: GmsaError) -> list[Finding]:
    """An error as findings: the findings it carries (a spec's problems), else itself."""
    carried = getattr(exc, "findings", None)
    if isinstance(carried, tuple) and carried and all(isinstance(f, Finding) for f in carried):
        source = getattr(exc, "source", None)
        return [f if f.source or not isinstance(source, str) else f.about(source) for f in carried]
    if isinstance(exc, jsondoc.JsonDocumentError) and exc.json_path and exc.document:
        # The path inside the document and the document itself, kept apart.
        return [Finding(Severity.ERROR, exc.code, exc.json_path, exc.what, exc.fix, exc.document)]
    return [Finding(Severity.ERROR, exc.code, "", exc.what, exc.fix, source=exc.where)]


def error_envelope(exc: GmsaError) -> dict[str, Any]:
    """The ``--json`` document of a command that stopped with ``exc``."""
    return envelope(error_findings(exc), ok=False, results={"error": exc.to_dict()})


def _is_reference(source: str) -> bool:
    return source.startswith(("credentialspec", "arn:", "s3://", "ssm:", "file://", "<"))


def _uri(source: str) -> str | None:
    """A SARIF artifact URI for a file path; ``None`` for references and stdin."""
    if not source or _is_reference(source):
        return None
    path = Path(source)
    try:
        if path.is_absolute():
            return path.as_uri()
        # The file name's own bytes: a name that is not UTF-8 keeps them, as %XX.
        return quote(path.as_posix().encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        return None  # not a name any file system holds: named as a logical location


class JsonFileLines:
    """Finds the line of a JSON path in a JSON file (a :data:`LineLookup`), reading each
    file once however many findings it has."""

    def __init__(self) -> None:
        self._texts: dict[str, str | None] = {}

    def __call__(self, source: str, path: str) -> int | None:
        if source not in self._texts:
            self._texts[source] = _json_text(source)
        text = self._texts[source]
        return None if text is None else jsondoc.line_of(text, path)


def _json_text(source: str) -> str | None:
    file = Path(source)
    if _is_reference(source) or not file.is_file():
        return None
    try:
        data = jsondoc.read_bytes(file, max_bytes=_MAX_LOCATED_BYTES)
        return jsondoc.decode_text(data, source=source)
    except GmsaError:
        return None


def _location(finding: Finding, source: str | None, lines: LineLookup) -> dict[str, Any]:
    """Where a result is: the file (and line) of the checked input or the source it is
    about, and the JSON path as a logical location."""
    about = finding.source or source
    file: str | None = about
    path = finding.path
    if finding.referenced_at and source:
        file, path = source, finding.referenced_at
    location: dict[str, Any] = {}
    uri = _uri(file) if file else None
    if uri is not None and file is not None:
        physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
        line = finding.line if finding.line is not None else lines(file, path) if path else None
        if line is not None:
            physical["region"] = {"startLine": line}
        location["physicalLocation"] = physical
    parts = (about if uri is None else None, finding.resource, finding.path)
    logical = " ".join(p for p in parts if p)
    if logical:
        location["logicalLocations"] = [{"fullyQualifiedName": logical}]
    return location


def sarif_log(
    findings: Sequence[Finding],
    *,
    completed: bool = True,
    source: str | None = None,
    lines: LineLookup | None = None,
    tool_version: str = __version__,
) -> dict[str, Any]:
    """The findings as a SARIF 2.1.0 log: one run of gmsa, a rule per finding code,
    results at the file and line ``lines`` finds (by default in JSON files, each read
    once).
    ``completed``: whether the command ran to the end (false when it stopped with an
    error, which is then one of the findings)."""
    located = lines if lines is not None else JsonFileLines()
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for finding in findings:
        level = _SARIF_LEVELS[finding.severity]
        if finding.code not in index:
            index[finding.code] = len(rules)
            rules.append(
                {
                    "id": finding.code,
                    "shortDescription": {"text": finding.message},
                    "defaultConfiguration": {"level": level},
                }
            )
        text = finding.message + (f" Fix: {finding.fix}" if finding.fix else "")
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "ruleIndex": index[finding.code],
            "level": level,
            "message": {"text": text},
            "properties": finding.to_json(source),
        }
        location = _location(finding, source, located)
        if location:
            result["locations"] = [location]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gmsa",
                        "version": tool_version,
                        "rules": rules,
                    }
                },
                "invocations": [{"executionSuccessful": completed}],
                "results": results,
            }
        ],
    }


__all__ = [
    "SARIF_SCHEMA",
    "SARIF_VERSION",
    "JsonFileLines",
    "LineLookup",
    "envelope",
    "error_envelope",
    "error_findings",
    "output_schema",
    "sarif_log",
]
