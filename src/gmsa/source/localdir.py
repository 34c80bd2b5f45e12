"""Credential specs in a local directory (the host's CredentialSpecs directory).

Paths are resolved with :func:`gmsa.fsutil.confined`, so ``..`` and symbolic
links that lead out of the directory are refused. The version of a file is its
inode, size and modification time: cheap to read and changed by every write
(an atomic replace gives a new inode).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.errors import AccessDeniedError, ExternalError
from gmsa.fsutil import confined
from gmsa.reference import FileLocation, Location
from gmsa.source.interface import (
    FetchedSpec,
    SourceError,
    SpecNotFoundError,
    SpecSource,
    too_large,
)


def _version(info: os.stat_result) -> str:
    return f"{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"


class LocalDirSource(SpecSource):
    """Reads ``file://`` specs relative to one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, location: FileLocation) -> Path:
        """The file a location names, refused when it resolves outside :attr:`root`."""
        return confined(self.root, location.path)

    def fetch(self, location: Location) -> FetchedSpec:
        """Open (never blocking, never following a final link), stat the open file
        (size check before reading), then read."""
        assert isinstance(location, FileLocation)
        path = self.path_of(location)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise self._os_error(exc, path) from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise SpecNotFoundError(
                    "the path is not a regular file",
                    where=str(path),
                    fix="name a credential spec file, e.g. file://webapp01.json",
                )
            if info.st_size > MAX_SPEC_BYTES:
                raise too_large(info.st_size, str(path))
            data = os.read(fd, MAX_SPEC_BYTES + 1)
        except OSError as exc:
            raise self._os_error(exc, path) from exc
        finally:
            os.close(fd)
        if len(data) > MAX_SPEC_BYTES:
            raise too_large(f"more than {MAX_SPEC_BYTES}", str(path))
        return FetchedSpec(location=location, data=data, version=_version(info))

    def current_version(self, location: Location) -> str | None:
        """Inode, size and mtime of the file now."""
        assert isinstance(location, FileLocation)
        path = self.path_of(location)
        try:
            return _version(path.stat())
        except OSError as exc:
            raise self._os_error(exc, path) from None

    def _os_error(self, exc: OSError, path: Path) -> ExternalError:
        if isinstance(exc, FileNotFoundError | NotADirectoryError):
            return SpecNotFoundError(
                "the credential spec file does not exist",
                where=str(path),
                fix=f"copy the spec into {self.root} (gmsa spec publish FILE dir:{self.root}), "
                "or fix the file:// name",
            )
        if isinstance(exc, IsADirectoryError):
            return SpecNotFoundError(
                "the path is a directory, not a credential spec file",
                where=str(path),
                fix="name the file itself, e.g. file://webapp01.json",
            )
        if isinstance(exc, PermissionError):
            return AccessDeniedError(
                "permission denied reading the credential spec file",
                where=str(path),
                fix="let the user running gmsa read the file (chmod/chown or an ACL)",
            )
        return SourceError(
            f"cannot read the credential spec file: {exc.strerror}",
            where=str(path),
            fix="check the file system",
        )


__all__ = [
    "LocalDirSource",
]
