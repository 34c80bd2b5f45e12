"""Reading a file a user names: regular files only, refused at once, never blocking."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gmsa.inputfile import (
    InputNotFoundError,
    InputTooLargeError,
    NotRegularFileError,
    SymlinkLoopError,
    kind_of,
    read_input,
)
from tests.support.cli import within
from tests.support.special_files import SPECIAL_KINDS, special_file, symlink_loop


def test_a_regular_file_is_read_with_its_status(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(b"{}")
    read = read_input(path, max_bytes=10)
    assert read.data == b"{}"
    assert stat.S_ISREG(read.info.st_mode)
    assert read.info.st_size == 2


def test_a_file_of_exactly_the_cap_is_read_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(b"x" * 10)
    assert read_input(path, max_bytes=10).data == b"x" * 10
    path.write_bytes(b"x" * 11)
    with pytest.raises(InputTooLargeError) as caught:
        read_input(path, max_bytes=10, what="policy file")
    assert "policy file is 11 bytes, over the 10-byte limit" in caught.value.what
    assert caught.value.exit_code == 1


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_anything_but_a_regular_file_is_refused_at_once(kind: str, tmp_path: Path) -> None:
    with (
        special_file(kind, tmp_path) as (path, said),
        within(5),
        pytest.raises(NotRegularFileError) as caught,
    ):
        read_input(path, max_bytes=1024, what="task definition")
    assert f"the task definition path is {said}, not a regular file" == caught.value.what
    assert caught.value.where == str(path)
    assert caught.value.exit_code == 1
    assert caught.value.code == "not-a-file"


def test_a_fifo_with_a_writer_is_refused_too(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    writer = os.open(fifo, os.O_WRONLY)
    try:
        os.write(writer, b"{}")
        with within(5), pytest.raises(NotRegularFileError):
            read_input(fifo, max_bytes=1024)
    finally:
        os.close(writer)
        os.close(reader)


def test_a_symlink_loop_is_named_as_one_not_as_permissions(tmp_path: Path) -> None:
    with pytest.raises(SymlinkLoopError) as caught:
        read_input(symlink_loop(tmp_path), max_bytes=1024, what="policy file")
    assert "symbolic link loop" in caught.value.what
    assert "permission" not in caught.value.what + (caught.value.fix or "")
    assert caught.value.exit_code == 1


def test_a_link_is_refused_when_links_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_bytes(b"{}")
    os.symlink(tmp_path / "real.json", tmp_path / "link.json")
    assert read_input(tmp_path / "link.json", max_bytes=10).data == b"{}"
    with pytest.raises(NotRegularFileError) as caught:
        read_input(tmp_path / "link.json", max_bytes=10, follow_symlinks=False)
    assert "a symbolic link" in caught.value.what


def test_missing_file_and_missing_directory_are_not_found(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    for path in (tmp_path / "none.json", tmp_path / "file" / "below.json"):
        with pytest.raises(InputNotFoundError) as caught:
            read_input(path, max_bytes=10, what="keytab")
        assert caught.value.what == "keytab not found"


def test_kind_of_names_every_file_type() -> None:
    assert kind_of(stat.S_IFIFO) == "a FIFO (named pipe)"
    assert kind_of(stat.S_IFSOCK) == "a socket"
    assert kind_of(stat.S_IFCHR) == "a character device"
    assert kind_of(stat.S_IFBLK) == "a block device"
    assert kind_of(stat.S_IFDIR) == "a directory"
    assert kind_of(stat.S_IFLNK) == "a symbolic link"
    assert kind_of(stat.S_IFREG) == "a regular file"
