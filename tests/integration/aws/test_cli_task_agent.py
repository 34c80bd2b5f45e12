"""``gmsa task prepare`` / ``cleanup``: the example task definitions, exit codes, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SPEC
from tests.support.moto import AwsLab, IamLab
from tests.unit.cli.test_task_agent import TASK_ID, as_json, cleanup, prepare

DATA = Path(__file__).parents[2] / "data" / "taskdefs"


BUCKET = "example-gmsa-specs"


KEY = "specs/webapp01.json"


PARAMETER = "webapp01-credspec"


def files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def make_role(lab: IamLab, name: str, actions: list[str], resources: list[str]) -> str:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}],
    }
    return lab.make_role(name, {"read": policy})


def with_role(name: str, role: str | None, tmp_path: Path) -> Path:
    doc = json.loads((DATA / name).read_text())
    if role is None:
        doc.pop("executionRoleArn", None)
    else:
        doc["executionRoleArn"] = role
    path = tmp_path / f"role-{name}"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def aws_env(aws: AwsLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", aws.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws.secret_key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return ["--region", aws.region, "--endpoint-url", aws.endpoint]


@pytest.fixture
def seeded(aws: AwsLab, specdir: Path) -> None:
    """The Amazon ECS documentation's spec in S3, in SSM and in the CredentialSpecs directory."""
    aws.put_object(BUCKET, KEY, json.dumps(EXAMPLE_SPEC))
    aws.put_parameter(PARAMETER, json.dumps(EXAMPLE_SPEC))
    (specdir / "webapp01.json").write_text(json.dumps(EXAMPLE_SPEC, indent=4))


@pytest.mark.parametrize(
    ("name", "kind"), [("s3.json", "s3"), ("ssm.json", "ssm"), ("describe-s3.json", "s3")]
)
def test_ecs_example_task_definition_prepares_and_cleans_up(
    seeded: None, aws_env: list[str], specdir: Path, name: str, kind: str
) -> None:
    result = prepare(
        DATA / name, "--task-id", TASK_ID, "--credspec-dir", specdir, *aws_env, "--json"
    )
    assert result.exit_code == 0, result.output
    out = as_json(result)
    (container,) = out["containers"]
    assert container["name"] == "webapp"
    assert container["file"].startswith(f"gmsa_{TASK_ID}_{kind}_")
    assert container["security_option"] == f"credentialspec=file://{container['file']}"
    assert (
        json.loads((specdir / container["file"]).read_text())["DomainJoinConfig"]
        == (EXAMPLE_SPEC["DomainJoinConfig"])
    )
    done = cleanup("--task-id", TASK_ID, "--credspec-dir", specdir, "--json")
    assert done.exit_code == 0, done.output
    assert as_json(done)["removed"] == [container["file"]]
    assert files(specdir) == ["webapp01.json"]


def test_ecs_example_file_task_definition_uses_the_users_file_and_cleanup_keeps_it(
    seeded: None, specdir: Path
) -> None:
    result = prepare(DATA / "file.json", "--task-id", TASK_ID, "--credspec-dir", specdir, "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["containers"][0]["security_option"] == (
        "credentialspec=file://webapp01.json"
    )
    done = cleanup("--task-id", TASK_ID, "--credspec-dir", specdir, "--json")
    assert as_json(done) == {
        "ok": True,
        "findings": [],
        "task_id": TASK_ID,
        "known": True,
        "removed": [],
        "kept": [],
        "missing": [],
        "platform": "windows",
        "platform_from": "record",
    }
    assert files(specdir) == ["webapp01.json"]


def test_json_output_carries_the_contract_fields(
    seeded: None, aws_env: list[str], specdir: Path
) -> None:
    result = prepare(
        DATA / "s3.json", "--task-id", TASK_ID, "--credspec-dir", specdir, *aws_env, "--json"
    )
    out = as_json(result)
    assert {"task_id", "containers", "warnings"} <= set(out)
    assert {"name", "reference", "file", "security_option"} <= set(out["containers"][0])
    assert out["containers"][0]["reference"] == f"credentialspec:arn:aws:s3:::{BUCKET}/{KEY}"
    # The Amazon ECS documentation's spec lists its gMSA with the DNS scope only.
    assert [w["code"] for w in out["warnings"]] == ["main-account-no-netbios-scope"]


def test_human_output_names_container_file_and_security_option(
    seeded: None, aws_env: list[str], specdir: Path
) -> None:
    result = prepare(DATA / "ssm.json", "--task-id", TASK_ID, "--credspec-dir", specdir, *aws_env)
    assert result.exit_code == 0, result.output
    name = next(p.name for p in specdir.glob("gmsa_*"))
    assert "webapp" in result.stdout
    assert f"credentialspec=file://{name}" in result.stdout
    assert PARAMETER in result.stdout


def test_task_definition_from_stdin(seeded: None, aws_env: list[str], specdir: Path) -> None:
    result = prepare(
        "-",
        "--task-id",
        TASK_ID,
        "--credspec-dir",
        specdir,
        *aws_env,
        "--json",
        stdin=(DATA / "s3.json").read_text(),
    )
    assert result.exit_code == 0, result.output


def test_unsafe_task_id_exits_1(seeded: None, specdir: Path) -> None:
    result = prepare(DATA / "file.json", "--task-id", "../etc", "--credspec-dir", specdir, "--json")
    assert result.exit_code == 1
    assert as_json(result)["error"]["code"] == "invalid-task-id"


def test_invalid_spec_exits_1_with_findings_and_writes_nothing(
    aws: AwsLab, aws_env: list[str], specdir: Path
) -> None:
    bad = json.loads(json.dumps(EXAMPLE_SPEC))
    bad["DomainJoinConfig"]["Guid"] = "{not-a-guid}"
    aws.put_object(BUCKET, KEY, json.dumps(bad))
    result = prepare(
        DATA / "s3.json", "--task-id", TASK_ID, "--credspec-dir", specdir, *aws_env, "--json"
    )
    assert result.exit_code == 1
    error = as_json(result)["error"]
    assert error["code"] == "invalid-credential-spec"
    assert error["findings"]
    assert files(specdir) == []


def test_missing_object_exits_3_and_writes_nothing(
    aws: AwsLab, aws_env: list[str], specdir: Path
) -> None:
    aws.put_object(BUCKET, "specs/other.json", json.dumps(EXAMPLE_SPEC))
    result = prepare(DATA / "s3.json", "--task-id", TASK_ID, "--credspec-dir", specdir, *aws_env)
    assert result.exit_code == 3
    assert "webapp" in result.stderr
    assert files(specdir) == []


def test_execution_role_without_read_permission_exits_3_and_leaves_nothing(
    iam_lab: IamLab,
    aws_env: list[str],
    specdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    iam_lab.admin.put_object(BUCKET, KEY, json.dumps(EXAMPLE_SPEC))
    role = make_role(iam_lab, "noRead", ["ssm:GetParameters"], ["*"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", iam_lab.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", iam_lab.admin.secret_key)
    result = prepare(
        with_role("s3.json", role, tmp_path),
        "--task-id",
        TASK_ID,
        "--credspec-dir",
        specdir,
        *aws_env,
        "--json",
    )
    assert result.exit_code == 3, result.output
    assert as_json(result)["error"]["code"] == "access-denied"
    assert files(specdir) == []


def test_execution_role_with_the_ecs_example_policy_is_assumed_by_default(
    iam_lab: IamLab,
    aws_env: list[str],
    specdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    iam_lab.admin.put_object(BUCKET, KEY, json.dumps(EXAMPLE_SPEC))
    role = make_role(
        iam_lab,
        "ecsTaskExecutionRole",
        ["s3:Get*", "s3:List*"],
        [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/{KEY}"],
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", iam_lab.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", iam_lab.admin.secret_key)
    result = prepare(
        with_role("s3.json", role, tmp_path),
        "--task-id",
        TASK_ID,
        "--credspec-dir",
        specdir,
        *aws_env,
        "--json",
    )
    assert result.exit_code == 0, result.output


def test_no_assume_role_reads_with_the_base_credentials(
    iam_lab: IamLab,
    aws_env: list[str],
    specdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    iam_lab.admin.put_object(BUCKET, KEY, json.dumps(EXAMPLE_SPEC))
    role = make_role(iam_lab, "noRead", ["ssm:GetParameters"], ["*"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", iam_lab.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", iam_lab.admin.secret_key)
    result = prepare(
        with_role("s3.json", role, tmp_path),
        "--task-id",
        TASK_ID,
        "--credspec-dir",
        specdir,
        "--no-assume-role",
        *aws_env,
        "--json",
    )
    assert result.exit_code == 0, result.output


def test_domainless_prepare_reports_the_registry_key(
    aws: AwsLab, aws_env: list[str], specdir: Path, tmp_path: Path
) -> None:
    spec = json.loads(json.dumps(EXAMPLE_SPEC))
    spec["ActiveDirectoryConfig"]["HostAccountConfig"] = {
        "PortableCcgVersion": "1",
        "PluginGUID": "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
        "PluginInput": json.dumps(
            {"credentialArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:u-AbCdEf"}
        ),
    }
    arn = aws.put_object(BUCKET, "dl.json", json.dumps(spec))
    doc = {
        "containerDefinitions": [
            {"name": "web", "credentialSpecs": [f"credentialspecdomainless:{arn}"]}
        ]
    }
    path = tmp_path / "dl.json"
    path.write_text(json.dumps(doc))
    task_arn = f"arn:aws:ecs:us-east-1:123456789012:task/default/{TASK_ID}"
    result = prepare(
        path, "--task-id", TASK_ID, "--task-arn", task_arn, "--credspec-dir", specdir, *aws_env
    )
    assert result.exit_code == 0, result.output
    assert f"AmazonECSCCGPlugin\\{task_arn}" in result.stdout
    assert "stores none" in result.stdout
