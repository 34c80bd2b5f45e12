"""Credential specs embedded in infrastructure as code, and which kind of file a spec
check was given.

Teams often store a spec with the stack that uses it. The resources that hold one:

- CloudFormation (templates in JSON or YAML, CDK synth output): the ``Value`` of an
  ``AWS::SSM::Parameter`` (what CDK's ``ssm.StringParameter`` synthesises), a JSON
  string written literally (a YAML literal block ``Value: |``, a JSON string), built
  with ``!Sub``/``!Join`` from literals, or ``!ToJsonString`` of a mapping (the
  ``AWS::LanguageExtensions`` transform). CloudFormation has no resource that
  writes an S3 object's content, and a Secrets Manager secret holds the domainless
  user, never a spec.
- Terraform plans: the ``value`` (or ``insecure_value``) of an ``aws_ssm_parameter``
  and the ``content`` of an ``aws_s3_object`` (or the older ``aws_s3_bucket_object``).
  ``terraform show -json`` prints sensitive values too, so a ``SecureString``
  parameter is checked like any other.

A value is a credential spec when it is a JSON object with ``CmsPlugins`` or
``DomainJoinConfig`` at the top, or text that mentions either and is not valid
JSON (a broken spec). Every other value is some other parameter or object and is
skipped without a word. A value known only at deploy time (``!Sub`` with a
parameter, ``!Ref``, a Terraform value known only after apply) is reported as not
checked (info), never as an error. Findings name the resource, the path inside it
(``Properties.Value.DomainJoinConfig.Sid``, ``value.DomainJoinConfig.Sid``) and,
where the file has lines, the line: for a YAML literal block, the line of the
value inside the spec.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from gmsa import jsondoc
from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.credspec.validate import (
    SpecReport,
    check_argument,
    check_bytes,
    check_document,
    input_error_finding,
    too_large,
)
from gmsa.errors import InvalidInputError
from gmsa.findings import (
    NOT_CHECKED,
    Finding,
    Severity,
    error,
    has_errors,
    info,
    json_path,
    parent_path,
)
from gmsa.iac import inputs as iac
from gmsa.iac.cloudformation import (
    Deferred,
    Resolver,
    Template,
    Unresolvable,
    is_intrinsic,
)
from gmsa.iac.terraform import MAX_PLAN_BYTES, PlannedResource, planned_resources
from gmsa.inputfile import STDIN, STDIN_SOURCE, InputFileError

SPEC_KEYS = ("CmsPlugins", "DomainJoinConfig")
"""The top-level keys that make a value a credential spec."""

CLOUDFORMATION_HOLDERS: dict[str, tuple[str, ...]] = {"AWS::SSM::Parameter": ("Value",)}
"""CloudFormation resource types that hold a spec, and the properties that do."""
TERRAFORM_HOLDERS: dict[str, tuple[str, ...]] = {
    "aws_ssm_parameter": ("value", "insecure_value"),
    "aws_s3_object": ("content",),
    "aws_s3_bucket_object": ("content",),
}
"""Terraform resource types that hold a spec, and the arguments that do."""
_S3_TYPES = frozenset({"aws_s3_object", "aws_s3_bucket_object"})

NO_CREDENTIAL_SPEC = "no-credential-spec"
"""The code of the error about a template or plan that holds no credential spec."""
SPEC_NOT_A_STRING = "spec-not-a-string"
"""The code of the error about a spec written as a mapping where a string must be."""

_TO_JSON_STRING = "Fn::ToJsonString"
_LINE_COLUMN = re.compile(r"\((line \d+, column \d+)\)$")
_PROPERTIES = "Properties"


class SpecInputFormat(StrEnum):
    """The kinds of file ``gmsa spec validate`` reads (``--input-format``)."""

    AUTO = "auto"
    """Decide from the content (a directory is a CDK cloud assembly)."""
    SPEC = "spec"
    """A credential spec (JSON)."""
    CLOUDFORMATION = iac.IacFormat.CLOUDFORMATION.value
    """A CloudFormation template (JSON or YAML), or a CDK cloud assembly."""
    TERRAFORM = iac.IacFormat.TERRAFORM.value
    """The JSON of ``terraform show -json PLANFILE``."""


@dataclass(frozen=True)
class EmbeddedSpecs:
    """The credential specs of one template, CDK cloud assembly or plan."""

    source: str
    """The file or directory given (``<stdin>`` for ``-``)."""
    input_format: SpecInputFormat
    """What it was read as (never ``auto`` or ``spec``)."""
    specs: tuple[SpecReport, ...] = ()
    """Each spec found, with its resource, path and line, in file order."""
    notes: tuple[Finding, ...] = ()
    """Values known only at deploy time: not checked (info)."""
    problems: tuple[Finding, ...] = ()
    """Errors about the file itself: it cannot be read, or holds no spec."""

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding: the file's problems, each spec's, then the notes."""
        return (*self.problems, *(f for s in self.specs for f in s.findings), *self.notes)

    @property
    def valid(self) -> bool:
        """Whether no finding is an error."""
        return not has_errors(self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The file's report as JSON: the shape of a spec file's (source, valid, errors,
        warnings) with the format, each spec and what was not checked."""
        found = self.findings
        return {
            "source": self.source,
            "valid": self.valid,
            "input_format": self.input_format.value,
            "errors": [f.to_dict() for f in found if f.severity is Severity.ERROR],
            "warnings": [f.to_dict() for f in found if f.severity is Severity.WARNING],
            "info": [f.to_dict() for f in found if f.severity is Severity.INFO],
            "specs": [s.to_dict() for s in self.specs],
        }


def looks_like_spec(value: Any) -> bool:
    """Whether a parsed value is a credential spec (an object with a spec key)."""
    return isinstance(value, dict) and any(key in value for key in SPEC_KEYS)


def _text_is_spec(text: str) -> bool:
    try:
        return looks_like_spec(jsondoc.loads(text, source="value", max_bytes=MAX_SPEC_BYTES * 4))
    except InvalidInputError:
        return any(key in text for key in SPEC_KEYS)


def _mentions_spec(value: Any) -> bool:
    """Whether any literal in an intrinsic function names a spec key."""
    if isinstance(value, dict):
        return any(_mentions_spec(k) or _mentions_spec(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions_spec(item) for item in value)
    return isinstance(value, str) and any(key in value for key in SPEC_KEYS)


def _line_in_text(text: str, path: str) -> int | None:
    """The line (from 1) of ``path`` in the JSON ``text``, or of the nearest value that
    holds it."""
    head: str | None = path
    while head:
        line = jsondoc.line_of(text, head)
        if line is not None:
            return line
        head = parent_path(head)
    return jsondoc.line_of(text, "")


def _error_line(text: str, source: str) -> int | None:
    """The line of the JSON error in ``text`` (read as ``source``), if any."""
    try:
        jsondoc.loads(text, source=source, max_bytes=MAX_SPEC_BYTES * 4)
    except jsondoc.JsonDocumentError as exc:
        where = (exc.where or "").removeprefix(f"{source}:")
        line = where.split(":", 1)[0]
        return int(line) if line.isdigit() else None
    except InvalidInputError:
        return None
    return None


def _inside(holder: str, path: str) -> str:
    """A spec's JSON path as a path inside the resource that holds it."""
    if not path:
        return holder
    return f"{holder}{path}" if path.startswith("[") else f"{holder}.{path}"


def _placed(
    report: SpecReport,
    *,
    source: str,
    resource: str,
    holder: str,
    holder_line: int | None,
    line_of: Callable[[str], int | None],
) -> SpecReport:
    """``report`` as the report of a spec held at ``holder`` in ``resource``: each finding
    names the resource, the path inside it and its line (``line_of(spec_path)``)."""
    findings = tuple(
        replace(
            f,
            source=source,
            resource=resource,
            path=_inside(holder, f.path),
            line=line_of(f.path),
        )
        for f in report.findings
    )
    return SpecReport(
        source=source,
        spec=report.spec,
        findings=findings,
        resource=resource,
        path=holder,
        line=holder_line,
    )


# -- CloudFormation -------------------------------------------------------------------


class _TemplateSpecs:
    """Finds and checks the specs of one template."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.resolver = Resolver({})
        self.specs: list[SpecReport] = []
        self.notes: list[Finding] = []

    def note(self, logical_id: str, path: str, message: str) -> None:
        doc_path = json_path("Resources", logical_id) + "." + path
        self.notes.append(
            replace(
                info(NOT_CHECKED, path, message),
                source=self.template.source,
                resource=logical_id,
                line=self.template.line(doc_path),
            )
        )

    def read(self) -> None:
        for logical_id, resource in self.template.resources.items():
            keys = CLOUDFORMATION_HOLDERS.get(str(resource.get("Type")))
            properties = resource.get(_PROPERTIES)
            if keys is None or not isinstance(properties, dict):
                continue
            for key in keys:
                if key in properties:
                    self.value(logical_id, json_path(_PROPERTIES, key), properties[key])

    def value(self, logical_id: str, path: str, raw: Any) -> None:
        doc_path = json_path("Resources", logical_id) + "." + path
        if is_intrinsic(raw) and _TO_JSON_STRING in raw:
            self.mapping(logical_id, json_path(path, _TO_JSON_STRING), raw[_TO_JSON_STRING])
            return
        resolved = self.resolver.value(raw)
        if isinstance(resolved, Deferred):
            if _mentions_spec(raw):
                message = (
                    f"the credential spec uses {resolved.unknown}, known only when the stack "
                    "is deployed; it was not checked"
                )
            else:
                message = (
                    f"the value is {resolved.written}, known only when the stack is deployed; "
                    "if it is a credential spec, it was not checked"
                )
            self.note(logical_id, path, message)
            return
        if isinstance(resolved, dict) and not is_intrinsic(resolved):
            self.mapping(logical_id, path, resolved, not_a_string=True)
            return
        if not isinstance(resolved, str) or not _text_is_spec(resolved):
            return
        # The string's own node: the value, or the literal a !Sub holds.
        text_path = doc_path
        if is_intrinsic(raw) and isinstance(raw.get("Fn::Sub"), str):
            text_path = json_path(doc_path, "Fn::Sub")
        template = self.template
        label = f"{template.source}: {logical_id}: {path}"
        report = check_bytes(resolved.encode("utf-8"), source=label, in_s3=False)
        error_line = _error_line(resolved, label) if report.spec is None else None
        if error_line is not None:  # the line and column are the value's, not the file's
            report = replace(
                report,
                findings=tuple(
                    replace(f, message=_LINE_COLUMN.sub(r"(\1 of the value)", f.message))
                    for f in report.findings
                ),
            )

        def line_of(spec_path: str) -> int | None:
            inner = error_line if error_line is not None else _line_in_text(resolved, spec_path)
            return template.text_line(text_path, inner)

        self.specs.append(
            _placed(
                report,
                source=template.source,
                resource=logical_id,
                holder=path,
                holder_line=template.line(doc_path),
                line_of=line_of,
            )
        )

    def mapping(self, logical_id: str, path: str, raw: Any, *, not_a_string: bool = False) -> None:
        """A spec written as a mapping: ``!ToJsonString`` of it, or (wrongly) the mapping
        itself where CloudFormation wants a string."""
        doc_path = json_path("Resources", logical_id) + "." + path
        try:
            resolved = self.resolver.deep(raw)
        except Unresolvable as exc:
            if _mentions_spec(raw):
                self.note(
                    logical_id,
                    path,
                    f"the credential spec uses {exc.deferred.unknown}, known only when the "
                    "stack is deployed; it was not checked",
                )
            return
        if not looks_like_spec(resolved):
            return
        template = self.template
        report = check_document(resolved, source=template.source)
        if not_a_string:
            wrong = error(
                SPEC_NOT_A_STRING,
                "",
                "the spec is a mapping here; CloudFormation takes a string and refuses the "
                "template",
                "write the spec as a JSON string (a YAML literal block: Value: |), or "
                "!ToJsonString of the mapping with Transform: AWS::LanguageExtensions",
            )
            report = replace(report, findings=(wrong, *report.findings))
        self.specs.append(
            _placed(
                report,
                source=template.source,
                resource=logical_id,
                holder=path,
                holder_line=template.line(doc_path),
                line_of=lambda p: template.line(_inside(doc_path, p)),
            )
        )


# -- Terraform ------------------------------------------------------------------------


def _plan_specs(
    resource: PlannedResource, source: str, specs: list[SpecReport], notes: list[Finding]
) -> None:
    for key in TERRAFORM_HOLDERS[resource.type]:
        if resource.unknown(key):
            notes.append(
                replace(
                    info(
                        NOT_CHECKED,
                        key,
                        "the value is known only after terraform apply; if it is a credential "
                        "spec, it was not checked",
                    ),
                    source=source,
                    resource=resource.address,
                )
            )
            continue
        value = resource.values.get(key)
        if not isinstance(value, str) or not _text_is_spec(value):
            continue
        label = f"{source}: {resource.address}: {key}"
        report = check_bytes(value.encode("utf-8"), source=label, in_s3=resource.type in _S3_TYPES)
        specs.append(
            _placed(
                report,
                source=source,
                resource=resource.address,
                holder=key,
                holder_line=None,
                line_of=lambda _path: None,
            )
        )


# -- reading a FILE argument ----------------------------------------------------------


def _holders(input_format: iac.IacFormat) -> str:
    if input_format is iac.IacFormat.TERRAFORM:
        return ", ".join(TERRAFORM_HOLDERS)
    return ", ".join(CLOUDFORMATION_HOLDERS)


def embedded_specs(found: iac.IacInput) -> EmbeddedSpecs:
    """Every credential spec a template, assembly or plan holds, checked."""
    specs: list[SpecReport] = []
    notes: list[Finding] = []
    if found.format is iac.IacFormat.TERRAFORM:
        for resource in planned_resources(
            found.plan, source=found.source, types=tuple(TERRAFORM_HOLDERS)
        ):
            _plan_specs(resource, found.source, specs, notes)
    else:
        for template in found.templates:
            reader = _TemplateSpecs(template)
            reader.read()
            specs.extend(reader.specs)
            notes.extend(reader.notes)
    problems: tuple[Finding, ...] = ()
    if not specs and not notes:
        problems = (
            replace(
                error(
                    NO_CREDENTIAL_SPEC,
                    "",
                    f"there is no credential spec in it: none of its {_holders(found.format)} "
                    "resources holds one",
                    "give the template or plan that stores the spec, or the spec file; to check "
                    "the task definitions in it, run gmsa task check",
                ),
                source=found.source,
            ),
        )
    return EmbeddedSpecs(
        source=found.source,
        input_format=SpecInputFormat(found.format.value),
        specs=tuple(specs),
        notes=tuple(notes),
        problems=problems,
    )


NOT_A_CREDENTIAL_SPEC = "not-a-credential-spec"
"""The code of the error about a file that is some other document (a task definition)."""
_TASK_DEFINITION_KEYS = ("containerDefinitions", "taskDefinition")


def _not_a_task_definition(data: bytes, source: str) -> SpecReport | None:
    """The report of an ECS task definition given as a spec: one error saying which
    command checks it (rather than every spec key it lacks), else ``None``."""
    try:
        document = jsondoc.loads(data, source=source, max_bytes=MAX_PLAN_BYTES)
    except InvalidInputError:
        return None
    if not isinstance(document, dict) or looks_like_spec(document):
        return None
    if not any(key in document for key in _TASK_DEFINITION_KEYS):
        return None
    finding = error(
        NOT_A_CREDENTIAL_SPEC,
        "",
        "this is an ECS task definition, not a credential spec",
        f"check it with: gmsa task check {source}",
    )
    return SpecReport(source, None, (finding,))


def _unreadable(
    source: str, input_format: SpecInputFormat, exc: InvalidInputError
) -> EmbeddedSpecs:
    finding = replace(input_error_finding(exc, source), source=source)
    return EmbeddedSpecs(source=source, input_format=input_format, problems=(finding,))


def check_input(
    name: str, input_format: SpecInputFormat = SpecInputFormat.AUTO
) -> SpecReport | EmbeddedSpecs:
    """Check one FILE argument of ``gmsa spec validate`` (``-`` is standard input): a
    spec file, or the specs a template, CDK cloud assembly (a directory) or plan holds.

    Never raises for content: a file that cannot be read as what it was taken for is
    an error finding. Only a file that exists but cannot be read (permissions, I/O)
    raises, as :class:`~gmsa.errors.ExternalError`."""
    if input_format is SpecInputFormat.SPEC:
        return check_argument(name)
    if name != STDIN and Path(name).is_dir():
        if input_format is SpecInputFormat.TERRAFORM:
            return _unreadable(
                name,
                input_format,
                InvalidInputError(
                    "a directory is read as a CDK cloud assembly, not as terraform",
                    where=name,
                    fix="give a file, or --input-format cloudformation",
                ),
            )
        try:
            return embedded_specs(iac.read_assembly(Path(name)))
        except InvalidInputError as exc:
            return _unreadable(name, SpecInputFormat.CLOUDFORMATION, exc)
    try:
        data, source = iac.read_argument(name, max_bytes=MAX_PLAN_BYTES, what="credential spec")
    except jsondoc.JsonDocumentError:
        try:
            size = Path(name).stat().st_size
        except OSError:
            size = MAX_PLAN_BYTES + 1
        return SpecReport(STDIN_SOURCE if name == STDIN else name, None, (too_large(size),))
    except InputFileError as exc:  # missing, a FIFO/socket/device, a link loop
        return SpecReport(name, None, (error(exc.code, "", exc.what, exc.fix),))
    if input_format is SpecInputFormat.AUTO:
        try:
            found = iac.detect(data, source)
        except InvalidInputError as exc:
            return _unreadable(source, SpecInputFormat.CLOUDFORMATION, exc)
        if found is None:
            return _not_a_task_definition(data, source) or check_bytes(data, source=source)
    else:
        try:
            found = iac.read_as(data, source, iac.IacFormat(input_format.value))
        except InvalidInputError as exc:
            return _unreadable(source, input_format, exc)
    try:
        return embedded_specs(found)
    except InvalidInputError as exc:
        return _unreadable(source, SpecInputFormat(found.format.value), exc)


def findings_of(reports: Iterable[SpecReport | EmbeddedSpecs]) -> list[Finding]:
    """Every finding of the reports, each naming the file it is about."""
    out: list[Finding] = []
    for report in reports:
        out.extend(f if f.source else f.about(report.source) for f in report.findings)
    return out


__all__ = [
    "CLOUDFORMATION_HOLDERS",
    "NOT_A_CREDENTIAL_SPEC",
    "NO_CREDENTIAL_SPEC",
    "SPEC_KEYS",
    "SPEC_NOT_A_STRING",
    "TERRAFORM_HOLDERS",
    "EmbeddedSpecs",
    "SpecInputFormat",
    "check_input",
    "embedded_specs",
    "findings_of",
    "looks_like_spec",
]
