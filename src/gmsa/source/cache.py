"""A credential spec cache shared by every task on a host.

The ECS agent fetches a spec again for every task; a host that starts many
tasks of one service asks the store the same question many times. Here:

- **single flight**: concurrent callers for one location wait for the one load
  in progress and share its result (or its error);
- **failures are not cached**: the next caller tries again;
- **revalidation, not blind trust**: a copy is served as is for
  ``revalidate_after`` seconds; after that the store is asked for its current
  version (S3: HeadObject's ETag; a file: inode, size, mtime) and the bytes are
  kept when it has not changed. A store that cannot tell its version cheaply
  (SSM) is simply read again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from gmsa.reference import Location
from gmsa.singleflight import SingleFlight
from gmsa.source.interface import FetchedSpec

_Key = tuple[Hashable, Location]


@dataclass
class _Entry:
    spec: FetchedSpec
    checked_at: float


class SpecCache:
    """Specs by location, shared between threads; see the module docstring."""

    def __init__(self, *, revalidate_after: float = 30.0) -> None:
        if revalidate_after < 0:
            raise ValueError("revalidate_after must not be negative")
        self.revalidate_after = revalidate_after
        """Seconds a cached copy is served without asking the store."""
        self._entries: dict[_Key, _Entry] = {}
        self._lock = threading.Lock()
        self._flights: SingleFlight[_Key, FetchedSpec] = SingleFlight(self._lock)
        self._clock: Callable[[], float] = time.monotonic

    def get(
        self,
        location: Location,
        load: Callable[[], FetchedSpec],
        current_version: Callable[[], str | None],
        *,
        scope: Hashable = None,
    ) -> FetchedSpec:
        """The spec at ``location``: cached, revalidated, or loaded once for all callers.

        ``load`` reads the whole spec; ``current_version`` asks the store for the
        version it holds now (``None``: it cannot tell, so ``load`` is used).
        ``scope`` keeps apart copies read with different credentials or from
        different directories: a task whose role may not read a spec must not be
        served the copy another task's role fetched.
        """
        key: _Key = (scope, location)
        seen: _Entry | None = None

        def kept() -> FetchedSpec | None:
            nonlocal seen
            seen = self._entries.get(key)
            if seen is not None and self._clock() - seen.checked_at < self.revalidate_after:
                return seen.spec
            return None

        def finished(result: FetchedSpec) -> None:
            self._entries[key] = _Entry(result, self._clock())

        return self._flights.run(
            key,
            lambda: self._refresh(seen, load, current_version),
            kept=kept,
            finished=finished,
        )

    @staticmethod
    def _refresh(
        entry: _Entry | None,
        load: Callable[[], FetchedSpec],
        current_version: Callable[[], str | None],
    ) -> FetchedSpec:
        if entry is None or entry.spec.version is None:
            return load()
        version = current_version()
        if version is not None and version == entry.spec.version:
            return entry.spec
        return load()

    def invalidate(self, location: Location) -> None:
        """Forget one location in every scope (after publishing a new version)."""
        with self._lock:
            for key in [k for k in self._entries if k[1] == location]:
                del self._entries[key]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


__all__ = [
    "SpecCache",
]
