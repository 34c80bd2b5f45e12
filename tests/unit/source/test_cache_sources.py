"""The shared cache in front of a local folder: rewritten files, separate folders."""

from __future__ import annotations

from pathlib import Path

from gmsa.reference import FileLocation
from gmsa.source.cache import SpecCache
from gmsa.source.fetcher import SpecFetcher


def test_rewritten_file_is_read_again(tmp_path: Path) -> None:
    (tmp_path / "webapp01.json").write_bytes(b"{}")
    fetcher = SpecFetcher(spec_dir=tmp_path, cache=SpecCache(revalidate_after=0))
    location = FileLocation("webapp01.json")
    fetcher.fetch(location)
    fetcher.fetch(location)
    assert fetcher.fetch_count == 1
    (tmp_path / "new").write_bytes(b"[]")
    (tmp_path / "new").replace(tmp_path / "webapp01.json")
    assert fetcher.fetch(location).data == b"[]"


def test_two_directories_do_not_share_cached_files(tmp_path: Path) -> None:
    cache = SpecCache()
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "x.json").write_bytes(b"1")
    (second / "x.json").write_bytes(b"2")
    location = FileLocation("x.json")
    assert SpecFetcher(spec_dir=first, cache=cache).fetch(location).data == b"1"
    assert SpecFetcher(spec_dir=second, cache=cache).fetch(location).data == b"2"
