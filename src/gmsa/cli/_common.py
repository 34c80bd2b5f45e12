"""What every command shares: output formats, error reporting and exit codes.

Each command module builds its commands with :data:`command` (a click command
class) so that a :class:`~gmsa.errors.GmsaError` anywhere below becomes its
diagnostics on stderr (or the JSON envelope / SARIF log on stdout) and the
error's exit code, never a traceback.

A command that reports findings ends with :func:`emit_report`: the one place
that decides between text, the JSON envelope (:func:`gmsa.report.envelope`) and
SARIF (:func:`gmsa.report.sarif_log`). Text is printed with the helpers here:
:func:`echo_findings` (one way to show a finding), :func:`gmsa.findings.count` ("1 error",
"2 errors"), :func:`listing` and :func:`echo_success`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import FrameType
from typing import Any, cast

import click

from gmsa.cli._aws import F
from gmsa.errors import ExitCode, GmsaError
from gmsa.findings import Finding, Severity, count, has_errors
from gmsa.inputfile import STDIN
from gmsa.printable import make_printable, printable_json, writes_unicode
from gmsa.report import (
    LineLookup,
    envelope,
    error_envelope,
    error_findings,
    sarif_log,
)


class OutputFormat(StrEnum):
    """What a command prints on stdout."""

    TEXT = "text"
    """For a person."""
    JSON = "json"
    """The JSON envelope (``gmsa schema output``)."""
    SARIF = "sarif"
    """A SARIF 2.1.0 log, for code review tools."""


@dataclass(frozen=True)
class Output:
    """How the user asked a command to print."""

    format: OutputFormat = OutputFormat.TEXT
    quiet: bool = False
    """Text only: print problems (errors and warnings) and nothing else."""

    @property
    def machine(self) -> bool:
        """Whether stdout is for a program (JSON or SARIF)."""
        return self.format is not OutputFormat.TEXT


_OUTPUT_KEY = "gmsa.output"


def output_options(f: F) -> F:
    """Add ``--format text|json|sarif``, ``--json`` (the same as ``--format json``)
    and ``--quiet``. The command still receives ``json_output`` (true for JSON);
    :func:`current_output` tells the rest."""

    @functools.wraps(f)
    def chosen(*args: Any, **kwargs: Any) -> Any:
        given = kwargs.pop("output_format")
        quiet = bool(kwargs.pop("quiet"))
        as_json = bool(kwargs.get("json_output"))
        if as_json and given not in (None, OutputFormat.JSON.value):
            raise click.UsageError(f"--json is --format json; it does not go with --format {given}")
        fmt = OutputFormat.JSON if as_json else OutputFormat(given or OutputFormat.TEXT.value)
        click.get_current_context().meta[_OUTPUT_KEY] = Output(fmt, quiet)
        kwargs["json_output"] = fmt is OutputFormat.JSON
        return f(*args, **kwargs)

    options = [
        click.option(
            "--json",
            "json_output",
            is_flag=True,
            help="Print machine-readable JSON on stdout instead of text.",
        ),
        click.option(
            "--format",
            "output_format",
            type=click.Choice([f.value for f in OutputFormat]),
            help="text (default), json (the same as --json; gmsa schema output describes it) "
            "or sarif (SARIF 2.1.0 for code review tools).",
        ),
        click.option("--quiet", "-q", is_flag=True, help="Print only problems."),
    ]
    decorated: Any = chosen
    for option in reversed(options):
        decorated = option(decorated)
    return cast(F, decorated)


json_option = output_options
"""The output options under the name commands have always imported."""


def current_output() -> Output:
    """The output the running command was asked for (text outside a command)."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        found = ctx.meta.get(_OUTPUT_KEY)
        if isinstance(found, Output):
            return found
        ctx = ctx.parent
    return Output()


def printable_streams() -> None:
    """Let stdout and stderr print any text: a character their encoding cannot hold, or
    a byte of a file name that is not UTF-8, is printed as an escape instead of ending
    the command halfway through its output (:mod:`gmsa.printable`)."""
    make_printable(sys.stdout)
    make_printable(sys.stderr)


class GmsaCommand(click.Command):
    """A click command that turns gmsa errors into diagnostics and exit codes."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command with :func:`printable_streams`."""
        printable_streams()
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GmsaError as exc:
            output = ctx.meta.get(_OUTPUT_KEY)
            if not isinstance(output, Output):
                as_json = bool(ctx.params.get("json_output"))
                output = Output(OutputFormat.JSON if as_json else OutputFormat.TEXT)
            report_error(exc, output=output, verbose=_verbose(ctx))
            ctx.exit(int(exc.exit_code))


class GmsaGroup(click.Group):
    """A click group whose commands are :class:`GmsaCommand` by default."""

    command_class = GmsaCommand

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the group with :func:`printable_streams`."""
        printable_streams()
        return super().main(*args, **kwargs)


GmsaGroup.group_class = GmsaGroup


def _verbose(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("verbose"))


def report_error(
    exc: GmsaError,
    *,
    json_output: bool = False,
    verbose: bool = False,
    output: Output | None = None,
) -> None:
    """Print an error the way the user asked for output: diagnostics on stderr, or the
    envelope (``ok`` false, the error as findings, ``error``) or a SARIF log on stdout."""
    if output is None:
        output = Output(OutputFormat.JSON if json_output else OutputFormat.TEXT)
    if output.format is OutputFormat.JSON:
        emit_json(error_envelope(exc))
    elif output.format is OutputFormat.SARIF:
        emit_json(sarif_log(error_findings(exc), completed=False))
    else:
        click.echo(exc.diagnostics(), err=True)
        if verbose and exc.__cause__ is not None:
            cause = exc.__cause__
            click.echo(f"  cause: {type(cause).__name__}: {cause}", err=True)


def emit_json(value: Any) -> None:
    """Print a JSON value on stdout: always one valid JSON document, whatever the text in
    it (surrogates become their escapes' text) and whatever stdout's encoding (all
    non-ASCII characters are escaped when it is not UTF)."""
    ascii_only = not writes_unicode(sys.stdout)
    click.echo(json.dumps(printable_json(value), indent=2, ensure_ascii=ascii_only))


def emit_report(
    findings: Sequence[Finding],
    *,
    ok: bool | None = None,
    source: str | None = None,
    results: Mapping[str, Any] | None = None,
    text: Callable[[], None] | None = None,
    lines: LineLookup | None = None,
    err: bool = False,
    completed: bool = True,
) -> None:
    """Print a command's report in the format asked for.

    ``findings``: every finding, about ``source`` (the checked file or reference)
    unless one names its own. ``ok``: default, no finding is an error. ``results``:
    the command's own JSON keys beside ``ok`` and ``findings``. ``text``: prints the
    report for a person (default: the findings); with ``--quiet`` only the problems
    are printed instead (on stderr with ``err``, for commands whose stdout is a
    document). ``lines``: where a JSON path is in a source file, for SARIF.
    ``completed``: false when the command stopped before the end (interrupted), which
    a SARIF log records.
    """
    output = current_output()
    if output.format is OutputFormat.JSON:
        emit_json(envelope(findings, ok=ok, source=source, results=results))
    elif output.format is OutputFormat.SARIF:
        emit_json(sarif_log(findings, source=source, lines=lines, completed=completed))
    elif output.quiet or text is None:
        echo_findings([f for f in findings if f.severity is not Severity.INFO], err=err)
    else:
        text()


_COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: None}


def echo_findings(findings: Sequence[Finding], *, indent: str = "  ", err: bool = False) -> None:
    """Print findings for a person, errors first (on stderr with ``err``): the one way
    a finding is shown (``error: PATH: message`` and a ``fix:`` line)."""
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    for finding in sorted(findings, key=lambda f: order[f.severity]):
        first, *rest = finding.render().split("\n")
        click.echo(indent + click.style(first, fg=_COLORS[finding.severity]), err=err)
        for line in rest:
            click.echo(indent + line, err=err)


def finding_counts(findings: Sequence[Finding]) -> str:
    """``2 errors, 1 warning`` for the findings (only the kinds present; empty if none)."""
    parts = []
    for severity, noun in ((Severity.ERROR, "error"), (Severity.WARNING, "warning")):
        number = sum(f.severity is severity for f in findings)
        if number:
            parts.append(count(number, noun))
    return ", ".join(parts)


def listing(items: Iterable[object], *, empty: str = "none") -> str:
    """Items for a sentence: ``a.json, b.json`` (``empty`` when there are none)."""
    texts = [str(item) for item in items]
    return ", ".join(texts) if texts else empty


def echo_success(text: str, *, err: bool = False) -> None:
    """A success line: a green tick, then ``text``."""
    click.echo(click.style("✓", fg="green") + f" {text}", err=err)


def echo_failure(text: str, *, err: bool = False) -> None:
    """A failure line: a red cross, then ``text``."""
    click.echo(click.style("✗", fg="red") + f" {text}", err=err)


def exit_for(findings: Sequence[Finding]) -> int:
    """Exit code for a check: 1 when any finding is an error, else 0."""
    return int(ExitCode.INVALID if has_errors(findings) else ExitCode.OK)


def finish(code: int) -> None:
    """Exit with ``code`` (used after a check has printed its report)."""
    sys.exit(code)


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM stops the command as Ctrl-C does (``KeyboardInterrupt``),
    so what it does on Ctrl-C (clean up, report what it has) happens either way."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = [
    "STDIN",
    "GmsaCommand",
    "GmsaGroup",
    "Output",
    "OutputFormat",
    "current_output",
    "echo_failure",
    "echo_findings",
    "echo_success",
    "emit_json",
    "emit_report",
    "exit_for",
    "finding_counts",
    "finish",
    "json_option",
    "listing",
    "output_options",
    "printable_streams",
    "report_error",
    "sigterm_interrupts",
]
