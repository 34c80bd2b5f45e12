"""``gmsa schema``: the JSON Schemas of what gmsa prints."""

from __future__ import annotations

import click

from gmsa import jsondoc
from gmsa.cli._common import GmsaCommand, GmsaGroup
from gmsa.report import output_schema


@click.group(cls=GmsaGroup, short_help="JSON Schemas of what gmsa prints.")
def schema() -> None:
    """JSON Schemas of what gmsa prints.

    \b
    In the order they are used:
      output  the schema every --json document follows

    \b
    Examples:
      gmsa schema output > gmsa-output.schema.json
    """


@schema.command("output", cls=GmsaCommand, short_help="The JSON Schema of every --json document.")
def output() -> None:
    """Print the JSON Schema (draft 2020-12) every --json document follows.

    Each document has "ok" (true when the command found no error) and "findings"
    (severity, code, message, fix, path, source); the command's own results sit
    beside them under named keys.

    \b
    Examples:
      gmsa schema output > gmsa-output.schema.json
      gmsa task check taskdef.json --json | check-jsonschema --schemafile gmsa-output.schema.json -

    \b
    Exit codes:
      0  the schema was printed
      2  command-line usage error
    """
    click.echo(jsondoc.dumps(output_schema()), nl=False)


__all__ = [
    "output",
    "schema",
]
