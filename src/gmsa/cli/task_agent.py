"""``gmsa task prepare`` / ``gmsa task cleanup``: a host agent's two steps.

Only argument parsing and output live here; what is fetched, written and removed
is decided by :class:`gmsa.hostagent.windows.WindowsHostAgent` (a spec file per
reference) or :class:`gmsa.hostagent.linux.LinuxHostAgent` (a Kerberos lease per
task from the ticket service, a ticket mount per container).

Which one: ``--platform``; otherwise the task definition's
``runtimePlatform.operatingSystemFamily`` (``LINUX`` or ``WINDOWS_*``); otherwise
Windows when ``--credspec-dir`` is given (only Windows needs it); otherwise the
host's own system. ``cleanup`` has no task definition, so the last two rules decide.

Whose credentials read S3 and SSM specs: ``--role-arn`` when given; otherwise the
task definition's ``executionRoleArn`` is assumed, as the ECS agent reads specs
with the task execution role; ``--no-assume-role`` uses the base credentials
as they are (a profile or the environment).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from gmsa.cli._aws import F, apply_options, aws_config_from, aws_options
from gmsa.cli._common import GmsaCommand, echo_findings, emit_json, json_option
from gmsa.errors import InvalidInputError
from gmsa.hostagent.interface import CleanupResult, HostAgent, PreparedTask
from gmsa.hostagent.linux import LinuxHostAgent
from gmsa.hostagent.windows import WindowsHostAgent
from gmsa.source.cache import SpecCache
from gmsa.source.fetcher import SpecFetcher
from gmsa.taskdef.model import TaskDefinition, load_task_definition
from gmsa.tickets.layout import DEFAULT_KRB_DIR, DEFAULT_SOCKET

_CREDSPEC_DIR_HELP = (
    "Docker's CredentialSpecs directory (on Windows %ProgramData%\\docker\\CredentialSpecs); "
    "file:// specs are read from it and fetched specs written into it."
)


_PLATFORMS = ("windows", "linux")


def _host_platform() -> str:
    return "windows" if sys.platform.startswith(("win", "cygwin")) else "linux"


def platform_for(
    task_def: TaskDefinition | None, given: str | None, credspec_dir: Path | None = None
) -> str:
    """``windows`` or ``linux``: as given, else the task definition's runtimePlatform,
    else Windows when a CredentialSpecs directory is given (only Windows needs one),
    else the host's own system."""
    if given:
        return given
    family = task_def.operating_system_family if task_def is not None else None
    if family is not None:
        if family.upper() == "LINUX":
            return "linux"
        if family.upper().startswith("WINDOWS"):
            return "windows"
    if credspec_dir is not None:
        return "windows"
    return _host_platform()


def _require_credspec_dir(credspec_dir: Path | None) -> Path:
    if credspec_dir is None:
        raise InvalidInputError(
            "--credspec-dir is required on Windows",
            where="--credspec-dir",
            fix="give Docker's CredentialSpecs directory (%ProgramData%\\docker\\CredentialSpecs), "
            "or --platform linux for a Linux host",
        )
    return credspec_dir


def make_host_agent(
    platform: str,
    credspec_dir: Path | None,
    krb_dir: Path,
    socket_path: Path,
    task_def: TaskDefinition | None,
    params: dict[str, Any],
    assume: bool,
) -> HostAgent:
    """The host agent for ``platform`` (``windows`` or ``linux``) from the CLI's options.

    S3/SSM specs (and a domainless task's user secret) are read as ``--role-arn``,
    else the task definition's executionRoleArn unless ``assume`` is false.
    """
    settings = dict(params)
    if not settings.get("role_arn") and assume and task_def is not None:
        settings["role_arn"] = task_def.execution_role_arn
    if platform == "windows":
        credspec_dir = _require_credspec_dir(credspec_dir)
    aws = aws_config_from(settings)
    fetcher = SpecFetcher(aws=aws, spec_dir=credspec_dir, cache=SpecCache())
    if platform == "windows":
        assert credspec_dir is not None
        return WindowsHostAgent(credspec_dir, fetcher)
    return LinuxHostAgent(krb_dir, socket_path, fetcher, aws)


_PLATFORM_HELP = (
    "Which host agent: windows (a spec file per reference) or linux (a Kerberos lease from "
    "the ticket service). Default: the task definition's runtimePlatform, else windows "
    "when --credspec-dir is given, else this host's system."
)
_KRB_DIR_HELP = "Linux: the ticket service's krb directory (where leases live)."
_SOCKET_HELP = "Linux: the ticket service's unix socket."


def host_paths_options(f: F) -> F:
    """Add ``--credspec-dir``, ``--krb-dir`` and ``--socket``: where a host agent keeps
    what it prepares, the same in every command that prepares or removes it."""
    return apply_options(
        f,
        [
            click.option(
                "--credspec-dir", type=click.Path(path_type=Path), help=_CREDSPEC_DIR_HELP
            ),
            click.option(
                "--krb-dir",
                type=click.Path(path_type=Path),
                default=DEFAULT_KRB_DIR,
                show_default=True,
                help=_KRB_DIR_HELP,
            ),
            click.option(
                "--socket",
                "socket_path",
                type=click.Path(path_type=Path),
                default=DEFAULT_SOCKET,
                show_default=True,
                help=_SOCKET_HELP,
            ),
        ],
    )


@click.command(cls=GmsaCommand)
@click.argument("taskdef")
@click.option("--task-id", required=True, help="The task's id (the last part of its ARN).")
@click.option(
    "--task-arn",
    help="The task's ARN: domainless specs get regKeyPath "
    "HKLM\\...\\AmazonECSCCGPlugin\\<task ARN>, as the ECS agent sets it.",
)
@click.option("--platform", type=click.Choice(_PLATFORMS), help=_PLATFORM_HELP)
@host_paths_options
@click.option(
    "--no-assume-role",
    is_flag=True,
    help="Read S3/SSM specs with the base credentials instead of assuming the task "
    "definition's executionRoleArn.",
)
@aws_options
@json_option
def prepare(
    taskdef: str,
    task_id: str,
    task_arn: str | None,
    platform: str | None,
    credspec_dir: Path | None,
    krb_dir: Path,
    socket_path: Path,
    no_assume_role: bool,
    json_output: bool,
    **aws: Any,
) -> None:
    """Prepare a task's gMSA credentials on this host (TASKDEF may be -).

    For each container with a credential spec reference: fetch the spec (S3 or SSM
    with the task execution role, file:// from the CredentialSpecs directory) and
    validate it. Windows: write it under a name unique to the task and the
    reference, and print the Docker security option to start the container with.
    Linux: ask the ticket service (--socket) for one Kerberos lease for the task
    (domainless: as the user in the spec's Secrets Manager secret), and print the
    read-only mount and KRB5CCNAME each container needs. All or nothing: if any
    container fails, nothing of the task stays.

    S3 and SSM specs are read as the task definition's executionRoleArn (assumed
    with STS, as the ECS agent does) unless --role-arn names another role or
    --no-assume-role keeps the base credentials.
    """
    task_def = load_task_definition(taskdef)
    chosen = platform_for(task_def, platform, credspec_dir)
    agent = make_host_agent(
        chosen, credspec_dir, krb_dir, socket_path, task_def, aws, assume=not no_assume_role
    )
    result = agent.prepare(task_def, task_id, task_arn)
    if json_output:
        emit_json(result.to_dict())
    elif chosen == "linux":
        _print_prepared_linux(result)
    else:
        _print_prepared(result, _require_credspec_dir(credspec_dir))


def _print_prepared_linux(result: PreparedTask) -> None:
    count = len(result.containers)
    click.echo(f"task {result.task_id}: {count} container(s) prepared, lease {result.lease_id}")
    for container in result.containers:
        click.echo(f"  {container.name}")
        click.echo(f"    reference:   {container.reference}")
        click.echo(f"    gMSA:        {container.gmsa}")
        for mount in container.mounts:
            mode = "ro" if mount.read_only else "rw"
            click.echo(f"    mount:       {mount.source}:{mount.target}:{mode}")
        for name, value in container.environment.items():
            click.echo(f"    environment: {name}={value}")
    if result.warnings:
        click.echo("warnings:")
        echo_findings(result.warnings)


def _print_prepared(result: PreparedTask, credspec_dir: Path) -> None:
    count = len(result.containers)
    click.echo(f"task {result.task_id}: {count} container(s) prepared in {credspec_dir}")
    for container in result.containers:
        how = "written" if container.written else "your own file, used in place"
        click.echo(f"  {container.name}")
        click.echo(f"    reference:       {container.reference}")
        click.echo(f"    file:            {container.file} ({how})")
        click.echo(f"    security option: {container.security_option}")
        if container.registry_key is not None:
            click.echo(f"    registry key:    {container.registry_key}")
            click.echo(
                "                     (on Windows the ECS agent stores the execution role's "
                "credentials there for the CCG plugin; gmsa stores none)"
            )
    if result.warnings:
        click.echo("warnings:")
        echo_findings(result.warnings)


@click.command(cls=GmsaCommand)
@click.option("--task-id", required=True, help="The task's id, as given to prepare.")
@click.option(
    "--platform",
    type=click.Choice(_PLATFORMS),
    help="Which host agent prepared the task. Default: windows when --credspec-dir is "
    "given, else this host's system.",
)
@host_paths_options
@json_option
def cleanup(
    task_id: str,
    platform: str | None,
    credspec_dir: Path | None,
    krb_dir: Path,
    socket_path: Path,
    json_output: bool,
) -> None:
    """Remove what prepare set up for a task, and nothing else.

    Windows: only files recorded for the task that still hold what prepare wrote
    are removed; a file changed since is kept and reported. Linux: the task's lease
    is deleted through the ticket service. A task never prepared here (or already
    cleaned up) is not an error: nothing is removed.
    """
    chosen = platform_for(None, platform, credspec_dir)
    agent = make_host_agent(chosen, credspec_dir, krb_dir, socket_path, None, {}, assume=False)
    result = agent.cleanup(task_id)
    if json_output:
        emit_json(result.to_dict())
    else:
        _print_cleanup(result)


def _print_cleanup(result: CleanupResult) -> None:
    if not result.known:
        click.echo(f"task {result.task_id}: nothing recorded for this task; nothing to remove")
        return
    if result.lease_id is not None:
        click.echo(f"task {result.task_id}: lease {result.lease_id} deleted")
        for name in result.removed:
            click.echo(f"  removed  {name}")
        for name in result.missing:
            click.echo(f"  gone     {name} (already deleted)")
        return
    click.echo(f"task {result.task_id}: removed {len(result.removed)} file(s)")
    for name in result.removed:
        click.echo(f"  removed  {name}")
    for name in result.missing:
        click.echo(f"  gone     {name} (already removed)")
    for kept in result.kept:
        click.echo(click.style(f"  kept     {kept.file} ({kept.reason})", fg="yellow"))
