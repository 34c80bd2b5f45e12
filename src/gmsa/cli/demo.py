"""``gmsa demo``: the Amazon ECS documentation's gMSA example, on an embedded AWS endpoint."""

from __future__ import annotations

import click

from gmsa.cli._common import GmsaCommand
from gmsa.errors import ExitCode


@click.command(cls=GmsaCommand, short_help="Run the whole path on a local AWS endpoint.")
def demo() -> None:
    """Run the whole path on an embedded, loopback-only AWS endpoint.

    \b
    Takes the gMSA example of the Amazon ECS documentation: starts moto on
    127.0.0.1, publishes its credential spec to S3, SSM and a CredentialSpecs
    directory, creates a task execution role with its two inline policies,
    switches IAM enforcement on, and walks its three task definitions through
    check, prepare and cleanup. Then two
    broken variants fail with their errors: a role without the permission, and
    a hostname that breaks the Windows Server 2016 rule.

    \b
    Examples:
      gmsa demo

    \b
    Exit codes:
      0  everything behaved as shown
      1  something did not
    """
    from gmsa.demo import run

    outcome = run(click.echo)
    if not outcome.ok:
        raise SystemExit(int(ExitCode.INVALID))


__all__ = [
    "demo",
]
