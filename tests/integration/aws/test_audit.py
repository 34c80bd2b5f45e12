"""``gmsa audit`` against a seeded account on the moto server: it finds exactly the
broken task definitions, with the right causes, reading each spec and role once.

The account is seeded once for the module (the tests only read it); the tests that
make their own account, or fail calls on purpose, are in test_audit_failures.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gmsa.audit.engine import Audit, AuditOptions
from gmsa.audit.results import AuditResult
from gmsa.findings import Severity
from tests.integration.aws.audit_account import (
    S3_MISSING,
    Account,
    Calls,
    Expect,
    audit,
    audit_env,
    config,
    seed,
)
from tests.support.cli import json_of
from tests.support.moto import AwsLab, MotoServer


@pytest.fixture(scope="module")
def seeded(moto_server: MotoServer) -> Iterator[tuple[AwsLab, Account]]:
    moto_server.reset()
    lab = AwsLab(moto_server)
    yield lab, seed(lab)
    moto_server.reset()


@pytest.fixture
def aws(seeded: tuple[AwsLab, Account]) -> AwsLab:
    return seeded[0]


@pytest.fixture
def account(seeded: tuple[AwsLab, Account]) -> Account:
    return seeded[1]


@pytest.fixture
def aws_env(aws: AwsLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    return audit_env(aws, monkeypatch, tmp_path)


def found(result: AuditResult) -> dict[str, Expect]:
    """What the audit found, in the shape of the expectations."""
    out: dict[str, Expect] = {}
    for task in result.audited:
        assert task.family is not None

        def codes(severity: Severity, task: Any = task) -> frozenset[str]:
            return frozenset(f.code for f in task.findings if f.severity is severity)

        out[task.family] = Expect(
            task.outcome.value,
            codes(Severity.ERROR),
            codes(Severity.WARNING),
            codes(Severity.INFO),
        )
    return out


def without_reads(expected: dict[str, Expect]) -> dict[str, Expect]:
    return {name: Expect(e.outcome, e.errors, e.warnings, e.infos) for name, e in expected.items()}


def test_the_audit_finds_exactly_the_broken_ones_with_their_causes(
    aws: AwsLab, account: Account
) -> None:
    result = Audit(config(aws), AuditOptions(regions=(aws.region,), concurrency=8)).run()
    expected = account.expected
    assert found(result) == without_reads(expected)
    assert result.would_fail == sum(e.outcome == "fail" for e in expected.values())
    assert result.not_read == ()
    assert result.exit_code() == 1
    # Every finding names its task definition; the revision audited is the latest ACTIVE.
    by_family = {t.family: t for t in result.audited}
    assert by_family["revised"].revision == 2
    assert by_family["deregistered-latest"].revision == 1
    assert all(f.source == t.arn for t in result.audited for f in t.findings)


def test_each_spec_and_each_role_is_read_once_however_many_share_it(
    aws: AwsLab, account: Account
) -> None:
    aws_config = config(aws)
    calls = Calls(aws_config)
    result = Audit(aws_config, AuditOptions(regions=(aws.region,), concurrency=8)).run()
    expected = account.expected.values()
    specs = {s for e in expected for s in e.specs}
    roles = {e.role for e in expected if e.role}
    assert sum(len(e.specs) for e in expected) > 2 * len(specs)  # sharing to save
    assert calls.by_api["s3:GetObject"] == sum(s.startswith("arn:aws:s3") for s in specs)
    assert calls.by_api["ssm:GetParameters"] == sum(s.startswith("arn:aws:ssm") for s in specs)
    assert calls.by_api["iam:ListRolePolicies"] == len(roles)
    assert calls.by_api["iam:ListAttachedRolePolicies"] == len(roles) - 1  # the ghost has none
    assert calls.by_api["sts:GetCallerIdentity"] == 1
    families = len(account.families)
    assert calls.by_api["ecs:ListTaskDefinitionFamilies"] == 1
    # One describe per family, and two more calls for the family whose newest revision
    # was deregistered (its ACTIVE revisions listed, the newest described).
    assert calls.by_api["ecs:DescribeTaskDefinition"] == families + 1
    assert calls.by_api["ecs:ListTaskDefinitions"] == 1
    assert result.calls == dict(calls.by_api)
    assert result.read == families  # the family described twice is read once


def test_the_command_reports_every_finding_with_the_task_definition_as_source(
    aws: AwsLab, account: Account, aws_env: list[str]
) -> None:
    result = audit(*aws_env, "--json")
    assert result.exit_code == 1, result.output
    document = json_of(result)
    assert document["ok"] is False
    tasks = {t["family"]: t for t in document["task_definitions"]}
    assert set(tasks) == set(account.expected)
    for name, expected in account.expected.items():
        task = tasks[name]
        assert task["outcome"] == expected.outcome, name
        errors = {f["code"] for f in task["findings"] if f["severity"] == "error"}
        assert errors == expected.errors, name
        assert {f["source"] for f in task["findings"]} <= {task["arn"]}
    everything = [f for t in tasks.values() for f in t["findings"]]
    assert len(document["findings"]) == len(everything)
    assert {f["source"] for f in document["findings"]} == {
        t["arn"] for t in tasks.values() if t["findings"]
    }
    summary = document["summary"]
    assert summary["using_gmsa"] == len(account.expected)
    assert summary["would_fail"] == sum(e.outcome == "fail" for e in account.expected.values())
    causes = summary["causes"]
    severities = [c["severity"] for c in causes]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    spec_not_found = next(c for c in causes if c["code"] == "spec-not-found")
    assert spec_not_found["task_definitions"] == 3
    assert causes[0]["severity"] == "error"
    assert causes[0]["task_definitions"] == max(
        c["task_definitions"] for c in causes if c["severity"] == "error"
    )
    # A finding about a spec points at the reference in the task definition.
    missing = next(f for f in tasks["bad-spec-missing-s3"]["findings"])
    assert missing["path"] == "containerDefinitions[0].credentialSpecs[0]"
    assert S3_MISSING in missing["message"]


def test_text_output_summarizes_the_causes_then_each_failing_task_definition(
    aws: AwsLab, account: Account, aws_env: list[str]
) -> None:
    result = audit(*aws_env)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    fails = sum(e.outcome == "fail" for e in account.expected.values())
    assert f"{fails} task definitions would fail" in lines[1]
    assert lines.index("would fail, by cause (worst first):") < lines.index("warnings:")
    assert any(line.split()[:3] == ["spec-not-found", "3", "task"] for line in lines), result.stdout
    assert any(line.endswith("task-definition/bad-iam-deny:1: would fail") for line in lines)
    assert not any("task-definition/good-s3:1" in line for line in lines)


def test_quiet_prints_only_problems_and_sarif_is_valid(
    aws: AwsLab, account: Account, aws_env: list[str]
) -> None:
    quiet = audit(*aws_env, "--quiet")
    assert quiet.exit_code == 1
    assert quiet.stdout.startswith(("error: ", "  error: "))
    assert "spec-host-side" not in quiet.stdout and "passes" not in quiet.stdout
    sarif = audit(*aws_env, "--format", "sarif")  # checked against SARIF 2.1.0 by conftest
    assert sarif.exit_code == 1
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"spec-not-found", "iam-explicit-deny"}


def test_status_inactive_audits_the_deregistered_revisions(
    aws: AwsLab, account: Account, aws_env: list[str]
) -> None:
    result = audit(*aws_env, "--status", "INACTIVE", "--json")
    document = json_of(result)
    assert [t["arn"].rsplit("/", 1)[1] for t in document["task_definitions"]] == [
        "deregistered-latest:2"
    ]
    assert result.exit_code == 1
    assert document["task_definitions"][0]["findings"][0]["code"] == "spec-not-found"


def test_all_revisions_and_a_family_prefix(
    aws: AwsLab, account: Account, aws_env: list[str]
) -> None:
    result = audit(*aws_env, "--all-revisions", "--family-prefix", "re", "--json")
    document = json_of(result)
    outcomes = {t["arn"].rsplit("/", 1)[1]: t["outcome"] for t in document["task_definitions"]}
    assert outcomes == {"revised:1": "fail", "revised:2": "pass"}
    assert document["audit"]["all_revisions"] is True
    latest = json_of(audit(*aws_env, "--family-prefix", "good-", "--json"))
    assert {t["family"] for t in latest["task_definitions"]} == {
        n for n in account.expected if n.startswith("good-")
    }
    assert latest["summary"]["listed"] == sum(f.name.startswith("good-") for f in account.families)
