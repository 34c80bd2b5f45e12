"""Task definitions in CloudFormation templates, JSON or YAML, and in CDK synth output.

Every ``AWS::ECS::TaskDefinition`` resource becomes a
:class:`~gmsa.taskdef.model.TaskDefinition`: CloudFormation's PascalCase properties
(``ContainerDefinitions``, ``CredentialSpecs``, ``DockerSecurityOptions``,
``Hostname``, ``ExecutionRoleArn``, ``NetworkMode``, ``RequiresCompatibilities``,
``RuntimePlatform``) are read into the register-task-definition shape, and findings
name the logical id, the path inside the resource and the line.

YAML is read with PyYAML's safe loader; the short-form tags (``!Ref``, ``!Sub``,
``!GetAtt``...) become the long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``), as
CloudFormation reads them. JSON is read with the strict reader of
:mod:`gmsa.jsondoc`; its lines come from the same YAML composer (JSON is YAML flow
syntax). Intrinsic functions are resolved where the template alone decides them
(``Fn::Sub``/``Fn::Join``/``Fn::Select`` of literals, ``AWS::NoValue``, the partition
every literal ARN names); any other is known only at deploy time and reported as
not checked.

When ``ExecutionRoleArn`` names an ``AWS::IAM::Role`` of the same template
(``!GetAtt Role.Arn`` or ``!Ref Role``), that role's inline ``Policies``, the
``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy`` and ``AWS::IAM::RolePolicy``
resources attached to it, and its ``ManagedPolicyArns`` that are defined in the
template, are the policies of the permission check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gmsa import jsondoc
from gmsa.errors import InvalidInputError
from gmsa.findings import json_path
from gmsa.iam.policy import PolicyDocument, parse_policy
from gmsa.reference import InvalidReferenceError, S3Location, SsmLocation, parse
from gmsa.taskdef.iac import IacTaskDefinition, OriginBuilder
from gmsa.taskdef.model import FIELD_CREDENTIAL_SPECS, FIELD_DOCKER_SECURITY_OPTIONS

TASK_DEFINITION_TYPE = "AWS::ECS::TaskDefinition"
"""The resource type gmsa checks."""
ROLE_TYPE = "AWS::IAM::Role"
"""The resource type of an execution role defined in the template."""
MAX_TEMPLATE_BYTES = 1024 * 1024
"""CloudFormation's own limit for a template (read from S3): 1 MB."""

_ATTACHED_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
_ROLE_POLICY_TYPE = "AWS::IAM::RolePolicy"
_MAX_NODES = 1_000_000
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_URL_SUFFIXES = {"aws-cn": "amazonaws.com.cn"}

# The AWS managed policy every ECS execution role has; its content is public and fixed:
# image pulls and logs, nothing that reads a credential spec.
_ECS_EXECUTION_POLICY = re.compile(
    r"^arn:[^:]+:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy$"
)
_ECS_EXECUTION_POLICY_DOCUMENT: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
}


class TemplateError(InvalidInputError):
    """A template cannot be read: YAML or JSON syntax, duplicate keys, not a template."""

    code = "invalid-template"


@dataclass(frozen=True)
class Template:
    """A parsed template with the line of every value."""

    source: str
    """Where it was read from."""
    document: dict[str, Any]
    """The template, intrinsic functions in their long form."""
    lines: Mapping[str, int]
    """JSON path in the document to its line (empty when unknown)."""

    @property
    def resources(self) -> dict[str, Any]:
        """The ``Resources`` section."""
        resources: dict[str, Any] = self.document["Resources"]
        return resources

    def resource_lines(self, logical_id: str) -> dict[str, int]:
        """The lines of one resource, by path inside the resource."""
        prefix = json_path("Resources", logical_id) + "."
        return {k[len(prefix) :]: v for k, v in self.lines.items() if k.startswith(prefix)}


# -- reading -------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader; tags and keys are handled by :func:`_node_value`."""


def _node_value(
    loader: _Loader, node: yaml.Node, path: str, lines: dict[str, int], seen: list[int]
) -> Any:
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
            if name == "GetAtt":
                return {key: text.split(".", 1)}
            return {key: text}
        return {key: _collection(loader, node, inner_path, lines, seen)}
    if isinstance(node, yaml.ScalarNode):
        if tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # AWSTemplateFormatVersion: 2010-09-09 is a string
        return loader.construct_object(node, deep=True)
    return _collection(loader, node, path, lines, seen)


def _collection(
    loader: _Loader, node: yaml.Node, path: str, lines: dict[str, int], seen: list[int]
) -> Any:
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


def _read_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    lines: dict[str, int] = {}
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


def _json_lines(text: str, source: str) -> dict[str, int]:
    try:
        return _read_yaml(text, source)[1]
    except TemplateError:
        return {}  # valid JSON that PyYAML cannot compose: the findings just have no lines


def read_document(data: bytes, *, source: str) -> tuple[Any, dict[str, int]]:
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
    return Template(source=source, document=document, lines=lines)


def load_template(path: Path) -> Template:
    """Read a template file (JSON or YAML)."""
    data = jsondoc.read_bytes(path, max_bytes=MAX_TEMPLATE_BYTES, what="template")
    document, lines = read_document(data, source=str(path))
    return parse_template(document, lines, source=str(path))


# -- intrinsic functions ------------------------------------------------------------


class _NoValue:
    """``!Ref AWS::NoValue``: the property is absent."""


_NO_VALUE = _NoValue()


@dataclass(frozen=True)
class _Deferred:
    """A value CloudFormation decides at deploy time."""

    written: str
    """How the template writes it, in short form."""


class _Unresolvable(Exception):
    def __init__(self, deferred: _Deferred) -> None:
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
    return text if len(text) <= 120 else text[:117] + "..."


class _Resolver:
    """Resolves what the template alone decides."""

    def __init__(self, pseudo: Mapping[str, str]) -> None:
        self.pseudo = pseudo

    def value(self, value: Any) -> Any:
        """The value, its top level resolved: a literal, :data:`_NO_VALUE` or a
        :class:`_Deferred`."""
        if not is_intrinsic(value):
            return value
        name, arg = next(iter(value.items()))
        deferred = _Deferred(written(value))
        if name == "Ref":
            if arg == "AWS::NoValue":
                return _NO_VALUE
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

    def _sub(self, arg: Any, deferred: _Deferred) -> Any:
        variables: dict[str, Any] = {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            arg, variables = arg
        if not isinstance(arg, str):
            return deferred
        missing = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal missing
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            text = self._scalar(variables[name]) if name in variables else self.pseudo.get(name)
            if text is None:
                missing = True
                return ""
            return text

        out = _SUB_VARIABLE.sub(substitute, arg)
        return deferred if missing else out

    def _join(self, arg: Any, deferred: _Deferred) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            return deferred
        items = self.value(arg[1])
        if not isinstance(items, list):
            return deferred
        parts = [self._scalar(item) for item in items]
        if any(p is None for p in parts):
            return deferred
        return arg[0].join(p for p in parts if p is not None)

    def _select(self, arg: Any, deferred: _Deferred) -> Any:
        if not (isinstance(arg, list) and len(arg) == 2):
            return deferred
        index, items = self._scalar(arg[0]), self.value(arg[1])
        if index is None or not index.isdigit() or not isinstance(items, list):
            return deferred
        if int(index) >= len(items):
            return deferred
        return self.value(items[int(index)])

    def deep(self, value: Any) -> Any:
        """Every intrinsic function in ``value`` resolved, or :class:`_Unresolvable`."""
        resolved = self.value(value)
        if isinstance(resolved, _Deferred):
            raise _Unresolvable(resolved)
        if isinstance(resolved, dict):
            out = {}
            for key, item in resolved.items():
                inner = self.deep(item)
                if inner is not _NO_VALUE:
                    out[key] = inner
            return out
        if isinstance(resolved, list):
            return [v for v in (self.deep(item) for item in resolved) if v is not _NO_VALUE]
        return resolved

    def pattern(self, value: Any) -> str | None:
        """A string with every part decided at deploy time replaced by ``*`` (to
        recognise the ARN of a well-known managed policy)."""
        resolver = _Resolver({**self.pseudo, **_WILDCARD_PSEUDO})
        text = resolver._scalar(value)
        if text is not None:
            return text
        if is_intrinsic(value) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            return _SUB_VARIABLE.sub("*", value["Fn::Sub"])
        return None


_WILDCARD_PSEUDO = {"AWS::Partition": "*", "AWS::Region": "*", "AWS::AccountId": "*"}


# -- task definitions ---------------------------------------------------------------

_RENAMES = {
    "containerDefinitions": "ContainerDefinitions",
    "name": "Name",
    "hostname": "Hostname",
    FIELD_DOCKER_SECURITY_OPTIONS: "DockerSecurityOptions",
    FIELD_CREDENTIAL_SPECS: "CredentialSpecs",
    "family": "Family",
    "executionRoleArn": "ExecutionRoleArn",
    "networkMode": "NetworkMode",
    "requiresCompatibilities": "RequiresCompatibilities",
    "runtimePlatform": "RuntimePlatform",
    "operatingSystemFamily": "OperatingSystemFamily",
    "cpuArchitecture": "CpuArchitecture",
}
_PROPERTIES = "Properties"


def _at(*parts: str | int) -> str:
    return json_path(_PROPERTIES, *parts)


class _Reader:
    """Reads one task definition resource into the register-task-definition shape."""

    def __init__(self, template: Template, logical_id: str, resolver: _Resolver) -> None:
        self.template = template
        self.logical_id = logical_id
        self.resolver = resolver
        self.origin = OriginBuilder(
            source=template.source,
            resource=logical_id,
            lines=template.resource_lines(logical_id),
            renames=_RENAMES,
            root=_PROPERTIES,
        )

    def take(self, value: Any, path: str, what: str) -> Any:
        """A value resolved, or ``None`` (absent, or known only at deploy time)."""
        resolved = self.resolver.value(value)
        if resolved is _NO_VALUE or resolved is None:
            return None
        if isinstance(resolved, _Deferred):
            self.origin.not_known(
                path,
                f"{what} is {resolved.written}, known only when the stack is deployed; "
                "the rules about it were not checked",
            )
            return None
        return resolved

    def string(self, value: Any, path: str, what: str) -> str | None:
        resolved = self.take(value, path, what)
        if resolved is None:
            return None
        if isinstance(resolved, bool):
            return str(resolved).lower()
        if isinstance(resolved, int | float | str):
            return str(resolved)
        raise self.origin.error(
            f"{what} must be a string, not {jsondoc.type_name(resolved)}",
            path,
            "write a string there",
        )

    def mapping(self, value: Any, path: str, what: str) -> dict[str, Any] | None:
        resolved = self.take(value, path, what)
        if resolved is None or isinstance(resolved, dict):
            return resolved
        raise self.origin.error(
            f"{what} must be a mapping, not {jsondoc.type_name(resolved)}",
            path,
            "write a mapping there",
        )

    def strings(
        self, value: Any, path: str, model_path: str, key: str, owner: str = ""
    ) -> list[str] | None:
        """A list of strings; entries known only at deploy time are left out (and
        noted), the model's indices mapped to the template's."""
        resolved = self.take(value, path, key + owner)
        if resolved is None:
            return None
        if not isinstance(resolved, list):
            raise self.origin.error(
                f"{key}{owner} must be a list, not {jsondoc.type_name(resolved)}",
                path,
                "write a list there",
            )
        out: list[str] = []
        for i, item in enumerate(resolved):
            text = self.string(item, json_path(path, i), json_path(key, i) + owner)
            if text is not None:
                self.origin.took(json_path(model_path, len(out)), json_path(path, i))
                out.append(text)
        self.origin.took(model_path, path)
        return out

    def read(self, properties: dict[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        family = self.resolver.value(properties.get("Family"))
        if isinstance(family, str):  # a name only; no rule depends on it
            doc["family"] = family
            self.origin.took("family", _at("Family"))
        network_mode = self.string(properties.get("NetworkMode"), _at("NetworkMode"), "NetworkMode")
        if network_mode is not None:
            doc["networkMode"] = network_mode
            self.origin.took("networkMode", _at("NetworkMode"))
        compat = self.strings(
            properties.get("RequiresCompatibilities"),
            _at("RequiresCompatibilities"),
            "requiresCompatibilities",
            "RequiresCompatibilities",
        )
        if compat is not None:
            doc["requiresCompatibilities"] = compat
        platform = self.mapping(
            properties.get("RuntimePlatform"), _at("RuntimePlatform"), "RuntimePlatform"
        )
        if platform is not None:
            doc["runtimePlatform"] = {}
            for key, model_key in (
                ("OperatingSystemFamily", "operatingSystemFamily"),
                ("CpuArchitecture", "cpuArchitecture"),
            ):
                path = _at("RuntimePlatform", key)
                value = self.string(platform.get(key), path, f"RuntimePlatform.{key}")
                if value is not None:
                    doc["runtimePlatform"][model_key] = value
        doc["containerDefinitions"] = self.containers(properties)
        return doc

    def containers(self, properties: dict[str, Any]) -> list[dict[str, Any]]:
        path = _at("ContainerDefinitions")
        raw = self.take(properties.get("ContainerDefinitions"), path, "ContainerDefinitions")
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise self.origin.error(
                f"ContainerDefinitions must be a list, not {jsondoc.type_name(raw)}",
                path,
                "write a list of container definitions",
            )
        self.origin.took("containerDefinitions", path)
        out: list[dict[str, Any]] = []
        for i, item in enumerate(raw):
            item_path = json_path(path, i)
            container = self.mapping(item, item_path, f"ContainerDefinitions[{i}]")
            if container is None:
                continue
            model_path = json_path("containerDefinitions", len(out))
            self.origin.took(model_path, item_path)
            out.append(self.container(container, item_path, model_path))
        return out

    def container(self, raw: dict[str, Any], path: str, model_path: str) -> dict[str, Any]:
        name_value = self.resolver.value(raw.get("Name"))
        if isinstance(name_value, _Deferred):
            name: str | None = name_value.written  # only messages use it
        else:
            name = self.string(raw.get("Name"), json_path(path, "Name"), "Name")
        if not name:
            raise self.origin.error(
                "the container definition has no Name",
                path,
                "add Name (ECS needs it, and gmsa names containers by it)",
            )
        out: dict[str, Any] = {"name": name}
        self.origin.took(json_path(model_path, "name"), json_path(path, "Name"))
        owner = f" of container {name}"
        hostname = self.string(raw.get("Hostname"), json_path(path, "Hostname"), "Hostname" + owner)
        if hostname is not None:
            out["hostname"] = hostname
        for key, model_key in (
            ("DockerSecurityOptions", FIELD_DOCKER_SECURITY_OPTIONS),
            ("CredentialSpecs", FIELD_CREDENTIAL_SPECS),
        ):
            values = self.strings(
                raw.get(key), json_path(path, key), json_path(model_path, model_key), key, owner
            )
            if values is not None:
                out[model_key] = values
        return out


def _partition(template: Template) -> str | None:
    """The partition the literal credential spec ARNs of the template agree on."""
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, str) and value.lower().startswith("credentialspec"):
            try:
                location = parse(value).location
            except InvalidReferenceError:
                return
            if isinstance(location, S3Location | SsmLocation):
                found.add(location.partition)

    for resource in template.resources.values():
        if resource.get("Type") == TASK_DEFINITION_TYPE:
            visit(resource.get("Properties"))
    return found.pop() if len(found) == 1 else None


def _template_role(value: Any, resources: Mapping[str, Any]) -> str | None:
    """The logical id of the template's role that ``ExecutionRoleArn`` names, if it does."""
    if not is_intrinsic(value):
        return None
    name, arg = next(iter(value.items()))
    logical_id: Any = None
    if name == "Fn::GetAtt" and isinstance(arg, list) and arg[1:] == ["Arn"]:
        logical_id = arg[0]
    elif name == "Ref":
        logical_id = arg
    if isinstance(logical_id, str) and resources.get(logical_id, {}).get("Type") == ROLE_TYPE:
        return logical_id
    return None


def _refers_to(value: Any, logical_id: str) -> bool:
    return isinstance(value, dict) and value.get("Ref") == logical_id and len(value) == 1


class _RolePolicies:
    """The policies a role of the template has, as far as the template says."""

    def __init__(self, template: Template, resolver: _Resolver) -> None:
        self.template = template
        self.resolver = resolver
        self.gaps: list[str] = []

    def document(self, value: Any, name: str) -> PolicyDocument | None:
        if isinstance(value, str):
            value = jsondoc.loads(value, source=name)
        if is_intrinsic(value) or not isinstance(value, dict):
            shown = written(value) if is_intrinsic(value) else "not a policy document"
            self.gaps.append(f"{name} is {shown}")
            return None
        statements = value.get("Statement")
        if isinstance(statements, dict):
            statements = [statements]
        kept: list[Any] = []
        for i, statement in enumerate(statements if isinstance(statements, list) else []):
            try:
                resolved = self.resolver.deep(statement)
            except _Unresolvable as exc:
                self.gaps.append(
                    f"statement {i} of {name} uses {exc.deferred.written}, known only when "
                    "the stack is deployed"
                )
                continue
            if resolved is not _NO_VALUE:
                kept.append(resolved)
        try:
            document = {k: self.resolver.deep(v) for k, v in value.items() if k != "Statement"}
        except _Unresolvable as exc:
            self.gaps.append(f"{name} uses {exc.deferred.written}")
            return None
        document["Statement"] = kept
        return parse_policy(document, name=name)

    def of(self, role_id: str) -> tuple[PolicyDocument, ...]:
        resources = self.template.resources
        source = self.template.source
        role = resources[role_id].get("Properties") or {}
        out: list[PolicyDocument | None] = []
        inline = self.resolver.value(role.get("Policies"))
        if isinstance(inline, _Deferred):
            self.gaps.append(f"the Policies of {role_id} are {inline.written}")
        for i, policy in enumerate(inline if isinstance(inline, list) else []):
            policy = self.resolver.value(policy)
            if not isinstance(policy, dict):
                continue
            policy_name = self.resolver.value(policy.get("PolicyName"))
            label = policy_name if isinstance(policy_name, str) else f"Policies[{i}]"
            out.append(
                self.document(policy.get("PolicyDocument"), f"{source}: {role_id} policy {label}")
            )
        managed = self.resolver.value(role.get("ManagedPolicyArns"))
        if isinstance(managed, _Deferred):
            self.gaps.append(f"the ManagedPolicyArns of {role_id} are {managed.written}")
        for arn in managed if isinstance(managed, list) else []:
            target = arn.get("Ref") if is_intrinsic(arn) else None
            if isinstance(target, str) and resources.get(target, {}).get("Type") == (
                "AWS::IAM::ManagedPolicy"
            ):
                continue  # read below with the policies attached to the role
            pattern = self.resolver.pattern(arn)
            if pattern is not None and _ECS_EXECUTION_POLICY.match(pattern):
                out.append(
                    parse_policy(
                        _ECS_EXECUTION_POLICY_DOCUMENT, name="AmazonECSTaskExecutionRolePolicy"
                    )
                )
                continue
            shown = written(arn) if is_intrinsic(arn) else str(arn)
            self.gaps.append(f"{role_id} also has the managed policy {shown}, defined elsewhere")
        for logical_id, resource in resources.items():
            kind = resource.get("Type")
            props = resource.get("Properties") or {}
            attached = False
            if kind in _ATTACHED_POLICY_TYPES:
                roles = props.get("Roles")
                attached = isinstance(roles, list) and any(_refers_to(r, role_id) for r in roles)
                managed_refs = managed if isinstance(managed, list) else []
                attached = attached or any(_refers_to(m, logical_id) for m in managed_refs)
            elif kind == _ROLE_POLICY_TYPE:
                attached = _refers_to(props.get("RoleName"), role_id)
            if attached:
                out.append(self.document(props.get("PolicyDocument"), f"{source}: {logical_id}"))
        return tuple(p for p in out if p is not None)


def task_definitions(template: Template) -> list[IacTaskDefinition]:
    """Every ``AWS::ECS::TaskDefinition`` of the template, in template order."""
    partition = _partition(template)
    pseudo = {}
    if partition is not None:
        pseudo = {
            "AWS::Partition": partition,
            "AWS::URLSuffix": _URL_SUFFIXES.get(partition, "amazonaws.com"),
        }
    resolver = _Resolver(pseudo)
    out: list[IacTaskDefinition] = []
    for logical_id, resource in template.resources.items():
        if resource.get("Type") != TASK_DEFINITION_TYPE:
            continue
        reader = _Reader(template, logical_id, resolver)
        properties = resource.get(_PROPERTIES) or {}
        if not isinstance(properties, dict):
            raise reader.origin.error(
                "Properties must be a mapping",
                _PROPERTIES,
                "write the task definition's properties",
            )
        policies: tuple[PolicyDocument, ...] | None = None
        incomplete: str | None = None
        role: str | None = None
        role_id = _template_role(properties.get("ExecutionRoleArn"), template.resources)
        if role_id is not None:
            reader.origin.suppress(_at("ExecutionRoleArn"))
            gathered = _RolePolicies(template, resolver)
            policies = gathered.of(role_id)
            incomplete = "; ".join(gathered.gaps) or None
        else:
            role = reader.string(
                properties.get("ExecutionRoleArn"), _at("ExecutionRoleArn"), "ExecutionRoleArn"
            )
        document = reader.read(properties)
        if role is not None:
            document["executionRoleArn"] = role
            reader.origin.took("executionRoleArn", _at("ExecutionRoleArn"))
        if not document["containerDefinitions"]:
            if not reader.origin.notes:
                raise reader.origin.error(
                    "the task definition has no ContainerDefinitions",
                    _at("ContainerDefinitions"),
                    "add at least one container definition",
                )
            notes = reader.origin.notes
            out.append(
                IacTaskDefinition(
                    source=template.source,
                    resource=logical_id,
                    definition=None,
                    notes=tuple(notes),
                )
            )
            continue
        out.append(
            IacTaskDefinition(
                source=template.source,
                resource=logical_id,
                definition=reader.origin.build(document),
                policies=policies,
                policies_incomplete=incomplete,
            )
        )
    return out


__all__ = [
    "MAX_TEMPLATE_BYTES",
    "ROLE_TYPE",
    "TASK_DEFINITION_TYPE",
    "Template",
    "TemplateError",
    "is_intrinsic",
    "is_template",
    "load_template",
    "parse_template",
    "read_document",
    "task_definitions",
    "written",
]
