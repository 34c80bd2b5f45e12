"""What the readers of templates and plans share: the task definitions they find and
the bookkeeping that lets findings name a resource, a path inside it and a line.

:mod:`gmsa.taskdef.cloudformation` and :mod:`gmsa.taskdef.terraform` turn each
task definition resource into the register-task-definition shape the model reads
(:func:`~gmsa.taskdef.model.parse_task_definition`), with an
:class:`~gmsa.taskdef.model.Origin` built here. A value known only at deploy time
(an unresolved intrinsic function, an unknown Terraform value) is left out of the
model and becomes an info finding: the rules about it are not checked, and never
reported as errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gmsa.findings import NOT_CHECKED, Finding, info
from gmsa.iam.policy import PolicyDocument
from gmsa.taskdef.lint import TaskReport
from gmsa.taskdef.model import Origin, TaskDefinition, TaskDefinitionError, parse_task_definition


@dataclass(frozen=True)
class IacTaskDefinition:
    """One task definition resource of a template or plan."""

    source: str
    """The file it is in."""
    resource: str
    """Its CloudFormation logical id or Terraform address."""
    definition: TaskDefinition | None
    """The task definition; ``None`` when its containers are known only at deploy time."""
    notes: tuple[Finding, ...] = ()
    """When :attr:`definition` is ``None``: why it was not checked."""
    policies: tuple[PolicyDocument, ...] | None = None
    """The execution role's policies, when that role is defined in the same file."""
    policies_incomplete: str | None = None
    """Why :attr:`policies` may lack a statement (one known only at deploy time, a
    managed policy defined elsewhere), if it may."""

    def unchecked_report(self) -> TaskReport:
        """The report of a task definition that could not be read: its notes only."""
        return TaskReport(
            source=self.source,
            family=None,
            containers=(),
            task_findings=self.notes,
            resource=self.resource,
        )


@dataclass
class OriginBuilder:
    """Records, while a reader converts one resource, where each model value came from."""

    source: str
    """The file."""
    resource: str
    """The logical id or address."""
    lines: Mapping[str, int] = field(default_factory=dict)
    """Path inside the resource to its line, where the file has lines."""
    renames: Mapping[str, str] = field(default_factory=dict)
    """Model key to resource key, for paths of values that are absent."""
    root: str = ""
    """Where the task definition's fields sit in the resource (``Properties``)."""
    paths: dict[str, str] = field(default_factory=dict)
    unchecked: set[str] = field(default_factory=set)
    notes: list[Finding] = field(default_factory=list)

    def took(self, model_path: str, resource_path: str) -> None:
        """The model value at ``model_path`` was read from ``resource_path``."""
        self.paths[model_path] = resource_path

    def not_known(self, resource_path: str, message: str) -> None:
        """The value at ``resource_path`` is known only at deploy time; say what was not
        checked."""
        self.unchecked.add(resource_path)
        self.notes.append(self.note(resource_path, message))

    def suppress(self, resource_path: str) -> None:
        """Rules about ``resource_path`` do not apply, and nothing needs saying (the
        execution role is a role of the same template)."""
        self.unchecked.add(resource_path)

    def note(self, resource_path: str, message: str) -> Finding:
        """An info finding at ``resource_path``."""
        return replace(
            info(NOT_CHECKED, resource_path, message),
            resource=self.resource,
            source=self.source,
            line=self.line(resource_path),
        )

    def line(self, resource_path: str) -> int | None:
        """The line of ``resource_path`` or of the nearest value that holds it."""
        return self.origin().line(resource_path)

    def where(self, resource_path: str) -> str:
        """``file:line: resource: path`` for an error message."""
        line = self.line(resource_path)
        at = f"{self.source}:{line}" if line else self.source
        where = f"{at}: {self.resource}"
        return f"{where}: {resource_path}" if resource_path else where

    def error(self, what: str, resource_path: str, fix: str) -> TaskDefinitionError:
        """A task definition error at ``resource_path``."""
        return TaskDefinitionError(what, where=self.where(resource_path), fix=fix)

    def origin(self) -> Origin:
        """The origin of the model built so far."""
        return Origin(
            source=self.source,
            resource=self.resource,
            paths=dict(self.paths),
            renames=self.renames,
            root=self.root,
            lines=self.lines,
            unchecked=frozenset(self.unchecked),
            notes=tuple(self.notes),
        )

    def build(self, document: dict[str, Any]) -> TaskDefinition:
        """The task definition of a register-task-definition-shaped ``document``."""
        seen: dict[str, int] = {}
        for i, container in enumerate(document.get("containerDefinitions") or ()):
            name = container.get("name")
            if name in seen:
                at = self.origin().path(f"containerDefinitions[{i}].name")
                first = self.origin().path(f"containerDefinitions[{seen[name]}]")
                raise self.error(
                    f"two containers are named {name!r}", at, f"rename one; the other is {first}"
                )
            seen[name] = i
        origin = self.origin()
        try:
            return parse_task_definition(document, source=self.source, origin=origin)
        except TaskDefinitionError as exc:
            model_path = (exc.where or "").removeprefix(f"{self.source}: ")
            raise self.error(exc.what, origin.path(model_path), exc.fix or "") from None


__all__ = [
    "IacTaskDefinition",
    "OriginBuilder",
]
