"""``gmsa spec``: placeholder, filled in by its module owner."""

from __future__ import annotations

import click

from gmsa.cli._common import GmsaGroup


@click.group(cls=GmsaGroup)
def spec() -> None:
    """spec commands."""
