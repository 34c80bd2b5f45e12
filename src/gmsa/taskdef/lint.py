"""Every gMSA rule of an ECS task definition, checked before the task is registered.

ECS finds most of these problems only when a task fails to start, with an
opaque error, and some it never finds (the Windows Server 2016 hostname rule).
:func:`lint_task_definition` reports all of them at once as
:class:`~gmsa.findings.Finding` objects with the JSON path of the offending value.

The checks that need the credential spec itself (the hostname rule, the spec's
own validity, the secret a domainless spec names) take specs resolved by
:func:`gmsa.source.resolve.resolve_specs`; the IAM check takes policy documents.
Both are optional: without them those rules are skipped or reported as unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gmsa.findings import (
    NOT_CHECKED,
    Finding,
    Severity,
    error,
    errors_of,
    info,
    infos_of,
    json_path,
    warning,
    warnings_of,
)
from gmsa.iam.evaluate import decisions_to_findings, evaluate
from gmsa.iam.requirements import InvalidArnError, required_permissions
from gmsa.reference import FileLocation, Mode, Reference
from gmsa.source.resolve import ResolvedSpec
from gmsa.taskdef.model import (
    FIELD_CREDENTIAL_SPECS,
    FIELD_DOCKER_SECURITY_OPTIONS,
    ContainerDefinition,
    CredentialSpecUse,
    TaskDefinition,
)

_ROLE_ARN_RE = re.compile(r"^arn:[a-z-]+:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
WINDOWS_SERVER_2016 = "WINDOWS_SERVER_2016_FULL"
"""The ``runtimePlatform.operatingSystemFamily`` of Windows Server 2016 (hostname rule applies)."""


@dataclass(frozen=True)
class ReferenceReport:
    """One credential spec reference of a container, as the report shows it."""

    use: CredentialSpecUse
    """The value in the task definition."""
    path: str
    """Its JSON path in the input file."""
    gmsa_name: str | None = None
    """The spec's ``MachineAccountName`` when the spec was read."""

    def to_dict(self) -> dict[str, Any]:
        """The reference as JSON."""
        ref = self.use.reference
        return {
            "path": self.path,
            "field": self.use.field,
            "value": self.use.raw,
            "valid": ref is not None,
            "mode": ref.mode.value if ref else None,
            "kind": ref.kind if ref else None,
            "location": ref.location_text if ref else None,
            "gmsa_name": self.gmsa_name,
        }


@dataclass(frozen=True)
class ContainerReport:
    """What the check found for one container."""

    name: str
    """The container's name."""
    path: str
    """Its JSON path in the input file."""
    hostname: str | None
    """Its hostname, if set."""
    references: tuple[ReferenceReport, ...]
    """Its credential spec references, valid or not."""
    findings: tuple[Finding, ...]
    """Findings about this container."""

    def to_dict(self) -> dict[str, Any]:
        """The container as JSON."""
        return {
            "name": self.name,
            "hostname": self.hostname,
            "references": [r.to_dict() for r in self.references],
        }


@dataclass(frozen=True)
class TaskReport:
    """The result of checking one task definition."""

    source: str
    """Where the task definition was read from."""
    family: str | None
    """Its family, if given."""
    containers: tuple[ContainerReport, ...]
    """Per-container results, in definition order."""
    task_findings: tuple[Finding, ...]
    """Findings about the task as a whole (execution role, compatibilities, modes)."""
    hints: tuple[str, ...] = ()
    """Advice that is not a problem, as a sentence each (the :attr:`notes` as text)."""
    resource: str | None = None
    """The template or plan resource it was read from (logical id, Terraform address)."""
    notes: tuple[Finding, ...] = ()
    """Advice that is not a problem, as info findings with their paths."""

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding: per container first, then the task's own."""
        return tuple(f for c in self.containers for f in c.findings) + self.task_findings

    @property
    def errors(self) -> list[Finding]:
        """Only the errors."""
        return errors_of(self.findings)

    @property
    def warnings(self) -> list[Finding]:
        """Only the warnings."""
        return warnings_of(self.findings)

    @property
    def infos(self) -> list[Finding]:
        """Only the infos: what was not checked, and why."""
        return infos_of(self.findings)

    @property
    def valid(self) -> bool:
        """Whether no finding is an error."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON (the ``gmsa task check --json`` contract); ``resource``
        only for a task definition read out of a template or plan."""
        out: dict[str, Any] = {
            "valid": self.valid,
            "source": self.source,
            "family": self.family,
            "containers": [c.to_dict() for c in self.containers],
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "info": [f.to_dict() for f in self.infos],
        }
        if self.resource is not None:
            out["resource"] = self.resource
        return out


@dataclass
class _Collector:
    """Findings sorted into the container they concern (``None``: the whole task)."""

    task: TaskDefinition
    by_container: dict[int, list[Finding]] = field(default_factory=dict)
    task_level: list[Finding] = field(default_factory=list)

    def at(self, path: str) -> str:
        return self.task.path_in_source(path)

    def add(self, finding: Finding, container: ContainerDefinition | None = None) -> None:
        origin = self.task.origin
        if origin is not None:
            inside = finding.referenced_at or finding.path
            if finding.severity is not Severity.INFO and origin.is_unchecked(inside):
                return  # the value is known only at deploy time; a note says so
            finding = origin.locate(finding)
        if container is None:
            self.task_level.append(finding)
        else:
            self.by_container.setdefault(container.index, []).append(finding)


def _is_fargate(task: TaskDefinition) -> bool:
    return any(c.upper() == "FARGATE" for c in task.requires_compatibilities)


def _os_family(task: TaskDefinition) -> str | None:
    family = task.operating_system_family
    return family.upper() if family else None


def _is_linux(task: TaskDefinition) -> bool:
    return _os_family(task) == "LINUX" or (_is_fargate(task) and _os_family(task) is None)


def _is_windows(task: TaskDefinition) -> bool:
    family = _os_family(task)
    return family is not None and family.startswith("WINDOWS")


def _valid_uses(uses: Sequence[CredentialSpecUse]) -> list[tuple[CredentialSpecUse, Reference]]:
    return [(u, u.reference) for u in uses if u.reference is not None]


def lint_task_definition(
    task: TaskDefinition,
    *,
    windows_server_2016: bool = False,
    specs: Mapping[Reference, ResolvedSpec] | None = None,
    policies: Sequence[Any] | None = None,
    policies_incomplete: str | None = None,
) -> TaskReport:
    """Check every gMSA rule of ``task``.

    ``specs`` (from :func:`~gmsa.source.resolve.resolve_specs`) enables the hostname
    rule and the spec's own checks; ``policies`` (IAM policy documents of the
    execution role) enables the permission check; ``policies_incomplete`` says why
    they may lack a statement (one known only at deploy time), and then a missing
    permission is reported as not checked. ``windows_server_2016`` makes the
    hostname rule an error, as it is on that OS; a ``runtimePlatform`` of Windows
    Server 2016 does the same.
    """
    specs = specs or {}
    windows_server_2016 = windows_server_2016 or _os_family(task) == WINDOWS_SERVER_2016
    out = _Collector(task)
    for container in task.containers:
        _lint_container(out, task, container)
    _lint_task(out, task)
    _lint_platform(out, task, windows_server_2016=windows_server_2016)
    _lint_hostnames(out, task, specs, windows_server_2016=windows_server_2016)
    _lint_specs(out, task, specs)
    if policies is not None:
        _lint_iam(out, task, specs, policies, policies_incomplete)
    if task.origin is not None:
        for note in task.origin.notes:
            out.add(note)
    notes: list[Finding] = []
    legacy = [u for u in task.credential_spec_uses if u.field == FIELD_DOCKER_SECURITY_OPTIONS]
    if legacy and not _is_fargate(task):
        notes.append(
            info(
                "credential-specs-preferred",
                out.at(legacy[0].path),
                "dockerSecurityOptions works, but credentialSpecs is the newer field ECS "
                "prefers (and the only one Fargate accepts)",
                "gmsa task patch moves the reference",
            )
        )
    containers = tuple(
        ContainerReport(
            name=c.name,
            path=out.at(c.path),
            hostname=c.hostname,
            references=tuple(
                ReferenceReport(
                    use=u,
                    path=out.at(u.path),
                    gmsa_name=_gmsa_name(specs, u.reference),
                )
                for u in c.credential_spec_uses
            ),
            findings=tuple(out.by_container.get(c.index, ())),
        )
        for c in task.containers
    )
    return TaskReport(
        source=task.source,
        family=task.family,
        containers=containers,
        task_findings=tuple(out.task_level),
        hints=tuple(f"{n.where}: {n.message}; {n.fix}" for n in notes),
        notes=tuple(notes),
        resource=task.origin.resource if task.origin else None,
    )


def _gmsa_name(specs: Mapping[Reference, ResolvedSpec], ref: Reference | None) -> str | None:
    if ref is None:
        return None
    resolved = specs.get(ref)
    if resolved is None or resolved.spec is None:
        return None
    return resolved.spec.account_name


def _lint_container(out: _Collector, task: TaskDefinition, container: ContainerDefinition) -> None:
    uses = container.credential_spec_uses
    for use in uses:
        if use.error is not None:
            out.add(
                error(
                    "invalid-reference",
                    out.at(use.path),
                    f"{use.error.part}: {use.error.what}",
                    use.error.fix,
                ),
                container,
            )
    for field_name in (FIELD_CREDENTIAL_SPECS, FIELD_DOCKER_SECURITY_OPTIONS):
        in_field = [u for u in uses if u.field == field_name]
        if len(in_field) > 1:
            out.add(
                error(
                    "too-many-credential-specs",
                    out.at(json_path(container.path, field_name)),
                    f"{field_name} holds {len(in_field)} credential specs; a container "
                    "takes at most one",
                    "keep one reference; list further gMSAs in that spec's "
                    "GroupManagedServiceAccounts instead",
                ),
                container,
            )
    fields = {u.field for u in uses}
    if len(fields) > 1:
        out.add(
            error(
                "conflicting-credential-spec-fields",
                out.at(container.path),
                "the container has credential specs in both dockerSecurityOptions and "
                "credentialSpecs",
                "keep the reference in credentialSpecs only (gmsa task patch moves it)",
            ),
            container,
        )
    if container.hostname is not None and (task.network_mode or "").lower() == "awsvpc":
        out.add(
            error(
                "hostname-in-awsvpc",
                out.at(json_path(container.path, "hostname")),
                "ECS rejects a container hostname when networkMode is awsvpc",
                "remove hostname, or use another network mode (Windows on EC2: default)",
            ),
            container,
        )


def _lint_task(out: _Collector, task: TaskDefinition) -> None:
    valid = _valid_uses(task.credential_spec_uses)
    modes = {ref.mode for _, ref in valid}
    if len(modes) > 1:
        out.add(
            warning(
                "mixed-credential-spec-modes",
                out.at("containerDefinitions"),
                "the task mixes credentialspec: (domain-joined host) and "
                "credentialspecdomainless: (host outside the domain) references; a host is "
                "set up for one of them",
                "use the prefix that matches how the container instances are set up",
            )
        )
    needing_aws = [use for use, ref in valid if ref.needs_aws]
    if needing_aws and not task.execution_role_arn:
        out.add(
            error(
                "missing-execution-role",
                out.at("executionRoleArn"),
                f"{out.at(needing_aws[0].path)} is read from S3/SSM with the task execution "
                "role, but the task has no executionRoleArn",
                "add executionRoleArn naming a role that may read the spec "
                "(gmsa iam policy prints what it needs)",
            )
        )
    role = task.execution_role_arn
    if role and not _ROLE_ARN_RE.match(role):
        out.add(
            error(
                "invalid-execution-role-arn",
                out.at("executionRoleArn"),
                f"{role!r} is not an IAM role ARN",
                "write arn:aws:iam::ACCOUNT:role/NAME",
            )
        )


def _lint_platform(out: _Collector, task: TaskDefinition, *, windows_server_2016: bool) -> None:
    uses = task.credential_spec_uses
    if not uses:
        return
    by_name = {c.name: c for c in task.containers}
    fargate = _is_fargate(task)
    if fargate and _is_windows(task):
        out.add(
            error(
                "fargate-windows-gmsa",
                out.at("runtimePlatform.operatingSystemFamily"),
                "Fargate does not support gMSA for Windows containers",
                "run the task on EC2 Windows container instances (requiresCompatibilities "
                "EC2), or use Linux containers with credentialspecdomainless:",
            )
        )
    for use in uses:
        container = by_name[use.container]
        if fargate and use.field == FIELD_DOCKER_SECURITY_OPTIONS:
            out.add(
                error(
                    "fargate-docker-security-options",
                    out.at(use.path),
                    "Fargate rejects dockerSecurityOptions",
                    "move the reference to credentialSpecs (gmsa task patch does it)",
                ),
                container,
            )
        ref = use.reference
        if ref is None:
            continue
        if fargate and ref.mode is Mode.DOMAIN_JOINED:
            out.add(
                error(
                    "fargate-domain-joined",
                    out.at(use.path),
                    "Fargate hosts are not joined to a domain: only credentialspecdomainless: "
                    "works there",
                    "use credentialspecdomainless: with a spec that has HostAccountConfig",
                ),
                container,
            )
        if fargate and isinstance(ref.location, FileLocation):
            out.add(
                error(
                    "fargate-file-reference",
                    out.at(use.path),
                    "Fargate has no host CredentialSpecs directory for a file:// reference",
                    "publish the spec to S3 or SSM (gmsa spec publish) and reference its ARN",
                ),
                container,
            )
        if not fargate and _is_linux(task) and ref.mode is Mode.DOMAIN_JOINED:
            out.add(
                warning(
                    "linux-domain-joined-host",
                    out.at(use.path),
                    "a Linux container with credentialspec: needs an EC2 host joined to the "
                    "domain and running the Kerberos ticket service (credentials-fetcher)",
                    "make sure the container instances are domain-joined and run the ticket "
                    "service, or use credentialspecdomainless:",
                ),
                container,
            )
        if windows_server_2016 and not _is_linux(task) and ref.mode is Mode.DOMAINLESS:
            out.add(
                error(
                    "domainless-on-windows-server-2016",
                    out.at(use.path),
                    "domainless gMSA (credentialspecdomainless:) is not available on Windows "
                    "Server 2016",
                    "use Windows Server 2019 or later, or a domain-joined host with "
                    "credentialspec:",
                ),
                container,
            )


def _lint_hostnames(
    out: _Collector,
    task: TaskDefinition,
    specs: Mapping[Reference, ResolvedSpec],
    *,
    windows_server_2016: bool,
) -> None:
    gmsa_containers = [c for c in task.containers if c.credential_spec_uses]
    if not gmsa_containers:
        return
    awsvpc = (task.network_mode or "").lower() == "awsvpc"
    if windows_server_2016 and awsvpc:
        out.add(
            warning(
                "windows-server-2016-awsvpc",
                out.at("networkMode"),
                "on Windows Server 2016 the container hostname must equal the gMSA name, "
                "but awsvpc does not allow setting a hostname",
                "use the default network mode on Windows Server 2016, or Windows Server "
                "2019 or later",
            )
        )
    by_hostname: dict[str, list[ContainerDefinition]] = {}
    for container in gmsa_containers:
        if container.hostname:
            by_hostname.setdefault(container.hostname.lower(), []).append(container)
    for group in by_hostname.values():
        if len(group) > 1:
            names = ", ".join(c.name for c in group)
            out.add(
                warning(
                    "shared-hostname",
                    out.at(json_path(group[1].path, "hostname")),
                    f"containers {names} share the hostname {group[0].hostname!r}; "
                    "containers with one gMSA identity and one name collide on the network "
                    "and in Kerberos",
                    "give each container its own hostname (and, on Windows Server 2016, its "
                    "own gMSA)",
                ),
                group[1],
            )
    if _is_linux(task):
        return
    for container in gmsa_containers:
        for use, ref in _valid_uses(container.credential_spec_uses):
            _hostname_rule(out, container, use, specs.get(ref), windows_server_2016, awsvpc)


def _hostname_rule(
    out: _Collector,
    container: ContainerDefinition,
    use: CredentialSpecUse,
    resolved: ResolvedSpec | None,
    windows_server_2016: bool,
    awsvpc: bool,
) -> None:
    hostname_path = out.at(json_path(container.path, "hostname"))
    name = resolved.spec.account_name if resolved and resolved.spec else None
    if name is None:
        if windows_server_2016 and not awsvpc:
            out.add(
                warning(
                    "hostname-rule-unchecked",
                    out.at(use.path),
                    "the spec was not read, so the Windows Server 2016 hostname rule was not "
                    "checked",
                    "give --credspec-dir for file:// references, or --fetch with AWS options for "
                    "S3/SSM",
                ),
                container,
            )
        return
    if container.hostname is None:
        if windows_server_2016 and not awsvpc:
            out.add(
                error(
                    "hostname-missing",
                    hostname_path,
                    f"on Windows Server 2016 the container hostname must be the gMSA name "
                    f"{name!r}, but no hostname is set",
                    f'add "hostname": "{name}" (gmsa task patch --hostname-from-spec)',
                ),
                container,
            )
        return
    if container.hostname.lower() == name.lower():
        return
    make = error if windows_server_2016 else warning
    out.add(
        make(
            "hostname-not-gmsa-name",
            hostname_path,
            f"the hostname {container.hostname!r} differs from the gMSA name {name!r}; "
            "on Windows Server 2016 the container then gets no gMSA identity",
            f'set "hostname": "{name}"',
        ),
        container,
    )


def _lint_specs(
    out: _Collector, task: TaskDefinition, specs: Mapping[Reference, ResolvedSpec]
) -> None:
    for container in task.containers:
        for use, ref in _valid_uses(container.credential_spec_uses):
            resolved = specs.get(ref)
            if resolved is None:
                continue
            base = out.at(use.path)
            for finding in resolved.findings:
                out.add(finding.about(resolved.source, referenced_at=base), container)
            spec = resolved.spec
            if spec is None:
                continue
            if ref.mode is Mode.DOMAINLESS and not spec.is_domainless:
                out.add(
                    error(
                        "spec-not-domainless",
                        base,
                        "the reference is credentialspecdomainless: but the spec has no "
                        "HostAccountConfig, so a host outside the domain cannot use it",
                        "generate the spec for domainless use, or use credentialspec: on a "
                        "domain-joined host",
                    ),
                    container,
                )
            elif ref.mode is Mode.DOMAIN_JOINED and spec.is_domainless:
                out.add(
                    warning(
                        "spec-is-domainless",
                        base,
                        "the spec has HostAccountConfig (domainless) but the reference is "
                        "credentialspec: (domain-joined host)",
                        "use credentialspecdomainless: if the hosts are outside the domain",
                    ),
                    container,
                )


def _lint_iam(
    out: _Collector,
    task: TaskDefinition,
    specs: Mapping[Reference, ResolvedSpec],
    policies: Sequence[Any],
    policies_incomplete: str | None,
) -> None:
    for container in task.containers:
        for use, ref in _valid_uses(container.credential_spec_uses):
            secret_arn: str | None = None
            resolved = specs.get(ref)
            if ref.mode is Mode.DOMAINLESS:
                spec = resolved.spec if resolved else None
                hac = spec.host_account_config if spec else None
                secret_arn = hac.credential_arn if hac else None
                if spec is None:
                    out.add(
                        warning(
                            "iam-secret-unchecked",
                            out.at(use.path),
                            "the spec was not read, so the permission on the domainless "
                            "user secret it names was not checked",
                            "give --credspec-dir for file:// references, or --fetch with AWS "
                            "options for S3/SSM",
                        ),
                        container,
                    )
            try:
                permissions = required_permissions(ref, secret_arn=secret_arn)
            except InvalidArnError as exc:
                out.add(
                    error(
                        "invalid-secret-arn",
                        out.at(use.path),
                        f"the spec's PluginInput names a user secret whose {exc.part} is "
                        f"wrong: {exc.what}",
                        exc.fix,
                    ),
                    container,
                )
                permissions = required_permissions(ref)
            if not permissions:
                continue
            decisions = evaluate(policies, permissions)
            for finding in decisions_to_findings(decisions, path=out.at(use.path)):
                if policies_incomplete and finding.severity is Severity.ERROR:
                    finding = info(
                        NOT_CHECKED,
                        finding.path,
                        f"not checked: {finding.message}; but {policies_incomplete}",
                        finding.fix,
                    )
                out.add(finding, container)


__all__ = [
    "WINDOWS_SERVER_2016",
    "ContainerReport",
    "ReferenceReport",
    "TaskReport",
    "lint_task_definition",
]
