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


@dataclass(frozen=True)
class Finding:
    """One problem found in an input."""

    severity: Severity
    """Error or warning."""
    code: str
    """A stable identifier scripts can match, e.g. ``sid-not-domain-sid``."""
    path: str
    """Where: a JSON path (``DomainJoinConfig.Sid``), an ARN part, a container name."""
    message: str
    """What is wrong, in one sentence."""
    fix: str | None = None
    """How to fix it, when there is a clear way."""

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON."""
        return {
            "code": self.code,
            "path": self.path,
            "message": self.message,
            "fix": self.fix,
        }

    def render(self) -> str:
        """One or two lines for a person."""
        where = f"{self.path}: " if self.path else ""
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
    "Finding",
    "Severity",
    "error",
    "errors_of",
    "has_errors",
    "json_path",
    "warning",
    "warnings_of",
]
