"""What every command shares: ``--json``, error reporting and exit codes.

Each command module builds its commands with :data:`command` (a click command
class) so that a :class:`~gmsa.errors.GmsaError` anywhere below becomes its
diagnostics on stderr (or a JSON object on stdout with ``--json``) and the
error's exit code, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from gmsa.errors import ExitCode, GmsaError
from gmsa.findings import Finding, Severity, has_errors

json_option = click.option(
    "--json",
    "json_output",
    is_flag=True,
    help="Print machine-readable JSON on stdout instead of text.",
)


class GmsaCommand(click.Command):
    """A click command that turns gmsa errors into diagnostics and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GmsaError as exc:
            report_error(
                exc, json_output=bool(ctx.params.get("json_output")), verbose=_verbose(ctx)
            )
            ctx.exit(int(exc.exit_code))


class GmsaGroup(click.Group):
    """A click group whose commands are :class:`GmsaCommand` by default."""

    command_class = GmsaCommand


GmsaGroup.group_class = GmsaGroup


def _verbose(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("verbose"))


def report_error(exc: GmsaError, *, json_output: bool, verbose: bool = False) -> None:
    """Print an error the way the user asked for output."""
    if json_output:
        click.echo(json.dumps({"error": exc.to_dict()}, indent=2))
    else:
        click.echo(exc.diagnostics(), err=True)
        if verbose and exc.__cause__ is not None:
            click.echo(f"  cause: {exc.__cause__!r}", err=True)


def emit_json(value: Any) -> None:
    """Print a JSON value on stdout."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def echo_findings(findings: Sequence[Finding], *, indent: str = "  ", err: bool = False) -> None:
    """Print findings for a person, errors first (on stderr with ``err``)."""
    ordered = sorted(findings, key=lambda f: f.severity is not Severity.ERROR)
    for finding in ordered:
        color = "red" if finding.severity is Severity.ERROR else "yellow"
        first, *rest = finding.render().split("\n")
        click.echo(indent + click.style(first, fg=color), err=err)
        for line in rest:
            click.echo(indent + line, err=err)


def exit_for(findings: Sequence[Finding]) -> int:
    """Exit code for a check: 1 when any finding is an error, else 0."""
    return int(ExitCode.INVALID if has_errors(findings) else ExitCode.OK)


def finish(code: int) -> None:
    """Exit with ``code`` (used after a check has printed its report)."""
    sys.exit(code)


__all__ = [
    "GmsaCommand",
    "GmsaGroup",
    "echo_findings",
    "emit_json",
    "exit_for",
    "finish",
    "json_option",
    "report_error",
]
