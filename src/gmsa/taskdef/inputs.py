"""Where task definitions come from: which kind of file was given, and reading it.

``gmsa task check`` takes an ECS task definition (register-task-definition input or
describe-task-definition output), a CloudFormation template in JSON or YAML, a CDK
cloud assembly (the ``cdk.out`` directory, whose ``*.template.json`` files are
CloudFormation) or the JSON of a Terraform plan. :func:`load_input` detects which
(``auto``, with :func:`gmsa.iac.inputs.detect`) or reads the format it is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gmsa import jsondoc
from gmsa.errors import InvalidInputError
from gmsa.iac import inputs as iac
from gmsa.iac.cloudformation import CDK_TEMPLATE_GLOB
from gmsa.iac.terraform import MAX_PLAN_BYTES
from gmsa.inputfile import STDIN
from gmsa.taskdef import cloudformation, terraform
from gmsa.taskdef.iac import IacTaskDefinition
from gmsa.taskdef.model import TaskDefinition, parse_task_definition


class InputFormat(StrEnum):
    """The kinds of file a task definition is read from."""

    AUTO = "auto"
    """Decide from the content (a directory is a CDK cloud assembly)."""
    ECS = "ecs"
    """An ECS task definition: register-task-definition input or describe output."""
    CLOUDFORMATION = iac.IacFormat.CLOUDFORMATION.value
    """A CloudFormation template (JSON or YAML), or a CDK cloud assembly."""
    TERRAFORM = iac.IacFormat.TERRAFORM.value
    """The JSON of ``terraform show -json PLANFILE``."""


@dataclass(frozen=True)
class TaskDefinitionInput:
    """What was read: one ECS task definition, or the task definitions of a template
    or plan."""

    source: str
    """The file or directory given (``<stdin>`` for ``-``)."""
    input_format: InputFormat
    """The format it was read as (never ``auto``)."""
    ecs: TaskDefinition | None = None
    """The task definition of an ECS input."""
    resources: tuple[IacTaskDefinition, ...] = ()
    """The task definitions of a template, assembly or plan, in file order."""


def _not_valid_json(data: bytes, source: str) -> InvalidInputError:
    try:
        jsondoc.loads(data, source=source)
    except jsondoc.JsonDocumentError as exc:
        exc.fix = (
            f"{exc.fix}; or give a CloudFormation template (JSON or YAML) or a Terraform "
            "plan's JSON"
        )
        return exc
    return InvalidInputError(  # pragma: no cover - only called on text that is not JSON
        "cannot tell what kind of file this is", where=source, fix="give --input-format"
    )


def _ecs(data: bytes, source: str) -> TaskDefinitionInput:
    document = jsondoc.loads(data, source=source)
    return TaskDefinitionInput(
        source=source,
        input_format=InputFormat.ECS,
        ecs=parse_task_definition(document, source=source),
    )


def _task_definitions(found: iac.IacInput) -> TaskDefinitionInput:
    resources: list[IacTaskDefinition] = []
    if found.format is iac.IacFormat.TERRAFORM:
        resources = terraform.task_definitions(found.plan, source=found.source)
        kind = terraform.RESOURCE_TYPE
    else:
        for template in found.templates:
            resources.extend(cloudformation.task_definitions(template))
        kind = cloudformation.TASK_DEFINITION_TYPE
    if not resources:
        raise InvalidInputError(
            f"there is no {kind} resource to check",
            where=found.source,
            fix="give the template or plan that defines the task definition",
        )
    return TaskDefinitionInput(
        source=found.source,
        input_format=InputFormat(found.format.value),
        resources=tuple(resources),
    )


def load_input(
    path: Path | str, input_format: InputFormat = InputFormat.AUTO
) -> TaskDefinitionInput:
    """Read ``path`` (``-`` reads stdin; a directory is a CDK cloud assembly)."""
    if str(path) != STDIN and Path(path).is_dir():
        if input_format not in (InputFormat.AUTO, InputFormat.CLOUDFORMATION):
            raise InvalidInputError(
                f"a directory is read as a CDK cloud assembly, not as {input_format.value}",
                where=str(path),
                fix="give a file, or --input-format cloudformation",
            )
        return _task_definitions(iac.read_assembly(Path(path)))
    limit = (
        jsondoc.DEFAULT_MAX_BYTES
        if input_format in (InputFormat.ECS, InputFormat.CLOUDFORMATION)
        else MAX_PLAN_BYTES
    )
    data, source = iac.read_argument(path, max_bytes=limit, what="task definition")
    if input_format is InputFormat.ECS:
        return _ecs(data, source)
    if input_format is not InputFormat.AUTO:
        return _task_definitions(iac.read_as(data, source, iac.IacFormat(input_format.value)))
    found = iac.detect(data, source)
    if found is not None:
        return _task_definitions(found)
    if not jsondoc.decode_text(data, source=source).lstrip().startswith(("{", "[")):
        raise _not_valid_json(data, source)
    return _ecs(data, source)


__all__ = [
    "CDK_TEMPLATE_GLOB",
    "InputFormat",
    "TaskDefinitionInput",
    "load_input",
]
