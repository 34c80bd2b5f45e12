"""Task definitions in Terraform plans: the JSON ``terraform show -json PLANFILE`` prints.

Every managed ``aws_ecs_task_definition`` in ``planned_values`` (the root module and
every child module) becomes a :class:`~gmsa.taskdef.model.TaskDefinition`. Its
``container_definitions`` is a JSON string in the ECS API's own shape, read with the
strict reader of :mod:`gmsa.jsondoc`; the other arguments are Terraform's
(``execution_role_arn``, ``network_mode``, ``requires_compatibilities``,
``runtime_platform``). Findings name the resource address and the path inside its
values (``container_definitions[0].credentialSpecs[0]``).

The plan is read by :mod:`gmsa.iac.terraform`. A value Terraform knows only after
apply is missing from ``planned_values`` and marked in the resource change's
``after_unknown``: it is reported as not checked.
"""

from __future__ import annotations

from typing import Any

from gmsa import jsondoc
from gmsa.findings import json_path
from gmsa.iac.terraform import PlannedResource, planned_resources
from gmsa.taskdef.iac import IacTaskDefinition, OriginBuilder

RESOURCE_TYPE = "aws_ecs_task_definition"
"""The resource type gmsa checks."""

_CONTAINERS = "container_definitions"
_RENAMES = {
    "family": "family",
    "executionRoleArn": "execution_role_arn",
    "networkMode": "network_mode",
    "requiresCompatibilities": "requires_compatibilities",
    "runtimePlatform": "runtime_platform[0]",
    "operatingSystemFamily": "operating_system_family",
    "cpuArchitecture": "cpu_architecture",
    "containerDefinitions": _CONTAINERS,
}


class _Reader:
    def __init__(self, source: str, resource: PlannedResource) -> None:
        self.values = resource.values
        self.unknown = resource.unknown
        self.origin = OriginBuilder(source=source, resource=resource.address, renames=_RENAMES)

    def _after_apply(self, path: str) -> None:
        self.origin.not_known(
            path,
            f"{path} is known only after terraform apply; the rules about it were not checked",
        )

    def string(self, key: str, model_key: str) -> str | None:
        if self.unknown(key):
            self._after_apply(key)
            return None
        value = self.values.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.origin.error(
                f"{key} must be a string, not {jsondoc.type_name(value)}",
                key,
                "give the JSON terraform show -json prints, unchanged",
            )
        self.origin.took(model_key, key)
        return value

    def read(self) -> dict[str, Any] | None:
        doc: dict[str, Any] = {}
        for key, model_key in (
            ("family", "family"),
            ("execution_role_arn", "executionRoleArn"),
            ("network_mode", "networkMode"),
        ):
            value = self.string(key, model_key)
            if value is not None:
                doc[model_key] = value
        compat = self.values.get("requires_compatibilities")
        if self.unknown("requires_compatibilities"):
            self._after_apply("requires_compatibilities")
        elif isinstance(compat, list):
            known = [
                c
                for i, c in enumerate(compat)
                if isinstance(c, str) and not self.unknown("requires_compatibilities", i)
            ]
            doc["requiresCompatibilities"] = known
        platform_blocks = self.values.get("runtime_platform")
        if self.unknown("runtime_platform"):
            self._after_apply("runtime_platform")
        elif isinstance(platform_blocks, list) and platform_blocks:
            block = platform_blocks[0] if isinstance(platform_blocks[0], dict) else {}
            platform: dict[str, Any] = {}
            for key, model_key in (
                ("operating_system_family", "operatingSystemFamily"),
                ("cpu_architecture", "cpuArchitecture"),
            ):
                if self.unknown("runtime_platform", 0, key):
                    self._after_apply(json_path("runtime_platform", 0, key))
                elif isinstance(block.get(key), str) and block[key]:
                    platform[model_key] = block[key]
            doc["runtimePlatform"] = platform
        if self.unknown(_CONTAINERS):
            self._after_apply(_CONTAINERS)
            return None
        raw = self.values.get(_CONTAINERS)
        if not isinstance(raw, str):
            raise self.origin.error(
                f"{_CONTAINERS} must be a JSON string, not {jsondoc.type_name(raw)}",
                _CONTAINERS,
                "give the JSON terraform show -json prints, unchanged",
            )
        containers = jsondoc.loads(raw, source=self.origin.where(_CONTAINERS))
        doc["containerDefinitions"] = containers
        return doc


def task_definitions(document: Any, *, source: str) -> list[IacTaskDefinition]:
    """Every ``aws_ecs_task_definition`` the plan (or state) holds, in plan order."""
    out: list[IacTaskDefinition] = []
    for resource in planned_resources(document, source=source, types=(RESOURCE_TYPE,)):
        reader = _Reader(source, resource)
        doc = reader.read()
        if doc is None:
            out.append(
                IacTaskDefinition(
                    source=source,
                    resource=resource.address,
                    definition=None,
                    notes=tuple(reader.origin.notes),
                )
            )
            continue
        out.append(
            IacTaskDefinition(
                source=source, resource=resource.address, definition=reader.origin.build(doc)
            )
        )
    return out


__all__ = [
    "RESOURCE_TYPE",
    "task_definitions",
]
