"""``gmsa task prepare`` / ``gmsa task cleanup``: the Windows host agent's two steps.

Only argument parsing and output live here; what is fetched, written and removed
is decided by :class:`gmsa.hostagent.windows.WindowsHostAgent`.

Whose credentials read S3 and SSM specs: ``--role-arn`` when given; otherwise the
task definition's ``executionRoleArn`` is assumed, as the ECS agent reads specs
with the task execution role; ``--no-assume-role`` uses the base credentials
as they are (a profile or the environment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gmsa.cli._aws import aws_config_from, aws_options
from gmsa.cli._common import GmsaCommand, echo_findings, emit_json, json_option
from gmsa.hostagent.interface import CleanupResult, PreparedTask
from gmsa.hostagent.windows import WindowsHostAgent
from gmsa.source.cache import SpecCache
from gmsa.source.fetcher import SpecFetcher
from gmsa.taskdef.model import TaskDefinition, load_task_definition

_CREDSPEC_DIR_HELP = (
    "Docker's CredentialSpecs directory (on Windows %ProgramData%\\docker\\CredentialSpecs); "
    "file:// specs are read from it and fetched specs written into it."
)


def _agent(
    credspec_dir: Path, task_def: TaskDefinition | None, params: dict[str, Any], assume: bool
) -> WindowsHostAgent:
    settings = dict(params)
    if not settings.get("role_arn") and assume and task_def is not None:
        settings["role_arn"] = task_def.execution_role_arn
    fetcher = SpecFetcher(aws=aws_config_from(settings), spec_dir=credspec_dir, cache=SpecCache())
    return WindowsHostAgent(credspec_dir, fetcher)


@click.command(cls=GmsaCommand)
@click.argument("taskdef")
@click.option("--task-id", required=True, help="The task's id (the last part of its ARN).")
@click.option(
    "--task-arn",
    help="The task's ARN: domainless specs get regKeyPath "
    "HKLM\\...\\AmazonECSCCGPlugin\\<task ARN>, as the ECS agent sets it.",
)
@click.option(
    "--credspec-dir", required=True, type=click.Path(path_type=Path), help=_CREDSPEC_DIR_HELP
)
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
    credspec_dir: Path,
    no_assume_role: bool,
    json_output: bool,
    **aws: Any,
) -> None:
    """Write a task's credential specs where Docker reads them (TASKDEF may be -).

    For each container with a credential spec reference: fetch the spec (S3 or SSM
    with the task execution role, file:// from the CredentialSpecs directory),
    validate it, write it under a name unique to the task and the reference, and
    print the Docker security option to start the container with. All or nothing:
    if any container fails, nothing of the task stays written.

    S3 and SSM specs are read as the task definition's executionRoleArn (assumed
    with STS, as the ECS agent does) unless --role-arn names another role or
    --no-assume-role keeps the base credentials.
    """
    task_def = load_task_definition(taskdef)
    agent = _agent(credspec_dir, task_def, aws, assume=not no_assume_role)
    result = agent.prepare(task_def, task_id, task_arn)
    if json_output:
        emit_json(result.to_dict())
    else:
        _print_prepared(result, credspec_dir)


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
    "--credspec-dir", required=True, type=click.Path(path_type=Path), help=_CREDSPEC_DIR_HELP
)
@json_option
def cleanup(task_id: str, credspec_dir: Path, json_output: bool) -> None:
    """Remove what prepare wrote for a task, and nothing else.

    Only files recorded for the task that still hold what prepare wrote are removed;
    a file changed since is kept and reported. A task never prepared here (or
    already cleaned up) is not an error: nothing is removed.
    """
    agent = WindowsHostAgent(credspec_dir, SpecFetcher(spec_dir=credspec_dir))
    result = agent.cleanup(task_id)
    if json_output:
        emit_json(result.to_dict())
    else:
        _print_cleanup(result)


def _print_cleanup(result: CleanupResult) -> None:
    if not result.known:
        click.echo(f"task {result.task_id}: nothing recorded for this task; nothing to remove")
        return
    click.echo(f"task {result.task_id}: removed {len(result.removed)} file(s)")
    for name in result.removed:
        click.echo(f"  removed  {name}")
    for name in result.missing:
        click.echo(f"  gone     {name} (already removed)")
    for kept in result.kept:
        click.echo(click.style(f"  kept     {kept.file} ({kept.reason})", fg="yellow"))
