"""Entry point of the ``gmsa`` command."""

from __future__ import annotations

import io
import os
import sys
from typing import Any

import click

from gmsa import __version__
from gmsa.cli._common import GmsaGroup
from gmsa.cli.audit import audit
from gmsa.cli.demo import demo
from gmsa.cli.doctor import doctor
from gmsa.cli.export import export
from gmsa.cli.iam import iam
from gmsa.cli.ref import ref
from gmsa.cli.schema import schema
from gmsa.cli.spec import spec
from gmsa.cli.task import task
from gmsa.cli.tickets import tickets

EPILOG = """\b
Exit codes:
  0  success
  1  the input is invalid or a check found problems
  2  command-line usage error
  3  an outside system (AWS, AD, Docker, file system) failed or refused
"""


@click.group(
    cls=GmsaGroup,
    epilog=EPILOG,
    short_help="Active Directory identities for containers through gMSA credential specs.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="gmsa")
@click.option("-v", "--verbose", is_flag=True, help="Show the underlying cause of errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Give containers Active Directory identities through gMSA credential specs,
    and check every step before it can fail.

    \b
    In the order they are used:
      spec     credential specs: generate, validate, show, publish, verify
      ref      check credential spec references (credentialspec:...)
      iam      the task execution role's IAM policy for references, and checking it
      task     task definitions: check, patch; prepare, cleanup, run, stop on a host
      audit    every task definition of an account: which would fail, and why
      doctor   check a gMSA setup against the domain before anything runs
      tickets  the Kerberos ticket service for Linux hosts (credentials-fetcher API)
      export   a credential spec for Kubernetes and Docker
      schema   the JSON Schemas of what gmsa prints
      demo     the whole path on a local AWS endpoint

    \b
    Examples:
      gmsa spec validate webapp01.json
      gmsa spec publish webapp01.json s3://bucket/specs/webapp01.json
      gmsa iam policy credentialspec:arn:aws:s3:::bucket/specs/webapp01.json
      gmsa task check taskdef.json

    Every command's --help shows examples and its exit codes. Shell completion
    for bash: eval "$(_GMSA_COMPLETE=bash_source gmsa)" (zsh: zsh_source, fish:
    fish_source).
    """
    if os.environ.get("NO_COLOR"):
        # https://no-color.org: no colour when NO_COLOR is set, whatever the terminal.
        ctx.color = False


cli.add_command(spec)
cli.add_command(ref)
cli.add_command(iam)
cli.add_command(task)
cli.add_command(audit)
cli.add_command(demo)
cli.add_command(doctor)
cli.add_command(tickets)
cli.add_command(schema)
cli.add_command(export)


class _ClosedPipeTolerant(io.RawIOBase):
    """Standard output that a reader may close early (``gmsa ... | head``): what cannot
    be written any more is dropped, so the command still ends with its own exit code."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._closed_by_reader = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: Any) -> int:
        size = len(memoryview(data))
        if self._closed_by_reader:
            return size
        try:
            return os.write(self._fd, data)
        except BrokenPipeError:
            self._closed_by_reader = True
            return size


def _tolerate_closed_stdout() -> None:
    """Let the reader of a piped stdout close it without failing the command."""
    stdout = sys.stdout
    if stdout is None or stdout.isatty():
        return
    try:
        fd = stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    stdout.flush()
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(_ClosedPipeTolerant(fd)),
        encoding=stdout.encoding,
        errors=stdout.errors,
        line_buffering=bool(stdout.line_buffering),
    )


def main() -> None:
    """Console script."""
    _tolerate_closed_stdout()
    cli(prog_name="gmsa")


__all__ = [
    "EPILOG",
    "cli",
    "main",
]
