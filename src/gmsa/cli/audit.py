"""``gmsa audit``: which task definitions of an account would fail to get their gMSA
identity, and why.

This module parses the options, shows progress and prints the result; the walk
is :mod:`gmsa.audit.engine`.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import IO

import click

from gmsa.audit.ecs import Selection, Status
from gmsa.audit.engine import (
    DEFAULT_CONCURRENCY,
    MAX_ATTEMPTS,
    MAX_CONCURRENCY,
    Audit,
    AuditOptions,
    Counts,
)
from gmsa.audit.results import AuditedTaskDefinition, AuditResult, Cause, Outcome, causes
from gmsa.audit.results import not_checked_causes as unread_causes
from gmsa.aws import AwsConfig, AwsOptionError, check_region
from gmsa.cli._aws import aws_regions_options
from gmsa.cli._common import (
    GmsaCommand,
    current_output,
    echo_failure,
    echo_findings,
    echo_success,
    emit_report,
    json_option,
    sigterm_interrupts,
)
from gmsa.findings import Severity, count

PROGRESS_SECONDS = 0.5
"""How often the progress line is redrawn."""
EXAMPLE_CHARS = 100
"""A cause's example message in the summary is cut to this length (the task
definitions below it show each message whole)."""


class Progress:
    """A line on a terminal that says how far the audit is (counts and rate), redrawn
    every :data:`PROGRESS_SECONDS` from its own thread; erased at the end."""

    def __init__(self, audit: Audit, stream: IO[str]) -> None:
        self.audit = audit
        self.stream = stream
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gmsa-audit-progress", daemon=True)
        self._width = 0

    @staticmethod
    def line(counts: Counts) -> str:
        """The progress line for ``counts``."""
        return (
            f"{counts.listed} listed, {counts.read} read ({counts.rate:.0f}/s), "
            f"{counts.using_gmsa} use gMSA: {counts.would_fail} would fail, "
            f"{counts.passed} pass, {counts.not_checked} not checked"
        )

    def draw(self) -> None:
        """Redraw the line now."""
        text = self.line(self.audit.counts())
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def erase(self) -> None:
        """Take the line away."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def _loop(self) -> None:
        while not self._done.wait(PROGRESS_SECONDS):
            self.draw()

    @contextlib.contextmanager
    def shown(self) -> Iterator[None]:
        """Show the line while the block runs."""
        self._thread.start()
        try:
            yield
        finally:
            self._done.set()
            self._thread.join()
            self.erase()


def _regions(given: tuple[str, ...], aws: AwsConfig) -> tuple[str, ...]:
    regions = tuple(dict.fromkeys(given))
    if not regions:
        default = aws.base_session().region_name
        if not default:
            raise click.UsageError(
                "no region: give --region (repeat it for several), or set AWS_REGION"
            )
        regions = (default,)
    for region in regions:  # the profile's region too, as --region checks its own
        try:
            check_region(region)
        except AwsOptionError as exc:
            raise click.UsageError(f"--region {region}: {exc.what}; {exc.fix}") from None
    return regions


@click.command(
    "audit",
    cls=GmsaCommand,
    short_help="Find the task definitions of an account that would fail gMSA.",
)
@click.option(
    "--family-prefix",
    metavar="PREFIX",
    help="Only task definition families whose name starts with PREFIX.",
)
@click.option(
    "--status",
    type=click.Choice([s.value for s in Status]),
    default=Status.ACTIVE.value,
    show_default=True,
    help="Audit registered (ACTIVE) or deregistered (INACTIVE) task definitions.",
)
@click.option(
    "--all-revisions",
    is_flag=True,
    help="Every revision with that status, not only each family's latest.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, MAX_CONCURRENCY),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    metavar="N",
    help="Task definitions read and checked at once (AWS throttling is backed off "
    "from adaptively).",
)
@aws_regions_options
@json_option
def audit(
    family_prefix: str | None,
    status: str,
    all_revisions: bool,
    concurrency: int,
    regions: tuple[str, ...],
    endpoint_url: str | None,
    profile: str | None,
    aws_timeout: float,
    json_output: bool,
) -> None:
    """Check every task definition of the account that uses gMSA, as task check does.

    Lists the task definitions of each region (each family's latest ACTIVE
    revision by default), reads each, and checks those with a credential spec
    with every rule of gmsa task check. Beyond an offline check: each S3 or SSM
    spec they reference is fetched and validated (once, however many share it),
    and each execution role's inline and attached policies are read from IAM
    (once per role) and evaluated against exactly what its references need. A
    spec or a role that does not exist is an error; file:// specs are on the
    hosts and reported as such. The credentials in use need ecs:List* and
    ecs:DescribeTaskDefinition, read access to the specs, and the IAM read
    actions of gmsa iam check --check-role; no role is assumed.

    Prints the causes, worst first, then the task definitions that would fail or
    warn, and those that could not be checked, with why. On a terminal a
    progress line shows counts and rate; Ctrl-C prints what was found so far.

    \b
    Examples:
      gmsa audit
      gmsa audit --region us-east-1 --region eu-west-1 --family-prefix web-
      gmsa audit --all-revisions --json > audit.json
      gmsa audit --format sarif > audit.sarif

    \b
    Exit codes:
      0    nothing would fail (task definitions that could not be checked are listed)
      1    some task definition would fail
      2    command-line usage error
      3    nothing could be checked: every read failed (AWS refused or failed)
      130  interrupted (Ctrl-C or SIGTERM); what was found so far is printed
    """
    base = AwsConfig(endpoint_url=endpoint_url, profile=profile, timeout=aws_timeout)
    chosen = _regions(regions, base)
    aws = replace(
        base,
        region=chosen[0],
        retry_mode="adaptive",
        max_attempts=MAX_ATTEMPTS,
        max_pool_connections=concurrency + 2,
    )
    options = AuditOptions(
        regions=chosen,
        selection=Selection(
            status=Status(status),
            all_revisions=all_revisions,
            family_prefix=family_prefix or None,
        ),
        concurrency=concurrency,
    )
    runner = Audit(aws, options)
    output = current_output()
    stderr = sys.stderr
    show = stderr.isatty() and not output.quiet
    progress = Progress(runner, stderr) if show else None
    with contextlib.ExitStack() as stack:
        stack.enter_context(sigterm_interrupts())
        if progress is not None:
            stack.enter_context(progress.shown())
        result = runner.run()
    code = result.exit_code()
    emit_report(
        result.findings(),
        ok=code == 0,
        results=result.to_dict(),
        text=lambda: _echo_result(result),
        completed=not result.interrupted,
    )
    click.get_current_context().exit(code)


def _what_listed(result: AuditResult) -> str:
    noun = "family" if result.selection.by_family else "task definition"
    plural = "families" if result.selection.by_family else None
    return count(result.listed, noun, plural)


def _echo_result(result: AuditResult) -> None:
    if result.interrupted:
        click.echo(click.style("interrupted: what was found before Ctrl-C", fg="yellow"))
    account = f"account {result.account}" if result.account else "the account"
    click.echo(
        f"audit of {account} in {', '.join(result.regions)}: {_what_listed(result)} listed, "
        f"{count(result.read, 'task definition')} read, {len(result.audited)} use gMSA "
        f"({result.seconds:.1f} s)"
    )
    tally = (
        f"{result.passed} pass, {result.not_checked} not checked"
        if result.not_checked
        else f"{result.passed} pass"
    )
    if result.would_fail:
        echo_failure(f"{count(result.would_fail, 'task definition')} would fail; {tally}")
    elif result.checked or not result.not_checked:
        echo_success(f"none would fail; {tally}")
    else:
        echo_failure(f"nothing could be checked; {tally}")
    found = causes(result.audited)
    _echo_causes(
        "would fail, by cause (worst first):", [c for c in found if c.severity is Severity.ERROR]
    )
    _echo_causes("warnings:", [c for c in found if c.severity is Severity.WARNING])
    _echo_causes("not checked:", unread_causes(result.audited, result.not_read))
    _echo_causes("notes:", [c for c in found if c.severity is Severity.INFO])
    order = {Outcome.FAIL: 0, Outcome.NOT_CHECKED: 1, Outcome.PASS: 2}
    shown = sorted((t for t in result.audited if _worth_showing(t)), key=lambda t: order[t.outcome])
    for task in shown:
        click.echo()
        _echo_task(task)
    if result.not_read:
        click.echo()
        click.echo("not read:")
        for item in result.not_read:
            click.echo(f"  {item.source}: {item.reason.render()}")
            if item.reason.fix:
                click.echo(f"    fix: {item.reason.fix}")


def _echo_causes(title: str, found: list[Cause]) -> None:
    if not found:
        return
    click.echo()
    click.echo(title)
    width = max(len(c.code) for c in found)
    for cause in found:
        example = cause.example
        if len(example) > EXAMPLE_CHARS:
            example = example[: EXAMPLE_CHARS - 3].rstrip() + "..."
        many = (
            f"{cause.task_definitions} not read or not checked"
            if cause.not_checked
            else count(cause.task_definitions, "task definition")
        )
        click.echo(f"  {cause.code.ljust(width)}  {many}  e.g. {example}")


def _worth_showing(task: AuditedTaskDefinition) -> bool:
    return task.outcome is not Outcome.PASS or any(
        f.severity is Severity.WARNING for f in task.findings
    )


_VERDICT = {
    Outcome.FAIL: click.style("would fail", fg="red"),
    Outcome.PASS: click.style("passes", fg="green"),
    Outcome.NOT_CHECKED: click.style("not checked", fg="yellow"),
}


def _echo_task(task: AuditedTaskDefinition) -> None:
    click.echo(f"{task.arn}: {_VERDICT[task.outcome]}")
    echo_findings([replace(f, source=None) for f in task.findings], indent="  ")
    for reason in task.unchecked:
        click.echo(f"  not checked: {reason.render()}")
        if reason.fix:
            click.echo(f"      fix: {reason.fix}")


__all__ = [
    "EXAMPLE_CHARS",
    "PROGRESS_SECONDS",
    "Progress",
    "audit",
]
