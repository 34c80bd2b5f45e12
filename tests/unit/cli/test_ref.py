"""``gmsa ref check``: text and JSON reports, exit codes."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gmsa.cli.main import cli

S3_REF = "credentialspec:arn:aws:s3:::example-gmsa-specs/specs/webapp01.json"
SSM_REF = "credentialspec:arn:aws:ssm:us-east-1:123456789012:parameter/gmsa/webapp01"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gmsa-user-AbCdEf"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["ref", "check", *args])
    return result.exit_code, result.output


def test_valid_s3_reference_shows_parts_and_permission() -> None:
    code, out = run(S3_REF)
    assert code == 0
    assert "domain-joined" in out
    assert "example-gmsa-specs" in out and "specs/webapp01.json" in out
    assert "s3:GetObject on arn:aws:s3:::example-gmsa-specs/specs/webapp01.json" in out


def test_valid_ssm_reference_shows_region_account_and_name() -> None:
    code, out = run(SSM_REF)
    assert code == 0
    assert "us-east-1" in out and "123456789012" in out and "/gmsa/webapp01" in out
    assert "ssm:GetParameters" in out


def test_file_reference_needs_no_permission() -> None:
    code, out = run("credentialspec:file://webapp01.json")
    assert code == 0
    assert "no IAM permission needed" in out


def test_invalid_reference_exits_1_naming_the_part_and_fix() -> None:
    code, out = run("credentialspec:arn:aws:s3:::Example/key.json")
    assert code == 1
    assert "S3 bucket" in out
    assert "did you mean 'example'?" in out


def test_one_invalid_among_several_exits_1_and_reports_all() -> None:
    code, out = run(S3_REF, "credentialspec:file://../x.json", SSM_REF)
    assert code == 1
    assert out.count(": valid") == 2
    assert out.count(": invalid") == 1


def test_json_of_a_valid_reference_has_the_contract_fields() -> None:
    code, out = run("--json", S3_REF)
    assert code == 0
    doc = json.loads(out)
    assert doc["valid"] is True
    assert doc["reference"] == S3_REF
    assert doc["mode"] == "domain-joined"
    assert doc["kind"] == "s3"
    assert doc["parts"]["bucket"] == "example-gmsa-specs"
    assert doc["parts"]["key"] == "specs/webapp01.json"
    assert doc["permissions"] == [
        {
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::example-gmsa-specs/specs/webapp01.json",
            "reason": "read the credential spec object",
        }
    ]


def test_json_of_an_invalid_reference_has_the_error_and_part() -> None:
    code, out = run("--json", "credentialspec:arn:aws-cm:s3:::bucket-1/k")
    assert code == 1
    doc = json.loads(out)
    assert doc["valid"] is False
    assert doc["error"]["part"] == "ARN partition"
    assert doc["error"]["fix"] == "did you mean 'aws-cn'?"
    # the finding (and so SARIF) names the part too, as the text does
    (finding,) = doc["findings"]
    assert finding["message"].startswith("ARN partition: ")


def test_an_invalid_reference_is_printed_as_every_finding_is() -> None:
    code, out = run("credentialspec:arn:aws-cm:s3:::bucket-1/k")
    assert code == 1
    lines = out.splitlines()
    assert lines[1].startswith("  error: ARN partition: ")
    assert lines[2] == "      fix: did you mean 'aws-cn'?"


def test_json_of_several_references_lists_them() -> None:
    code, out = run("--json", S3_REF, "credentialspec:nope")
    assert code == 1
    doc = json.loads(out)
    assert doc["valid"] is False
    assert [r["valid"] for r in doc["references"]] == [True, False]


def test_domainless_reference_says_the_secret_is_unknown() -> None:
    code, out = run("--json", "credentialspecdomainless:file://webapp01.json")
    assert code == 0
    assert [f["code"] for f in json.loads(out)["findings"]] == ["domainless-secret-unknown"]


def test_domainless_reference_with_secret_lists_its_permission() -> None:
    code, out = run("--json", "--secret-arn", SECRET, "credentialspecdomainless:file://a.json")
    assert code == 0
    assert json.loads(out)["permissions"][0]["action"] == "secretsmanager:GetSecretValue"


def test_bad_secret_arn_is_an_error_with_exit_1() -> None:
    code, out = run("--json", "--secret-arn", "gmsa-user", "credentialspecdomainless:file://a.json")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "invalid-arn"


def test_no_reference_is_a_usage_error() -> None:
    code, _ = run()
    assert code == 2
