"""``gmsa task prepare`` / ``gmsa task cleanup``: a host agent's two steps.

Only argument parsing and output live here; what is fetched, written and removed
is decided by :class:`gmsa.hostagent.windows.WindowsHostAgent` (a spec file per
reference) or :class:`gmsa.hostagent.linux.LinuxHostAgent` (a Kerberos lease per
task from the ticket service, a ticket mount per container).

Which one: ``--platform``; otherwise the task definition's
``runtimePlatform.operatingSystemFamily`` (``LINUX`` or ``WINDOWS_*``); otherwise
Windows when ``--credspec-dir`` is given (only Windows needs it); otherwise the
host's own system. ``cleanup`` has no task definition: the agent whose record
of the task is found (in ``--credspec-dir`` for Windows, in ``--krb-dir`` for
Linux) cleans it up, and without a record the last two rules decide. Either
way it says which agent ran and why (``platform`` and ``platform_from`` in JSON).

Whose credentials read S3 and SSM specs: ``--role-arn`` when given; otherwise the
task definition's ``executionRoleArn`` is assumed, as the ECS agent reads specs
with the task execution role; ``--no-assume-role`` uses the base credentials
as they are (a profile or the environment).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import click

from gmsa.cli._aws import F, apply_options, aws_config_from, aws_options
from gmsa.cli._common import GmsaCommand, echo_findings, emit_report, json_option
from gmsa.cli._options import (
    credspec_dir_option,
    krb_dir_option,
    platform_option,
    socket_option,
    task_arn_option,
    task_id_option,
)
from gmsa.errors import InvalidInputError
from gmsa.findings import Finding, Severity, count
from gmsa.hostagent.interface import CleanupResult, HostAgent, PreparedTask, check_task_id
from gmsa.hostagent.ledger import recorded_platform
from gmsa.hostagent.linux import LinuxHostAgent
from gmsa.hostagent.windows import WindowsHostAgent
from gmsa.source.cache import SpecCache
from gmsa.source.fetcher import SpecFetcher
from gmsa.taskdef.model import TaskDefinition, load_task_definition


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


_CHOSEN_BECAUSE = {
    "option": "as --platform says",
    "record": "it holds the task's record",
    "credspec-dir": "--credspec-dir is given and no agent holds a record of the task",
    "host": "this host's system; no agent holds a record of the task",
}


@dataclass(frozen=True)
class PlatformChoice:
    """Which host agent a command on a task prepared earlier runs, and why."""

    platform: str
    """``windows`` or ``linux``."""
    why: str
    """``option`` (``--platform``), ``record`` (that agent holds the task's record),
    ``credspec-dir`` (``--credspec-dir`` given, no record) or ``host`` (this host's
    system, no record)."""
    records: Path | None
    """Where that agent keeps its records of tasks (``--credspec-dir`` or ``--krb-dir``)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON keys beside a command's own: ``platform``, ``platform_from``."""
        return {"platform": self.platform, "platform_from": self.why}

    def describe(self) -> str:
        """One line for a person: which agent ran, why, and where it looked."""
        name = "Windows" if self.platform == "windows" else "Linux"
        where = f"; its records are in {self.records}" if self.records is not None else ""
        line = f"host agent: {name} ({_CHOSEN_BECAUSE[self.why]}){where}"
        if self.why == "host" and self.platform == "linux":
            line += (
                "; for a task the Windows agent prepared give --credspec-dir, for another "
                "ticket service's tasks its --krb-dir"
            )
        return line


@dataclass(frozen=True)
class HostAgentOptions:
    """What a command's options say about its host agent: which one, where it keeps
    what it prepares, and whose credentials it reads specs with."""

    platform: str | None
    """``--platform`` as given (``windows``, ``linux`` or not given)."""
    credspec_dir: Path | None
    """``--credspec-dir``: Docker's CredentialSpecs directory (Windows)."""
    krb_dir: Path
    """``--krb-dir``: the ticket service's krb directory (Linux)."""
    socket_path: Path
    """``--socket``: the ticket service's unix socket (Linux)."""
    assume_role: bool = False
    """Whether S3/SSM specs are read as the task definition's executionRoleArn
    (when ``--role-arn`` is not given); ``--no-assume-role`` turns it off."""

    def platform_for(self, task_def: TaskDefinition | None) -> str:
        """``windows`` or ``linux`` for ``task_def`` (see :func:`platform_for`)."""
        return platform_for(task_def, self.platform, self.credspec_dir)

    def platform_of_task(self, task_id: str) -> PlatformChoice:
        """The host agent that prepared ``task_id`` here (for cleanup): ``--platform``;
        else the agent whose record of the task is found (the Windows agent's in
        ``--credspec-dir``, the Linux agent's in ``--krb-dir``); else Windows when
        ``--credspec-dir`` is given; else this host's system.

        Raises :class:`click.UsageError` when both agents hold a record of the task.
        """
        if self.platform:
            return PlatformChoice(self.platform, "option", self._records(self.platform))
        check_task_id(task_id)
        found = []
        windows = self.credspec_dir is not None and recorded_platform(self.credspec_dir, task_id)
        if windows == "windows":
            found.append("windows")
        if recorded_platform(self.krb_dir, task_id) == "linux":
            found.append("linux")
        if len(found) > 1:
            raise click.UsageError(
                f"both host agents hold a record of task {task_id} (the Windows agent's in "
                f"{self.credspec_dir}, the Linux agent's in {self.krb_dir}); give --platform "
                "windows or --platform linux"
            )
        if found:
            return PlatformChoice(found[0], "record", self._records(found[0]))
        chosen = platform_for(None, None, self.credspec_dir)
        why = "credspec-dir" if self.credspec_dir is not None else "host"
        return PlatformChoice(chosen, why, self._records(chosen))

    def _records(self, platform: str) -> Path | None:
        """Where ``platform``'s agent keeps its records of tasks."""
        return self.krb_dir if platform == "linux" else self.credspec_dir

    def agent(
        self, platform: str, task_def: TaskDefinition | None, params: dict[str, Any]
    ) -> HostAgent:
        """The host agent for ``platform`` (``windows`` or ``linux``).

        S3/SSM specs (and a domainless task's user secret) are read as ``--role-arn``
        (in the AWS option values ``params``), else the task definition's
        executionRoleArn when :attr:`assume_role`.
        """
        settings = dict(params)
        if not settings.get("role_arn") and self.assume_role and task_def is not None:
            settings["role_arn"] = task_def.execution_role_arn
        credspec_dir = self.credspec_dir
        if platform == "windows":
            credspec_dir = _require_credspec_dir(credspec_dir)
        aws = aws_config_from(settings)
        fetcher = SpecFetcher(aws=aws, spec_dir=credspec_dir, cache=SpecCache())
        if platform == "windows":
            assert credspec_dir is not None
            return WindowsHostAgent(credspec_dir, fetcher)
        return LinuxHostAgent(self.krb_dir, self.socket_path, fetcher, aws)


def _host_paths() -> list[Callable[[Any], Any]]:
    return [
        credspec_dir_option(
            "file:// specs are read from it and (Windows) fetched specs written into it."
        ),
        krb_dir_option,
        socket_option,
    ]


def host_agent_options(
    platform: Callable[[Any], Any], *, assume_help: str | None = None
) -> Callable[[F], F]:
    """Add the host agent's options, handed to the command as one ``host``
    (:class:`HostAgentOptions`): ``platform`` (the command's ``--platform``),
    ``--credspec-dir``, ``--krb-dir`` and ``--socket``, the same in every command that
    prepares or removes credentials, and with ``assume_help`` ``--no-assume-role``."""
    options = [platform, *_host_paths()]
    if assume_help is not None:
        options.append(click.option("--no-assume-role", is_flag=True, help=assume_help))

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def collected(*args: Any, **kwargs: Any) -> Any:
            host = HostAgentOptions(
                platform=kwargs.pop("platform"),
                credspec_dir=kwargs.pop("credspec_dir"),
                krb_dir=kwargs.pop("krb_dir"),
                socket_path=kwargs.pop("socket_path"),
                assume_role=assume_help is not None and not kwargs.pop("no_assume_role"),
            )
            return f(*args, host=host, **kwargs)

        return apply_options(cast(F, collected), options)

    return decorate


@click.command(cls=GmsaCommand, short_help="Prepare a task's gMSA credentials on this host.")
@click.argument("taskdef")
@task_id_option(required=True, help="The task's id (the last part of its ARN).")
@task_arn_option
@host_agent_options(
    platform_option(from_task_definition=True),
    assume_help="Read S3/SSM specs with the base credentials instead of assuming the task "
    "definition's executionRoleArn.",
)
@aws_options
@json_option
def prepare(
    taskdef: str,
    task_id: str,
    task_arn: str | None,
    host: HostAgentOptions,
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

    \b
    Examples:
      gmsa task prepare taskdef.json --task-id 0123abcd \\
          --credspec-dir 'C:\\ProgramData\\docker\\CredentialSpecs'
      gmsa task prepare taskdef.json --task-id 0123abcd --platform linux --json

    \b
    Exit codes:
      0  every container prepared
      1  invalid input: the task definition, a reference or a spec
      2  command-line usage error
      3  AWS, the ticket service or the file system failed; nothing was kept
    """
    task_def = load_task_definition(taskdef)
    chosen = host.platform_for(task_def)
    result = host.agent(chosen, task_def, aws).prepare(task_def, task_id, task_arn)

    def text() -> None:
        if chosen == "linux":
            _print_prepared_linux(result)
        else:
            _print_prepared(result, _require_credspec_dir(host.credspec_dir))

    emit_report(result.warnings, ok=True, source=taskdef, results=result.to_dict(), text=text)


def _print_prepared_linux(result: PreparedTask) -> None:
    click.echo(
        f"task {result.task_id}: {count(len(result.containers), 'container')} prepared, "
        f"lease {result.lease_id}"
    )
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
    click.echo(
        f"task {result.task_id}: {count(len(result.containers), 'container')} prepared "
        f"in {credspec_dir}"
    )
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


@click.command(cls=GmsaCommand, short_help="Keep a domainless task's lease alive.")
@click.argument("taskdef")
@task_id_option(required=True, help="The task's id, as given to prepare.")
@host_agent_options(
    platform_option(from_task_definition=True),
    assume_help="Read S3/SSM specs and the user secret with the base credentials instead "
    "of assuming the task definition's executionRoleArn.",
)
@aws_options
@json_option
def renew(
    taskdef: str, task_id: str, host: HostAgentOptions, json_output: bool, **aws: Any
) -> None:
    """Keep a domainless task's lease alive, as the ECS agent does (TASKDEF may be -).

    Run it when the task's execution-role credentials are refreshed, and for every
    running task after the ticket service restarted (it keeps domain users'
    passwords in memory only). The user secret named by the task's domainless specs
    is read again with the task execution role and sent with
    RenewNonDomainJoinedKerberosLease naming the task's lease, so a rotated
    password or a new user in the secret is used from now on, without a new
    lease. A new password the domain refuses fails the renew and is not adopted:
    the tickets in place stay valid. gmsa task run does this by itself while the
    task runs. A domain-joined lease needs nothing: the ticket service renews it
    by itself. Only the Linux host agent renews (on Windows the CCG plugin renews
    by itself).

    \b
    Examples:
      gmsa task renew taskdef.json --task-id 0123abcd
      gmsa task renew taskdef.json --task-id 0123abcd --json

    \b
    Exit codes:
      0  renewed, or nothing to renew
      1  the task definition or --platform is not one this command can renew
      2  command-line usage error
      3  AWS, the ticket service or the domain failed
    """
    if host.platform == "windows":
        raise InvalidInputError(
            "only the Linux host agent renews leases",
            where="--platform",
            fix="leave --platform out, or give linux (on Windows the CCG plugin renews)",
        )
    task_def = load_task_definition(taskdef)
    agent = host.agent("linux", task_def, aws)
    assert isinstance(agent, LinuxHostAgent)
    result = agent.renew(task_def, task_id)

    def text() -> None:
        if result.lease_id is None:
            click.echo(f"task {result.task_id}: nothing recorded for this task; nothing to renew")
        elif result.user is None:
            click.echo(
                f"task {result.task_id}: lease {result.lease_id} is domain-joined; "
                "the ticket service renews it by itself"
            )
        else:
            click.echo(f"task {result.task_id}: lease {result.lease_id} renewed as {result.user}")
            for path in result.renewed:
                click.echo(f"  renewed  {path}")

    emit_report([], ok=True, source=task_def.source, results=result.to_dict(), text=text)


@click.command(cls=GmsaCommand, short_help="Remove what prepare set up for a task.")
@task_id_option(required=True, help="The task's id, as given to prepare.")
@host_agent_options(platform_option(from_task_definition=False))
@json_option
def cleanup(task_id: str, host: HostAgentOptions, json_output: bool) -> None:
    """Remove what prepare set up for a task, and nothing else.

    Windows: only files recorded for the task that still hold what prepare wrote
    are removed; a file changed since is kept and reported. Linux: the task's lease
    is deleted through the ticket service. A task never prepared here (or already
    cleaned up) is not an error: nothing is removed.

    Without --platform, the agent that holds a record of the task cleans it up (the
    Windows agent's in --credspec-dir, the Linux agent's in --krb-dir); with no
    record, Windows when --credspec-dir is given, else this host's system. The
    output says which agent ran and why.

    \b
    Examples:
      gmsa task cleanup --task-id 0123abcd \\
          --credspec-dir 'C:\\ProgramData\\docker\\CredentialSpecs'
      gmsa task cleanup --task-id 0123abcd --platform linux

    \b
    Exit codes:
      0  cleaned up (or nothing to remove)
      1  invalid input
      2  command-line usage error
      3  the ticket service or the file system failed
    """
    chosen = host.platform_of_task(task_id)
    result = host.agent(chosen.platform, None, {}).cleanup(task_id)
    kept = [
        Finding(Severity.WARNING, "file-kept", "", f"kept: {kept.reason}", source=kept.file)
        for kept in result.kept
    ]
    emit_report(
        kept,
        ok=True,
        results={**result.to_dict(), **chosen.to_dict()},
        text=lambda: _print_cleanup(result, chosen),
    )


def _print_cleanup(result: CleanupResult, chosen: PlatformChoice) -> None:
    if result.known and chosen.platform == "linux":
        _print_lease_cleanup(result)
    else:
        _print_cleanup_result(result)
    click.echo(f"  {chosen.describe()}")


def _print_lease_cleanup(result: CleanupResult) -> None:
    if result.lease_id is None:
        click.echo(
            f"task {result.task_id}: the ticket service held no lease of this task (a prepare "
            "that did not finish made none); its record removed"
        )
    else:
        click.echo(f"task {result.task_id}: lease {result.lease_id} deleted")
    for lease in result.leases:
        if lease != result.lease_id:
            click.echo(f"  deleted  lease {lease} (made by a prepare that did not finish)")
    for name in result.removed:
        click.echo(f"  removed  {name}")
    for name in result.missing:
        click.echo(f"  gone     {name} (already deleted)")


def _print_cleanup_result(result: CleanupResult) -> None:
    if not result.known:
        click.echo(f"task {result.task_id}: nothing recorded for this task; nothing to remove")
        return
    click.echo(f"task {result.task_id}: removed {count(len(result.removed), 'file')}")
    for name in result.removed:
        click.echo(f"  removed  {name}")
    for name in result.missing:
        click.echo(f"  gone     {name} (already removed)")
    for kept in result.kept:
        click.echo(click.style(f"  kept     {kept.file} ({kept.reason})", fg="yellow"))


__all__ = [
    "HostAgentOptions",
    "PlatformChoice",
    "cleanup",
    "host_agent_options",
    "platform_for",
    "prepare",
    "renew",
]
