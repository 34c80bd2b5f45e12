"""Man pages for every command, generated from the commands' own help by click-man.

``python -m gmsa.cli.manpages DIR`` (or ``scripts/gen-man``) writes ``gmsa.1``,
``gmsa-task.1``, ``gmsa-task-check.1``, ... into DIR. click-man copies help texts
into roff as they are, so they are made roff-safe first: a backslash would start
a roff escape, a line starting with a dot would be a request, and click's ``\\b``
paragraphs (examples, exit codes) must keep their lines. The root group's epilog
(the exit codes) joins its description, which click-man would otherwise drop.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from gmsa import __version__

PROG = "gmsa"

_NO_WRAP = "\b"
"""click's marker for a paragraph whose lines are kept as written."""


def roff_text(text: str) -> str:
    """Plain text made safe for roff: backslashes printed, no line taken for a request."""
    escaped = text.replace("\\", "\\e")
    return "\n".join(
        "\\&" + line if line.startswith((".", "'")) else line for line in escaped.split("\n")
    )


def roff_description(help_text: str) -> str:
    """A click help text as roff: ``\\b`` paragraphs unfilled (.nf/.fi), the rest as text.

    Paragraphs stay separated by blank lines, which click-man turns into ``.PP``.
    """
    paragraphs = inspect.cleandoc(help_text).split("\n\n")
    out: list[str] = []
    for paragraph in paragraphs:
        lines = paragraph.split("\n")
        if lines[0].strip() == _NO_WRAP:
            out.append("\n".join([".nf", roff_text("\n".join(lines[1:])), ".fi"]))
        else:
            out.append(roff_text(paragraph))
    return "\n\n".join(out)


def walk(command: click.Command, path: tuple[str, ...] = (PROG,)) -> Iterator[tuple[str, ...]]:
    """The command paths of ``command`` and everything below it, e.g. ('gmsa', 'task')."""
    yield path
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            if not sub.hidden:
                yield from walk(sub, (*path, name))


def page_names(command: click.Command) -> list[str]:
    """The file names of the pages :func:`write` makes for ``command``'s tree."""
    return ["-".join(path) + ".1" for path in walk(command)]


@contextmanager
def _roff_safe(command: click.Command) -> Iterator[None]:
    """Hand click-man roff-safe help texts for the whole tree; restore them after."""
    saved: list[tuple[object, str, str | None]] = []

    def replace(target: object, attribute: str, value: str | None) -> None:
        saved.append((target, attribute, getattr(target, attribute)))
        setattr(target, attribute, value)

    def visit(cmd: click.Command) -> None:
        description = cmd.help or ""
        if cmd.epilog:
            description = f"{description}\n\n{cmd.epilog}"
        replace(cmd, "help", roff_description(description) if description else None)
        if cmd.short_help:
            replace(cmd, "short_help", roff_text(cmd.short_help))
        for param in cmd.params:
            if isinstance(param, click.Option) and param.help:
                replace(param, "help", roff_text(param.help))
        if isinstance(cmd, click.Group):
            for sub in cmd.commands.values():
                visit(sub)

    visit(command)
    try:
        yield
    finally:
        for target, attribute, value in reversed(saved):
            setattr(target, attribute, value)


def write(
    target: Path, command: click.Command | None = None, *, date: str | None = None
) -> list[Path]:
    """Write a man page per command of ``command`` (default: gmsa) into ``target``."""
    from click_man.core import write_man_pages

    if command is None:
        from gmsa.cli.main import cli

        command = cli
    target.mkdir(parents=True, exist_ok=True)
    with _roff_safe(command):
        write_man_pages(PROG, command, version=__version__, target_dir=str(target), date=date)
    return [target / name for name in page_names(command)]


def main(argv: list[str] | None = None) -> None:
    """``python -m gmsa.cli.manpages [DIR]``: write the pages into DIR (default: man)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else "man")
    pages = write(target)
    click.echo(f"wrote {len(pages)} man pages to {target}")


__all__ = [
    "PROG",
    "main",
    "page_names",
    "roff_description",
    "roff_text",
    "walk",
    "write",
]

if __name__ == "__main__":
    main()
