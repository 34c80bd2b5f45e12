"""Patch a task definition to use a credential spec, in register-task-definition shape.

The result can be fed to ``aws ecs register-task-definition --cli-input-json``:
describe-task-definition output is unwrapped and its read-only fields dropped.
Everything else, including fields gmsa does not know, is kept as written.
"""

from __future__ import annotations

import copy
from typing import Any

from gmsa.errors import InvalidInputError
from gmsa.findings import json_path
from gmsa.printable import has_surrogates, printable
from gmsa.reference import Reference, parse
from gmsa.taskdef.model import (
    FIELD_CREDENTIAL_SPECS,
    FIELD_DOCKER_SECURITY_OPTIONS,
    READ_ONLY_FIELDS,
    TaskDefinition,
    is_credential_spec_option,
)

FIELDS = (FIELD_CREDENTIAL_SPECS, FIELD_DOCKER_SECURITY_OPTIONS)
"""The container fields a reference can be written to."""


class PatchError(InvalidInputError):
    """The patch cannot be applied as asked (unknown container, hostname not allowed)."""

    code = "invalid-patch"


def register_shape(task: TaskDefinition) -> dict[str, Any]:
    """A deep copy of the task definition without the fields only describe output has."""
    doc = copy.deepcopy(task.raw)
    for key in READ_ONLY_FIELDS:
        doc.pop(key, None)
    return doc


def _reference_text(reference: Reference | str) -> str:
    if isinstance(reference, Reference):
        return str(reference)
    return str(parse(reference))


def patch_task_definition(
    task: TaskDefinition,
    *,
    container: str,
    reference: Reference | str,
    field: str = FIELD_CREDENTIAL_SPECS,
    hostname: str | None = None,
) -> dict[str, Any]:
    """Make ``container`` use ``reference``; return the new register-shaped document.

    The reference replaces any credential spec the container already had, in either
    field, so the container ends up with exactly one. A string reference is parsed
    first and raises :class:`~gmsa.reference.InvalidReferenceError` when wrong.
    """
    if field not in FIELDS:
        raise PatchError(
            f"unknown field {field!r}",
            where="--field",
            fix=f"use {' or '.join(FIELDS)}",
        )
    value = _reference_text(reference)
    target = task.container(container)
    if target is None:
        names = ", ".join(repr(c.name) for c in task.containers)
        raise PatchError(
            f"no container is named {container!r}",
            where=task.path_in_source("containerDefinitions"),
            fix=f"use one of {names}",
        )
    if hostname is not None and (task.network_mode or "").lower() == "awsvpc":
        raise PatchError(
            "ECS rejects a container hostname when networkMode is awsvpc",
            where=task.path_in_source(json_path(target.path, "hostname")),
            fix="drop the hostname option, or change the task's network mode",
        )
    if hostname is not None and not hostname.strip():
        raise PatchError("the hostname is empty", where="--hostname", fix="give the gMSA name")
    if hostname is not None and has_surrogates(hostname):
        raise PatchError(
            f"the hostname {printable(hostname)} is not valid Unicode text (a byte that is "
            "not UTF-8)",
            where="--hostname",
            fix="give the gMSA name as plain text",
        )
    doc = register_shape(task)
    item: dict[str, Any] = doc["containerDefinitions"][target.index]

    options = list(item.get(FIELD_DOCKER_SECURITY_OPTIONS) or [])
    specs = list(item.get(FIELD_CREDENTIAL_SPECS) or [])
    first_option = next(
        (i for i, v in enumerate(options) if is_credential_spec_option(v)), len(options)
    )
    options = [v for v in options if not is_credential_spec_option(v)]
    if field == FIELD_CREDENTIAL_SPECS:
        specs = [value]
    else:
        specs = []
        options.insert(min(first_option, len(options)), value)

    _set_or_drop(item, FIELD_DOCKER_SECURITY_OPTIONS, options)
    _set_or_drop(item, FIELD_CREDENTIAL_SPECS, specs)
    if hostname is not None:
        item["hostname"] = hostname
    return doc


def _set_or_drop(item: dict[str, Any], key: str, values: list[str]) -> None:
    """Write a list back, dropping the key when it became empty (but not when it was)."""
    if values:
        item[key] = values
    elif item.get(key):
        del item[key]


__all__ = [
    "FIELDS",
    "PatchError",
    "patch_task_definition",
    "register_shape",
]
