"""Every command that reads input, driven in process with generated hostile files,
arguments and references (tests/support/hostile.py, tests/support/hostile_cli.py).

For every example, whatever the input:

- the exit code is 0, 1, 2 or 3, and no exception other than the CLI's own exit
  escapes (no traceback on any stream);
- with ``--json`` (or ``--format json|sarif``) standard output is exactly one JSON
  document, following its schema;
- nothing outside the directories the command is given changes: the input files, a
  canary directory that links in the sandbox point at, and ``HOME`` stay as they were;
- the command ends within a time bound (a FIFO, a link loop, an alias bomb or a
  backtracking pattern must not make it hang).

Every command of the click tree is either driven here (``CASES``) or named in
``NOT_DRIVEN`` with the reason, so a new command cannot go untested unnoticed.
Commands that would reach AWS find no credentials (and no instance metadata) and
fail at once; the ticket service, Docker and the domain controller are sockets and
addresses nothing listens on.

The number of examples per command is small and derandomised by default, so CI is
reproducible; ``GMSA_FUZZ_EXAMPLES=2000`` runs a longer search (shrinking what it
finds), ``GMSA_FUZZ_SEED=<n>`` another fixed sequence, ``GMSA_FUZZ_SEED=random`` a
new one each run; ``GMSA_FUZZ_TRACE=1`` (with ``-s``) prints one line per run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmsa.cli.main import cli
from tests.support.hostile_cli import (
    CASES,
    Invocation,
    check,
    fuzz,
    hostile_environment,
    invoke,
    run_example,
)

NOT_DRIVEN = {
    "demo": "reads no input: it runs the whole path on its own embedded AWS endpoint "
    "(tests/integration/aws/test_demo.py)",
    "schema output": "reads no input (test_commands_without_input below)",
    "spec schema": "reads no input (test_commands_without_input below)",
}


def command_names(command: click.Command = cli, prefix: str = "") -> set[str]:
    """Every runnable command of the click tree, as ``group command``."""
    if isinstance(command, click.Group):
        out: set[str] = set()
        for name, sub in command.commands.items():
            out |= command_names(sub, f"{prefix} {name}".strip())
        return out
    return {prefix}


def test_every_command_is_driven_or_consciously_left_out() -> None:
    assert command_names() == set(CASES) | set(NOT_DRIVEN)
    assert not set(CASES) & set(NOT_DRIVEN)


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The directory examples make their sandboxes in (and the working directory)."""
    home = tmp_path / "home"
    home.mkdir()
    hostile_environment(monkeypatch, home)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.mark.parametrize("command", sorted(CASES))
@fuzz
@given(data=st.data())
def test_hostile_input_ends_in_a_typed_answer(command: str, base: Path, data: Any) -> None:
    run_example(base, CASES[command], data)


@pytest.mark.parametrize("args", [["schema", "output"], ["spec", "schema"]])
def test_commands_without_input(args: list[str], base: Path) -> None:
    outcome = invoke(Invocation(args), base)
    check(Invocation(args), outcome, None)
    assert outcome.result.exit_code == 0
    json.loads(outcome.result.stdout)
