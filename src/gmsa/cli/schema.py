"""``gmsa schema``: the JSON Schemas of what gmsa prints."""

from __future__ import annotations

import click

from gmsa import jsondoc
from gmsa.cli._common import GmsaCommand, GmsaGroup
from gmsa.report import output_schema


@click.group(cls=GmsaGroup)
def schema() -> None:
    """JSON Schemas of gmsa's output: output (every --json document).

    \b
    Example:
      gmsa schema output > gmsa-output.schema.json
    """


@schema.command("output", cls=GmsaCommand)
def output() -> None:
    """Print the JSON Schema (draft 2020-12) every --json document follows.

    Each document has "ok" (true when the command found no error) and "findings"
    (severity, code, message, fix, path, source); the command's own results sit
    beside them under named keys. Exit code 0.

    \b
    Example:
      gmsa schema output > gmsa-output.schema.json
      gmsa task check taskdef.json --json | check-jsonschema --schemafile gmsa-output.schema.json -
    """
    click.echo(jsondoc.dumps(output_schema()), nl=False)


__all__ = [
    "output",
    "schema",
]
