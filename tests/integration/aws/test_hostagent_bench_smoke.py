"""The prepare benchmark's code, run with tiny numbers so it cannot rot (no timing asserted)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.prepare_bench import run

from tests.support.moto import AwsLab


def test_benchmark_runs_and_counts_fetches_with_tiny_numbers(aws: AwsLab, tmp_path: Path) -> None:
    report = run(
        aws.endpoint,
        tasks=3,
        containers=3,
        specs=4,
        workers=2,
        repetitions=3,
        workdir=tmp_path,
        rounds=1,
    )
    # Each task uses three distinct specs: the agent's way fetches each per task,
    # gmsa fetches each of the four specs once for all tasks.
    assert report.baseline.fetches == 9
    assert report.gmsa.fetches == 4
    assert report.single_baseline_ms > 0
    assert report.single_gmsa_ms > 0
    assert "fewer fetches" in report.text()
    assert len(list((tmp_path / "round0" / "gmsa").glob("gmsa_*.json"))) == 9
