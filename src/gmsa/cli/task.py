"""``gmsa task``: check and patch ECS task definitions; prepare and clean up tasks on a host.

This module only parses arguments and wires parts together; the rules live in
:mod:`gmsa.taskdef`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gmsa import jsondoc
from gmsa.cli._aws import aws_config_from, aws_options
from gmsa.cli._common import (
    GmsaCommand,
    GmsaGroup,
    current_output,
    echo_findings,
    emit_report,
    json_option,
)
from gmsa.cli._options import (
    EXECUTION_ROLE,
    check_role_option,
    credspec_dir_option,
    input_format_option,
    option,
    policy_option,
)
from gmsa.cli.task_agent import cleanup, prepare, renew
from gmsa.cli.task_run import run, stop
from gmsa.errors import ExitCode, InvalidInputError
from gmsa.findings import count
from gmsa.fsutil import write_atomic
from gmsa.iam.policy import load_policy_file
from gmsa.iam.role import role_policies
from gmsa.reference import FileLocation, parse
from gmsa.source.resolve import read_spec, resolve_specs
from gmsa.taskdef.inputs import InputFormat, load_input
from gmsa.taskdef.lint import TaskReport, lint_task_definition
from gmsa.taskdef.model import (
    FIELD_CREDENTIAL_SPECS,
    TaskDefinition,
    load_task_definition,
    parse_task_definition,
)
from gmsa.taskdef.patch import FIELDS, patch_task_definition


def _spec_dir(value: Path | None) -> Path | None:
    if value is not None and not value.is_dir():
        raise InvalidInputError(
            "the spec directory does not exist or is not a directory",
            where=str(value),
            fix="give the CredentialSpecs directory (or a copy of it) with --credspec-dir",
        )
    return value


@click.group(cls=GmsaGroup, short_help="Check, patch and run ECS task definitions.")
def task() -> None:
    """ECS task definitions: check and patch them, and do a host agent's work.

    \b
    In the order they are used:
      check    lint a task definition for every gMSA rule
      patch    make a container use a credential spec (and set its hostname)
      prepare  prepare a task's gMSA credentials on this host, as the ECS agent does
      renew    keep a domainless task's lease alive, as the ECS agent does
      cleanup  remove what prepare set up for a task
      run      run a task's containers on a Docker engine with their gMSA identities
      stop     remove a detached run's containers and credentials

    \b
    Examples:
      gmsa task check taskdef.json --policy policy.json
      gmsa task prepare taskdef.json --task-id 0123abcd --platform linux
    """


@task.command("check", cls=GmsaCommand, short_help="Lint a task definition for every gMSA rule.")
@click.argument("taskdef")
@input_format_option(
    (InputFormat.ECS.value, "register-task-definition input or describe-task-definition output")
)
@policy_option
@credspec_dir_option("file:// specs are read from it.", name="spec_dir", deprecated=("--spec-dir",))
@click.option(
    "--fetch",
    is_flag=True,
    help="Fetch S3/SSM specs to check them and the hostname rule.",
)
@check_role_option(name="check_role", optional_arn=True)
@option(
    "--role-from-aws",
    is_flag=True,
    replaced_by="--check-role",
    help="Read the execution role's policies from IAM and check them.",
)
@click.option(
    "--windows-server-2016",
    is_flag=True,
    help="The hosts run Windows Server 2016: a hostname that differs from the gMSA is an error.",
)
@aws_options
@json_option
def check(
    taskdef: str,
    input_format: str,
    policy_files: tuple[Path, ...],
    spec_dir: Path | None,
    fetch: bool,
    check_role: str | None,
    role_from_aws: bool,
    windows_server_2016: bool,
    json_output: bool,
    **aws: Any,
) -> None:
    """Lint every gMSA rule of a task definition (TASKDEF, or - for stdin).

    Reads register-task-definition input or describe-task-definition output, every
    AWS::ECS::TaskDefinition of a CloudFormation template (or of the cdk.out
    directory), or every aws_ecs_task_definition of a Terraform plan: each
    container's credentialSpecs and dockerSecurityOptions references, the
    hostname rules, and the platform. --credspec-dir checks file:// specs,
    --fetch reads S3/SSM specs (as --role-arn when given), --policy and
    --check-role check that the execution role may read every spec.

    \b
    Examples:
      gmsa task check taskdef.json
      gmsa task check taskdef.json --policy policy.json --credspec-dir ./specs
      gmsa task check taskdef.json --fetch --check-role --json
      aws ecs describe-task-definition --task-definition web | gmsa task check -
      gmsa task check template.yaml --format sarif > taskdefs.sarif
      gmsa task check cdk.out
      terraform show -json plan.out > plan.json && gmsa task check plan.json

    \b
    Exit codes:
      0  no errors (warnings may be printed)
      1  a task definition has errors, or the file cannot be read or (a
         template or plan) holds no task definition
      2  command-line usage error
      3  AWS failed (reading a spec or the role's policies)
    """
    loaded = load_input(taskdef, InputFormat(input_format))
    spec_dir = _spec_dir(spec_dir)
    fetch_aws = aws_config_from(aws) if fetch else None

    def lint(
        definition: TaskDefinition,
        template_policies: tuple[Any, ...] | None = None,
        policies_incomplete: str | None = None,
    ) -> TaskReport:
        specs = resolve_specs(definition.references, spec_dir=spec_dir, aws=fetch_aws)
        policies: list[Any] | None = None
        role = definition.execution_role_arn
        if check_role is not None and check_role != EXECUTION_ROLE:
            role = check_role
        elif check_role is None and not role_from_aws:
            role = None
        if policy_files or role or template_policies is not None:
            policies = [load_policy_file(p) for p in policy_files]
            policies.extend(template_policies or ())
            if role:
                # The role's policies are read as the caller, not as the role itself.
                policies.extend(role_policies(aws_config_from({**aws, "role_arn": None}), role))
        return lint_task_definition(
            definition,
            windows_server_2016=windows_server_2016,
            specs=specs,
            policies=policies,
            policies_incomplete=policies_incomplete,
        )

    if loaded.ecs is not None:
        report = lint(loaded.ecs)
        emit_report(
            [*report.findings, *report.notes],
            ok=report.valid,
            source=report.source,
            results={**report.to_dict(), "hints": list(report.hints)},
            text=lambda: _echo_report(report),
        )
        click.get_current_context().exit(int(ExitCode.OK if report.valid else ExitCode.INVALID))

    reports = [
        lint(r.definition, r.policies, r.policies_incomplete)
        if r.definition is not None
        else r.unchecked_report()
        for r in loaded.resources
    ]
    valid = all(r.valid for r in reports)

    def text() -> None:
        for report in reports:
            _echo_report(report)
        if len(reports) > 1:
            good = sum(r.valid for r in reports)
            click.echo(
                f"{loaded.source}: {count(len(reports), 'task definition')}: {good} valid, "
                f"{len(reports) - good} invalid"
            )

    emit_report(
        [f for r in reports for f in (*r.findings, *r.notes)],
        ok=valid,
        source=loaded.source,
        results={
            "valid": valid,
            "source": loaded.source,
            "input_format": loaded.input_format.value,
            "task_definitions": [r.to_dict() for r in reports],
            "errors": [f.to_dict() for r in reports for f in r.errors],
            "warnings": [f.to_dict() for r in reports for f in r.warnings],
            "info": [f.to_dict() for r in reports for f in r.infos],
            "hints": [h for r in reports for h in r.hints],
        },
        text=text,
    )
    click.get_current_context().exit(int(ExitCode.OK if valid else ExitCode.INVALID))


def _echo_report(report: TaskReport) -> None:
    title = f"task definition {report.family}" if report.family else "task definition"
    where = f"{report.source} {report.resource}" if report.resource else report.source
    click.echo(f"{title} ({where})")
    task_findings = list(report.task_findings)
    for container in report.containers:
        host = f" (hostname {container.hostname})" if container.hostname else ""
        click.echo(f"container {container.name}{host}")
        # What was not checked in this container (a value known only at deploy time) is
        # shown with it: "no credential spec" would be wrong when one is not known yet.
        inside = container.path + "."
        unknown = [f for f in task_findings if container.path and f.path.startswith(inside)]
        task_findings = [f for f in task_findings if f not in unknown]
        if not container.references and not unknown:
            click.echo("  no credential spec")
        for ref in container.references:
            parsed = ref.use.reference
            if parsed is None:
                click.echo(f"  reference {ref.use.raw} [invalid]")
                continue
            details = [parsed.kind, parsed.mode.value]
            if ref.gmsa_name:
                details.append(f"gMSA {ref.gmsa_name}")
            click.echo(f"  reference {ref.use.raw} [{', '.join(details)}]")
        echo_findings([*container.findings, *unknown], indent="  ")
    if task_findings:
        click.echo("task")
        echo_findings(task_findings, indent="  ")
    for hint in report.hints:
        click.echo(f"hint: {hint}")
    verdict = click.style("valid", fg="green") if report.valid else click.style("invalid", fg="red")
    click.echo(
        f"{where}: {verdict}, {count(len(report.errors), 'error')}, "
        f"{count(len(report.warnings), 'warning')}"
    )


@task.command(
    "patch",
    cls=GmsaCommand,
    short_help="Make a container use a credential spec (and its hostname).",
)
@click.argument("taskdef")
@click.option(
    "--container", "container_name", required=True, metavar="NAME", help="Container to patch."
)
@click.option(
    "--reference",
    "reference_text",
    required=True,
    metavar="REF",
    help="credentialspec:... or credentialspecdomainless:... value to use.",
)
@click.option(
    "--field",
    type=click.Choice(FIELDS),
    default=FIELD_CREDENTIAL_SPECS,
    show_default=True,
    help="Container field to write the reference to.",
)
@click.option("--hostname", metavar="NAME", help="Set the container hostname.")
@click.option(
    "--hostname-from-spec",
    is_flag=True,
    help="Set the hostname to the spec's gMSA name (Windows Server 2016 needs it).",
)
@credspec_dir_option(
    "file:// specs are read from it (for --hostname-from-spec).",
    name="spec_dir",
    deprecated=("--spec-dir",),
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the result to FILE instead of standard output.",
)
@click.option("--in-place", is_flag=True, help="Replace TASKDEF with the result.")
@aws_options
@json_option
def patch(
    taskdef: str,
    container_name: str,
    reference_text: str,
    field: str,
    hostname: str | None,
    hostname_from_spec: bool,
    spec_dir: Path | None,
    out: Path | None,
    in_place: bool,
    json_output: bool,
    **aws: Any,
) -> None:
    """Make a container use a credential spec; print register-task-definition input.

    The reference replaces any credential spec the container had. Describe output is
    unwrapped and its read-only fields dropped, so the result can be given to
    aws ecs register-task-definition --cli-input-json. What the linter still
    finds in the result is printed on stderr.

    \b
    Examples:
      gmsa task patch taskdef.json --container web \\
          --reference credentialspec:arn:aws:s3:::my-specs/webapp01.json > patched.json
      gmsa task patch taskdef.json --container web --in-place \\
          --reference credentialspec:file://webapp01.json \\
          --hostname-from-spec --credspec-dir ./specs

    \b
    Exit codes:
      0  patched
      1  invalid input: the task definition, the container, the reference or the spec
      2  command-line usage error
      3  AWS or the file system failed
    """
    if hostname is not None and hostname_from_spec:
        raise click.UsageError("give --hostname or --hostname-from-spec, not both")
    if in_place and out is not None:
        raise click.UsageError("give --out or --in-place, not both")
    if in_place and taskdef == "-":
        raise click.UsageError("--in-place needs a file, not stdin")
    reference = parse(reference_text)
    definition = load_task_definition(taskdef)
    if hostname_from_spec:
        is_file = isinstance(reference.location, FileLocation)
        resolved = read_spec(
            reference,
            spec_dir=_spec_dir(spec_dir),
            aws=None if is_file else aws_config_from(aws),
        )
        if resolved.spec is None:
            problem = resolved.findings[0] if resolved.findings else None
            raise InvalidInputError(
                "cannot take the hostname from the spec: "
                + (problem.message if problem else "it could not be read"),
                where=resolved.source,
                fix=problem.fix if problem and problem.fix else "fix the spec or give --hostname",
            )
        hostname = resolved.spec.account_name

    document = patch_task_definition(
        definition,
        container=container_name,
        reference=reference,
        field=field,
        hostname=hostname,
    )
    text = jsondoc.dumps(document)
    target = Path(taskdef) if in_place else out
    machine = current_output().machine
    if target is not None:
        write_atomic(target, text.encode("utf-8"))
    elif not machine:
        click.echo(text, nl=False)

    patched = parse_task_definition(document, source=str(target or "<patched>"))
    findings = lint_task_definition(patched).findings

    def report() -> None:
        if target is not None:
            click.echo(f"wrote {target}", err=True)
        if findings:
            click.echo("the patched task definition still has findings:", err=True)
            echo_findings(findings, err=True)

    emit_report(
        findings,
        ok=True,
        source=str(target) if target is not None else "<patched>",
        results={
            "written": str(target) if target is not None else None,
            "task_definition": document,
        },
        text=report,
        err=True,
    )


task.add_command(prepare)
task.add_command(cleanup)
task.add_command(renew)
task.add_command(run)
task.add_command(stop)


__all__ = [
    "check",
    "patch",
    "task",
]
