"""The engine's parts that need no AWS: one read per key, call names, the counts."""

from __future__ import annotations

import threading
import time

from gmsa.audit.engine import CallCounter, Counts, _Once
from gmsa.errors import AccessDeniedError


def test_concurrent_callers_share_one_run_and_its_result() -> None:
    once: _Once[str, int] = _Once()
    started = threading.Barrier(8)
    runs = []

    def work() -> int:
        runs.append(1)
        time.sleep(0.2)
        return 42

    answers: list[int | None] = []

    def caller() -> None:
        started.wait()
        answers.append(once.get("spec", work).value)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [42] * 8
    assert len(runs) == 1 and once.runs == 1
    assert once.get("spec", work).value == 42  # kept: no second run
    assert once.runs == 1
    assert once.get("other", work).value == 42
    assert once.runs == 2


def test_a_typed_failure_is_kept_too() -> None:
    once: _Once[str, int] = _Once()
    calls = []

    def refused() -> int:
        calls.append(1)
        raise AccessDeniedError("refused", where="s3:GetObject on x")

    first = once.get("spec", refused)
    second = once.get("spec", refused)
    assert first.error is second.error
    assert isinstance(first.error, AccessDeniedError)
    assert len(calls) == 1


def test_call_counter_names_calls_by_service_and_operation() -> None:
    counter = CallCounter()
    counter._on_call(event_name="before-call.ecs.DescribeTaskDefinition")
    counter._on_call(event_name="before-call.ecs.DescribeTaskDefinition")
    counter._on_send(event_name="before-send.s3.GetObject")
    assert counter.snapshot() == (
        {"ecs:DescribeTaskDefinition": 2},
        {"s3:GetObject": 1},
    )
    assert CallCounter.api("before-call.secrets-manager.GetSecretValue") == (
        "secrets-manager:GetSecretValue"
    )


def test_rate_is_reads_per_second() -> None:
    assert Counts(read=50, seconds=2.0).rate == 25.0
    assert Counts(read=50, seconds=0.0).rate == 0.0
