"""``gmsa iam policy`` and ``gmsa iam check`` offline, on references and policy files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gmsa.cli.main import cli

BUCKET = "example-gmsa-specs"


OBJECT = f"arn:aws:s3:::{BUCKET}/specs/webapp01.json"


PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/webapp01-credspec"


S3_REF = f"credentialspec:{OBJECT}"


SSM_REF = f"credentialspec:{PARAMETER}"


SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gmsa-user-AbCdEf"


KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


EXAMPLE_S3_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "VisualEditor",
            "Effect": "Allow",
            "Action": ["s3:Get*", "s3:List*"],
            "Resource": [f"arn:aws:s3:::{BUCKET}", OBJECT],
        }
    ],
}


EXAMPLE_SSM_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": [PARAMETER]}],
}


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["iam", *args], env=env)


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def test_policy_for_s3_reference_is_get_object_on_the_object() -> None:
    result = invoke("policy", S3_REF)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GmsaS3GetObject",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [OBJECT],
            }
        ],
    }


def test_policy_accepts_bare_arns() -> None:
    result = invoke("policy", PARAMETER)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["Statement"][0]["Action"] == "ssm:GetParameters"


def test_policy_for_several_references_groups_by_action() -> None:
    other = f"arn:aws:s3:::{BUCKET}/specs/other.json"
    result = invoke("policy", SSM_REF, S3_REF, other, "--kms-key-arn", KMS_KEY)
    statements = json.loads(result.stdout)["Statement"]
    assert [s["Action"] for s in statements] == ["s3:GetObject", "ssm:GetParameters", "kms:Decrypt"]
    assert statements[0]["Resource"] == [other, OBJECT]


def test_policy_output_is_stable() -> None:
    assert invoke("policy", S3_REF, SSM_REF).stdout == invoke("policy", SSM_REF, S3_REF).stdout


def test_domainless_policy_includes_the_secret() -> None:
    result = invoke("policy", "credentialspecdomainless:" + OBJECT, "--secret-arn", SECRET)
    statements = json.loads(result.stdout)["Statement"]
    assert ("secretsmanager:GetSecretValue", [SECRET]) in [
        (s["Action"], s["Resource"]) for s in statements
    ]


def test_domainless_policy_without_secret_warns_on_stderr() -> None:
    result = invoke("policy", "credentialspecdomainless:" + OBJECT)
    assert result.exit_code == 0
    assert "--secret-arn" in result.stderr
    assert json.loads(result.stdout)["Statement"][0]["Action"] == "s3:GetObject"


def test_secret_for_domain_joined_reference_is_reported_unused() -> None:
    result = invoke("policy", S3_REF, "--secret-arn", SECRET, "--json")
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["secret-arn-unused"]


def test_file_reference_prints_no_policy() -> None:
    result = invoke("policy", "credentialspec:file://webapp01.json")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no IAM permission needed" in result.stderr


def test_policy_json_lists_policy_and_permissions() -> None:
    doc = json.loads(invoke("policy", "--json", S3_REF).stdout)
    assert doc["policy"]["Statement"][0]["Action"] == "s3:GetObject"
    assert doc["permissions"][0]["resource"] == OBJECT


def test_policy_for_invalid_reference_exits_1() -> None:
    result = invoke("policy", "credentialspec:arn:aws:s3:::b/k")
    assert result.exit_code == 1
    assert "S3 bucket" in result.stderr


def test_ecs_example_policies_pass_for_their_references(tmp_path: Path) -> None:
    s3 = write(tmp_path, "s3.json", EXAMPLE_S3_POLICY)
    ssm = write(tmp_path, "ssm.json", EXAMPLE_SSM_POLICY)
    result = invoke("check", "--policy", s3, "--policy", ssm, S3_REF, SSM_REF)
    assert result.exit_code == 0, result.output
    assert "all allowed" in result.stdout


def test_generated_policy_passes_check(tmp_path: Path) -> None:
    generated = invoke("policy", S3_REF, SSM_REF, "--kms-key-arn", KMS_KEY).stdout
    path = tmp_path / "generated.json"
    path.write_text(generated)
    result = invoke("check", "--policy", str(path), S3_REF, SSM_REF, "--kms-key-arn", KMS_KEY)
    assert result.exit_code == 0, result.output


def test_policy_for_another_bucket_fails_naming_what_is_missing(tmp_path: Path) -> None:
    other = json.loads(json.dumps(EXAMPLE_S3_POLICY).replace(BUCKET, "other-bucket"))
    result = invoke("check", "--policy", write(tmp_path, "p.json", other), S3_REF)
    assert result.exit_code == 1
    assert f"no policy allows s3:GetObject on {OBJECT}" in result.stdout


def test_policy_for_another_parameter_fails(tmp_path: Path) -> None:
    other = json.loads(json.dumps(EXAMPLE_SSM_POLICY).replace("webapp01-credspec", "webapp02"))
    result = invoke("check", "--policy", write(tmp_path, "p.json", other), SSM_REF)
    assert result.exit_code == 1
    assert "ssm:GetParameters" in result.stdout


def test_policy_missing_the_action_fails(tmp_path: Path) -> None:
    wrong = json.loads(json.dumps(EXAMPLE_SSM_POLICY).replace("GetParameters", "GetParameter"))
    result = invoke("check", "--policy", write(tmp_path, "p.json", wrong), SSM_REF)
    assert result.exit_code == 1


def test_deny_fails_naming_the_deny(tmp_path: Path) -> None:
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NoSpecs", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}],
    }
    result = invoke(
        "check",
        "--policy",
        write(tmp_path, "s3.json", EXAMPLE_S3_POLICY),
        "--policy",
        write(tmp_path, "deny.json", deny),
        "--json",
        S3_REF,
    )
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["allowed"] is False
    (decision,) = doc["decisions"]
    assert decision["outcome"] == "explicit-deny"
    assert decision["statement"] == "NoSpecs"
    assert decision["policy"].endswith("deny.json")
    assert [f["code"] for f in doc["findings"]] == ["iam-explicit-deny"]


def test_check_json_has_the_contract_fields(tmp_path: Path) -> None:
    result = invoke(
        "check", "--json", "--policy", write(tmp_path, "s3.json", EXAMPLE_S3_POLICY), S3_REF
    )
    doc = json.loads(result.stdout)
    assert doc["allowed"] is True
    assert set(doc["decisions"][0]) == {
        "action",
        "resource",
        "allowed",
        "outcome",
        "policy",
        "statement",
        "conditions_not_evaluated",
        "reason",
    }
    assert doc["findings"] == []


def test_conditional_allow_passes_with_a_warning(tmp_path: Path) -> None:
    conditional = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": OBJECT,
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
            }
        ],
    }
    result = invoke("check", "--json", "--policy", write(tmp_path, "c.json", conditional), S3_REF)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["decisions"][0]["conditions_not_evaluated"] is True
    assert [f["code"] for f in doc["findings"]] == ["iam-condition-not-evaluated"]


def test_malformed_policy_exits_1_with_its_json_path(tmp_path: Path) -> None:
    bad = {"Version": "2012-10-17", "Statement": [{"Action": "s3:GetObject", "Resource": "*"}]}
    path = write(tmp_path, "bad.json", bad)
    result = invoke("check", "--json", "--policy", path, S3_REF)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["where"] == f"{path}: Statement[0].Effect"


def test_check_without_policies_is_a_usage_error() -> None:
    assert invoke("check", S3_REF).exit_code == 2


def test_file_reference_has_nothing_to_check(tmp_path: Path) -> None:
    result = invoke(
        "check",
        "--policy",
        write(tmp_path, "s3.json", EXAMPLE_S3_POLICY),
        "credentialspec:file://a.json",
    )
    assert result.exit_code == 0
    assert "nothing to check" in result.stdout


@pytest.mark.parametrize("flag", ["--check-role", "--role"])  # --role: the deprecated alias
@pytest.mark.parametrize("role", ["exec", "arn:aws:iam::123456789012:user/u"])
def test_malformed_role_arn_exits_1(role: str, flag: str) -> None:
    result = invoke("check", flag, role, S3_REF)
    assert result.exit_code == 1
    assert "role ARN" in result.stderr
