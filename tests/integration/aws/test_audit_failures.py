"""``gmsa audit`` when calls fail: IAM refusing the auditor (moto enforcing IAM), an
endpoint that throttles or refuses chosen calls (a proxy in front of moto), and
Ctrl-C. What could not be checked is listed with why, the rest is still reported,
and exit 3 means that nothing at all could be checked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gmsa.audit.engine import Audit, AuditOptions
from gmsa.audit.results import NOT_CHECKED_CODE
from tests.integration.aws.audit_account import (
    BUCKET,
    Calls,
    audit,
    audit_env,
    config,
    seed,
)
from tests.support.cli import assert_envelope, json_of
from tests.support.faultproxy import DENIED, THROTTLED, FaultProxy, Rule
from tests.support.moto import ACCOUNT, REGION, AwsLab, IamLab


def outcomes(document: dict[str, Any]) -> dict[str, str]:
    return {t["family"]: t["outcome"] for t in document["task_definitions"]}


# --------------------------------------------------------------------------- IAM refuses


def auditor(iam_lab: IamLab, *statements: dict[str, Any]) -> AwsLab:
    """A user whose only permissions are ``statements``."""
    iam = iam_lab.admin.client("iam")
    name = f"auditor{len(iam.list_users()['Users'])}"
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="audit",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return AwsLab(iam_lab.aws.server, key["AccessKeyId"], key["SecretAccessKey"])


def allow(*actions: str, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource}


ECS_READ = allow("ecs:ListTaskDefinitionFamilies", "ecs:ListTaskDefinitions", "ecs:Describe*")
STS = allow("sts:GetCallerIdentity")
SPECS = allow("s3:GetObject", resource=f"arn:aws:s3:::{BUCKET}/*")
PARAMETERS = allow("ssm:GetParameters", resource=f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/*")
IAM_WITHOUT_INLINE = allow(
    "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:GetPolicyVersion"
)


def test_a_role_the_auditor_cannot_read_leaves_its_task_definitions_not_checked(
    iam_lab: IamLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seed(iam_lab.admin, {"good-ssm", "good-s3", "bad-two-specs", "bad-spec-missing-s3"})
    lab = auditor(iam_lab, ECS_READ, STS, SPECS, PARAMETERS, IAM_WITHOUT_INLINE)
    result = audit(*audit_env(lab, monkeypatch, tmp_path), "--json")
    document = json_of(result)
    # exec-managed has only a managed policy: readable without iam:GetRolePolicy.
    assert outcomes(document) == {
        "good-ssm": "pass",
        "good-s3": "not-checked",
        "bad-two-specs": "fail",  # fails whatever the role allows
        "bad-spec-missing-s3": "fail",
    }
    assert result.exit_code == 1
    tasks = {t["family"]: t for t in document["task_definitions"]}
    (why,) = tasks["good-s3"]["not_checked"]
    assert why["code"] == "role-read-failed"
    assert "iam:GetRolePolicy" in why["message"]
    assert why["where"] == f"arn:aws:iam::{ACCOUNT}:role/exec-good"
    assert tasks["bad-two-specs"]["not_checked"] == [why]
    assert document["summary"]["not_checked_causes"][0]["code"] == "role-read-failed"
    warnings = [f for f in document["findings"] if f["code"] == NOT_CHECKED_CODE]
    assert [w["source"] for w in warnings] == [tasks["good-s3"]["arn"]]


def test_not_checked_ones_do_not_fail_the_audit_when_the_rest_passes(
    iam_lab: IamLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seed(iam_lab.admin, {"good-ssm", "good-s3"})
    lab = auditor(iam_lab, ECS_READ, STS, SPECS, PARAMETERS, IAM_WITHOUT_INLINE)
    result = audit(*audit_env(lab, monkeypatch, tmp_path))
    assert result.exit_code == 0, result.output
    assert "none would fail; 1 pass, 1 not checked" in result.stdout
    assert "task-definition/good-s3:1: not checked" in result.stdout
    assert "not checked: the credentials in use may not call iam:GetRolePolicy" in result.stdout


def test_nothing_readable_exits_3_and_says_why(
    iam_lab: IamLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seed(iam_lab.admin, {"good-ssm", "good-s3"})
    lab = auditor(iam_lab, ECS_READ, STS)  # no spec, no parameter, no role can be read
    document = json_of(result := audit(*audit_env(lab, monkeypatch, tmp_path), "--json"))
    assert result.exit_code == 3
    assert document["ok"] is False
    assert outcomes(document) == {"good-ssm": "not-checked", "good-s3": "not-checked"}
    codes = {t["family"]: t["not_checked"][0]["code"] for t in document["task_definitions"]}
    assert codes == {"good-ssm": "access-denied", "good-s3": "access-denied"}


def test_an_auditor_who_may_not_list_exits_3(
    iam_lab: IamLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seed(iam_lab.admin, {"good-s3"})
    lab = auditor(iam_lab, STS)
    document = json_of(result := audit(*audit_env(lab, monkeypatch, tmp_path), "--json"))
    assert result.exit_code == 3
    (listing,) = document["not_read"]
    assert listing["code"] == "access-denied"
    assert listing["source"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/*"
    assert "ecs:ListTaskDefinitionFamilies" in listing["where"]
    assert document["task_definitions"] == []


# --------------------------------------------------------------------------- a failing endpoint


@pytest.fixture
def proxy(aws: AwsLab) -> Iterator[FaultProxy]:
    running = FaultProxy(aws.endpoint).start()
    yield running
    running.stop()


def test_throttled_calls_are_retried_and_everything_is_still_checked(
    aws: AwsLab, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    account = seed(aws, {"good-s3", "good-ssm", "bad-spec-missing-s3", "warn-mixed-modes"})
    proxy.add(Rule("ecs:ListTaskDefinitionFamilies", THROTTLED, times=1))
    proxy.add(Rule("ecs:DescribeTaskDefinition", THROTTLED, needle='"good-s3"', times=2))
    proxy.add(Rule("ssm:GetParameters", THROTTLED, times=1))
    env = audit_env(aws, monkeypatch, tmp_path)
    result = audit(*env[:-1], proxy.endpoint, "--json")
    document = json_of(result)
    assert result.exit_code == 1
    assert outcomes(document) == {n: e.outcome for n, e in account.expected.items()}
    assert document["not_read"] == []
    calls, sent = document["aws_calls"], document["aws_requests"]
    assert sent["ecs:DescribeTaskDefinition"] - calls["ecs:DescribeTaskDefinition"] == 2
    assert sent["ecs:ListTaskDefinitionFamilies"] - calls["ecs:ListTaskDefinitionFamilies"] == 1
    assert sent["ssm:GetParameters"] == 2 and calls["ssm:GetParameters"] == 1
    assert sum(proxy.faults.values()) == 4
    assert proxy.requests == {k: v for k, v in sent.items()}
    # Each of the three distinct specs was read once in all.
    assert proxy.requests["s3:GetObject"] == 3


def test_refused_describes_are_listed_and_the_rest_reported(aws: AwsLab, proxy: FaultProxy) -> None:
    seed(aws, {"good-s3", "good-ssm", "bad-spec-missing-s3"})
    proxy.add(Rule("ecs:DescribeTaskDefinition", DENIED, needle='"good-ssm"'))
    aws_config = config(aws, proxy.endpoint)
    result = Audit(aws_config, AuditOptions(regions=(aws.region,))).run()
    assert {t.family: t.outcome.value for t in result.audited} == {
        "good-s3": "pass",
        "bad-spec-missing-s3": "fail",
    }
    (refused,) = result.not_read
    assert refused.source == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/good-ssm"
    assert refused.reason.code == "access-denied"
    assert "ecs:DescribeTaskDefinition" in (refused.reason.where or "")
    assert result.exit_code() == 1
    assert result.not_checked == 1


def test_every_describe_refused_exits_3(aws: AwsLab, proxy: FaultProxy) -> None:
    seed(aws, {"good-s3", "good-ssm"})
    proxy.add(Rule("ecs:DescribeTaskDefinition", DENIED))
    result = Audit(config(aws, proxy.endpoint), AuditOptions(regions=(aws.region,))).run()
    assert result.audited == ()
    assert len(result.not_read) == 2
    assert result.exit_code() == 3


def test_a_region_whose_listing_is_refused_does_not_hide_the_others(
    aws: AwsLab, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seed(aws, {"good-s3"})
    proxy.add(Rule("ecs:ListTaskDefinitionFamilies", DENIED, region="eu-west-1"))
    env = audit_env(aws, monkeypatch, tmp_path)
    result = audit(*env[:-1], proxy.endpoint, "--region", "eu-west-1", "--json")
    document = json_of(result)
    assert result.exit_code == 0, result.output
    assert document["audit"]["regions"] == [REGION, "eu-west-1"]
    assert outcomes(document) == {"good-s3": "pass"}
    (listing,) = document["not_read"]
    assert listing["region"] == "eu-west-1"
    assert listing["source"] == f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/*"


def test_calls_counted_by_the_audit_match_a_hook_of_the_tests_own(
    aws: AwsLab, proxy: FaultProxy
) -> None:
    seed(aws, {"good-s3", "good-ssm", "bad-iam-missing", "bad-role-missing"})
    aws_config = config(aws, proxy.endpoint)
    calls = Calls(aws_config)
    result = Audit(aws_config, AuditOptions(regions=(aws.region,))).run()
    assert result.calls == dict(calls.by_api)
    assert result.attempts == dict(proxy.requests)


# --------------------------------------------------------------------------- Ctrl-C


def _ctrl_c_as_on_a_terminal() -> None:
    """A job started in the background by a shell ignores SIGINT, and so would the
    audit it starts: give the audit the default disposition a terminal gives it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_prints_what_was_found_so_far_and_exits_130(
    aws: AwsLab, proxy: FaultProxy, tmp_path: Path
) -> None:
    names = [
        "good-s3",
        "good-ssm",
        "bad-two-specs",
        "bad-no-role",
        "bad-spec-missing-s3",
        "bad-iam-missing",
        "bad-iam-deny",
        "warn-linux-domain-joined",
    ]
    listed = [f.name for f in seed(aws, set(names)).families]  # the listing's order
    proxy.add(Rule("ecs:DescribeTaskDefinition", hold_after=5))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": aws.access_key,
        "AWS_SECRET_ACCESS_KEY": aws.secret_key,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    command = [sys.executable, "-m", "gmsa", "audit", "--region", aws.region]
    command += ["--endpoint-url", proxy.endpoint, "--concurrency", "1", "--json"]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_as_on_a_terminal,
    )
    try:
        assert proxy.holding.wait(60), "the audit never reached the sixth describe"
        process.send_signal(signal.SIGINT)
        # The calling thread acts on Ctrl-C within a fraction of a second; the held
        # describe is released only after that, so it cannot be counted as found.
        time.sleep(2)
    finally:
        proxy.released.set()
        out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (err, out[:3000])
    document = json.loads(out)
    assert_envelope(document)
    assert document["audit"]["interrupted"] is True
    assert document["ok"] is False
    assert [t["family"] for t in document["task_definitions"]] == listed[:5]
    assert document["summary"]["listed"] == len(names)
