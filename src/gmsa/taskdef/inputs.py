"""Where task definitions come from: which kind of file was given, and reading it.

``gmsa task check`` takes an ECS task definition (register-task-definition input or
describe-task-definition output), a CloudFormation template in JSON or YAML, a CDK
cloud assembly (the ``cdk.out`` directory, whose ``*.template.json`` files are
CloudFormation) or the JSON of a Terraform plan. :func:`load_input` detects which
(``auto``) or reads the format it is told.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gmsa import jsondoc
from gmsa.errors import InvalidInputError
from gmsa.taskdef import cloudformation, terraform
from gmsa.taskdef.iac import IacTaskDefinition
from gmsa.taskdef.model import TaskDefinition, parse_task_definition


class InputFormat(StrEnum):
    """The kinds of file a task definition is read from."""

    AUTO = "auto"
    """Decide from the content (a directory is a CDK cloud assembly)."""
    ECS = "ecs"
    """An ECS task definition: register-task-definition input or describe output."""
    CLOUDFORMATION = "cloudformation"
    """A CloudFormation template (JSON or YAML), or a CDK cloud assembly."""
    TERRAFORM = "terraform"
    """The JSON of ``terraform show -json PLANFILE``."""


CDK_TEMPLATE_GLOB = "*.template.json"
"""The templates of a CDK cloud assembly (nested assemblies included)."""


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


def _template(data: bytes, source: str) -> TaskDefinitionInput:
    document, lines = cloudformation.read_document(data, source=source)
    template = cloudformation.parse_template(document, lines, source=source)
    return _found(source, InputFormat.CLOUDFORMATION, cloudformation.task_definitions(template))


def _plan(data: bytes, source: str) -> TaskDefinitionInput:
    document = jsondoc.loads(data, source=source, max_bytes=terraform.MAX_PLAN_BYTES)
    return _found(
        source, InputFormat.TERRAFORM, terraform.task_definitions(document, source=source)
    )


def _found(
    source: str, input_format: InputFormat, resources: list[IacTaskDefinition]
) -> TaskDefinitionInput:
    if not resources:
        kind = (
            terraform.RESOURCE_TYPE
            if input_format is InputFormat.TERRAFORM
            else cloudformation.TASK_DEFINITION_TYPE
        )
        raise InvalidInputError(
            f"there is no {kind} resource to check",
            where=source,
            fix="give the template or plan that defines the task definition",
        )
    return TaskDefinitionInput(source=source, input_format=input_format, resources=tuple(resources))


def _detect(data: bytes, source: str) -> TaskDefinitionInput:
    text = jsondoc.decode_text(data, source=source)
    if text.lstrip().startswith(("{", "[")):
        document = jsondoc.loads(data, source=source, max_bytes=terraform.MAX_PLAN_BYTES)
        if terraform.is_plan(document):
            return _plan(data, source)
        if cloudformation.is_template(document):
            return _template(data, source)
        return _ecs(data, source)
    try:
        document, lines = cloudformation.read_document(data, source=source)
    except cloudformation.TemplateError:
        raise _not_valid_json(data, source) from None
    if not cloudformation.is_template(document):
        raise _not_valid_json(data, source)
    template = cloudformation.parse_template(document, lines, source=source)
    return _found(source, InputFormat.CLOUDFORMATION, cloudformation.task_definitions(template))


def _assembly(directory: Path, input_format: InputFormat) -> TaskDefinitionInput:
    if input_format not in (InputFormat.AUTO, InputFormat.CLOUDFORMATION):
        raise InvalidInputError(
            f"a directory is read as a CDK cloud assembly, not as {input_format.value}",
            where=str(directory),
            fix="give a file, or --input-format cloudformation",
        )
    files = sorted(directory.rglob(CDK_TEMPLATE_GLOB))
    if not files:
        raise InvalidInputError(
            f"the directory has no {CDK_TEMPLATE_GLOB} files",
            where=str(directory),
            fix="give the cdk.out directory after cdk synth, or a template file",
        )
    resources: list[IacTaskDefinition] = []
    for path in files:
        data = jsondoc.read_bytes(
            path, max_bytes=cloudformation.MAX_TEMPLATE_BYTES, what="template"
        )
        document, lines = cloudformation.read_document(data, source=str(path))
        if not cloudformation.is_template(document):
            continue
        template = cloudformation.parse_template(document, lines, source=str(path))
        resources.extend(cloudformation.task_definitions(template))
    return _found(str(directory), InputFormat.CLOUDFORMATION, resources)


_READERS = {
    InputFormat.AUTO: _detect,
    InputFormat.ECS: _ecs,
    InputFormat.CLOUDFORMATION: _template,
    InputFormat.TERRAFORM: _plan,
}


def load_input(
    path: Path | str, input_format: InputFormat = InputFormat.AUTO
) -> TaskDefinitionInput:
    """Read ``path`` (``-`` reads stdin; a directory is a CDK cloud assembly)."""
    if str(path) == "-":
        source = "<stdin>"
        data = sys.stdin.buffer.read(terraform.MAX_PLAN_BYTES + 1)
        if len(data) > terraform.MAX_PLAN_BYTES:
            raise jsondoc.JsonDocumentError(
                f"the input is larger than the {terraform.MAX_PLAN_BYTES}-byte limit",
                where=source,
                fix="this is not a task definition, template or plan",
            )
    else:
        file = Path(path)
        if file.is_dir():
            return _assembly(file, input_format)
        source = str(file)
        limit = (
            jsondoc.DEFAULT_MAX_BYTES
            if input_format in (InputFormat.ECS, InputFormat.CLOUDFORMATION)
            else terraform.MAX_PLAN_BYTES
        )
        data = jsondoc.read_bytes(file, max_bytes=limit, what="task definition")
    return _READERS[input_format](data, source)


__all__ = [
    "CDK_TEMPLATE_GLOB",
    "InputFormat",
    "TaskDefinitionInput",
    "load_input",
]
