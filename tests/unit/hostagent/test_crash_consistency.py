"""A `task prepare` (or `cleanup`) killed (SIGKILL) at every change it makes to the file system.

The process kills itself just before its Nth change through the crash-test hook
of gmsa.fsutil (GMSA_FAULT_KILL_AT_STEP), for every N until a prepare runs to the
end. After each kill, `task cleanup` (or a new prepare and then cleanup) must
leave the CredentialSpecs folder exactly as it was before: the user's files
untouched, no spec, ledger, lock or temporary file of gmsa's left.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gmsa.cli.main import cli
from gmsa.fsutil import FAULT_STEP_ENV
from tests.support.crash import killed_at
from tests.unit.hostagent.specfiles import (
    TASK_ARN,
    TASK_ID,
    agent,
    domainless_spec,
    snapshot,
    task,
    task_document,
    user_files,
)

CONTAINERS = 7
REFERENCES = 4


def prepare_args(taskdef: Path, specdir: Path) -> list[str]:
    return [
        "task",
        "prepare",
        str(taskdef),
        "--task-id",
        TASK_ID,
        "--task-arn",
        TASK_ARN,
        "--credspec-dir",
        str(specdir),
        "--json",
    ]


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, Path]:
    specdir = tmp_path / "CredentialSpecs"
    specdir.mkdir()
    refs = user_files(specdir, REFERENCES)
    taskdef = tmp_path / "taskdef.json"
    taskdef.write_text(json.dumps(task_document(refs, CONTAINERS)))
    return specdir, taskdef


def sweep(args: list[str], after_kill: Callable[[int], None]) -> int:
    """Kill the command at step 1, 2, ... until it finishes; ``after_kill`` checks each."""
    step = 1
    while killed_at(step, args):
        after_kill(step)
        step += 1
    return step


def test_cleanup_after_a_kill_at_any_step_restores_the_folder(
    folder: tuple[Path, Path],
) -> None:
    specdir, taskdef = folder
    before = snapshot(specdir)

    def check(step: int) -> None:
        agent(specdir).cleanup(TASK_ID)
        assert snapshot(specdir) == before, f"killed at step {step}"

    steps = sweep(prepare_args(taskdef, specdir), check)
    assert steps > 3 * REFERENCES  # every file's write was interrupted somewhere
    agent(specdir).cleanup(TASK_ID)
    assert snapshot(specdir) == before


def test_prepare_after_a_kill_at_any_step_recovers(folder: tuple[Path, Path]) -> None:
    specdir, taskdef = folder
    before = snapshot(specdir)
    refs = [f"credentialspecdomainless:file://app{n}.json" for n in range(REFERENCES)]
    host = agent(specdir)
    expected = host.prepare(task(refs, CONTAINERS), TASK_ID, TASK_ARN)
    prepared = snapshot(specdir)
    host.cleanup(TASK_ID)

    def check(step: int) -> None:
        again = agent(specdir).prepare(task(refs, CONTAINERS), TASK_ID, TASK_ARN)
        assert again.containers == expected.containers, f"killed at step {step}"
        assert snapshot(specdir) == prepared, f"killed at step {step}"
        agent(specdir).cleanup(TASK_ID)
        assert snapshot(specdir) == before, f"killed at step {step}"

    sweep(prepare_args(taskdef, specdir), check)


def test_a_killed_prepare_over_an_earlier_one_is_cleaned_up_too(
    folder: tuple[Path, Path],
) -> None:
    """The task was prepared; its spec changed; the new prepare is killed part-way. The
    files then hold the old content or the new: cleanup recognises both as gmsa's."""
    specdir, taskdef = folder
    refs = [f"credentialspecdomainless:file://app{n}.json" for n in range(REFERENCES)]

    def reset() -> None:
        agent(specdir).cleanup(TASK_ID)
        (specdir / "app0.json").write_bytes(domainless_spec("App0"))
        agent(specdir).prepare(task(refs, CONTAINERS), TASK_ID, TASK_ARN)
        (specdir / "app0.json").write_bytes(domainless_spec("Changed0"))

    reset()
    agent(specdir).cleanup(TASK_ID)
    before = snapshot(specdir)
    reset()

    def check(step: int) -> None:
        agent(specdir).cleanup(TASK_ID)
        assert snapshot(specdir) == before, f"killed at step {step}"
        reset()

    assert sweep(prepare_args(taskdef, specdir), check) > 3 * REFERENCES


def test_a_cleanup_killed_at_any_step_is_finished_by_the_next(
    folder: tuple[Path, Path],
) -> None:
    specdir, _ = folder
    before = snapshot(specdir)
    refs = [f"credentialspecdomainless:file://app{n}.json" for n in range(REFERENCES)]
    agent(specdir).prepare(task(refs, CONTAINERS), TASK_ID, TASK_ARN)
    args = ["task", "cleanup", "--task-id", TASK_ID, "--credspec-dir", str(specdir)]

    def check(step: int) -> None:
        agent(specdir).cleanup(TASK_ID)
        assert snapshot(specdir) == before, f"killed at step {step}"
        agent(specdir).prepare(task(refs, CONTAINERS), TASK_ID, TASK_ARN)

    assert sweep(args, check) > REFERENCES


@pytest.mark.parametrize("step", [9, 17])
def test_the_command_itself_killed_by_the_hook_is_cleaned_up(
    folder: tuple[Path, Path], step: int
) -> None:
    """The same through `python -m gmsa` in its own process, as a host would run it."""
    specdir, taskdef = folder
    before = snapshot(specdir)
    env = {**os.environ, FAULT_STEP_ENV: str(step)}
    done = subprocess.run(
        [sys.executable, "-m", "gmsa", *prepare_args(taskdef, specdir)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL
    assert snapshot(specdir) != before
    with contextlib.suppress(SystemExit):
        cli.main(
            ["task", "cleanup", "--task-id", TASK_ID, "--credspec-dir", str(specdir)],
            standalone_mode=True,
        )
    assert snapshot(specdir) == before
