"""Directory source: confined to its directory, size checked before reading."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gmsa.fsutil import PathEscapeError
from gmsa.inputfile import NotRegularFileError, SymlinkLoopError
from gmsa.reference import FileLocation, S3Location
from gmsa.source.fetcher import SpecFetcher
from gmsa.source.interface import (
    SourceNotConfiguredError,
    SpecNotFoundError,
    SpecTooLargeError,
)
from gmsa.source.localdir import LocalDirSource
from tests.support.cli import within
from tests.support.special_files import SPECIAL_KINDS, special_file, symlink_loop


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "CredentialSpecs"
    directory.mkdir()
    return directory


def test_fetch_reads_the_file(spec_dir: Path) -> None:
    (spec_dir / "webapp01.json").write_bytes(b"{}")
    fetched = LocalDirSource(spec_dir).fetch(FileLocation("webapp01.json"))
    assert fetched.data == b"{}"
    assert fetched.version


def test_fetch_reads_a_file_in_a_subdirectory(spec_dir: Path) -> None:
    (spec_dir / "team").mkdir()
    (spec_dir / "team" / "app.json").write_bytes(b"[]")
    assert LocalDirSource(spec_dir).fetch(FileLocation("team/app.json")).data == b"[]"


def test_version_changes_when_the_file_is_replaced(spec_dir: Path) -> None:
    path = spec_dir / "webapp01.json"
    path.write_bytes(b"{}")
    source = LocalDirSource(spec_dir)
    before = source.current_version(FileLocation("webapp01.json"))
    replacement = spec_dir / "new.tmp"
    replacement.write_bytes(b"{}")
    replacement.replace(path)
    assert source.current_version(FileLocation("webapp01.json")) != before


def test_missing_file_is_not_found(spec_dir: Path) -> None:
    with pytest.raises(SpecNotFoundError) as caught:
        LocalDirSource(spec_dir).fetch(FileLocation("missing.json"))
    assert "missing.json" in (caught.value.where or "")


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_anything_but_a_regular_file_is_refused_at_once(kind: str, spec_dir: Path) -> None:
    with (
        special_file(kind, spec_dir) as (path, said),
        within(5),
        pytest.raises(NotRegularFileError) as caught,
    ):
        LocalDirSource(path.parent).fetch(FileLocation(path.name))
    assert f"is {said}, not a regular file" in caught.value.what
    assert caught.value.exit_code == 1


def test_a_symlink_loop_is_named_as_one(spec_dir: Path) -> None:
    loop = symlink_loop(spec_dir)
    source = LocalDirSource(spec_dir)
    for call in (source.fetch, source.current_version):
        with pytest.raises(SymlinkLoopError) as caught:
            call(FileLocation(loop.name))
        assert caught.value.exit_code == 1


def test_a_vanished_file_has_no_current_version(spec_dir: Path) -> None:
    assert LocalDirSource(spec_dir).current_version(FileLocation("gone.json")) is None


def test_traversal_out_of_the_directory_is_refused(spec_dir: Path) -> None:
    (spec_dir.parent / "outside.json").write_bytes(b"{}")
    with pytest.raises(PathEscapeError):
        LocalDirSource(spec_dir).fetch(FileLocation("../outside.json"))


def test_symlink_pointing_outside_is_refused(spec_dir: Path) -> None:
    outside = spec_dir.parent / "secret.json"
    outside.write_bytes(b"{}")
    os.symlink(outside, spec_dir / "link.json")
    with pytest.raises(PathEscapeError):
        LocalDirSource(spec_dir).fetch(FileLocation("link.json"))


def test_symlink_inside_the_directory_is_followed(spec_dir: Path) -> None:
    (spec_dir / "real.json").write_bytes(b"{}")
    os.symlink(spec_dir / "real.json", spec_dir / "alias.json")
    assert LocalDirSource(spec_dir).fetch(FileLocation("alias.json")).data == b"{}"


def test_file_over_64_kib_is_refused(spec_dir: Path) -> None:
    (spec_dir / "big.json").write_bytes(b" " * (70 * 1024))
    with pytest.raises(SpecTooLargeError):
        LocalDirSource(spec_dir).fetch(FileLocation("big.json"))


def test_fetcher_needs_a_directory_for_file_references() -> None:
    with pytest.raises(SourceNotConfiguredError) as caught:
        SpecFetcher().fetch(FileLocation("webapp01.json"))
    assert caught.value.exit_code == 1


def test_fetcher_needs_aws_settings_for_s3_references(spec_dir: Path) -> None:
    with pytest.raises(SourceNotConfiguredError):
        SpecFetcher(spec_dir=spec_dir).fetch(S3Location("aws", "bucket", "key.json"))


def test_fetcher_counts_file_reads(spec_dir: Path) -> None:
    (spec_dir / "webapp01.json").write_bytes(b"{}")
    fetcher = SpecFetcher(spec_dir=spec_dir)
    fetcher.fetch(FileLocation("webapp01.json"))
    fetcher.fetch(FileLocation("webapp01.json"))
    assert fetcher.fetch_count == 2


def no_follow(spec_dir: Path) -> LocalDirSource:
    return LocalDirSource(spec_dir, follow_links=False)


def test_without_following_links_a_file_and_a_subdirectory_file_are_read(spec_dir: Path) -> None:
    (spec_dir / "team").mkdir()
    (spec_dir / "team" / "app.json").write_bytes(b"[]")
    (spec_dir / "webapp01.json").write_bytes(b"{}")
    assert no_follow(spec_dir).fetch(FileLocation("team/app.json")).data == b"[]"
    fetched = no_follow(spec_dir).fetch(FileLocation("webapp01.json"))
    assert fetched.data == b"{}"
    assert fetched.version == no_follow(spec_dir).current_version(FileLocation("webapp01.json"))


def test_without_following_links_a_link_inside_the_directory_is_refused(spec_dir: Path) -> None:
    (spec_dir / "real.json").write_bytes(b"{}")
    os.symlink("real.json", spec_dir / "alias.json")
    with pytest.raises(NotRegularFileError) as caught:
        no_follow(spec_dir).fetch(FileLocation("alias.json"))
    assert caught.value.where == str(spec_dir / "alias.json")
    assert "symbolic link" in caught.value.what
    assert caught.value.exit_code == 1


def test_without_following_links_a_linked_subdirectory_is_refused(
    spec_dir: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "app.json").write_bytes(b"{}")
    os.symlink(elsewhere, spec_dir / "team")
    with pytest.raises(NotRegularFileError) as caught:
        no_follow(spec_dir).fetch(FileLocation("team/app.json"))
    assert caught.value.where == str(spec_dir / "team")
    assert "symbolic link" in caught.value.what


def test_without_following_links_missing_files_and_directories_are_not_found(
    spec_dir: Path,
) -> None:
    (spec_dir / "plain").write_bytes(b"{}")
    for name in ("missing.json", "nodir/app.json", "plain/app.json"):
        with pytest.raises(SpecNotFoundError):
            no_follow(spec_dir).fetch(FileLocation(name))
        assert no_follow(spec_dir).current_version(FileLocation(name)) is None


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_without_following_links_special_files_are_refused(spec_dir: Path, kind: str) -> None:
    with (
        special_file(kind, spec_dir) as (path, said),
        within(5),
        pytest.raises(NotRegularFileError) as caught,
    ):
        no_follow(path.parent).fetch(FileLocation(path.name))
    assert f"is {said}, not a regular file" in caught.value.what


def test_without_following_links_a_symlink_loop_is_a_link(spec_dir: Path) -> None:
    loop = symlink_loop(spec_dir)
    with pytest.raises(NotRegularFileError) as caught:
        no_follow(spec_dir).fetch(FileLocation(loop.name))
    assert "symbolic link" in caught.value.what
