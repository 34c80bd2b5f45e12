"""File-system primitives: atomic writes, flushing, and confinement to a directory.

Every file gmsa writes goes through :meth:`DirHandle.write_atomic` (or
:func:`write_atomic`, which opens the file's directory and calls it), so a reader
(Docker, the ECS agent, another gmsa) sees either the old file or the whole new
one, never half.

A directory gmsa works *under* (the CredentialSpecs directory, the krb directory)
is opened once as a :class:`DirHandle`; every name below it is then created,
replaced or removed relative to that open directory, one component at a time and
never through a symbolic link. A link planted inside (``.gmsa`` pointing to
``/etc``) is refused with :class:`LinkedPathError` instead of being written or
deleted through, and renaming the directory away while gmsa works does not move
its writes elsewhere.

For crash tests, ``GMSA_FAULT_KILL_AT_STEP=N`` makes the process kill itself
(SIGKILL) just before its Nth change to the file system through a
:class:`DirHandle`; unset (always, outside tests) it costs one comparison.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import signal
import stat
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from gmsa.errors import ExternalError, InvalidInputError

FAULT_STEP_ENV = "GMSA_FAULT_KILL_AT_STEP"
"""Environment variable of the crash-test hook (see the module text)."""

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_LINK_FIX = (
    "gmsa does not follow symbolic links below the directory it was given; "
    "remove the link (and whatever it replaced by mistake) so gmsa can recreate the path"
)


class PathEscapeError(InvalidInputError):
    """A path would resolve outside the directory it must stay in."""

    code = "path-escape"


class LinkedPathError(ExternalError):
    """A name below a directory gmsa works in is a symbolic link, or not the kind of entry
    gmsa made there (a file where a directory belongs, a FIFO where a file belongs)."""

    code = "unsafe-path"


_fault_count = 0


def _step() -> None:
    """One change to the file system is about to happen (the crash-test hook)."""
    global _fault_count
    limit = os.environ.get(FAULT_STEP_ENV)
    if limit:
        _fault_count += 1
        if limit.isdigit() and _fault_count >= int(limit):
            os.kill(os.getpid(), signal.SIGKILL)


def _os_error(what: str, path: Path, exc: OSError) -> ExternalError:
    return ExternalError(
        f"{what}: {exc.strerror or exc}",
        where=str(path),
        fix="check that the directory exists, is writable and has space",
    )


def _cannot_create(directory: Path, exc: OSError) -> ExternalError:
    return ExternalError(
        f"cannot create a file in the directory: {exc.strerror}",
        where=str(directory),
        fix="check that the directory exists and is writable",
    )


def _linked(path: Path, what: str = "is a symbolic link") -> LinkedPathError:
    return LinkedPathError(f"refusing a path that {what}", where=str(path), fix=_LINK_FIX)


class DirHandle:
    """A directory opened once; names below it resolve relative to it, never through links.

    Opening follows links in the path the caller gave (that path is the caller's
    choice). Below it every name is a single component, opened with
    ``O_NOFOLLOW``: a symbolic link where gmsa expects its own directory or file
    raises :class:`LinkedPathError` naming the path, and nothing is written or
    removed through it. OS failures raise :class:`~gmsa.errors.ExternalError`
    (exit 3) naming the path; callers add their own fix.
    """

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path, *, follow: bool = True) -> DirHandle:
        """Open the directory ``path``; ``follow=False`` refuses it when it is itself a link."""
        path = Path(path)
        flags = _DIR_FLAGS if not follow else _DIR_FLAGS & ~os.O_NOFOLLOW
        try:
            return cls(os.open(path, flags), path)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR) and path.is_symlink():
                raise _linked(path) from None
            if exc.errno == errno.ENOTDIR:
                raise _linked(path, "is not a directory") from None
            raise _os_error("cannot open the directory", path, exc) from None

    def close(self) -> None:
        """Close the directory (idempotent)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> DirHandle:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def child(self, name: str) -> Path:
        """The path of ``name`` below this directory (for messages and results)."""
        return self.path / name

    def subdir(self, name: str, *, create: bool = False, mode: int = 0o777) -> DirHandle | None:
        """Open the directory ``name`` below this one (``None`` when it does not exist and
        ``create`` is false); refuses a link or a non-directory."""
        _check_name(name)
        path = self.child(name)
        try:
            try:
                return DirHandle(os.open(name, _DIR_FLAGS, dir_fd=self.fd), path)
            except FileNotFoundError:
                if not create:
                    return None
            with contextlib.suppress(FileExistsError):
                self.mkdir(name, mode)
            return DirHandle(os.open(name, _DIR_FLAGS, dir_fd=self.fd), path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                info = self.lstat(name)
                if info is not None and stat.S_ISLNK(info.st_mode):
                    raise _linked(path) from None
                raise _linked(path, "is not a directory") from None
            raise _os_error("cannot open the directory", path, exc) from None

    def descend(
        self, relative: Path | str, *, create: bool = False, mode: int = 0o777
    ) -> DirHandle | None:
        """Open a directory some levels below this one, component by component."""
        current: DirHandle = self
        for part in Path(relative).parts:
            below = current.subdir(part, create=create, mode=mode)
            if current is not self:
                current.close()
            if below is None:
                return None
            current = below
        if current is self:
            return DirHandle(os.dup(self.fd), self.path)
        return current

    # ------------------------------------------------------------------ reading

    def lstat(self, name: str) -> os.stat_result | None:
        """The entry ``name`` itself (a link is not followed), or ``None`` when absent."""
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _os_error("cannot inspect", self.child(name), exc) from None

    def names(self) -> list[str]:
        """The names in this directory, sorted."""
        try:
            return sorted(os.listdir(self.fd))  # noqa: PTH208 (a directory fd, not a path)
        except OSError as exc:
            raise _os_error("cannot list the directory", self.path, exc) from None

    def read(self, name: str, *, max_bytes: int) -> bytes | None:
        """The content of the regular file ``name``; ``None`` when it does not exist.

        A link or anything but a regular file raises :class:`LinkedPathError` (opened
        non-blocking, so a FIFO cannot hang the read); a file larger than ``max_bytes``
        raises :class:`~gmsa.errors.InvalidInputError`.
        """
        _check_name(name)
        path = self.child(name)
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        try:
            fd = os.open(name, flags, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _linked(path) from None
            raise _os_error("cannot read", path, exc) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise _linked(path, "is not a regular file")
        with os.fdopen(fd, "rb") as handle:
            try:
                data = handle.read(max_bytes + 1)
            except OSError as exc:
                raise _os_error("cannot read", path, exc) from None
        if len(data) > max_bytes:
            raise InvalidInputError(
                f"the file is larger than the {max_bytes}-byte limit",
                where=str(path),
                fix="this is not a file gmsa wrote; move it away",
            )
        return data

    # ------------------------------------------------------------------ changing

    def mkdir(self, name: str, mode: int = 0o777) -> None:
        """Create the directory ``name`` (``FileExistsError`` when anything holds the name)."""
        _check_name(name)
        _step()
        try:
            os.mkdir(name, mode, dir_fd=self.fd)
        except FileExistsError:
            raise
        except OSError as exc:
            raise _os_error("cannot create the directory", self.child(name), exc) from None

    def write_new(
        self, name: str, data: bytes, *, mode: int = 0o600, owner: tuple[int, int] | None = None
    ) -> None:
        """Create the file ``name`` with ``data`` in one go, refusing any existing entry.

        Not atomic for readers: only for a directory nobody reads until it is complete
        and renamed into place (a staging directory), where a temporary file and a
        rename per file would be wasted. ``owner`` (uid, gid) is given before the data.
        """
        _check_name(name)
        _step()
        try:
            fd = os.open(name, _NEW_FILE_FLAGS, 0o600, dir_fd=self.fd)
        except OSError as exc:
            raise _cannot_create(self.path, exc) from None
        try:
            os.fchmod(fd, mode)
            if owner is not None:
                os.fchown(fd, owner[0], owner[1])
            _step()
            _write_all(fd, data)
        except OSError as exc:
            raise ExternalError(
                f"cannot write the file: {exc.strerror}",
                where=str(self.child(name)),
                fix="check that the directory is writable and has space",
            ) from None
        finally:
            os.close(fd)

    def write_atomic(
        self,
        name: str,
        data: bytes,
        *,
        mode: int = 0o644,
        exclusive: bool = False,
        durable: bool = True,
        owner: tuple[int, int] | None = None,
        temp: str | None = None,
    ) -> None:
        """Write ``data`` to ``name`` through a temporary file and a rename.

        ``exclusive`` refuses to replace an existing entry (``--no-clobber``); the check
        and the link are one step (``link``), so two writers cannot both win.
        ``durable=False`` skips the two fsyncs (file and directory): readers still see
        the old file or the whole new one, but a power loss may lose the write.
        ``owner`` (uid, gid) is given to the file before the rename, so no reader ever
        sees the new content with the wrong owner. ``temp`` names the temporary file
        (default ``.<name>.<random>.tmp``); a caller that serialises its writes gives a
        fixed name, which it can then find and remove after a crash. The rename replaces
        a link at ``name`` itself, never its target.
        """
        _check_name(name)
        path = self.child(name)
        tmp = temp if temp is not None else f".{name}.{secrets.token_hex(4)}.tmp"
        _check_name(tmp)
        if temp is not None:
            self.unlink(tmp)  # left by a crash; unlinking a link removes only the link
        _step()
        try:
            fd = os.open(tmp, _NEW_FILE_FLAGS, 0o600, dir_fd=self.fd)
        except OSError as exc:
            raise _cannot_create(self.path, exc) from None
        placed = False
        try:
            try:
                try:
                    _step()
                    _write_all(fd, data)
                    if durable:
                        os.fsync(fd)
                    os.fchmod(fd, mode)
                    if owner is not None:
                        os.fchown(fd, owner[0], owner[1])
                finally:
                    os.close(fd)
                _step()
                if exclusive:
                    try:
                        os.link(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
                    except FileExistsError:
                        raise InvalidInputError(
                            "the file already exists",
                            where=str(path),
                            fix="remove it, choose another name, or give --overwrite",
                        ) from None
                else:
                    os.rename(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
                    placed = True
            except OSError as exc:
                raise ExternalError(
                    f"cannot write the file: {exc.strerror}",
                    where=str(path),
                    fix="check permissions",
                ) from None
        finally:
            if not placed:  # a failure, or a link (exclusive) that leaves the name behind
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=self.fd)
        if durable:
            self.fsync()

    def unlink(self, name: str) -> bool:
        """Remove the entry ``name`` (a link itself, never its target); ``False`` when absent."""
        _check_name(name)
        _step()
        try:
            os.unlink(name, dir_fd=self.fd)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise _os_error("cannot remove", self.child(name), exc) from None
        return True

    def rename(self, old: str, new: str, *, into: DirHandle | None = None) -> None:
        """Rename ``old`` to ``new`` (in ``into``, by default this directory)."""
        _check_name(old)
        _check_name(new)
        target = into if into is not None else self
        _step()
        os.rename(old, new, src_dir_fd=self.fd, dst_dir_fd=target.fd)

    def rmtree(self, name: str) -> None:
        """Remove the directory tree ``name``, best effort, never following links."""
        _check_name(name)
        _step()
        shutil.rmtree(name, dir_fd=self.fd, ignore_errors=True)

    def fsync(self) -> None:
        """Flush this directory's entries; best effort (some file systems refuse)."""
        with contextlib.suppress(OSError):
            os.fsync(self.fd)

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold an exclusive lock (``flock``) on the file ``name`` in this directory.

        The lock file is created if needed and removed again before the lock is
        released, so none stays behind; a waiter that then holds a removed file
        notices (its file is no longer the one at ``name``) and takes the lock anew.
        """
        _check_name(name)
        path = self.child(name)
        while True:
            _step()
            try:
                fd = os.open(
                    name,
                    os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                    0o600,
                    dir_fd=self.fd,
                )
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise _linked(path) from None
                raise _os_error("cannot create the lock file", path, exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                held = os.fstat(fd)
                if not stat.S_ISREG(held.st_mode):
                    raise _linked(path, "is not a regular file")
                now = self.lstat(name)
            except BaseException:
                os.close(fd)
                raise
            if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                break
            os.close(fd)
        try:
            yield
        finally:
            try:
                with contextlib.suppress(OSError, ExternalError):
                    self.unlink(name)
            finally:
                os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write fewer)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _check_name(name: str) -> None:
    """``name`` must be one path component: a caller bug otherwise, never user input."""
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError(f"not a single file name: {name!r}")


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

    Opens ``path``'s directory and calls :meth:`DirHandle.write_atomic` (which says
    what ``exclusive``, ``durable`` and ``owner`` do).
    """
    path = Path(path)
    try:
        fd = os.open(path.parent, _DIR_FLAGS & ~os.O_NOFOLLOW)
    except OSError as exc:
        raise _cannot_create(path.parent, exc) from None
    with DirHandle(fd, path.parent) as handle:
        handle.write_atomic(
            path.name, data, mode=mode, exclusive=exclusive, durable=durable, owner=owner
        )


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
    "FAULT_STEP_ENV",
    "DirHandle",
    "LinkedPathError",
    "PathEscapeError",
    "confined",
    "write_atomic",
]
