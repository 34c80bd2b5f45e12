"""When to renew a ticket and when to retry after a failure.

A ticket is renewed well before its real end time: at 70% of its lifetime or one
hour before it ends, whichever comes first, but never before half of its
lifetime has passed (so short-lived tickets are not renewed in a tight loop).
credentials-fetcher instead scans every 10 minutes for tickets ending within the
hour, which misses tickets shorter than that. Failures are retried with
exponential backoff, capped, and never later than shortly before the ticket ends.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class RenewalPolicy:
    """The renewal schedule's parameters."""

    fraction: float = 0.7
    """Renew once this fraction of the lifetime has passed..."""
    margin: datetime.timedelta = datetime.timedelta(hours=1)
    """...or this long before the end, whichever is earlier..."""
    floor: float = 0.5
    """...but not before this fraction of the lifetime."""
    retry_base: datetime.timedelta = datetime.timedelta(seconds=30)
    """First retry delay after a failure; doubles with each further failure."""
    retry_max: datetime.timedelta = datetime.timedelta(minutes=10)
    """Longest delay between retries."""

    def renew_at(self, start: datetime.datetime, end: datetime.datetime) -> datetime.datetime:
        """When a ticket valid from ``start`` to ``end`` should be renewed."""
        lifetime: datetime.timedelta = max(end - start, datetime.timedelta(0))
        by_fraction: datetime.datetime = start + lifetime * self.fraction
        by_margin = end - self.margin
        planned = by_fraction if by_fraction <= by_margin else by_margin
        earliest: datetime.datetime = start + lifetime * self.floor
        return planned if planned >= earliest else earliest

    def retry_at(
        self,
        now: datetime.datetime,
        failures: int,
        end: datetime.datetime | None = None,
    ) -> datetime.datetime:
        """When to try again after ``failures`` consecutive failures (1 = first)."""
        exponent = min(max(failures, 1) - 1, 30)
        delay = min(self.retry_base * (1 << exponent), self.retry_max)
        when = now + delay
        if end is not None and end > now:
            # Do not sleep through the ticket's end: one more try well before it.
            last_chance = now + (end - now) / 2
            when = min(when, max(last_chance, now + self.retry_base))
        return when


__all__ = [
    "RenewalPolicy",
]
