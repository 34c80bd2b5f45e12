"""Credential specs in a local directory (the host's CredentialSpecs directory).

Paths are resolved with :func:`gmsa.fsutil.confined`, so ``..`` and symbolic
links that lead out of the directory are refused. With ``follow_links=False``
(the Windows host agent, which works in the directory it reads from) no link is
followed at all: the directory is opened once and each name below it looked up
relative to it (:class:`~gmsa.fsutil.DirHandle`), and a link anywhere on the way
is refused. The version of a file is its inode, size and modification time:
cheap to read and changed by every write (an atomic replace gives a new inode).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.fsutil import DirHandle, LinkedPathError, confined
from gmsa.inputfile import (
    InputNotFoundError,
    InputTooLargeError,
    NotRegularFileError,
    SymlinkLoopError,
    read_input,
)
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
    """Reads ``file://`` specs relative to one directory; with ``follow_links=False``
    never through a symbolic link below it."""

    def __init__(self, root: Path, *, follow_links: bool = True) -> None:
        self.root = root
        self.follow_links = follow_links

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
        following a final link (with ``follow_links=False`` no link at all), refusing
        anything but a regular file, size checked before reading."""
        assert isinstance(location, FileLocation)
        path = self.root / location.path
        try:
            if self.follow_links:
                path = self.path_of(location)
                read = read_input(
                    path, max_bytes=MAX_SPEC_BYTES, what="credential spec", follow_symlinks=False
                )
            else:
                with self._folder_of(location) as folder:
                    path = folder.child(Path(location.path).name)
                    read = read_input(
                        path,
                        max_bytes=MAX_SPEC_BYTES,
                        what="credential spec",
                        follow_symlinks=False,
                        dir_fd=folder.fd,
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

    @contextlib.contextmanager
    def _folder_of(self, location: FileLocation) -> Iterator[DirHandle]:
        """The directory holding ``location``'s file, opened below :attr:`root` one
        component at a time without following links.

        Raises :class:`~gmsa.inputfile.InputNotFoundError` when a directory on the way
        is missing and :class:`~gmsa.inputfile.NotRegularFileError` when one is a link.
        """
        relative = Path(location.path)
        try:
            with DirHandle.open(self.root) as root:
                folder = root.descend(relative.parent)
        except LinkedPathError as exc:
            if not Path(exc.where or "").is_symlink():  # a file where a directory belongs
                raise InputNotFoundError(
                    "credential spec not found", where=exc.where, fix="check the path"
                ) from None
            raise NotRegularFileError(
                "the credential spec path goes through a symbolic link, which is not "
                "followed below the CredentialSpecs directory",
                where=exc.where,
                fix="put the spec itself in the CredentialSpecs directory (or a real "
                "directory in it) and name that file",
            ) from None
        if folder is None:
            raise InputNotFoundError(
                "credential spec not found", where=str(self.root / relative), fix="check the path"
            )
        with folder:
            yield folder

    def current_version(self, location: Location) -> str | None:
        """Inode, size and mtime of the file now."""
        assert isinstance(location, FileLocation)
        if not self.follow_links:
            try:
                with self._folder_of(location) as folder:
                    info = folder.lstat(Path(location.path).name)
            except InputNotFoundError:
                return None
            return _version(info) if info is not None else None
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
