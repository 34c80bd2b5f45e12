"""SpecCache: single flight, failures not cached, revalidation instead of blind trust."""

from __future__ import annotations

import threading
import time

import pytest

from gmsa.reference import FileLocation
from gmsa.source.cache import SpecCache
from gmsa.source.interface import FetchedSpec, SpecNotFoundError

HERE = FileLocation("webapp01.json")
THERE = FileLocation("other.json")


class Store:
    """A store whose contents and version a test changes, counting reads."""

    def __init__(self, data: bytes = b"{}", version: str | None = "v1", delay: float = 0) -> None:
        self.data = data
        self.version = version
        self.delay = delay
        self.loads = 0
        self.version_checks = 0
        self.fail: Exception | None = None
        self._lock = threading.Lock()

    def load(self) -> FetchedSpec:
        with self._lock:
            self.loads += 1
        time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return FetchedSpec(HERE, self.data, self.version)

    def current_version(self) -> str | None:
        self.version_checks += 1
        return self.version


def test_concurrent_callers_share_one_load() -> None:
    cache = SpecCache()
    store = Store(delay=0.2)
    results: list[FetchedSpec] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(cache.get(HERE, store.load, store.current_version))
        )
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.loads == 1
    assert len(results) == 20
    assert all(r is results[0] for r in results)


def test_a_failed_load_reaches_every_waiter() -> None:
    cache = SpecCache()
    store = Store(delay=0.2)
    store.fail = SpecNotFoundError("gone")
    errors: list[BaseException] = []

    def call() -> None:
        try:
            cache.get(HERE, store.load, store.current_version)
        except SpecNotFoundError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 5
    assert store.loads == 1


def test_a_failure_is_not_cached() -> None:
    cache = SpecCache()
    store = Store()
    store.fail = SpecNotFoundError("gone")
    with pytest.raises(SpecNotFoundError):
        cache.get(HERE, store.load, store.current_version)
    store.fail = None
    assert cache.get(HERE, store.load, store.current_version).data == b"{}"
    assert store.loads == 2


def test_within_the_window_the_store_is_not_asked() -> None:
    cache = SpecCache(revalidate_after=60)
    store = Store()
    cache.get(HERE, store.load, store.current_version)
    cache.get(HERE, store.load, store.current_version)
    assert (store.loads, store.version_checks) == (1, 0)


def test_after_the_window_an_unchanged_version_keeps_the_copy() -> None:
    cache = SpecCache(revalidate_after=0)
    store = Store()
    first = cache.get(HERE, store.load, store.current_version)
    second = cache.get(HERE, store.load, store.current_version)
    assert second is first
    assert (store.loads, store.version_checks) == (1, 1)


def test_after_the_window_a_new_version_is_loaded() -> None:
    cache = SpecCache(revalidate_after=0)
    store = Store()
    cache.get(HERE, store.load, store.current_version)
    store.data, store.version = b"[]", "v2"
    assert cache.get(HERE, store.load, store.current_version).data == b"[]"
    assert store.loads == 2


def test_a_store_that_cannot_tell_its_version_is_read_again() -> None:
    cache = SpecCache(revalidate_after=0)
    store = Store(version=None)
    cache.get(HERE, store.load, store.current_version)
    cache.get(HERE, store.load, store.current_version)
    assert store.loads == 2


def test_a_failed_revalidation_is_raised_and_retried_next_time() -> None:
    cache = SpecCache(revalidate_after=0)
    store = Store()
    cache.get(HERE, store.load, store.current_version)

    def refused() -> str | None:
        raise SpecNotFoundError("deleted")

    with pytest.raises(SpecNotFoundError):
        cache.get(HERE, store.load, refused)
    assert cache.get(HERE, store.load, store.current_version).data == b"{}"


def test_locations_are_cached_apart() -> None:
    cache = SpecCache()
    here, there = Store(b"1"), Store(b"2")
    assert cache.get(HERE, here.load, here.current_version).data == b"1"
    assert cache.get(THERE, there.load, there.current_version).data == b"2"


def test_scopes_are_cached_apart() -> None:
    cache = SpecCache()
    first, second = Store(b"1"), Store(b"2")
    cache.get(HERE, first.load, first.current_version, scope="role-a")
    assert cache.get(HERE, second.load, second.current_version, scope="role-b").data == b"2"
    assert second.loads == 1


def test_invalidate_forgets_a_location() -> None:
    cache = SpecCache()
    store = Store()
    cache.get(HERE, store.load, store.current_version)
    cache.invalidate(HERE)
    cache.get(HERE, store.load, store.current_version)
    assert store.loads == 2


def test_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="revalidate_after"):
        SpecCache(revalidate_after=-1)
