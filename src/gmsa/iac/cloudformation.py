"""Reading CloudFormation templates, JSON or YAML, and CDK synth output.

What every check of a template shares: the document with the line of every value,
and the intrinsic functions the template alone decides. :mod:`gmsa.taskdef` reads
task definitions out of it, :mod:`gmsa.credspec.embedded` the credential specs a
template stores in SSM parameters.

YAML is read with PyYAML's safe loader; the short-form tags (``!Ref``, ``!Sub``,
``!GetAtt``...) become the long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``), as
CloudFormation reads them. JSON is read with the strict reader of
:mod:`gmsa.jsondoc`; its lines come from the same YAML composer (JSON is YAML flow
syntax). Intrinsic functions are resolved by :class:`Resolver` where the template
alone decides them (``Fn::Sub``/``Fn::Join``/``Fn::Select`` of literals,
``AWS::NoValue``, the pseudo parameters a caller knows); any other is a
:class:`Deferred` value, known only at deploy time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from gmsa import jsondoc
from gmsa.errors import InvalidInputError
from gmsa.findings import json_path, parent_path

MAX_TEMPLATE_BYTES = 1024 * 1024
"""CloudFormation's own limit for a template (read from S3): 1 MB."""
CDK_TEMPLATE_GLOB = "*.template.json"
"""The templates of a CDK cloud assembly (nested assemblies included)."""

_MAX_NODES = 1_000_000
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_TEMPLATE_KEYS = re.compile(r"^(AWSTemplateFormatVersion|Resources|Transform)\s*:", re.MULTILINE)


class TemplateError(InvalidInputError):
    """A template cannot be read: YAML or JSON syntax, duplicate keys, not a template."""

    code = "invalid-template"


class Lines(dict[str, int]):
    """JSON path in a document to the line its value starts on; and, for the strings
    written as YAML literal blocks (``|``), the line their text starts on, where each
    line of the string is a line of the file."""

    def __init__(self) -> None:
        super().__init__()
        self.text_starts: dict[str, int] = {}
        """JSON path of a literal block string to the line of its first line."""


def nearest_line(lines: Mapping[str, int], path: str) -> int | None:
    """The line of ``path``, or of the nearest value that holds it."""
    head: str | None = path
    while head:
        if head in lines:
            return lines[head]
        head = parent_path(head)
    return None


@dataclass(frozen=True)
class Template:
    """A parsed template with the line of every value."""

    source: str
    """Where it was read from."""
    document: dict[str, Any]
    """The template, intrinsic functions in their long form."""
    lines: Mapping[str, int]
    """JSON path in the document to its line (empty when unknown)."""
    text_starts: Mapping[str, int] = field(default_factory=dict)
    """JSON path of a string written as a YAML literal block to the line its text
    starts on (see :class:`Lines`)."""

    @property
    def resources(self) -> dict[str, Any]:
        """The ``Resources`` section."""
        resources: dict[str, Any] = self.document["Resources"]
        return resources

    def resource_lines(self, logical_id: str) -> dict[str, int]:
        """The lines of one resource, by path inside the resource."""
        prefix = json_path("Resources", logical_id) + "."
        return {k[len(prefix) :]: v for k, v in self.lines.items() if k.startswith(prefix)}

    def line(self, path: str) -> int | None:
        """The line of the value at ``path`` in the document, or of the nearest value
        that holds it."""
        return nearest_line(self.lines, path)

    def text_line(self, path: str, line_in_text: int | None) -> int | None:
        """The line of the file that holds line ``line_in_text`` (from 1) of the string
        at ``path``: exact for a YAML literal block, else the string's own line."""
        start = self.text_starts.get(path)
        if start is not None and line_in_text is not None:
            return start + line_in_text - 1
        return self.line(path)


# -- reading -------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader; tags and keys are handled by :func:`_node_value`."""


def _node_value(loader: _Loader, node: yaml.Node, path: str, lines: Lines, seen: list[int]) -> Any:
    seen[0] += 1
    if seen[0] > _MAX_NODES:
        raise TemplateError(
            "the YAML expands to too many values to be a template",
            where=loader.name,
            fix="remove recursive or repeated aliases",
        )
    lines.setdefault(path, node.start_mark.line + 1)
    tag = node.tag or ""
    if tag.startswith("!") and not tag.startswith("!!"):
        name = tag[1:]
        key = name if name in ("Ref", "Condition") else f"Fn::{name}"
        inner_path = json_path(path, key)
        lines.setdefault(inner_path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            text = str(node.value)
            _literal_block(node, inner_path, lines)
            if name == "GetAtt":
                return {key: text.split(".", 1)}
            return {key: text}
        return {key: _collection(loader, node, inner_path, lines, seen)}
    if isinstance(node, yaml.ScalarNode):
        _literal_block(node, path, lines)
        if tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # AWSTemplateFormatVersion: 2010-09-09 is a string
        return loader.construct_object(node, deep=True)
    return _collection(loader, node, path, lines, seen)


def _literal_block(node: yaml.ScalarNode, path: str, lines: Lines) -> None:
    """Where a literal block's text starts: the line after its ``|`` indicator."""
    if node.style == "|":
        lines.text_starts[path] = node.start_mark.line + 2


def _collection(loader: _Loader, node: yaml.Node, path: str, lines: Lines, seen: list[int]) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return [
            _node_value(loader, item, json_path(path, i), lines, seen)
            for i, item in enumerate(node.value)
        ]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(loader.construct_object(key_node))
            if key in out:
                raise TemplateError(
                    f"key {key!r} appears more than once in one mapping",
                    where=f"{loader.name}:{key_node.start_mark.line + 1}",
                    fix=f"keep a single {key!r}; CloudFormation refuses the template",
                )
            out[key] = _node_value(loader, value_node, json_path(path, key), lines, seen)
        return out
    raise TemplateError("unexpected YAML node", where=f"{loader.name}:{node.start_mark.line + 1}")


def _read_yaml(text: str, source: str) -> tuple[Any, Lines]:
    lines = Lines()
    loader: _Loader | None = None
    try:
        # The reader checks every character as it is made: a control character is a
        # YAML error too.
        loader = _Loader(text)
        loader.name = source
        node = loader.get_single_node()
        value = None if node is None else _node_value(loader, node, "", lines, [0])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise TemplateError(
            f"not valid YAML: {exc.problem or exc}",
            where=where,
            fix="correct the YAML at that line and column",
        ) from None
    except yaml.YAMLError as exc:
        raise TemplateError(
            f"not valid YAML: {exc}", where=source, fix="correct the YAML"
        ) from None
    except RecursionError:
        raise TemplateError(
            "the YAML nests too deeply to be a template", where=source, fix="check the file"
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    # YAML can spell what JSON cannot hold ("\ud800", .inf) and nest as deep as its parser
    # lets it: refused as the JSON reader does.
    try:
        jsondoc.check_depth(value, source=source, what="YAML")
    except jsondoc.JsonDocumentError as exc:
        raise TemplateError(exc.what, where=exc.where, fix=exc.fix) from None
    jsondoc.refuse_unwritable(value, source=source)
    lines.pop("", None)
    return value, lines


def _json_lines(text: str, source: str) -> Lines:
    try:
        return _read_yaml(text, source)[1]
    except TemplateError:
        return Lines()  # valid JSON that PyYAML cannot compose: the findings have no lines


def read_document(data: bytes, *, source: str) -> tuple[Any, Lines]:
    """A JSON or YAML document and the line of every value (by JSON path)."""
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateError(
            f"the template is {len(data)} bytes, over CloudFormation's "
            f"{MAX_TEMPLATE_BYTES}-byte limit",
            where=source,
            fix="give a CloudFormation template",
        )
    text = jsondoc.decode_text(data, source=source)
    if text.lstrip().startswith(("{", "[")):
        document = jsondoc.loads(text, source=source, max_bytes=MAX_TEMPLATE_BYTES)
        return document, _json_lines(text, source)
    return _read_yaml(text, source)


def is_template(document: Any) -> bool:
    """Whether a document is a CloudFormation template (it has a ``Resources`` mapping
    of typed resources)."""
    if not isinstance(document, dict):
        return False
    resources = document.get("Resources")
    return (
        isinstance(resources, dict)
        and bool(resources)
        and all(isinstance(r, dict) and "Type" in r for r in resources.values())
    )


def parse_template(document: Any, lines: Mapping[str, int], *, source: str) -> Template:
    """A template out of a parsed document, or :class:`TemplateError`."""
    if not is_template(document):
        raise TemplateError(
            "this is not a CloudFormation template: it has no Resources, each with a Type",
            where=source,
            fix="give a template (or choose another --input-format)",
        )
    starts = lines.text_starts if isinstance(lines, Lines) else {}
    return Template(source=source, document=document, lines=lines, text_starts=starts)


def load_template(path: Path) -> Template:
    """Read a template file (JSON or YAML)."""
    data = jsondoc.read_bytes(path, max_bytes=MAX_TEMPLATE_BYTES, what="template")
    return read_template(data, source=str(path))


def read_template(data: bytes, *, source: str) -> Template:
    """A template out of a file's bytes (JSON or YAML), or :class:`TemplateError`."""
    document, lines = read_document(data, source=source)
    return parse_template(document, lines, source=source)


def looks_like_yaml_template(text: str) -> bool:
    """Whether YAML text means to be a template (a top-level ``Resources``,
    ``AWSTemplateFormatVersion`` or ``Transform`` key), even if it does not parse."""
    return _TEMPLATE_KEYS.search(text) is not None


def assembly_templates(directory: Path) -> list[Template]:
    """The templates of a CDK cloud assembly (``cdk.out``, nested assemblies
    included), in path order; files that are not templates are left out."""
    files = sorted(directory.rglob(CDK_TEMPLATE_GLOB))
    if not files:
        raise InvalidInputError(
            f"the directory has no {CDK_TEMPLATE_GLOB} files",
            where=str(directory),
            fix="give the cdk.out directory after cdk synth, or a template file",
        )
    templates: list[Template] = []
    for path in files:
        data = jsondoc.read_bytes(path, max_bytes=MAX_TEMPLATE_BYTES, what="template")
        document, lines = read_document(data, source=str(path))
        if is_template(document):
            templates.append(parse_template(document, lines, source=str(path)))
    return templates


# -- intrinsic functions ------------------------------------------------------------


class NoValue:
    """``!Ref AWS::NoValue``: the property is absent."""


NO_VALUE = NoValue()


@dataclass(frozen=True)
class Deferred:
    """A value CloudFormation decides at deploy time."""

    written: str
    """How the template writes it, in short form."""
    parts: tuple[str, ...] = ()
    """For a ``!Sub`` or ``!Join`` of literals and such values: only those values
    (``${DomainSid}``, ``!Ref DomainSid``); empty when the whole is one."""

    @property
    def unknown(self) -> str:
        """What is known only at deploy time: the parts, else the whole."""
        return ", ".join(self.parts) if self.parts else self.written


class Unresolvable(Exception):
    def __init__(self, deferred: Deferred) -> None:
        super().__init__(deferred.written)
        self.deferred = deferred


def is_intrinsic(value: Any) -> bool:
    """Whether a value is an intrinsic function (or a condition) in long form."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def written(value: Any) -> str:
    """An intrinsic function as a template would write it in short form."""
    name, arg = next(iter(value.items()))
    tag = "!" + name.removeprefix("Fn::")
    if name == "Fn::GetAtt" and isinstance(arg, list) and all(isinstance(a, str) for a in arg):
        text = f"{tag} {'.'.join(arg)}"
    elif isinstance(arg, str):
        text = f"{tag} {arg}"
    else:
        text = f"{tag} {json.dumps(arg, ensure_ascii=False)}"
    text = " ".join(text.split())  # a multi-line !Sub on one line
    return text if len(text) <= 120 else text[:117] + "..."


class Resolver:
    """Resolves what the template alone decides."""

    def __init__(self, pseudo: Mapping[str, str]) -> None:
        self.pseudo = pseudo

    def value(self, value: Any) -> Any:
        """The value, its top level resolved: a literal, :data:`NO_VALUE` or a
        :class:`Deferred`."""
        if not is_intrinsic(value):
            return value
        name, arg = next(iter(value.items()))
        deferred = Deferred(written(value))
        if name == "Ref":
            if arg == "AWS::NoValue":
                return NO_VALUE
            return self.pseudo.get(arg, deferred) if isinstance(arg, str) else deferred
        if name == "Fn::Sub":
            return self._sub(arg, deferred)
        if name == "Fn::Join":
            return self._join(arg, deferred)
        if name == "Fn::Select":
            return self._select(arg, deferred)
        return deferred

    def _scalar(self, value: Any) -> str | None:
        resolved = self.value(value)
        if isinstance(resolved, bool):
            return str(resolved).lower()
        if isinstance(resolved, str | int | float):
            return str(resolved)
        return None

    def _sub(self, arg: Any, deferred: Deferred) -> Any:
        variables: dict[str, Any] = {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            arg, variables = arg
        if not isinstance(arg, str):
            return deferred
        missing: list[str] = []

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            text = self._scalar(variables[name]) if name in variables else self.pseudo.get(name)
            if text is None:
                missing.append("${" + name + "}")
                return ""
            return text

        out = _SUB_VARIABLE.sub(substitute, arg)
        return replace(deferred, parts=tuple(dict.fromkeys(missing))) if missing else out

    def _join(self, arg: Any, deferred: Deferred) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            return deferred
        items = self.value(arg[1])
        if not isinstance(items, list):
            return deferred
        parts = [self._scalar(item) for item in items]
        if any(p is None for p in parts):
            unknown = [
                resolved.unknown
                for item, part in zip(items, parts, strict=True)
                if part is None and isinstance(resolved := self.value(item), Deferred)
            ]
            return replace(deferred, parts=tuple(dict.fromkeys(unknown)))
        return arg[0].join(p for p in parts if p is not None)

    def _select(self, arg: Any, deferred: Deferred) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2):
            return deferred
        index, items = self._scalar(arg[0]), self.value(arg[1])
        if index is None or not index.isdigit() or not isinstance(items, list):
            return deferred
        if int(index) >= len(items):
            return deferred
        return self.value(items[int(index)])

    def deep(self, value: Any) -> Any:
        """Every intrinsic function in ``value`` resolved, or :class:`Unresolvable`."""
        resolved = self.value(value)
        if isinstance(resolved, Deferred):
            raise Unresolvable(resolved)
        if isinstance(resolved, dict):
            out = {}
            for key, item in resolved.items():
                inner = self.deep(item)
                if inner is not NO_VALUE:
                    out[key] = inner
            return out
        if isinstance(resolved, list):
            return [v for v in (self.deep(item) for item in resolved) if v is not NO_VALUE]
        return resolved

    def pattern(self, value: Any) -> str | None:
        """A string with every part decided at deploy time replaced by ``*`` (to
        recognise the ARN of a well-known managed policy)."""
        resolver = Resolver({**self.pseudo, **_WILDCARD_PSEUDO})
        text = resolver._scalar(value)
        if text is not None:
            return text
        if is_intrinsic(value) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            return _SUB_VARIABLE.sub("*", value["Fn::Sub"])
        return None


_WILDCARD_PSEUDO = {"AWS::Partition": "*", "AWS::Region": "*", "AWS::AccountId": "*"}


__all__ = [
    "CDK_TEMPLATE_GLOB",
    "MAX_TEMPLATE_BYTES",
    "NO_VALUE",
    "Deferred",
    "Lines",
    "NoValue",
    "Resolver",
    "Template",
    "TemplateError",
    "Unresolvable",
    "assembly_templates",
    "is_intrinsic",
    "is_template",
    "load_template",
    "looks_like_yaml_template",
    "nearest_line",
    "parse_template",
    "read_document",
    "read_template",
    "written",
]
