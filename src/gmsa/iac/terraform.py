"""Reading Terraform plans: the JSON ``terraform show -json PLANFILE`` prints.

What every check of a plan shares: telling a plan from other JSON, the managed
resources of some types in ``planned_values`` (the root module and every child
module), and which of their values Terraform knows only after apply (marked in the
resource change's ``after_unknown``). :mod:`gmsa.taskdef` reads task definitions out
of it, :mod:`gmsa.credspec.embedded` the credential specs a plan stores in SSM
parameters and S3 objects. The JSON of ``terraform show -json`` on a state
(``values`` instead of ``planned_values``) is read the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from gmsa.errors import InvalidInputError

MAX_PLAN_BYTES = 64 * 1024 * 1024
"""Cap for a plan's JSON (64 MiB): plans of large configurations are big."""


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


@dataclass(frozen=True)
class PlannedResource:
    """One managed resource of a plan."""

    address: str
    """Its address (``module.app.aws_ssm_parameter.spec``)."""
    type: str
    """Its resource type."""
    values: dict[str, Any]
    """Its planned values (a value known only after apply is absent)."""
    after_unknown: Any
    """Its change's ``after_unknown``: which values are known only after apply."""

    def unknown(self, *keys: str | int) -> bool:
        """Whether the value at ``keys`` (``"runtime_platform", 0, "cpu_architecture"``)
        is known only after apply."""
        value = self.after_unknown
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


def _modules(module: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(module, dict):
        return
    yield module
    for child in module.get("child_modules") or ():
        yield from _modules(child)


def planned_resources(
    document: Any, *, source: str, types: Collection[str]
) -> list[PlannedResource]:
    """The managed resources of ``types`` the plan (or state) holds, in plan order."""
    if not is_plan(document):
        raise PlanError(
            "this is not the JSON of a Terraform plan: it has no format_version and planned_values",
            where=source,
            fix="give the output of terraform show -json PLANFILE",
        )
    unknown_by_address: dict[str, Any] = {}
    for change in document.get("resource_changes") or ():
        if isinstance(change, dict) and change.get("type") in types:
            after_unknown = (change.get("change") or {}).get("after_unknown")
            unknown_by_address[str(change.get("address"))] = after_unknown or {}
    root = document.get("planned_values", document.get("values"))
    out: list[PlannedResource] = []
    for module in _modules(root.get("root_module")):
        for resource in module.get("resources") or ():
            if not isinstance(resource, dict) or resource.get("type") not in types:
                continue
            if resource.get("mode", "managed") != "managed":
                continue
            address = str(resource.get("address"))
            values = resource.get("values")
            out.append(
                PlannedResource(
                    address=address,
                    type=str(resource.get("type")),
                    values=values if isinstance(values, dict) else {},
                    after_unknown=unknown_by_address.get(address, {}),
                )
            )
    return out


__all__ = [
    "MAX_PLAN_BYTES",
    "PlanError",
    "PlannedResource",
    "is_plan",
    "planned_resources",
]
