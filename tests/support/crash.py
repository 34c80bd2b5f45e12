"""The CLI run in a process of its own that kills itself at a chosen change to the file
system (the crash-test hook of gmsa.fsutil, GMSA_FAULT_KILL_AT_STEP).

Each run is forked from a fresh server process that has loaded gmsa and nothing else
(no pytest, no gRPC channel or server whose threads a fork would inherit half-working),
so a new process per step costs a fork, not a start-up.
"""

from __future__ import annotations

import multiprocessing
import os
import signal

from gmsa.fsutil import FAULT_STEP_ENV

_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["gmsa.cli.main", "tests.support.crash"])


def _run_cli(args: list[str], step: int) -> None:
    """The child: the CLI with the crash-test hook set to ``step``; never returns."""
    code = 99
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.environ[FAULT_STEP_ENV] = str(step)
        from gmsa.cli.main import cli

        try:
            cli.main(args, prog_name="gmsa", standalone_mode=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 98
    finally:
        os._exit(code)


def killed_at(step: int, args: list[str], *, timeout: float = 120) -> bool:
    """Run ``gmsa ARGS`` killed just before its ``step``-th change; whether it was killed.

    A run that ends by itself must succeed (exit 0).
    """
    child = _FORKS.Process(target=_run_cli, args=(args, step))
    child.start()
    child.join(timeout)
    if child.exitcode is None:
        child.kill()
        child.join()
        raise TimeoutError(f"gmsa {' '.join(args[:2])} did not end within {timeout} s")
    if child.exitcode == -signal.SIGKILL:
        return True
    assert child.exitcode == 0, f"gmsa {' '.join(args[:2])} failed at step {step}"
    return False


__all__ = ["killed_at"]
