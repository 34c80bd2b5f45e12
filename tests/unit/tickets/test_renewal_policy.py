"""When tickets are renewed and failures retried."""

from __future__ import annotations

import datetime

from gmsa.tickets.renewal import RenewalPolicy

T0 = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
H = datetime.timedelta(hours=1)
S = datetime.timedelta(seconds=1)


def test_a_ten_hour_ticket_is_renewed_at_70_percent() -> None:
    assert RenewalPolicy().renew_at(T0, T0 + 10 * H) == T0 + 7 * H


def test_a_two_hour_ticket_is_renewed_an_hour_before_its_end() -> None:
    assert RenewalPolicy().renew_at(T0, T0 + 2 * H) == T0 + H


def test_a_short_ticket_is_not_renewed_before_half_its_lifetime() -> None:
    assert RenewalPolicy().renew_at(T0, T0 + H) == T0 + H / 2
    assert RenewalPolicy().renew_at(T0, T0 + 4 * S) == T0 + 2 * S


def test_retries_back_off_exponentially_up_to_the_cap() -> None:
    policy = RenewalPolicy()
    delays = [policy.retry_at(T0, n) - T0 for n in range(1, 8)]
    assert delays == [30 * S, 60 * S, 120 * S, 240 * S, 480 * S, 600 * S, 600 * S]


def test_a_retry_comes_before_the_ticket_ends() -> None:
    policy = RenewalPolicy()
    end = T0 + 4 * datetime.timedelta(minutes=1)
    assert policy.retry_at(T0, 6, end) == T0 + 2 * datetime.timedelta(minutes=1)


def test_a_retry_is_never_sooner_than_the_base_delay() -> None:
    policy = RenewalPolicy()
    assert policy.retry_at(T0, 6, T0 + 10 * S) == T0 + 30 * S
