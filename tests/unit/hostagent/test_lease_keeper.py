"""The keeper's pace: checks every keep_alive_seconds, renews only when something changed,
and waits longer after each failed renewal (a wrong password must not lock the user out).
The renewals themselves run against the real DC in tests/integration."""

from __future__ import annotations

import itertools
from typing import Any, cast

from gmsa.errors import GmsaError
from gmsa.hostagent.linux import KEEP_ALIVE_BACKOFF_MAX, LeaseKeeper, LinuxHostAgent, RenewedTask


class Agent:
    """The three things a keeper asks its host agent, answered from fields."""

    keep_alive_seconds = 10.0

    def __init__(self) -> None:
        self.credentials = b"first"
        self.awaiting: bool | None = False
        self.refuse = False
        self.renews = 0

    def credentials_fingerprint(self) -> bytes | None:
        return self.credentials

    def lease_awaits_credentials(self, lease_id: str) -> bool | None:
        return self.awaiting

    def renew(self, task_def: Any, task_id: str) -> RenewedTask:
        self.renews += 1
        if self.refuse:
            raise GmsaError("the DC refused the domain user", where="dc1.example.com")
        self.awaiting = False
        return RenewedTask(task_id, "lease", "svc@example.com", ("/krb/lease/WebApp01",))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def keeper_for(agent: Agent, clock: Clock) -> LeaseKeeper:
    return LeaseKeeper(cast(LinuxHostAgent, agent), cast(Any, None), "task", "lease", clock=clock)


def test_nothing_changed_means_no_renewal_and_checks_wait_their_turn() -> None:
    agent, clock = Agent(), Clock()
    keeper = keeper_for(agent, clock)
    agent.awaiting = True
    clock.now = 9.9
    assert keeper.poll() is None and agent.renews == 0  # not time to check yet
    clock.now = 10.0
    renewal = keeper.poll()
    assert renewal is not None and renewal.reason == "ticket-service-restarted" and renewal.ok
    clock.now = 20.0
    assert keeper.poll() is None and agent.renews == 1


def test_refreshed_credentials_renew_once() -> None:
    agent, clock = Agent(), Clock()
    keeper = keeper_for(agent, clock)
    agent.credentials = b"second"
    clock.now = 10.0
    renewal = keeper.poll()
    assert renewal is not None and renewal.reason == "credentials-refreshed"
    clock.now = 20.0
    assert keeper.poll() is None and agent.renews == 1


def test_failures_wait_longer_each_time_up_to_the_cap_and_a_success_resets() -> None:
    agent, clock = Agent(), Clock()
    keeper = keeper_for(agent, clock)
    agent.awaiting, agent.refuse = True, True
    attempts = []
    for _ in range(12000):
        clock.now += 1.0
        if keeper.poll() is not None:
            attempts.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert gaps[:5] == [20.0, 40.0, 80.0, 160.0, 320.0]
    assert max(gaps) == KEEP_ALIVE_BACKOFF_MAX
    assert all(not r.ok and r.error and "refused" in r.error for r in keeper.renewals)
    agent.refuse = False
    clock.now += KEEP_ALIVE_BACKOFF_MAX
    assert keeper.poll() is not None and keeper.renewals[-1].ok
    agent.awaiting = True
    clock.now += 10.0
    assert keeper.poll() is not None  # back to the normal pace


def test_a_service_that_cannot_be_asked_is_asked_again_later() -> None:
    agent, clock = Agent(), Clock()
    keeper = keeper_for(agent, clock)
    agent.awaiting = None  # restarting: no answer
    clock.now = 10.0
    assert keeper.poll() is None
    agent.awaiting = True
    clock.now = 20.0
    assert keeper.poll() is not None and agent.renews == 1
