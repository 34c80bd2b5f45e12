"""The pre-commit hooks' runner: ``python -m gmsa.cli.precommit task-check [OPTIONS] FILE...``.

pre-commit runs a hook once with every matching file as arguments, after the
hook's own ``args``; ``gmsa task check`` reads one task definition per run. So
``task-check`` takes ``gmsa task check``'s options followed by files, and runs the
check once per file with those options. ``gmsa spec validate`` takes many files
itself and needs no runner. The hooks are declared in ``.pre-commit-hooks.yaml``
at the repository root.
"""

from __future__ import annotations

import sys

import click

from gmsa.cli._common import GmsaGroup
from gmsa.cli.task import check
from gmsa.errors import ExitCode


@click.group(cls=GmsaGroup)
def precommit() -> None:
    """Run gmsa checks the way pre-commit calls them: options, then every matching file."""


_EACH = click.Command(
    "task-check",
    params=[
        *(p for p in check.params if p.name != "taskdef"),
        click.Argument(["taskdefs"], nargs=-1),
    ],
)
"""``gmsa task check``'s options with any number of files: it only tells the files apart
from the option values, so that each file can be checked with the same options."""


@precommit.command(
    "task-check",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def task_check(args: tuple[str, ...]) -> None:
    """Run "gmsa task check [OPTIONS] FILE" for each FILE; exit with the worst code."""
    argv = list(args)
    with _EACH.make_context("gmsa task check", list(argv)) as ctx:
        files: tuple[str, ...] = ctx.params["taskdefs"]
    options = argv[: len(argv) - len(files)]
    worst = int(ExitCode.OK)
    for name in files:
        try:
            check.main([*options, "--", name], prog_name="gmsa task check")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(ExitCode.INVALID)
            worst = max(worst, code)
    sys.exit(worst)


def main() -> None:
    """``python -m gmsa.cli.precommit``."""
    precommit(prog_name="python -m gmsa.cli.precommit")


if __name__ == "__main__":
    main()


__all__ = [
    "main",
    "precommit",
    "task_check",
]
