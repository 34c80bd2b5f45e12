"""Credential specs in a local directory (the host's CredentialSpecs directory).

Paths are resolved with :func:`gmsa.fsutil.confined`, so ``..`` and symbolic
links that lead out of the directory are refused. The version of a file is its
inode, size and modification time: cheap to read and changed by every write
(an atomic replace gives a new inode).
"""

from __future__ import annotations

import os
from pathlib import Path

from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.fsutil import confined
from gmsa.inputfile import InputNotFoundError, InputTooLargeError, SymlinkLoopError, read_input
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
        try:
            return confined(self.root, location.path)
        except RuntimeError:  # pathlib's report of a symbolic link loop
            raise SymlinkLoopError(
                "the credential spec path is a symbolic link loop "
                "(links that lead back to themselves)",
                where=str(self.root / location.path),
                fix="point the link at a real file, or name the file itself",
            ) from None

    def fetch(self, location: Location) -> FetchedSpec:
        """Read the file with :func:`gmsa.inputfile.read_input`: never blocking, never
        following a final link, refusing anything but a regular file, size checked
        before reading."""
        assert isinstance(location, FileLocation)
        path = self.path_of(location)
        try:
            read = read_input(
                path, max_bytes=MAX_SPEC_BYTES, what="credential spec", follow_symlinks=False
            )
        except InputNotFoundError:
            raise SpecNotFoundError(
                "the credential spec file does not exist",
                where=str(path),
                fix=f"copy the spec into {self.root} (gmsa spec publish FILE dir:{self.root}), "
                "or fix the file:// name",
            ) from None
        except InputTooLargeError:
            raise too_large(f"more than {MAX_SPEC_BYTES}", str(path)) from None
        return FetchedSpec(location=location, data=read.data, version=_version(read.info))

    def current_version(self, location: Location) -> str | None:
        """Inode, size and mtime of the file now."""
        assert isinstance(location, FileLocation)
        path = self.path_of(location)
        try:
            return _version(path.stat())
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SourceError(
                f"cannot look at the credential spec file: {exc.strerror}",
                where=str(path),
                fix="check the file system",
            ) from None


__all__ = [
    "LocalDirSource",
]
