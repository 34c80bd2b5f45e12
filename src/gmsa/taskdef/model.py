"""ECS task definitions as gmsa reads them: containers and their credential spec references.

Task definitions arrive in two shapes: the input of ``register-task-definition``
and the output of ``describe-task-definition`` (``{"taskDefinition": {...},
"tags": [...]}`` with read-only fields such as ``revision``). Both are read into
one :class:`TaskDefinition`; the raw document is kept so a patch never drops a
field gmsa does not know.

A task definition read out of a CloudFormation template or a Terraform plan
(:mod:`gmsa.taskdef.cloudformation`, :mod:`gmsa.taskdef.terraform`) is the same
model with an :class:`Origin`: the resource it came from, how its paths read
there, and which of its values are known only at deploy time.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from functools import cached_property
from pathlib import Path
from typing import Any

from gmsa import jsondoc
from gmsa.credspec.embedded import looks_like_spec
from gmsa.errors import InvalidInputError
from gmsa.findings import Finding, json_path, parent_path
from gmsa.inputfile import STDIN, STDIN_SOURCE
from gmsa.jsondoc import type_name
from gmsa.reference import InvalidReferenceError, Reference, parse

FIELD_DOCKER_SECURITY_OPTIONS = "dockerSecurityOptions"
"""The older field: Docker ``--security-opt`` values, credential specs among them."""
FIELD_CREDENTIAL_SPECS = "credentialSpecs"
"""The newer field that holds only credential spec references (required on Fargate)."""

READ_ONLY_FIELDS: tuple[str, ...] = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
)
"""Fields describe-task-definition returns that register-task-definition refuses."""

_CREDSPEC_LIKE = ("credentialspec", "credspec", "credential-spec", "credential_spec")


class TaskDefinitionError(InvalidInputError):
    """A task definition cannot be read: wrong types, missing containers, duplicate names."""

    code = "invalid-task-definition"


@dataclass(frozen=True)
class CredentialSpecUse:
    """One credential spec reference written in a container definition."""

    container: str
    """Name of the container that holds it."""
    field: str
    """``dockerSecurityOptions`` or ``credentialSpecs``."""
    index: int
    """Position in that list."""
    path: str
    """JSON path, e.g. ``containerDefinitions[0].credentialSpecs[0]``."""
    raw: str
    """The value as written."""
    reference: Reference | None
    """The parsed reference; ``None`` when the value is invalid."""
    error: InvalidReferenceError | None
    """Why the value is invalid, when it is."""


def is_credential_spec_option(value: str) -> bool:
    """Whether a ``dockerSecurityOptions`` entry is meant as a credential spec.

    Other Docker security options (``no-new-privileges``, ``seccomp=...``) are not,
    but near-misses such as ``credentialspecs:`` or ``credentialspec=`` are: they
    would silently give the container no identity, so they are reported.
    """
    return value.strip().lower().startswith(_CREDSPEC_LIKE)


@dataclass(frozen=True)
class ContainerDefinition:
    """One entry of ``containerDefinitions``."""

    name: str
    """The container's name, unique in the task."""
    index: int
    """Position in ``containerDefinitions``."""
    hostname: str | None
    """The ``hostname`` parameter, if set (Windows Server 2016 needs it to equal the gMSA)."""
    docker_security_options: tuple[str, ...]
    """``dockerSecurityOptions`` as written."""
    credential_specs: tuple[str, ...]
    """``credentialSpecs`` as written."""
    raw: dict[str, Any]
    """The container definition as written."""

    @property
    def path(self) -> str:
        """JSON path of this container definition."""
        return json_path("containerDefinitions", self.index)

    @cached_property
    def credential_spec_uses(self) -> tuple[CredentialSpecUse, ...]:
        """Every credential spec reference from both fields, parsed (once: the lint
        and the host agents ask for them many times)."""
        uses: list[CredentialSpecUse] = []
        for field, values in (
            (FIELD_DOCKER_SECURITY_OPTIONS, self.docker_security_options),
            (FIELD_CREDENTIAL_SPECS, self.credential_specs),
        ):
            for i, value in enumerate(values):
                if field == FIELD_DOCKER_SECURITY_OPTIONS and not is_credential_spec_option(value):
                    continue
                reference: Reference | None = None
                err: InvalidReferenceError | None = None
                try:
                    reference = parse(value)
                except InvalidReferenceError as exc:
                    err = exc
                uses.append(
                    CredentialSpecUse(
                        container=self.name,
                        field=field,
                        index=i,
                        path=json_path("containerDefinitions", self.index, field, i),
                        raw=value,
                        reference=reference,
                        error=err,
                    )
                )
        return tuple(uses)


SPEC_PATH_SEPARATOR = " -> "
"""Joins the path of a reference and a path inside the spec it names, in findings
about the spec (``containerDefinitions[0].credentialSpecs[0] -> DomainJoinConfig.Sid``)."""


@dataclass(frozen=True)
class Origin:
    """Where a task definition read out of a template or a plan sits in its file.

    The model's paths are register-task-definition paths
    (``containerDefinitions[0].credentialSpecs[0]``); findings name the path inside
    the resource instead (``Properties.ContainerDefinitions[0].CredentialSpecs[0]``,
    ``container_definitions[0].credentialSpecs[0]``) and, where the file has lines,
    the line.
    """

    source: str
    """The file the resource is in."""
    resource: str
    """The CloudFormation logical id or the Terraform address."""
    paths: Mapping[str, str]
    """Model path to path inside the resource, for every value the reader took."""
    renames: Mapping[str, str] = dataclass_field(default_factory=dict)
    """Model key to resource key, for paths of values that are not there (an absent
    ``hostname``)."""
    root: str = ""
    """Where the task definition's fields sit in the resource (``Properties``)."""
    lines: Mapping[str, int] = dataclass_field(default_factory=dict)
    """Path inside the resource to its line in :attr:`source`."""
    unchecked: frozenset[str] = frozenset()
    """Paths inside the resource whose values are known only at deploy time; a rule
    about them is not applied (the :attr:`notes` say so)."""
    notes: tuple[Finding, ...] = ()
    """Info findings: what was not checked, and why."""

    def path(self, model_path: str) -> str:
        """The path inside the resource of a model path."""
        head: str | None = model_path
        while head is not None:
            if head in self.paths:
                rest = model_path[len(head) :]
                return self.paths[head] + self._rename(rest)
            head = parent_path(head)
        renamed = self._rename(model_path)
        if not self.root:
            return renamed
        return f"{self.root}.{renamed}" if renamed else self.root

    def _rename(self, rest: str) -> str:
        out = ""
        for i, part in enumerate(rest.split(".")):
            key, bracket, index = part.partition("[")
            out += ("." if i else "") + self.renames.get(key, key) + bracket + index
        return out

    def line(self, path: str) -> int | None:
        """The line of a path inside the resource, or of the nearest value that holds it."""
        head: str | None = path.split(SPEC_PATH_SEPARATOR, 1)[0]
        while head is not None:
            if head in self.lines:
                return self.lines[head]
            head = parent_path(head)
        return None

    def is_unchecked(self, path: str) -> bool:
        """Whether a path inside the resource is, or is inside, a value known only at
        deploy time."""
        head: str | None = path.split(SPEC_PATH_SEPARATOR, 1)[0]
        while head is not None:
            if head in self.unchecked:
                return True
            head = parent_path(head)
        return False

    def locate(self, finding: Finding) -> Finding:
        """The finding with this resource, file and line; a finding about a spec the
        task definition references keeps that spec as its source, and its line is the
        reference's."""
        if finding.referenced_at:
            return replace(finding, resource=self.resource, line=self.line(finding.referenced_at))
        return replace(
            finding, resource=self.resource, source=self.source, line=self.line(finding.path)
        )


@dataclass(frozen=True)
class TaskDefinition:
    """A task definition, in register-task-definition shape."""

    family: str | None
    """The family name, if given."""
    execution_role_arn: str | None
    """The task execution role: the agent fetches S3/SSM specs with it."""
    network_mode: str | None
    """``awsvpc``, ``bridge``, ``host``, ``none``, ``default`` or absent."""
    requires_compatibilities: tuple[str, ...]
    """``EC2``, ``FARGATE``, ``EXTERNAL``, ``MANAGED_INSTANCES``."""
    runtime_platform: dict[str, Any] | None
    """``{"operatingSystemFamily": ..., "cpuArchitecture": ...}`` when given."""
    containers: tuple[ContainerDefinition, ...]
    """The container definitions, in order."""
    source: str
    """Where it was read from (a path or ``<stdin>``), for messages."""
    raw: dict[str, Any]
    """The register-task-definition-shaped document (unwrapped)."""
    was_wrapped: bool
    """Whether the input was describe-task-definition output."""
    origin: Origin | None = None
    """The template or plan resource it was read from; ``None`` for an ECS document."""

    @cached_property
    def credential_spec_uses(self) -> tuple[CredentialSpecUse, ...]:
        """Every credential spec reference of every container."""
        return tuple(use for c in self.containers for use in c.credential_spec_uses)

    @property
    def references(self) -> tuple[Reference, ...]:
        """The valid references among :attr:`credential_spec_uses`, in order."""
        return tuple(u.reference for u in self.credential_spec_uses if u.reference is not None)

    @property
    def operating_system_family(self) -> str | None:
        """``runtimePlatform.operatingSystemFamily`` when it is a string."""
        if self.runtime_platform is None:
            return None
        value = self.runtime_platform.get("operatingSystemFamily")
        return value if isinstance(value, str) else None

    def path_in_source(self, path: str) -> str:
        """A JSON path of the unwrapped document as it reads in the input file."""
        if self.origin is not None:
            return self.origin.path(path)
        if not self.was_wrapped:
            return path
        return json_path("taskDefinition", path) if path else "taskDefinition"

    def container(self, name: str) -> ContainerDefinition | None:
        """The container with this name, if any."""
        for c in self.containers:
            if c.name == name:
                return c
        return None


def _where(source: str, path: str) -> str:
    return f"{source}: {path}" if path else source


def _optional_string(doc: dict[str, Any], key: str, source: str, prefix: str = "") -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        path = json_path(prefix, key) if prefix else key
        raise TaskDefinitionError(
            f"{key} must be a string, not {type_name(value)}",
            where=_where(source, path),
            fix=f'write "{key}": "..." or remove it',
        )
    return value


def _string_list(doc: dict[str, Any], key: str, source: str, path: str) -> tuple[str, ...]:
    value = doc.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TaskDefinitionError(
            f"{key} must be an array of strings, not {type_name(value)}",
            where=_where(source, path),
            fix=f'write "{key}": ["..."]',
        )
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise TaskDefinitionError(
                f"{key} entries must be strings, not {type_name(item)}",
                where=_where(source, json_path(path, i)),
                fix="quote the value",
            )
    return tuple(value)


def _unwrap(document: Any, source: str) -> tuple[dict[str, Any], bool]:
    if not isinstance(document, dict):
        raise TaskDefinitionError(
            f"a task definition is a JSON object, not {type_name(document)}",
            where=source,
            fix="give register-task-definition input or describe-task-definition output",
        )
    if "taskDefinition" in document and "containerDefinitions" not in document:
        inner = document["taskDefinition"]
        if not isinstance(inner, dict):
            raise TaskDefinitionError(
                f"taskDefinition must be an object, not {type_name(inner)}",
                where=_where(source, "taskDefinition"),
                fix="give the output of aws ecs describe-task-definition unchanged",
            )
        return inner, True
    return document, False


def _parse_container(item: Any, index: int, source: str, prefix: str) -> ContainerDefinition:
    path = json_path("containerDefinitions", index)
    shown = json_path(prefix, path) if prefix else path
    if not isinstance(item, dict):
        raise TaskDefinitionError(
            f"a container definition is an object, not {type_name(item)}",
            where=_where(source, shown),
            fix='write {"name": "...", "image": "...", ...}',
        )
    name = item.get("name")
    if name is None or name == "":
        raise TaskDefinitionError(
            "the container definition has no name",
            where=_where(source, shown),
            fix='add "name": "..." (ECS needs it, and gmsa names containers by it)',
        )
    if not isinstance(name, str):
        raise TaskDefinitionError(
            f"name must be a string, not {type_name(name)}",
            where=_where(source, json_path(shown, "name")),
            fix="quote the container name",
        )
    hostname = _optional_string(item, "hostname", source, shown)
    return ContainerDefinition(
        name=name,
        index=index,
        hostname=hostname,
        docker_security_options=_string_list(
            item,
            FIELD_DOCKER_SECURITY_OPTIONS,
            source,
            json_path(shown, FIELD_DOCKER_SECURITY_OPTIONS),
        ),
        credential_specs=_string_list(
            item, FIELD_CREDENTIAL_SPECS, source, json_path(shown, FIELD_CREDENTIAL_SPECS)
        ),
        raw=item,
    )


def parse_task_definition(
    document: Any, *, source: str, origin: Origin | None = None
) -> TaskDefinition:
    """Read a parsed JSON document as a task definition.

    ``origin`` is given by the readers of templates and plans, which hand over a
    register-task-definition-shaped document they have already checked.

    Raises :class:`TaskDefinitionError` and nothing else; reference errors are not
    raised here but kept on each :class:`CredentialSpecUse` for the lint to report.
    """
    doc, wrapped = _unwrap(document, source)
    prefix = "taskDefinition" if wrapped else ""

    def at(path: str) -> str:
        return json_path(prefix, path) if prefix else path

    containers_raw = doc.get("containerDefinitions")
    if containers_raw is None:
        if looks_like_spec(doc):
            raise TaskDefinitionError(
                "this is a credential spec, not a task definition",
                where=_where(source, prefix),
                fix=f"check it with: gmsa spec validate {source}",
            )
        raise TaskDefinitionError(
            "the task definition has no containerDefinitions",
            where=_where(source, prefix),
            fix="give a whole task definition (aws ecs describe-task-definition output "
            "or register-task-definition input)",
        )
    if not isinstance(containers_raw, list):
        raise TaskDefinitionError(
            f"containerDefinitions must be an array, not {type_name(containers_raw)}",
            where=_where(source, at("containerDefinitions")),
            fix='write "containerDefinitions": [{...}]',
        )
    if not containers_raw:
        raise TaskDefinitionError(
            "containerDefinitions is empty",
            where=_where(source, at("containerDefinitions")),
            fix="add at least one container definition",
        )
    containers = tuple(
        _parse_container(item, i, source, prefix) for i, item in enumerate(containers_raw)
    )
    seen: dict[str, int] = {}
    for c in containers:
        if c.name in seen:
            raise TaskDefinitionError(
                f"two containers are named {c.name!r}",
                where=_where(source, at(json_path("containerDefinitions", c.index, "name"))),
                fix=f"rename one; the other is containerDefinitions[{seen[c.name]}]",
            )
        seen[c.name] = c.index

    runtime_platform = doc.get("runtimePlatform")
    if runtime_platform is not None and not isinstance(runtime_platform, dict):
        raise TaskDefinitionError(
            f"runtimePlatform must be an object, not {type_name(runtime_platform)}",
            where=_where(source, at("runtimePlatform")),
            fix='write "runtimePlatform": {"operatingSystemFamily": "...", '
            '"cpuArchitecture": "..."}',
        )
    compat = _string_list(doc, "requiresCompatibilities", source, at("requiresCompatibilities"))
    family = _optional_string(doc, "family", source, prefix)
    role = _optional_string(doc, "executionRoleArn", source, prefix)
    network_mode = _optional_string(doc, "networkMode", source, prefix)
    return TaskDefinition(
        family=family,
        execution_role_arn=role,
        network_mode=network_mode,
        requires_compatibilities=compat,
        runtime_platform=runtime_platform,
        containers=containers,
        source=source,
        raw=doc,
        was_wrapped=wrapped,
        origin=origin,
    )


def load_task_definition(path: Path | str) -> TaskDefinition:
    """Read a task definition file (``-`` reads stdin) strictly, then parse it."""
    if str(path) == STDIN:
        source = STDIN_SOURCE
        data = sys.stdin.buffer.read(jsondoc.DEFAULT_MAX_BYTES + 1)
        document = jsondoc.loads(data, source=source)
    else:
        source = str(path)
        document = jsondoc.load_file(Path(path), what="task definition")
    return parse_task_definition(document, source=source)


__all__ = [
    "FIELD_CREDENTIAL_SPECS",
    "FIELD_DOCKER_SECURITY_OPTIONS",
    "READ_ONLY_FIELDS",
    "SPEC_PATH_SEPARATOR",
    "ContainerDefinition",
    "CredentialSpecUse",
    "Origin",
    "TaskDefinition",
    "TaskDefinitionError",
    "is_credential_spec_option",
    "load_task_definition",
    "parse_task_definition",
]
