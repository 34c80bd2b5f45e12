"""DirHandle: work below a directory without following links; atomic writes; the task lock."""

from __future__ import annotations

import os
import time
from multiprocessing import get_context
from pathlib import Path

import pytest

from gmsa.errors import ExitCode, ExternalError, InvalidInputError
from gmsa.fsutil import DirHandle, LinkedPathError, write_atomic


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "outside"
    path.mkdir()
    (path / "precious").write_text("keep me")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    path.mkdir()
    return path


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def test_subdir_refuses_a_link_to_a_directory_elsewhere(root: Path, outside: Path) -> None:
    (root / "state").symlink_to(outside)
    with DirHandle.open(root) as handle, pytest.raises(LinkedPathError) as caught:
        handle.subdir("state", create=True)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert caught.value.where == str(root / "state")
    assert "symbolic link" in caught.value.what


def test_descend_refuses_a_link_at_any_depth(root: Path, outside: Path) -> None:
    (root / "a").mkdir()
    (root / "a" / "b").symlink_to(outside)
    with DirHandle.open(root) as handle, pytest.raises(LinkedPathError) as caught:
        handle.descend("a/b/c", create=True)
    assert caught.value.where == str(root / "a" / "b")
    assert sorted(p.name for p in outside.iterdir()) == ["precious"]


def test_subdir_refuses_a_file_where_a_directory_belongs(root: Path) -> None:
    (root / "state").write_text("x")
    with DirHandle.open(root) as handle, pytest.raises(LinkedPathError, match="not a directory"):
        handle.subdir("state")


def test_write_replaces_a_link_itself_never_its_target(root: Path, outside: Path) -> None:
    (root / "spec.json").symlink_to(outside / "precious")
    with DirHandle.open(root) as handle:
        handle.write_atomic("spec.json", b"new", durable=False)
    assert not (root / "spec.json").is_symlink()
    assert (root / "spec.json").read_bytes() == b"new"
    assert (outside / "precious").read_text() == "keep me"


def test_unlink_removes_a_link_itself_never_its_target(root: Path, outside: Path) -> None:
    (root / "spec.json").symlink_to(outside / "precious")
    with DirHandle.open(root) as handle:
        assert handle.unlink("spec.json") is True
        assert handle.unlink("spec.json") is False
    assert (outside / "precious").read_text() == "keep me"


def test_read_refuses_a_link_and_a_fifo_at_once(root: Path, outside: Path) -> None:
    (root / "link").symlink_to(outside / "precious")
    os.mkfifo(root / "fifo")
    with DirHandle.open(root) as handle:
        with pytest.raises(LinkedPathError, match="symbolic link"):
            handle.read("link", max_bytes=100)
        with pytest.raises(LinkedPathError, match="not a regular file"):
            handle.read("fifo", max_bytes=100)
        assert handle.read("absent", max_bytes=100) is None


def test_read_refuses_a_file_over_its_limit(root: Path) -> None:
    (root / "big").write_bytes(b"x" * 101)
    with DirHandle.open(root) as handle, pytest.raises(InvalidInputError):
        handle.read("big", max_bytes=100)


def test_fixed_temporary_name_left_by_a_crash_is_replaced(root: Path, outside: Path) -> None:
    (root / ".a.tmp").symlink_to(outside / "precious")
    with DirHandle.open(root) as handle:
        handle.write_atomic("a", b"data", durable=False, temp=".a.tmp")
    assert snapshot(root) == {"a": b"data"}
    assert (outside / "precious").read_text() == "keep me"


def test_exclusive_write_refuses_an_existing_file(root: Path) -> None:
    (root / "a").write_bytes(b"old")
    with pytest.raises(InvalidInputError, match="already exists"):
        write_atomic(root / "a", b"new", exclusive=True)
    assert snapshot(root) == {"a": b"old"}


def test_write_new_creates_the_file_with_its_mode_and_refuses_any_entry(
    root: Path, outside: Path
) -> None:
    (root / "link").symlink_to(outside / "precious")
    with DirHandle.open(root) as handle:
        handle.write_new("cache", b"ticket", mode=0o600)
        with pytest.raises(ExternalError, match="cannot create"):
            handle.write_new("cache", b"again")
        with pytest.raises(ExternalError, match="cannot create"):
            handle.write_new("link", b"through")
    assert (root / "cache").read_bytes() == b"ticket"
    assert (root / "cache").stat().st_mode & 0o777 == 0o600
    assert (outside / "precious").read_text() == "keep me"


def test_write_into_a_missing_directory_is_an_outside_failure(tmp_path: Path) -> None:
    with pytest.raises(ExternalError, match="cannot create a file in the directory"):
        write_atomic(tmp_path / "absent" / "a", b"x")


def test_handle_keeps_working_in_the_directory_it_opened(tmp_path: Path, root: Path) -> None:
    with DirHandle.open(root) as handle:
        root.rename(tmp_path / "moved")
        root.symlink_to(tmp_path / "elsewhere")  # dangling: a write through it would fail
        handle.write_atomic("a", b"x", durable=False)
    assert (tmp_path / "moved" / "a").read_bytes() == b"x"


def _hold(root: str, hold: float, log: str) -> None:
    with DirHandle.open(Path(root)) as handle, handle.lock("task.lock"):
        with open(log, "a") as out:
            out.write(f"start {time.monotonic()}\n")
        time.sleep(hold)
        with open(log, "a") as out:
            out.write(f"end {time.monotonic()}\n")


def test_lock_serialises_processes_and_leaves_no_file(root: Path, tmp_path: Path) -> None:
    log = tmp_path / "log"
    context = get_context("fork")
    workers = [context.Process(target=_hold, args=(str(root), 0.2, str(log))) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    events = [line.split()[0] for line in log.read_text().splitlines()]
    assert events == ["start", "end"] * 3
    assert list(root.iterdir()) == []


def test_lock_refuses_a_link_in_place_of_its_file(root: Path, outside: Path) -> None:
    (root / "task.lock").symlink_to(outside / "precious")
    with DirHandle.open(root) as handle, pytest.raises(LinkedPathError):  # noqa: SIM117
        with handle.lock("task.lock"):
            pass
    assert (outside / "precious").read_text() == "keep me"
