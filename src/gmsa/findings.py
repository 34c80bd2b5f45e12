"""Findings: what a check reports about an input that parsed.

A parser raises a typed error when it cannot go on; a *check* collects every
problem it can see as :class:`Finding` objects so a user fixes them all at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is."""

    ERROR = "error"
    """It will fail: the input must change."""
    WARNING = "warning"
    """It may work but looks wrong, or relies on something not checked."""
    INFO = "info"
    """Not a problem: something that was not checked, and why."""


@dataclass(frozen=True)
class Finding:
    """One problem found in an input."""

    severity: Severity
    """Error, warning or info."""
    code: str
    """A stable identifier scripts can match, e.g. ``sid-not-domain-sid``."""
    path: str
    """Where: a JSON path (``DomainJoinConfig.Sid``), an ARN part, a container name."""
    message: str
    """What is wrong, in one sentence."""
    fix: str | None = None
    """How to fix it, when there is a clear way."""
    resource: str | None = None
    """The resource of a template or plan it is about (a CloudFormation logical id, a
    Terraform address); ``path`` is then a path inside that resource."""
    source: str | None = None
    """The file it is about, when that is not the checked input itself."""
    line: int | None = None
    """The line in ``source`` (1-based), where the input has lines."""

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON (``resource``, ``source`` and ``line`` only when known)."""
        out: dict[str, Any] = {
            "code": self.code,
            "path": self.path,
            "message": self.message,
            "fix": self.fix,
        }
        for key in ("resource", "source", "line"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def render(self) -> str:
        """One or two lines for a person."""
        where = ""
        if self.source is not None:
            where += f"{self.source}:{self.line}: " if self.line else f"{self.source}: "
        if self.resource is not None:
            where += f"{self.resource}: "
        where += f"{self.path}: " if self.path else ""
        text = f"{self.severity.value}: {where}{self.message}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text


def error(code: str, path: str, message: str, fix: str | None = None) -> Finding:
    """Shorthand for an error finding."""
    return Finding(Severity.ERROR, code, path, message, fix)


def warning(code: str, path: str, message: str, fix: str | None = None) -> Finding:
    """Shorthand for a warning finding."""
    return Finding(Severity.WARNING, code, path, message, fix)


NOT_CHECKED = "not-checked"
"""The code of an info finding about a value or rule that could not be checked (a
template value known only at deploy time, a Terraform value known only after apply)."""


def info(code: str, path: str, message: str, fix: str | None = None) -> Finding:
    """Shorthand for an info finding."""
    return Finding(Severity.INFO, code, path, message, fix)


def infos_of(findings: Iterable[Finding]) -> list[Finding]:
    """Only the infos."""
    return [f for f in findings if f.severity is Severity.INFO]


def errors_of(findings: Iterable[Finding]) -> list[Finding]:
    """Only the errors."""
    return [f for f in findings if f.severity is Severity.ERROR]


def warnings_of(findings: Iterable[Finding]) -> list[Finding]:
    """Only the warnings."""
    return [f for f in findings if f.severity is Severity.WARNING]


def has_errors(findings: Sequence[Finding]) -> bool:
    """Whether any finding is an error."""
    return any(f.severity is Severity.ERROR for f in findings)


def json_path(*parts: str | int) -> str:
    """Join JSON path parts: ``("A", "B", 0, "Name")`` gives ``A.B[0].Name``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


__all__ = [
    "NOT_CHECKED",
    "Finding",
    "Severity",
    "error",
    "errors_of",
    "has_errors",
    "info",
    "infos_of",
    "json_path",
    "warning",
    "warnings_of",
]
