"""``gmsa spec``: placeholder, filled in by its module owner."""

from __future__ import annotations

import click

from gmsa.cli._common import GmsaGroup
from gmsa.cli.spec_publish import publish


@click.group(cls=GmsaGroup)
def spec() -> None:
    """Credential specs: validate, show, publish, schema."""


spec.add_command(publish)
