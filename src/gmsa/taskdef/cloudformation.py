"""Task definitions in CloudFormation templates, JSON or YAML, and in CDK synth output.

Every ``AWS::ECS::TaskDefinition`` resource becomes a
:class:`~gmsa.taskdef.model.TaskDefinition`: CloudFormation's PascalCase properties
(``ContainerDefinitions``, ``CredentialSpecs``, ``DockerSecurityOptions``,
``Hostname``, ``ExecutionRoleArn``, ``NetworkMode``, ``RequiresCompatibilities``,
``RuntimePlatform``) are read into the register-task-definition shape, and findings
name the logical id, the path inside the resource and the line.

The template is read by :mod:`gmsa.iac.cloudformation` (JSON or YAML, short-form
tags, lines). Intrinsic functions are resolved where the template alone decides
them (``Fn::Sub``/``Fn::Join``/``Fn::Select`` of literals, ``AWS::NoValue``, the
partition every literal ARN names); any other is known only at deploy time and
reported as not checked.

When ``ExecutionRoleArn`` names an ``AWS::IAM::Role`` of the same template
(``!GetAtt Role.Arn`` or ``!Ref Role``), that role's inline ``Policies``, the
``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy`` and ``AWS::IAM::RolePolicy``
resources attached to it, and its ``ManagedPolicyArns`` that are defined in the
template, are the policies of the permission check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gmsa import jsondoc
from gmsa.findings import json_path
from gmsa.iac.cloudformation import (
    NO_VALUE,
    Deferred,
    Resolver,
    Template,
    Unresolvable,
    is_intrinsic,
    written,
)
from gmsa.iam.policy import PolicyDocument, parse_policy
from gmsa.reference import InvalidReferenceError, S3Location, SsmLocation, parse
from gmsa.taskdef.iac import IacTaskDefinition, OriginBuilder
from gmsa.taskdef.model import FIELD_CREDENTIAL_SPECS, FIELD_DOCKER_SECURITY_OPTIONS

TASK_DEFINITION_TYPE = "AWS::ECS::TaskDefinition"
"""The resource type gmsa checks."""
ROLE_TYPE = "AWS::IAM::Role"
"""The resource type of an execution role defined in the template."""

_ATTACHED_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
_ROLE_POLICY_TYPE = "AWS::IAM::RolePolicy"
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

    def __init__(self, template: Template, logical_id: str, resolver: Resolver) -> None:
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
        if resolved is NO_VALUE or resolved is None:
            return None
        if isinstance(resolved, Deferred):
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
        if isinstance(name_value, Deferred):
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

    def __init__(self, template: Template, resolver: Resolver) -> None:
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
            except Unresolvable as exc:
                self.gaps.append(
                    f"statement {i} of {name} uses {exc.deferred.written}, known only when "
                    "the stack is deployed"
                )
                continue
            if resolved is not NO_VALUE:
                kept.append(resolved)
        try:
            document = {k: self.resolver.deep(v) for k, v in value.items() if k != "Statement"}
        except Unresolvable as exc:
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
        if isinstance(inline, Deferred):
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
        if isinstance(managed, Deferred):
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
    resolver = Resolver(pseudo)
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
    "ROLE_TYPE",
    "TASK_DEFINITION_TYPE",
    "task_definitions",
]
