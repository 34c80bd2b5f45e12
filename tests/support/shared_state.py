"""One lab process shared by every test worker on the machine: a lock and a state file.

The Samba DC and dockerd bind fixed resources, so the first worker starts the
process and records it (pid, addresses, users) in a JSON state file; the others
attach; the last user stops it. Every read-modify-write of the state happens
under an exclusive ``flock`` on the lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def locked(lock_file: Path, timeout: float, error: type[Exception]) -> Iterator[None]:
    """Hold the exclusive lock, or raise ``error`` after ``timeout`` seconds."""
    fd = os.open(lock_file, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise error(f"{lock_file} stayed locked") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def read_state(state_file: Path) -> dict[str, Any] | None:
    """The recorded state, or None when there is none (or it is unreadable)."""
    try:
        loaded: dict[str, Any] = json.loads(state_file.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return loaded


def write_state(state_file: Path, state: dict[str, Any]) -> None:
    """Replace the state atomically."""
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(state_file)
