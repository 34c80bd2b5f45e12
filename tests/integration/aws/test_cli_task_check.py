"""``gmsa task check`` with specs and roles read from AWS (moto)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SPEC
from tests.support.moto import AwsLab, IamLab
from tests.unit.cli.test_task_check import DATA, POLICIES, as_json, example_doc, run, write


@pytest.fixture
def aws_env(aws: AwsLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", aws.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws.secret_key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return ["--region", aws.region, "--endpoint-url", aws.endpoint]


def test_fetch_reads_s3_spec_with_aws_options(aws: AwsLab, aws_env: list[str]) -> None:
    aws.put_object("example-gmsa-specs", "specs/webapp01.json", json.dumps(EXAMPLE_SPEC))
    result = run(DATA / "s3.json", "--fetch", *aws_env, "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["containers"][0]["references"][0]["gmsa_name"] == "WebApp01"


def test_fetch_reads_ssm_spec_and_checks_the_hostname(
    aws: AwsLab, aws_env: list[str], tmp_path: Path
) -> None:
    aws.put_parameter("webapp01-credspec", json.dumps(EXAMPLE_SPEC))
    doc = example_doc("ssm.json")
    doc["containerDefinitions"][0]["hostname"] = "other"
    result = run(write(tmp_path / "t.json", doc), "--fetch", "--windows-server-2016", *aws_env)
    assert result.exit_code == 1
    assert "WebApp01" in result.stdout


def test_fetch_of_a_missing_object_is_an_error_finding(aws: AwsLab, aws_env: list[str]) -> None:
    aws.put_object("example-gmsa-specs", "specs/other.json", b"{}")
    result = run(DATA / "s3.json", "--fetch", *aws_env, "--json")
    assert result.exit_code == 1
    assert [e["code"] for e in as_json(result)["errors"]] == ["spec-not-found"]


def test_aws_refusing_the_fetch_exits_3(iam_lab: IamLab, aws_env: list[str]) -> None:
    result = run(DATA / "s3.json", "--fetch", *aws_env, "--json")
    assert result.exit_code == 3
    assert as_json(result)["error"]["exit_code"] == 3


@pytest.mark.parametrize("flag", ["--check-role", "--role-from-aws"])  # the old flag: deprecated
def test_check_role_reads_the_execution_role_policies(
    iam_lab: IamLab, aws_env: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", iam_lab.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", iam_lab.admin.secret_key)
    read_s3 = json.loads((POLICIES / "s3-read.json").read_text())
    read_ssm = json.loads((POLICIES / "ssm-read.json").read_text())
    good = iam_lab.make_role(f"good{len(flag)}", {"read": read_s3})
    bad = iam_lab.make_role(f"bad{len(flag)}", {"read": read_ssm})
    doc = example_doc("s3.json")
    for arn, code in ((good, 0), (bad, 1)):
        doc["executionRoleArn"] = arn
        result = run(write(tmp_path / "t.json", doc), flag, *aws_env, "--json")
        assert result.exit_code == code, result.output


def test_check_role_with_an_arn_checks_that_role_instead(
    iam_lab: IamLab, aws_env: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", iam_lab.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", iam_lab.admin.secret_key)
    read_s3 = json.loads((POLICIES / "s3-read.json").read_text())
    read_ssm = json.loads((POLICIES / "ssm-read.json").read_text())
    good = iam_lab.make_role("named-good", {"read": read_s3})
    bad = iam_lab.make_role("named-bad", {"read": read_ssm})
    doc = example_doc("s3.json")
    doc["executionRoleArn"] = bad
    path = write(tmp_path / "t.json", doc)
    assert run(path, "--check-role", *aws_env, "--json").exit_code == 1
    result = run(path, "--check-role", good, *aws_env, "--json")
    assert result.exit_code == 0, result.output


OTHER_ACCOUNT = "210987654321"


def test_fetch_of_an_ssm_spec_of_another_account_is_an_error_finding(
    aws: AwsLab, aws_env: list[str], tmp_path: Path
) -> None:
    aws.put_parameter("webapp01-credspec", json.dumps(EXAMPLE_SPEC))
    document = example_doc("ssm.json")
    reference = f"credentialspec:arn:aws:ssm:us-east-1:{OTHER_ACCOUNT}:parameter/webapp01-credspec"
    document["containerDefinitions"][0]["dockerSecurityOptions"] = [reference]
    result = run(write(tmp_path / "t.json", document), "--fetch", *aws_env, "--json")
    assert result.exit_code == 1, result.output
    (found,) = as_json(result)["errors"]
    assert found["code"] == "account-mismatch"
    assert OTHER_ACCOUNT in found["message"]
    same = run(DATA / "ssm.json", "--fetch", *aws_env, "--json")
    assert same.exit_code == 0, same.output
