"""What an audit found: each task definition's outcome, the causes, the exit code.

Pure data, no AWS: :mod:`gmsa.audit.engine` fills it in, the command prints it.
Every finding about a task definition has the task definition's ARN as its
``source``; a finding about a spec it references names the spec in its message
and points at the reference (``path``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from gmsa.audit.ecs import Selection
from gmsa.errors import ExitCode, GmsaError
from gmsa.findings import Finding, Severity, errors_of, warning_about

NOT_CHECKED_CODE = "task-definition-not-checked"
"""The code of the warning about a task definition (or a family, or a region's
listing) the audit could not read or check; the message says why."""


class Outcome(StrEnum):
    """What the audit concluded about one task definition."""

    FAIL = "fail"
    """It has errors: its tasks would not get their gMSA identity."""
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    """Everything was checked and nothing would fail (warnings may remain)."""
    NOT_CHECKED = "not-checked"
    """No error was found, but something it needs could not be read."""


@dataclass(frozen=True)
class Unchecked:
    """Why something could not be (fully) checked: a read that failed."""

    code: str
    """The failure's code (``access-denied``, ``role-read-failed``, ``aws-failure``...)."""
    message: str
    """What failed."""
    where: str | None = None
    """The call and resource, when known."""
    fix: str | None = None
    """How to make it readable."""

    @classmethod
    def of(cls, exc: GmsaError) -> Unchecked:
        """The reason a typed error gives."""
        return cls(exc.code, exc.what, exc.where, exc.fix)

    def render(self) -> str:
        """One line for a person."""
        return f"{self.message} ({self.where})" if self.where else self.message

    def to_dict(self) -> dict[str, Any]:
        """The reason as JSON."""
        return {"code": self.code, "message": self.message, "where": self.where, "fix": self.fix}


def about_task_definition(finding: Finding, arn: str) -> Finding:
    """A lint finding with the task definition's ARN as its source. A finding about a
    spec the task definition references (its source is the spec) points at the
    reference instead, and its message names the spec and the place in it."""
    if not finding.source or finding.source == arn:
        return replace(finding, source=arn)
    spec = finding.source
    inside = f" {finding.path}" if finding.path else ""
    message = finding.message
    if spec not in message or inside:
        message = f"in the spec {spec}{inside}: {message}"
    return replace(
        finding, source=arn, path=finding.referenced_at or "", referenced_at=None, message=message
    )


@dataclass(frozen=True)
class AuditedTaskDefinition:
    """One task definition that uses gMSA, as the audit checked it."""

    arn: str
    """Its ARN: the ``source`` of its findings."""
    region: str
    """The region it was read in."""
    family: str | None
    """Its family."""
    revision: int | None
    """Its revision."""
    findings: tuple[Finding, ...] = ()
    """Every finding, about :attr:`arn`."""
    unchecked: tuple[Unchecked, ...] = ()
    """What could not be read for it (a spec, the execution role's policies)."""

    @property
    def outcome(self) -> Outcome:
        """Fail on any error; else not checked when a read failed; else pass."""
        if errors_of(self.findings):
            return Outcome.FAIL
        return Outcome.NOT_CHECKED if self.unchecked else Outcome.PASS

    def not_checked_findings(self) -> list[Finding]:
        """A warning per read that failed."""
        return [_not_checked(self.arn, reason) for reason in self.unchecked]

    def to_dict(self) -> dict[str, Any]:
        """The task definition as JSON."""
        return {
            "arn": self.arn,
            "region": self.region,
            "family": self.family,
            "revision": self.revision,
            "outcome": self.outcome.value,
            "findings": [f.to_json() for f in self.findings],
            "not_checked": [u.to_dict() for u in self.unchecked],
        }


@dataclass(frozen=True)
class NotRead:
    """A task definition, a family or a region's listing that could not be read at all."""

    region: str
    """The region."""
    source: str
    """The task definition's or the family's ARN; for a listing, the region's
    task definitions (``arn:...:task-definition/*``)."""
    reason: Unchecked
    """Why."""

    def finding(self) -> Finding:
        """The warning that says so."""
        return _not_checked(self.source, self.reason)

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {"region": self.region, "source": self.source, **self.reason.to_dict()}


def _not_checked(source: str, reason: Unchecked) -> Finding:
    return warning_about(NOT_CHECKED_CODE, source, f"not checked: {reason.render()}", reason.fix)


@dataclass(frozen=True)
class Cause:
    """One reason task definitions would fail (or warn, or could not be checked), with
    how many it concerns."""

    code: str
    """The finding's code, or for reads that failed the failure's code."""
    severity: Severity
    """Error (would fail), warning, or info; reads that failed are warnings."""
    task_definitions: int
    """How many task definitions (or unread families) it concerns."""
    findings: int
    """How many findings it is (a task definition may have several)."""
    example: str
    """The message of its first finding."""
    fix: str | None
    """The fix of its first finding."""
    not_checked: bool = False
    """Whether it is a read that failed (the task definitions were not checked)."""

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "task_definitions": self.task_definitions,
            "findings": self.findings,
            "example": self.example,
            "fix": self.fix,
            "not_checked": self.not_checked,
        }


_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _worst_first(causes: Iterable[Cause]) -> list[Cause]:
    return sorted(causes, key=lambda c: (_ORDER[c.severity], -c.task_definitions, c.code))


def causes(audited: Sequence[AuditedTaskDefinition]) -> list[Cause]:
    """The findings grouped by code, worst first: errors before warnings before notes,
    then the code that concerns the most task definitions."""
    groups: dict[tuple[Severity, str], list[tuple[str, Finding]]] = {}
    for task in audited:
        for finding in task.findings:
            groups.setdefault((finding.severity, finding.code), []).append((task.arn, finding))
    return _worst_first(
        Cause(
            code=code,
            severity=severity,
            task_definitions=len({arn for arn, _ in items}),
            findings=len(items),
            example=items[0][1].message,
            fix=items[0][1].fix,
        )
        for (severity, code), items in groups.items()
    )


def not_checked_causes(
    audited: Sequence[AuditedTaskDefinition], not_read: Sequence[NotRead]
) -> list[Cause]:
    """The reads that failed grouped by their code, the most frequent first: each
    counts the task definitions (or families, or listings) it left unchecked."""
    groups: dict[str, list[tuple[str, Unchecked]]] = {}
    for task in audited:
        if task.outcome is Outcome.NOT_CHECKED:
            for reason in task.unchecked:
                groups.setdefault(reason.code, []).append((task.arn, reason))
    for item in not_read:
        groups.setdefault(item.reason.code, []).append((item.source, item.reason))
    return _worst_first(
        Cause(
            code=code,
            severity=Severity.WARNING,
            task_definitions=len({source for source, _ in items}),
            findings=len(items),
            example=items[0][1].render(),
            fix=items[0][1].fix,
            not_checked=True,
        )
        for code, items in groups.items()
    )


@dataclass(frozen=True)
class AuditResult:
    """Everything an audit found (so far, when it was interrupted)."""

    account: str | None
    """The audited account (of the credentials in use), when STS said."""
    regions: tuple[str, ...]
    """The regions audited."""
    selection: Selection
    """Which task definitions were read."""
    listed: int
    """Families or task definitions named by the listings."""
    read: int
    """Task definitions described."""
    audited: tuple[AuditedTaskDefinition, ...]
    """The ones that use gMSA, in the order they were listed."""
    not_read: tuple[NotRead, ...] = ()
    """What could not be read at all."""
    interrupted: bool = False
    """Whether the audit was stopped (Ctrl-C) before the end."""
    seconds: float = 0.0
    """Wall time."""
    calls: dict[str, int] = field(default_factory=dict)
    """AWS API calls made, by ``service:Operation``."""
    attempts: dict[str, int] = field(default_factory=dict)
    """HTTP requests sent, by ``service:Operation`` (calls plus their retries)."""

    def _count(self, outcome: Outcome) -> int:
        return sum(t.outcome is outcome for t in self.audited)

    @property
    def would_fail(self) -> int:
        """Task definitions with errors."""
        return self._count(Outcome.FAIL)

    @property
    def passed(self) -> int:
        """Task definitions fully checked without an error."""
        return self._count(Outcome.PASS)

    @property
    def not_checked(self) -> int:
        """Task definitions, families and listings that could not be (fully) checked."""
        return self._count(Outcome.NOT_CHECKED) + len(self.not_read)

    @property
    def checked(self) -> int:
        """Task definitions with a verdict: would fail, or pass."""
        return self.would_fail + self.passed

    @property
    def families(self) -> int:
        """Distinct families among the task definitions that use gMSA."""
        return len({(t.region, t.family) for t in self.audited})

    def exit_code(self) -> int:
        """130 when interrupted; 1 when any would fail; 3 when nothing could be checked
        although something was there to check; else 0."""
        if self.interrupted:
            return int(ExitCode.INTERRUPTED)
        if self.would_fail:
            return int(ExitCode.INVALID)
        if not self.checked and self.not_checked:
            return int(ExitCode.EXTERNAL)
        return int(ExitCode.OK)

    def findings(self) -> list[Finding]:
        """Every finding, task definition by task definition, then what was not read."""
        out: list[Finding] = []
        for task in self.audited:
            out.extend(task.findings)
            if task.outcome is Outcome.NOT_CHECKED:
                out.extend(task.not_checked_findings())
        out.extend(item.finding() for item in self.not_read)
        return out

    def summary(self) -> dict[str, Any]:
        """The counts and the causes, as JSON."""
        return {
            "listed": self.listed,
            "read": self.read,
            "using_gmsa": len(self.audited),
            "families_using_gmsa": self.families,
            "checked": self.checked,
            "would_fail": self.would_fail,
            "pass": self.passed,
            "not_checked": self.not_checked,
            "causes": [c.to_dict() for c in causes(self.audited)],
            "not_checked_causes": [
                c.to_dict() for c in not_checked_causes(self.audited, self.not_read)
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        """The command's own JSON keys (beside the envelope's ``ok`` and ``findings``)."""
        return {
            "audit": {
                "account": self.account,
                "regions": list(self.regions),
                **self.selection.to_dict(),
                "interrupted": self.interrupted,
                "seconds": round(self.seconds, 3),
            },
            "summary": self.summary(),
            "task_definitions": [t.to_dict() for t in self.audited],
            "not_read": [n.to_dict() for n in self.not_read],
            "aws_calls": dict(sorted(self.calls.items())),
            "aws_requests": dict(sorted(self.attempts.items())),
        }


__all__ = [
    "NOT_CHECKED_CODE",
    "AuditResult",
    "AuditedTaskDefinition",
    "Cause",
    "NotRead",
    "Outcome",
    "Unchecked",
    "about_task_definition",
    "causes",
    "not_checked_causes",
]
