"""``gmsa iam``: placeholder, filled in by its module owner."""

from __future__ import annotations

import click

from gmsa.cli._common import GmsaGroup


@click.group(cls=GmsaGroup)
def iam() -> None:
    """iam commands."""
