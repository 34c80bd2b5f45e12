"""``gmsa demo``: placeholder."""

from __future__ import annotations

import click

from gmsa.cli._common import GmsaCommand


@click.command(cls=GmsaCommand)
def demo() -> None:
    """Run the whole path on an embedded AWS endpoint."""
