"""Shell completion (click's own, for bash, zsh and fish) through the installed command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gmsa.cli.main import main

GMSA = [sys.executable, "-m", "gmsa"]
VAR = "_GMSA_COMPLETE"


@pytest.fixture
def complete(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., list[str]]:
    """Run gmsa's entry point in completion mode with the environment the shell's script
    sets (COMP_WORDS, COMP_CWORD and the instruction); the lines it answers."""

    def run(shell: str, words: str, cword: str | None = None) -> list[str]:
        if cword is None:
            cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
        monkeypatch.setenv(VAR, f"{shell}_complete")
        monkeypatch.setenv("COMP_WORDS", words)
        monkeypatch.setenv("COMP_CWORD", cword)
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            main()
        assert exit_.value.code == 0
        return capsys.readouterr().out.splitlines()

    return run


def source(shell: str) -> str:
    env = {**os.environ, VAR: f"{shell}_source"}
    result = subprocess.run(GMSA, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("shell", "registers"),
    [
        ("bash", "complete -o nosort -F _gmsa_completion gmsa"),
        ("zsh", "compdef _gmsa_completion gmsa"),
        ("fish", "complete --no-files --command gmsa"),
    ],
)
def test_each_shell_gets_its_script(shell: str, registers: str) -> None:
    script = source(shell)
    assert registers in script
    assert f"{VAR}={shell}_complete" in script


def bash_values(lines: list[str]) -> list[str]:
    return [line.split(",", 1)[1] for line in lines if line.startswith("plain,")]


def test_bash_protocol_completes_groups_commands_and_flags(
    complete: Callable[..., list[str]],
) -> None:
    assert bash_values(complete("bash", "gmsa ta")) == ["task"]
    assert bash_values(complete("bash", "gmsa task ch")) == ["check"]
    assert set(bash_values(complete("bash", "gmsa t"))) == {"task", "tickets"}
    assert bash_values(complete("bash", "gmsa task check t.json --cre")) == ["--credspec-dir"]
    assert bash_values(complete("bash", "gmsa task prepare t.json --platform ")) == [
        "windows",
        "linux",
    ]


def test_deprecated_flags_are_not_offered(complete: Callable[..., list[str]]) -> None:
    assert bash_values(complete("bash", "gmsa task check t.json --sp")) == []
    assert bash_values(complete("bash", "gmsa iam check --ro")) == []
    assert bash_values(complete("bash", "gmsa tickets lease s.json --user")) == ["--user"]


def test_zsh_protocol_gives_values_with_their_summaries(complete: Callable[..., list[str]]) -> None:
    lines = complete("zsh", "gmsa task ch")
    assert lines[:2] == ["plain", "check"]
    assert lines[2] == "Lint a task definition for every gMSA rule."


def test_fish_protocol_gives_values_with_their_summaries(
    complete: Callable[..., list[str]],
) -> None:
    # fish passes the whole command line, and the partial word on its own.
    assert complete("fish", "gmsa task ch", "ch") == [
        "plain,check\tLint a task definition for every gMSA rule."
    ]


def test_bash_itself_completes_with_the_sourced_script(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    assert bash is not None, "bash is part of the test machine"
    script = tmp_path / "gmsa.bash"
    script.write_text(source("bash"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "gmsa"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gmsa "$@"\n')
    launcher.chmod(0o755)
    program = (
        f"source {script}\n"
        "complete -p gmsa\n"
        'for line in "gmsa ta" "gmsa task ch" "gmsa spec v"; do\n'
        '  read -r -a COMP_WORDS <<< "$line"\n'
        "  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
        "  COMPREPLY=()\n"
        "  _gmsa_completion gmsa\n"
        '  echo "$line => ${COMPREPLY[*]}"\n'
        "done\n"
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", program],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "complete -o nosort -F _gmsa_completion gmsa"
    assert lines[1:] == [
        "gmsa ta => task",
        "gmsa task ch => check",
        "gmsa spec v => validate verify",
    ]
