"""Running the gmsa CLI in tests and reading what it printed."""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import Callable, Iterator
from typing import Any

from click.testing import Result

Run = Callable[..., Result]


def json_of(result: Result) -> Any:
    """The JSON a --json run printed."""
    return json.loads(result.stdout)


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail the block (``TimeoutError``) when it runs longer than ``seconds``.

    A timer signal interrupts even a blocking system call (an ``open`` of a FIFO
    with no writer), so a hang fails the test instead of stopping the suite.
    Main thread only (pytest runs tests there).
    """

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
