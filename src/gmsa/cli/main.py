"""Entry point of the ``gmsa`` command."""

from __future__ import annotations

import click

from gmsa import __version__
from gmsa.cli._common import GmsaGroup
from gmsa.cli.demo import demo
from gmsa.cli.doctor import doctor
from gmsa.cli.iam import iam
from gmsa.cli.ref import ref
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
def cli(verbose: bool) -> None:
    """Give containers Active Directory identities through gMSA credential specs,
    and check every step before it can fail.

    \b
    In the order they are used:
      spec     credential specs: generate, validate, show, publish, verify
      ref      check credential spec references (credentialspec:...)
      iam      the task execution role's IAM policy for references, and checking it
      task     task definitions: check, patch; prepare, cleanup, run, stop on a host
      doctor   check a gMSA setup against the domain before anything runs
      tickets  the Kerberos ticket service for Linux hosts (credentials-fetcher API)
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


cli.add_command(spec)
cli.add_command(ref)
cli.add_command(iam)
cli.add_command(task)
cli.add_command(demo)
cli.add_command(doctor)
cli.add_command(tickets)


def main() -> None:
    """Console script."""
    cli(prog_name="gmsa")


__all__ = [
    "EPILOG",
    "cli",
    "main",
]
