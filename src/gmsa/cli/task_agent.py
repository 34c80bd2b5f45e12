"""``gmsa task prepare`` / ``cleanup``: placeholder until the host agent lands."""

from __future__ import annotations

import click

from gmsa.cli._common import GmsaCommand


@click.command(cls=GmsaCommand)
def prepare() -> None:
    """Write a task's credential specs where Docker reads them."""


@click.command(cls=GmsaCommand)
def cleanup() -> None:
    """Remove what prepare wrote for a task."""
