"""Which kind of file a check was given: a CloudFormation template, a CDK cloud
assembly, a Terraform plan, or something else (the command's own kind of file).

``gmsa task check`` (ECS task definitions) and ``gmsa spec validate`` (credential
specs) take their own files and templates or plans alike, detected from the
content or chosen with ``--input-format``; this is the detection and reading they
share.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from gmsa import jsondoc
from gmsa.errors import InvalidInputError
from gmsa.iac import cloudformation, terraform
from gmsa.iac.cloudformation import Template
from gmsa.inputfile import STDIN, STDIN_SOURCE


class IacFormat(StrEnum):
    """The infrastructure-as-code formats (the ``--input-format`` names)."""

    CLOUDFORMATION = "cloudformation"
    """A CloudFormation template (JSON or YAML), or a CDK cloud assembly."""
    TERRAFORM = "terraform"
    """The JSON of ``terraform show -json PLANFILE``."""


@dataclass(frozen=True)
class IacInput:
    """A template, the templates of a CDK cloud assembly, or a plan."""

    source: str
    """The file or directory given (``<stdin>`` for ``-``)."""
    format: IacFormat
    """What it is."""
    templates: tuple[Template, ...] = ()
    """A CloudFormation input's templates (one, or each of an assembly's)."""
    plan: Any = None
    """A Terraform input's document."""


def read_argument(name: str | Path, *, max_bytes: int, what: str) -> tuple[bytes, str]:
    """The bytes of a FILE argument (``-`` reads standard input) and its source name.
    A file larger than ``max_bytes`` is refused (:class:`~gmsa.jsondoc.JsonDocumentError`)."""
    if str(name) == STDIN:
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise jsondoc.JsonDocumentError(
                f"the input is larger than the {max_bytes}-byte limit",
                where=STDIN_SOURCE,
                fix=f"this is not a {what}",
            )
        return data, STDIN_SOURCE
    return jsondoc.read_bytes(Path(name), max_bytes=max_bytes, what=what), str(name)


def read_as(data: bytes, source: str, input_format: IacFormat) -> IacInput:
    """Read ``data`` as the format chosen; a typed error if it is not one."""
    if input_format is IacFormat.TERRAFORM:
        document = jsondoc.loads(data, source=source, max_bytes=terraform.MAX_PLAN_BYTES)
        if not terraform.is_plan(document):
            raise terraform.PlanError(
                "this is not the JSON of a Terraform plan: it has no format_version and "
                "planned_values",
                where=source,
                fix="give the output of terraform show -json PLANFILE",
            )
        return IacInput(source, IacFormat.TERRAFORM, plan=document)
    template = cloudformation.read_template(data, source=source)
    return IacInput(source, IacFormat.CLOUDFORMATION, templates=(template,))


def detect(data: bytes, source: str) -> IacInput | None:
    """The template or plan ``data`` is, or ``None`` when it is neither (another kind
    of file, or text that is not valid JSON or YAML). YAML that means to be a template
    (a top-level ``Resources``...) but cannot be read raises its
    :class:`~gmsa.iac.cloudformation.TemplateError`."""
    try:
        text = jsondoc.decode_text(data, source=source)
    except InvalidInputError:
        return None
    if text.lstrip().startswith(("{", "[")):
        try:
            document = jsondoc.loads(text, source=source, max_bytes=terraform.MAX_PLAN_BYTES)
        except jsondoc.JsonDocumentError:
            return None
        if terraform.is_plan(document):
            return IacInput(source, IacFormat.TERRAFORM, plan=document)
        if cloudformation.is_template(document):
            return read_as(data, source, IacFormat.CLOUDFORMATION)
        return None
    try:
        document, lines = cloudformation.read_document(data, source=source)
    except cloudformation.TemplateError:
        if cloudformation.looks_like_yaml_template(text):
            raise
        return None
    if not cloudformation.is_template(document):
        return None
    template = cloudformation.parse_template(document, lines, source=source)
    return IacInput(source, IacFormat.CLOUDFORMATION, templates=(template,))


def read_assembly(directory: Path) -> IacInput:
    """A CDK cloud assembly (the ``cdk.out`` directory): every stack's template."""
    templates = cloudformation.assembly_templates(directory)
    return IacInput(str(directory), IacFormat.CLOUDFORMATION, templates=tuple(templates))


__all__ = [
    "IacFormat",
    "IacInput",
    "detect",
    "read_argument",
    "read_as",
    "read_assembly",
]
