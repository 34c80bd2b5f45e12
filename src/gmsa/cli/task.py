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
from gmsa.cli._common import GmsaCommand, GmsaGroup, echo_findings, emit_json, json_option
from gmsa.cli._options import (
    EXECUTION_ROLE,
    check_role_option,
    credspec_dir_option,
    option,
    policy_option,
)
from gmsa.cli.task_agent import cleanup, prepare
from gmsa.cli.task_run import run, stop
from gmsa.errors import ExitCode, InvalidInputError
from gmsa.fsutil import write_atomic
from gmsa.iam.policy import load_policy_file
from gmsa.iam.role import role_policies
from gmsa.reference import FileLocation, parse
from gmsa.source.resolve import read_spec, resolve_specs
from gmsa.taskdef.lint import TaskReport, lint_task_definition
from gmsa.taskdef.model import FIELD_CREDENTIAL_SPECS, load_task_definition, parse_task_definition
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

    Reads register-task-definition input or describe-task-definition output:
    each container's credentialSpecs and dockerSecurityOptions references, the
    hostname rules, and the platform. --credspec-dir checks file:// specs,
    --fetch reads S3/SSM specs (as --role-arn when given), --policy and
    --check-role check that the execution role may read every spec.

    \b
    Examples:
      gmsa task check taskdef.json
      gmsa task check taskdef.json --policy policy.json --credspec-dir ./specs
      gmsa task check taskdef.json --fetch --check-role --json
      aws ecs describe-task-definition --task-definition web | gmsa task check -

    \b
    Exit codes:
      0  no errors (warnings may be printed)
      1  the task definition has errors, or cannot be read
      2  command-line usage error
      3  AWS failed (reading a spec or the role's policies)
    """
    definition = load_task_definition(taskdef)
    spec_dir = _spec_dir(spec_dir)
    fetch_aws = aws_config_from(aws) if fetch else None
    specs = resolve_specs(definition.references, spec_dir=spec_dir, aws=fetch_aws)

    policies: list[Any] | None = None
    role = definition.execution_role_arn
    if check_role is not None and check_role != EXECUTION_ROLE:
        role = check_role
    elif check_role is None and not role_from_aws:
        role = None
    if policy_files or role:
        policies = [load_policy_file(p) for p in policy_files]
        if role:
            # The role's policies are read as the caller, not as the role itself.
            policies.extend(role_policies(aws_config_from({**aws, "role_arn": None}), role))

    report = lint_task_definition(
        definition,
        windows_server_2016=windows_server_2016,
        specs=specs,
        policies=policies,
    )
    if json_output:
        emit_json(report.to_dict())
    else:
        _echo_report(report)
    click.get_current_context().exit(int(ExitCode.OK if report.valid else ExitCode.INVALID))


def _echo_report(report: TaskReport) -> None:
    title = f"task definition {report.family}" if report.family else "task definition"
    click.echo(f"{title} ({report.source})")
    for container in report.containers:
        host = f" (hostname {container.hostname})" if container.hostname else ""
        click.echo(f"container {container.name}{host}")
        if not container.references:
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
        echo_findings(container.findings, indent="  ")
    if report.task_findings:
        click.echo("task")
        echo_findings(report.task_findings, indent="  ")
    for hint in report.hints:
        click.echo(f"hint: {hint}")
    errors, warnings = len(report.errors), len(report.warnings)
    verdict = click.style("valid", fg="green") if report.valid else click.style("invalid", fg="red")
    click.echo(
        f"{report.source}: {verdict}, {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}"
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
    if target is None:
        click.echo(text, nl=False)
    else:
        write_atomic(target, text.encode("utf-8"))
        if not json_output:
            click.echo(f"wrote {target}", err=True)

    patched = parse_task_definition(document, source=str(target or "<patched>"))
    findings = lint_task_definition(patched).findings
    if findings and not json_output:
        click.echo("the patched task definition still has findings:", err=True)
        echo_findings(findings, err=True)


task.add_command(prepare)
task.add_command(cleanup)
task.add_command(run)
task.add_command(stop)


__all__ = [
    "check",
    "patch",
    "task",
]
