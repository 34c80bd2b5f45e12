"""File-system primitives: atomic writes, flushing, and confinement to a directory.

Every file gmsa writes goes through :func:`write_atomic`, so a reader (Docker, the
ECS agent, another gmsa) sees either the old file or the whole new one, never half.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from gmsa.errors import ExternalError, InvalidInputError


class PathEscapeError(InvalidInputError):
    """A path would resolve outside the directory it must stay in."""

    code = "path-escape"


def write_atomic(
    path: Path,
    data: bytes,
    *,
    mode: int = 0o644,
    exclusive: bool = False,
    durable: bool = True,
    owner: tuple[int, int] | None = None,
) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    ``exclusive`` refuses to replace an existing file (``--no-overwrite``); the check and
    the link are one step (``os.link``), so two writers cannot both win.
    ``durable=False`` skips the two fsyncs (file and directory): readers still see the
    old file or the whole new one, but a power loss may lose the write. For derived
    files that are written again from their source anyway.
    ``owner`` (uid, gid) is given to the file before the rename, so no reader ever
    sees the new content with the wrong owner.
    """
    directory = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ExternalError(
            f"cannot create a file in the directory: {exc.strerror}",
            where=str(directory),
            fix="check that the directory exists and is writable",
        ) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        tmp.chmod(mode)
        if owner is not None:
            os.chown(tmp, owner[0], owner[1])
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise InvalidInputError(
                    "the file already exists",
                    where=str(path),
                    fix="remove it, choose another name, or give --overwrite",
                ) from None
            tmp.unlink()
        else:
            tmp.replace(path)
    except OSError as exc:
        raise ExternalError(
            f"cannot write the file: {exc.strerror}", where=str(path), fix="check permissions"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    if durable:
        fsync_path(directory)


def fsync_path(path: Path) -> None:
    """Flush one file or directory; best effort (some file systems refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush a freshly built tree (deepest first, root last) before it is renamed into place."""
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        fsync_path(path)
    fsync_path(root)


def confined(root: Path, relative: str) -> Path:
    """Resolve ``relative`` under ``root`` and refuse anything that lands outside it.

    Symbolic links are followed before the check, so a link inside ``root`` that
    points elsewhere is refused too.
    """
    base = root.resolve()
    candidate = (base / relative).resolve()
    if candidate != base and base not in candidate.parents:
        raise PathEscapeError(
            f"{relative!r} resolves outside {base}",
            where=str(root / relative),
            fix="keep credential specs inside the directory; remove links that point out of it",
        )
    return candidate


__all__ = [
    "PathEscapeError",
    "confined",
    "fsync_path",
    "fsync_tree",
    "write_atomic",
]
