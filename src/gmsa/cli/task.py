"""``gmsa task``: placeholder, filled in by its module owner."""

from __future__ import annotations

import click

from gmsa.cli._common import GmsaGroup
from gmsa.cli.task_agent import cleanup, prepare


@click.group(cls=GmsaGroup)
def task() -> None:
    """Task definitions: check, patch, prepare, cleanup."""


task.add_command(prepare)
task.add_command(cleanup)
