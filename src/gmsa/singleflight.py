"""Single flight: concurrent callers for one key share one run of the work.

The spec cache and the ticket acquirer both have work that many threads ask for
at once (a spec read, a gMSA's password read and TGT request). The first caller
for a key runs it; the others wait and receive its result or its error. Failures
are shared with those already waiting but never kept: the next caller runs the
work again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Flight(Generic[V]):
    done: threading.Event = field(default_factory=threading.Event)
    result: V | None = None
    error: BaseException | None = None


def _nothing() -> None:
    return None


class SingleFlight(Generic[K, V]):
    """Work in flight by key; see the module docstring.

    ``lock`` is the owner's own lock when it keeps state next to the flights (a cache
    of finished results): the hooks of :meth:`run` are called with it held, so that
    state and the flights change together. The hooks must not take it again.
    """

    def __init__(self, lock: threading.Lock | None = None) -> None:
        self._lock = lock or threading.Lock()
        self._flights: dict[K, _Flight[V]] = {}

    def run(
        self,
        key: K,
        work: Callable[[], V],
        *,
        kept: Callable[[], V | None] = _nothing,
        joined: Callable[[], None] = _nothing,
        finished: Callable[[V], None] | None = None,
    ) -> V:
        """The result of ``work`` for ``key``, run by this caller or by one in flight.

        A run in flight is always joined (``joined`` is told). Otherwise ``kept``
        may answer with a result kept from an earlier run (``None``: run the work).
        ``finished`` sees the leader's result before the flight ends, so a caller
        arriving just after finds it wherever the owner keeps it.
        """
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                earlier = kept()
                if earlier is not None:
                    return earlier
                flight = _Flight()
                self._flights[key] = flight
            else:
                joined()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.result is not None
            return flight.result
        try:
            result = work()
            if finished is not None:
                with self._lock:
                    finished(result)
            flight.result = result
            return result
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()


__all__ = [
    "K",
    "SingleFlight",
    "V",
]
