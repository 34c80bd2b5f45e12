"""Findings: what a check reports about an input that parsed.

A parser raises a typed error when it cannot go on; a *check* collects every
problem it can see as :class:`Finding` objects so a user fixes them all at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is."""

    ERROR = "error"
    """It will fail: the input must change."""
    WARNING = "warning"
    """It may work but looks wrong, or relies on something not checked."""
    INFO = "info"
    """Not a problem: something a reader should know (a value not checked, a hint)."""


_SOURCE_PATH_SEPARATOR = " -> "


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
    source: str | None = None
    """The file or reference the finding is about, when it is not the checked input
    itself (a spec a task definition references); ``None``: the checked input."""
    referenced_at: str | None = None
    """With :attr:`source`: the JSON path in the checked input that refers to it."""
    resource: str | None = None
    """The resource of a template or plan it is about (a CloudFormation logical id, a
    Terraform address); ``path`` is then a path inside that resource."""
    line: int | None = None
    """The line in ``source`` (1-based), where the input has lines."""

    @property
    def where(self) -> str:
        """Where, for a person: the referring path, then the path inside the source
        (``A.B -> C.D``); without a referring path, the source, then the path in it
        (``file.json: C.D``)."""
        if self.referenced_at:
            return _SOURCE_PATH_SEPARATOR.join(p for p in (self.referenced_at, self.path) if p)
        head = f"{self.source}:{self.line}" if self.source and self.line else self.source
        return ": ".join(p for p in (head, self.resource, self.path) if p)

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON, in the shape the per-command lists have always had
        (``path`` is :attr:`where`); a finding about a template or plan resource keeps
        ``path`` inside the resource and adds ``resource``, ``source`` and ``line``."""
        if self.resource is None:
            return {"code": self.code, "path": self.where, "message": self.message, "fix": self.fix}
        out: dict[str, Any] = {
            "code": self.code,
            "path": self.path,
            "message": self.message,
            "fix": self.fix,
        }
        for key in ("resource", "source", "referenced_at", "line"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def to_json(self, default_source: str | None = None) -> dict[str, Any]:
        """The finding as an item of the output envelope's ``findings``: ``path`` is a
        JSON path inside ``source`` (or ``None``), never joined with a reference."""
        item: dict[str, Any] = {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "fix": self.fix,
            "path": self.path or None,
            "source": self.source or default_source,
        }
        for key in ("referenced_at", "resource", "line"):
            value = getattr(self, key)
            if value is not None:
                item[key] = value
        return item

    def about(self, source: str, referenced_at: str | None = None) -> Finding:
        """The same finding, about ``source`` (referred to at ``referenced_at``)."""
        return replace(self, source=source, referenced_at=referenced_at)

    def render(self) -> str:
        """One or two lines for a person."""
        where = f"{self.where}: " if self.where else ""
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


def warning_about(code: str, source: str, message: str, fix: str | None = None) -> Finding:
    """A warning about a file, a reference or an option as a whole (no path inside it)."""
    return Finding(Severity.WARNING, code, "", message, fix, source=source)


NOT_CHECKED = "not-checked"
"""The code of an info finding about a value or rule that could not be checked (a
template value known only at deploy time, a Terraform value known only after apply)."""


def info(code: str, path: str, message: str, fix: str | None = None) -> Finding:
    """Shorthand for an informational finding."""
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


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``1 error``, ``2 errors``, ``0 warnings``: how every message counts, never
    ``error(s)``. ``plural`` for nouns that do not take an ``s``."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


_ODD_KEY = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_NOT_A_PATH_START = ("arn:", "credentialspec")
"""What a reference starts with; a path never does (the output schema tells them apart)."""


def json_path(*parts: str | int) -> str:
    """Join JSON path parts: ``("A", "B", 0, "Name")`` gives ``A.B[0].Name``; a part may
    itself be a path (``("A.B[0]", "Name")`` gives the same).

    A key holding white space or a control character, or one a
    reference starts with (``arn:``, ``credentialspec``) at the start of the path, is
    written as a JSON string in brackets: ``("A", "x y", "\\n")`` gives
    ``A["x y"]["\\n"]``, so a path is never confused with a reference and never starts
    with white space.
    """
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _ODD_KEY.search(part) or (not out and part.startswith(_NOT_A_PATH_START)):
            out += "[" + json.dumps(part, ensure_ascii=False) + "]"
        else:
            out += f".{part}" if out else part
    return out


def parent_path(path: str) -> str | None:
    """The JSON path that holds ``path`` (``A.B[0]`` for ``A.B[0].C``, ``A.B`` for
    ``A.B[0]``); ``None`` at the top."""
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else None


__all__ = [
    "NOT_CHECKED",
    "Finding",
    "Severity",
    "count",
    "error",
    "errors_of",
    "has_errors",
    "info",
    "infos_of",
    "json_path",
    "parent_path",
    "warning",
    "warning_about",
    "warnings_of",
]
