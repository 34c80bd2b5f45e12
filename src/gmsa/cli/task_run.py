"""``gmsa task run`` / ``gmsa task stop``: run a task's containers on a Docker engine.

Argument parsing, signals and output only; what is created and removed is decided
by :mod:`gmsa.hostagent.docker_run`, what a container gets for its gMSA by the host
agent for the platform.
"""

from __future__ import annotations

from typing import Any

import click

from gmsa.cli._aws import aws_options
from gmsa.cli._common import (
    GmsaCommand,
    echo_findings,
    emit_report,
    json_option,
    sigterm_interrupts,
)
from gmsa.cli._options import platform_option, task_arn_option, task_id_option
from gmsa.cli.task_agent import HostAgentOptions, host_agent_options
from gmsa.errors import ExitCode
from gmsa.findings import count
from gmsa.hostagent.docker_run import RunResult, connect, run_task, stop_task
from gmsa.hostagent.interface import HostAgent, Renewal
from gmsa.taskdef.model import load_task_definition

INTERRUPTED = int(ExitCode.INTERRUPTED)
"""Exit code after Ctrl-C or SIGTERM (the shell's 128 + SIGINT); everything was removed."""

_docker_host = click.option(
    "--docker-host",
    envvar="DOCKER_HOST",
    metavar="URL",
    help="The Docker engine, e.g. unix:///var/run/docker.sock (default: DOCKER_HOST, then "
    "the default socket).",
)


@click.command(
    cls=GmsaCommand, short_help="Run a task's containers on Docker with their gMSA identities."
)
@click.argument("taskdef")
@_docker_host
@click.option("--detach", is_flag=True, help="Return once every container has started.")
@task_id_option(
    required=False,
    help="The task's id: labels the containers (default: a new 32-hex-digit id).",
)
@task_arn_option
@host_agent_options(
    platform_option(from_task_definition=True),
    assume_help="Read S3/SSM specs with the base credentials instead of the executionRoleArn.",
)
@aws_options
@json_option
def run(
    taskdef: str,
    docker_host: str | None,
    detach: bool,
    task_id: str | None,
    task_arn: str | None,
    host: HostAgentOptions,
    json_output: bool,
    **aws: Any,
) -> None:
    """Run a task's containers on a Docker engine with their gMSA identities.

    Each container gets the task definition's image (never pulled), command,
    entryPoint, environment, user, hostname, mountPoints of host volumes
    (volumes[].host.sourcePath) and the task's networkMode (host, none or
    bridge), plus what the host agent prepared for its credential spec. Waits
    until an essential container exits, then removes every container and the
    prepared credentials; with --detach returns once all have started (gmsa task
    stop removes them). Ctrl-C, SIGTERM or a failed start removes everything too.

    While a Linux task with domainless specs runs, its lease is kept alive as the
    ECS agent does: when the task execution role's credentials are refreshed, or
    the ticket service restarted, the user secret is read again and the lease
    renewed (checked every 10 seconds). With --detach, run gmsa task renew for it.

    \b
    Examples:
      gmsa task run taskdef.json --platform linux --docker-host unix:///var/run/docker.sock
      gmsa task run taskdef.json --detach --task-id 0123abcd --json

    \b
    Exit codes:
      0    every essential container exited 0 (or, with --detach, all started)
      1    an essential container exited non-zero, or the input is invalid
      2    command-line usage error
      3    Docker, AWS or the ticket service failed
      130  interrupted (Ctrl-C or SIGTERM); everything was removed
    """
    task_def = load_task_definition(taskdef)
    agent: HostAgent | None = None
    if task_def.credential_spec_uses:
        agent = host.agent(host.platform_for(task_def), task_def, aws)
    client = connect(docker_host)
    ctx = click.get_current_context()
    try:
        with sigterm_interrupts():
            result = run_task(
                client,
                task_def,
                agent=agent,
                task_id=task_id,
                task_arn=task_arn,
                detach=detach,
                on_renewal=None if json_output else _print_renewal,
            )
    except KeyboardInterrupt:
        click.echo("interrupted: the task's containers and credentials were removed", err=True)
        ctx.exit(INTERRUPTED)
    finally:
        client.close()
    warnings = result.prepared.warnings if result.prepared is not None else ()
    emit_report(
        warnings,
        ok=result.exit_code == 0,
        source=taskdef,
        results=result.to_dict(),
        text=lambda: _print_result(result),
        err=True,
    )
    ctx.exit(result.exit_code)


def _print_renewal(renewal: Renewal) -> None:
    """A renewal of the running task's lease, as it happens (text output, on stderr)."""
    why = renewal.reason.replace("-", " ")
    if renewal.ok:
        click.echo(f"lease renewed ({why}): {count(len(renewal.renewed), 'ticket')}", err=True)
    else:
        click.echo(f"lease not renewed ({why}): {renewal.error}", err=True)


def _print_result(result: RunResult) -> None:
    for container in result.containers:
        for line in container.logs.splitlines():
            click.echo(f"{container.name} | {line}")
    for container in result.containers:
        if container.exit_code is None:
            state = f"running ({container.container_id[:12]})"
        else:
            state = f"exited {container.exit_code}"
        kind = "essential" if container.essential else "not essential"
        click.echo(f"container {container.name} ({kind}): {state}", err=True)
    if result.prepared is not None and result.prepared.warnings:
        click.echo("warnings:", err=True)
        echo_findings(result.prepared.warnings, err=True)
    if result.detached:
        click.echo(
            f"task {result.task_id} started; stop it with gmsa task stop "
            f"--task-id {result.task_id}",
            err=True,
        )


@click.command(cls=GmsaCommand, short_help="Remove a detached run's containers and credentials.")
@task_id_option(required=True, help="The task's id, as gmsa task run printed it.")
@_docker_host
@host_agent_options(platform_option(from_task_definition=False))
@json_option
def stop(task_id: str, docker_host: str | None, host: HostAgentOptions, json_output: bool) -> None:
    """Remove a detached task's containers and its prepared credentials (lease or files).

    Stopping a task twice, or one that never ran here, removes nothing and succeeds.

    \b
    Examples:
      gmsa task stop --task-id 0123abcd --platform linux

    \b
    Exit codes:
      0  stopped (or nothing to remove)
      1  invalid input
      2  command-line usage error
      3  Docker, the ticket service or the file system failed
    """
    chosen = host.platform_of_task(task_id)
    agent = host.agent(chosen.platform, None, {})
    client = connect(docker_host)
    try:
        removed = stop_task(client, task_id, agent)
    finally:
        client.close()

    def text() -> None:
        click.echo(f"task {task_id}: removed {count(removed, 'container')}")
        click.echo(f"  {chosen.describe()}")

    emit_report(
        [],
        results={"task_id": task_id, "removed_containers": removed, **chosen.to_dict()},
        text=text,
    )


__all__ = [
    "INTERRUPTED",
    "run",
    "stop",
]
