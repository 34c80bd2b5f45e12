"""``gmsa spec publish``: placeholder until the sources land."""

from __future__ import annotations

import click

from gmsa.cli._common import GmsaCommand


@click.command(cls=GmsaCommand)
def publish() -> None:
    """Validate a spec and store it in S3, SSM or a directory."""
