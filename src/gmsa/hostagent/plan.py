"""A task's credential spec references as a host agent works through them.

Every host agent starts the same way: each container names at most one
reference, and containers that name the same reference share one plan, so its
spec is fetched and validated once per task. What an agent then makes of a
plan (a file to write, a spec to hand to the ticket service) it keeps in a
subclass of :class:`ReferencePlan`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from gmsa.findings import Finding, Severity
from gmsa.hostagent.interface import TaskInputError
from gmsa.reference import Reference
from gmsa.taskdef.model import CredentialSpecUse, TaskDefinition


@dataclass
class ReferencePlan:
    """One distinct reference of a task and the containers that use it."""

    reference: Reference
    """The parsed reference; plans are keyed by its text."""
    raw: str
    """The reference as the first container using it writes it."""
    containers: list[str] = field(default_factory=list)
    """Names of the containers that use it, in task order."""

    def located(self, found: Finding) -> Finding:
        """A warning about the reference's spec, placed under the reference."""
        return Finding(
            Severity.WARNING, found.code, found.path, found.message, found.fix, source=self.raw
        )


P = TypeVar("P", bound=ReferencePlan)


def plan_references(
    task_def: TaskDefinition, kind: type[P]
) -> tuple[dict[str, P], list[tuple[str, P]]]:
    """One ``kind`` plan per distinct reference, and each container's plan in task order.

    Raises :class:`TaskInputError` for a container with more than one reference
    or an invalid one.
    """
    plans: dict[str, P] = {}
    per_container: list[tuple[str, P]] = []
    for container in task_def.containers:
        uses = container.credential_spec_uses
        if not uses:
            continue
        if len(uses) > 1:
            raise TaskInputError(
                f"container {container.name!r} has {len(uses)} credential spec references; "
                "a container runs with one",
                where=f"{task_def.source}: {', '.join(u.path for u in uses)}",
                fix="keep one (credentialSpecs holds at most one entry)",
            )
        reference = valid_reference(uses[0], task_def.source)
        plan = plans.setdefault(str(reference), kind(reference=reference, raw=uses[0].raw))
        plan.containers.append(container.name)
        per_container.append((container.name, plan))
    return plans, per_container


def valid_reference(use: CredentialSpecUse, source: str) -> Reference:
    """The parsed reference of ``use``, or a :class:`TaskInputError` saying why it is not one."""
    if use.reference is not None:
        return use.reference
    cause = use.error
    raise TaskInputError(
        cause.what if cause is not None else "the credential spec reference is not valid",
        where=f"{source}: {use.path} ({use.raw!r})"
        + (f": {cause.where}" if cause is not None and cause.where else ""),
        fix=cause.fix if cause is not None else "run: gmsa task check TASKDEF",
    )


def no_reference_warning(task_def: TaskDefinition) -> Finding:
    """The warning for a task none of whose containers names a credential spec."""
    return Finding(
        Severity.WARNING,
        "no-credential-spec",
        "",
        "no container of the task references a credential spec; nothing to prepare",
        "add credentialSpecs (or a credentialspec: dockerSecurityOption) to a "
        "container: gmsa task patch",
        source=task_def.source,
    )


__all__ = [
    "P",
    "ReferencePlan",
    "no_reference_warning",
    "plan_references",
    "valid_reference",
]
