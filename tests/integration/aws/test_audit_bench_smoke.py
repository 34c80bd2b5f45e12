"""The audit benchmark's code, run with tiny numbers so it cannot rot (no timing asserted)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.audit_bench import Workload, expected_failing, minimum_calls, recording_server, run


def test_benchmark_runs_and_pins_the_calls_with_tiny_numbers(tmp_path: Path) -> None:
    workload = Workload(families=10, revisions=2, gmsa_share=0.5, specs=4, roles=3)
    with recording_server(tmp_path) as endpoint:
        report = run(endpoint, workload, naive_sample=2, concurrency=4, directory=tmp_path)
    # The families using gMSA: 0, 2, 4, 6, 8; specs 0..3 and roles 0..2 in turn.
    assert workload.gmsa_families == [0, 2, 4, 6, 8]
    assert report.audit.detail["exit_code"] == 1
    # The audit makes exactly the minimum: one describe per family, each of the four
    # specs once, each of the three roles once (role 2 does not exist), STS once.
    assert report.minimum == {
        "ecs:ListTaskDefinitionFamilies": 1,
        "ecs:DescribeTaskDefinition": 10,
        "s3:GetObject": 2,
        "ssm:GetParameters": 2,
        "sts:GetCallerIdentity": 1,
        "iam:ListRolePolicies": 3,
        "iam:GetRolePolicy": 1,
        "iam:ListAttachedRolePolicies": 2,
        "iam:GetPolicy": 1,
        "iam:GetPolicyVersion": 1,
    }
    assert report.audit.calls == report.minimum == minimum_calls(workload)
    assert report.audit.detail["self_counted_calls"] == report.audit.calls
    assert report.audit.failing == expected_failing(workload) and report.audit_agrees
    # The naive way: the same listing and describes, then one process per task
    # definition (two of five really run), each reading its spec and role again.
    assert report.naive.measured == 2
    assert report.naive.processes == 5
    assert report.naive.calls["ecs:DescribeTaskDefinition"] == 10
    assert report.naive.detail["sampled"] is True
    assert report.naive_agrees
    assert report.audit.peak_rss_mib > 0 and report.naive.peak_rss_mib > 0
    assert "extrapolated" in report.text()
