"""Files that are not regular files, as a hostile or careless user gives them: a FIFO with
no writer (an ordinary open blocks forever), a listening unix socket, a character device,
a directory."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

SPECIAL_KINDS = ("fifo", "socket", "char-device", "directory")
"""Every kind :func:`special_file` makes."""

_SAID = {
    "fifo": "a FIFO (named pipe)",
    "socket": "a socket",
    "char-device": "a character device",
    "directory": "a directory",
}


@contextlib.contextmanager
def special_file(kind: str, directory: Path) -> Iterator[tuple[Path, str]]:
    """A file of ``kind`` and the words an error uses for it.

    The FIFO and the directory are made in ``directory``; the socket in a short
    temporary directory (a unix socket path has a length limit); the character
    device is ``/dev/null`` itself (making one needs privileges).
    """
    said = _SAID[kind]
    if kind == "fifo":
        path = directory / "pipe.json"
        os.mkfifo(path)
        yield path, said
    elif kind == "directory":
        path = directory / "folder.json"
        path.mkdir()
        yield path, said
    elif kind == "char-device":
        yield Path(os.devnull), said
    elif kind == "socket":
        with (
            tempfile.TemporaryDirectory(prefix="gmsa-sock-") as short,
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server,
        ):
            path = Path(short) / "s.json"
            server.bind(str(path))
            server.listen(1)
            yield path, said
    else:
        raise ValueError(kind)


def symlink_loop(directory: Path) -> Path:
    """Two links in ``directory`` that point at each other; returns one of them."""
    first, second = directory / "loop-a.json", directory / "loop-b.json"
    os.symlink(second.name, first)
    os.symlink(first.name, second)
    return first


__all__ = ["SPECIAL_KINDS", "special_file", "symlink_loop"]
