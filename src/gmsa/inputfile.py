"""Reading a file a user names: only regular files, never blocking, with a size cap.

Every input gmsa reads from a path (credential specs, task definitions, policy
files, ticket service configs, keytabs, credential caches, the specs of a local
folder) goes through :func:`read_input`. A FIFO with no writer would block an
ordinary ``open`` forever, a device may never end, and a directory or socket
cannot be read at all; so the path is checked before it is opened, opened
without blocking and without taking a terminal, and the opened descriptor is
checked again (the path may have been swapped in between) before any byte is
read. A symbolic link loop is reported as one, not as a permission problem.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gmsa.errors import AccessDeniedError, ExternalError, InvalidInputError

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


STDIN = "-"
"""A FILE argument that means standard input."""
STDIN_SOURCE = "<stdin>"
"""How standard input is named in messages and reports."""


class InputFileError(InvalidInputError):
    """A path given as input names nothing readable as a document (exit code 1)."""

    code = "input-file"


class InputNotFoundError(InputFileError):
    """Nothing exists at the path."""

    code = "file-not-found"


class NotRegularFileError(InputFileError):
    """The path names a FIFO, socket, device or directory, not a regular file."""

    code = "not-a-file"


class SymlinkLoopError(InputFileError):
    """The path goes through symbolic links that point at each other."""

    code = "symlink-loop"


class InputTooLargeError(InputFileError):
    """The file is larger than a document of its kind can be."""

    code = "file-too-large"


@dataclass(frozen=True)
class InputFile:
    """What :func:`read_input` read: the bytes and the status of the opened file."""

    data: bytes
    """The whole file (at most the cap)."""
    info: os.stat_result
    """``fstat`` of the descriptor the bytes were read from."""


_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symbolic link"),
)


def kind_of(mode: int) -> str:
    """What a file of this mode is, as a message says it: ``a FIFO (named pipe)``."""
    return next((said for test, said in _KINDS if test(mode)), "an unknown kind of file")


def _refuse_special(info: os.stat_result, path: Path, what: str) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFileError(
            f"the {what} path is {kind_of(info.st_mode)}, not a regular file",
            where=str(path),
            fix=f"give the path of the {what} itself, not of a directory"
            if stat.S_ISDIR(info.st_mode)
            else f"save the {what} to a regular file and give that file's path",
        )


def _os_error(exc: OSError, path: Path, what: str) -> InvalidInputError | ExternalError:
    if exc.errno == errno.ELOOP:
        return SymlinkLoopError(
            f"the {what} path is a symbolic link loop (links that lead back to themselves)",
            where=str(path),
            fix="point the link at a real file, or give the file's own path",
        )
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return InputNotFoundError(f"{what} not found", where=str(path), fix="check the path")
    if isinstance(exc, PermissionError):
        return AccessDeniedError(
            f"permission denied reading the {what}",
            where=str(path),
            fix="let the user running gmsa read it (chmod/chown or an ACL)",
        )
    return ExternalError(
        f"cannot read the {what}: {exc.strerror}", where=str(path), fix="check the file system"
    )


def read_input(
    path: Path,
    *,
    max_bytes: int,
    what: str = "file",
    follow_symlinks: bool = True,
    dir_fd: int | None = None,
) -> InputFile:
    """Read a regular file of at most ``max_bytes`` bytes, refusing anything else at once.

    With ``dir_fd`` (an open directory) the file is ``path``'s last component in that
    directory, looked up relative to it; ``path`` as a whole only names it in messages.

    Raises :class:`InputNotFoundError`, :class:`NotRegularFileError` (FIFO, socket,
    device, directory; with ``follow_symlinks=False`` also a symbolic link),
    :class:`SymlinkLoopError`, :class:`InputTooLargeError` (all exit code 1), or
    :class:`~gmsa.errors.AccessDeniedError` (permissions) or another
    :class:`~gmsa.errors.ExternalError` (I/O) when the file system refuses.
    """
    flags = _OPEN_FLAGS | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0))
    target: Path | str = path.name if dir_fd is not None else path
    try:
        # Looking first means a FIFO, socket or device is never opened at all.
        info = os.stat(target, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
        _refuse_special(info, path, what)
        fd = os.open(target, flags, dir_fd=dir_fd)
    except OSError as exc:
        raise _os_error(exc, path, what) from None
    try:
        info = os.fstat(fd)
        _refuse_special(info, path, what)
        if info.st_size > max_bytes:
            raise _too_large(f"{info.st_size} bytes", path, what, max_bytes)
        chunks: list[bytes] = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise _os_error(exc, path, what) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise _too_large(f"more than {max_bytes} bytes", path, what, max_bytes)
    return InputFile(data, info)


def _too_large(size: str, path: Path, what: str, max_bytes: int) -> InputTooLargeError:
    return InputTooLargeError(
        f"the {what} is {size}, over the {max_bytes}-byte limit",
        where=str(path),
        fix=f"this is not a {what} of the expected kind, or it must be made smaller",
    )


__all__ = [
    "STDIN",
    "STDIN_SOURCE",
    "InputFile",
    "InputFileError",
    "InputNotFoundError",
    "InputTooLargeError",
    "NotRegularFileError",
    "SymlinkLoopError",
    "kind_of",
    "read_input",
]
