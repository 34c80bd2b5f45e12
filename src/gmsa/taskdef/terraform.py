"""Task definitions in Terraform plans: the JSON ``terraform show -json PLANFILE`` prints.

Every managed ``aws_ecs_task_definition`` in ``planned_values`` (the root module and
every child module) becomes a :class:`~gmsa.taskdef.model.TaskDefinition`. Its
``container_definitions`` is a JSON string in the ECS API's own shape, read with the
strict reader of :mod:`gmsa.jsondoc`; the other arguments are Terraform's
(``execution_role_arn``, ``network_mode``, ``requires_compatibilities``,
``runtime_platform``). Findings name the resource address and the path inside its
values (``container_definitions[0].credentialSpecs[0]``).

A value Terraform knows only after apply is missing from ``planned_values`` and
marked in the resource change's ``after_unknown``: it is reported as not checked.
The JSON of ``terraform show -json`` on a state (``values`` instead of
``planned_values``) is read the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gmsa import jsondoc
from gmsa.errors import InvalidInputError
from gmsa.findings import json_path
from gmsa.taskdef.iac import IacTaskDefinition, OriginBuilder

RESOURCE_TYPE = "aws_ecs_task_definition"
"""The resource type gmsa checks."""
MAX_PLAN_BYTES = 64 * 1024 * 1024
"""Cap for a plan's JSON (64 MiB): plans of large configurations are big."""

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


class PlanError(InvalidInputError):
    """A plan's JSON does not have the shape ``terraform show -json`` gives."""

    code = "invalid-plan"


def is_plan(document: Any) -> bool:
    """Whether a document is the JSON of a Terraform plan (or state)."""
    return (
        isinstance(document, dict)
        and "format_version" in document
        and isinstance(document.get("planned_values", document.get("values")), dict)
    )


def _modules(module: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(module, dict):
        return
    yield module
    for child in module.get("child_modules") or ():
        yield from _modules(child)


def _unknown(after_unknown: Any, *keys: str | int) -> bool:
    """Whether the value at ``keys`` is known only after apply."""
    value = after_unknown
    for key in keys:
        if value is True:
            return True
        if isinstance(value, dict):
            value = value.get(key) if isinstance(key, str) else None
        elif isinstance(value, list) and isinstance(key, int):
            value = value[key] if key < len(value) else None
        else:
            return False
    return value is True


class _Reader:
    def __init__(self, source: str, address: str, values: dict[str, Any], unknown: Any) -> None:
        self.values = values
        self.unknown = unknown
        self.origin = OriginBuilder(source=source, resource=address, renames=_RENAMES)

    def _after_apply(self, path: str) -> None:
        self.origin.not_known(
            path,
            f"{path} is known only after terraform apply; the rules about it were not checked",
        )

    def string(self, key: str, model_key: str) -> str | None:
        if _unknown(self.unknown, key):
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
        if _unknown(self.unknown, "requires_compatibilities"):
            self._after_apply("requires_compatibilities")
        elif isinstance(compat, list):
            known = [
                c
                for i, c in enumerate(compat)
                if isinstance(c, str) and not _unknown(self.unknown, "requires_compatibilities", i)
            ]
            doc["requiresCompatibilities"] = known
        platform_blocks = self.values.get("runtime_platform")
        if _unknown(self.unknown, "runtime_platform"):
            self._after_apply("runtime_platform")
        elif isinstance(platform_blocks, list) and platform_blocks:
            block = platform_blocks[0] if isinstance(platform_blocks[0], dict) else {}
            platform: dict[str, Any] = {}
            for key, model_key in (
                ("operating_system_family", "operatingSystemFamily"),
                ("cpu_architecture", "cpuArchitecture"),
            ):
                if _unknown(self.unknown, "runtime_platform", 0, key):
                    self._after_apply(json_path("runtime_platform", 0, key))
                elif isinstance(block.get(key), str) and block[key]:
                    platform[model_key] = block[key]
            doc["runtimePlatform"] = platform
        if _unknown(self.unknown, _CONTAINERS):
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
    if not is_plan(document):
        raise PlanError(
            "this is not the JSON of a Terraform plan: it has no format_version and planned_values",
            where=source,
            fix="give the output of terraform show -json PLANFILE",
        )
    unknown_by_address: dict[str, Any] = {}
    for change in document.get("resource_changes") or ():
        if isinstance(change, dict) and change.get("type") == RESOURCE_TYPE:
            after_unknown = (change.get("change") or {}).get("after_unknown")
            unknown_by_address[str(change.get("address"))] = after_unknown or {}
    root = document.get("planned_values", document.get("values"))
    out: list[IacTaskDefinition] = []
    for module in _modules(root.get("root_module")):
        for resource in module.get("resources") or ():
            if not isinstance(resource, dict) or resource.get("type") != RESOURCE_TYPE:
                continue
            if resource.get("mode", "managed") != "managed":
                continue
            address = str(resource.get("address"))
            values = resource.get("values")
            if not isinstance(values, dict):
                values = {}
            reader = _Reader(source, address, values, unknown_by_address.get(address, {}))
            doc = reader.read()
            if doc is None:
                out.append(
                    IacTaskDefinition(
                        source=source,
                        resource=address,
                        definition=None,
                        notes=tuple(reader.origin.notes),
                    )
                )
                continue
            out.append(
                IacTaskDefinition(
                    source=source, resource=address, definition=reader.origin.build(doc)
                )
            )
    return out


__all__ = [
    "MAX_PLAN_BYTES",
    "RESOURCE_TYPE",
    "PlanError",
    "is_plan",
    "task_definitions",
]
