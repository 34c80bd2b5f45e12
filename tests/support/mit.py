"""MIT Kerberos command-line tools (krb5-user) as independent judges of our files."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

needs_mit = pytest.mark.skipif(
    shutil.which("klist") is None or shutil.which("ktutil") is None,
    reason="MIT krb5-user (klist, ktutil) is not installed; scripts/test installs it",
)


def klist(*args: str) -> str:
    """Run klist with a private, empty Kerberos configuration."""
    env = dict(os.environ, KRB5_CONFIG="/dev/null")
    result = subprocess.run(["klist", *args], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


_KEY_LINE = re.compile(r"^\s*(\d+)\s+(\S+)\s+\(([^)]+)\)\s+\(0x([0-9a-f]+)\)\s*$")


def keytab_keys(path: Path) -> set[tuple[int, str, str, str]]:
    """(kvno, principal, enctype name, key hex) for every entry, as MIT reads the keytab."""
    keys = set()
    for line in klist("-k", "-K", "-e", str(path)).splitlines():
        match = _KEY_LINE.match(line)
        if match:
            keys.add((int(match[1]), match[2], match[3], match[4]))
    return keys


def ktutil_keytab(
    path: Path, principal: str, password: str, salt: str, enctypes: tuple[str, ...]
) -> None:
    """Let MIT derive keys from ``password`` and ``salt`` and write them to ``path``.

    ktutil reads the password from its terminal, so it runs on a pseudo-terminal.
    """
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.environ["KRB5_CONFIG"] = "/dev/null"
        os.execvp("ktutil", ["ktutil"])
    try:
        _expect(fd, b"ktutil:")
        for enctype in enctypes:
            command = f"addent -password -p {principal} -k 1 -e {enctype} -s {salt}\n"
            os.write(fd, command.encode())
            _expect(fd, b"Password for")
            os.write(fd, password.encode("utf-8") + b"\n")
            _expect(fd, b"ktutil:")
        os.write(fd, f"wkt {path}\n".encode())
        _expect(fd, b"ktutil:")
        os.write(fd, b"quit\n")
    finally:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)


def _expect(fd: int, marker: bytes, timeout: float = 10.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"ktutil did not print {marker!r}; saw {seen!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen
