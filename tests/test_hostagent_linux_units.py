"""The Linux host agent's checks that need no domain: user secrets, task shapes, platform choice.

Everything here fails before the ticket service is asked for a lease, so the
socket points where nothing listens (except where that is the point).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from gmsa.aws import AwsConfig
from gmsa.cli.main import cli
from gmsa.cli.task_agent import platform_for
from gmsa.errors import ExitCode
from gmsa.hostagent.interface import HostAgentError, TaskInputError
from gmsa.hostagent.linux import DomainlessSecretError, LinuxHostAgent, parse_user
from gmsa.source.fetcher import SpecFetcher
from gmsa.taskdef.model import TaskDefinition, parse_task_definition
from tests.conftest import EXAMPLE_SPEC
from tests.support.moto import AwsLab

TASK_ID = "0123456789abcdef0123456789abcdef"
BUCKET = "linux-units"
SECRET_PASSWORD = "Very-Secret-Passw0rd"


def agent_for(aws: AwsLab, tmp_path: Path) -> LinuxHostAgent:
    config = AwsConfig(
        region=aws.region,
        endpoint_url=aws.endpoint,
        access_key_id=aws.access_key,
        secret_access_key=aws.secret_key,
    )
    return LinuxHostAgent(
        tmp_path / "krb", tmp_path / "nobody-listens.sock", SpecFetcher(aws=config), config
    )


def domainless(plugin_input: Any) -> str:
    doc: dict[str, Any] = json.loads(json.dumps(EXAMPLE_SPEC))
    doc["ActiveDirectoryConfig"]["HostAccountConfig"] = {
        "PortableCcgVersion": "1",
        "PluginGUID": "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
        "PluginInput": plugin_input,
    }
    return json.dumps(doc)


def task(*containers: dict[str, Any]) -> TaskDefinition:
    return parse_task_definition(
        {
            "runtimePlatform": {"operatingSystemFamily": "LINUX"},
            "containerDefinitions": list(containers),
        },
        source="task.json",
    )


def container(name: str, reference: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "credentialSpecs": [reference], **extra}


def prepare_domainless(aws: AwsLab, tmp_path: Path, secret: str) -> None:
    arn = aws.client("secretsmanager").create_secret(Name="user", SecretString=secret)["ARN"]
    spec = aws.put_object(BUCKET, "dl.json", domainless({"CredentialArn": arn}))
    agent_for(aws, tmp_path).prepare(
        task(container("web", f"credentialspecdomainless:{spec}")), TASK_ID
    )


# --------------------------------------------------------------------------- container users


def test_numeric_user_and_group_are_parsed() -> None:
    assert parse_user("1000:2000") == (1000, 2000)


def test_numeric_user_alone_uses_its_uid_as_group() -> None:
    assert parse_user("1000") == (1000, 1000)


def test_user_given_by_name_cannot_be_resolved() -> None:
    assert parse_user("nginx") is None
    assert parse_user("1000:www") is None


@given(st.text(max_size=40))
def test_any_user_value_parses_or_gives_none(value: str) -> None:
    result = parse_user(value)
    assert result is None or all(0 <= n <= 0xFFFFFFFE for n in result)


def test_containers_with_different_non_root_users_are_refused(aws: AwsLab, tmp_path: Path) -> None:
    spec = aws.put_object(BUCKET, "s.json", json.dumps(EXAMPLE_SPEC))
    with pytest.raises(TaskInputError) as caught:
        agent_for(aws, tmp_path).prepare(
            task(
                container("web", f"credentialspec:{spec}", user="1000"),
                container("api", f"credentialspec:{spec}", user="2000:2000"),
            ),
            TASK_ID,
        )
    assert "different non-root users" in caught.value.what


# --------------------------------------------------------------------------- task shapes


def test_mixed_domain_joined_and_domainless_references_are_refused(
    aws: AwsLab, tmp_path: Path
) -> None:
    spec = aws.put_object(BUCKET, "s.json", json.dumps(EXAMPLE_SPEC))
    with pytest.raises(TaskInputError) as caught:
        agent_for(aws, tmp_path).prepare(
            task(
                container("web", f"credentialspec:{spec}"),
                container("api", f"credentialspecdomainless:{spec}"),
            ),
            TASK_ID,
        )
    assert caught.value.exit_code == ExitCode.INVALID


def test_domainless_reference_to_a_spec_without_host_account_config_is_refused(
    aws: AwsLab, tmp_path: Path
) -> None:
    spec = aws.put_object(BUCKET, "s.json", json.dumps(EXAMPLE_SPEC))
    with pytest.raises(TaskInputError) as caught:
        agent_for(aws, tmp_path).prepare(
            task(container("web", f"credentialspecdomainless:{spec}")), TASK_ID
        )
    assert "HostAccountConfig" in caught.value.what


def test_task_without_references_prepares_nothing(aws: AwsLab, tmp_path: Path) -> None:
    prepared = agent_for(aws, tmp_path).prepare(task({"name": "web", "image": "debian"}), TASK_ID)
    assert (prepared.containers, prepared.lease_id) == ((), None)
    assert [w.code for w in prepared.warnings] == ["no-credential-spec"]


def test_unreachable_ticket_service_is_an_outside_failure(aws: AwsLab, tmp_path: Path) -> None:
    spec = aws.put_object(BUCKET, "s.json", json.dumps(EXAMPLE_SPEC))
    with pytest.raises(HostAgentError) as caught:
        agent_for(aws, tmp_path).prepare(task(container("web", f"credentialspec:{spec}")), TASK_ID)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert "ticket service" in caught.value.what


# --------------------------------------------------------------------------- user secrets


def test_plugin_input_without_credential_arn_is_refused(aws: AwsLab, tmp_path: Path) -> None:
    spec = aws.put_object(BUCKET, "dl.json", domainless({"Other": "x"}))
    with pytest.raises(HostAgentError) as caught:
        agent_for(aws, tmp_path).prepare(
            task(container("web", f"credentialspecdomainless:{spec}")), TASK_ID
        )
    assert caught.value.exit_code == ExitCode.INVALID
    assert "PluginInput" in str(caught.value.where)


def test_credential_arn_of_an_ssm_parameter_is_refused_on_linux(
    aws: AwsLab, tmp_path: Path
) -> None:
    ssm = "arn:aws:ssm:us-east-1:123456789012:parameter/user"
    spec = aws.put_object(BUCKET, "dl.json", domainless(json.dumps({"credentialArn": ssm})))
    with pytest.raises(DomainlessSecretError) as caught:
        agent_for(aws, tmp_path).prepare(
            task(container("web", f"credentialspecdomainless:{spec}")), TASK_ID
        )
    assert "Secrets Manager" in caught.value.what


def test_missing_secret_is_an_outside_failure(aws: AwsLab, tmp_path: Path) -> None:
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"
    spec = aws.put_object(BUCKET, "dl.json", domainless({"CredentialArn": missing}))
    with pytest.raises(HostAgentError) as caught:
        agent_for(aws, tmp_path).prepare(
            task(container("web", f"credentialspecdomainless:{spec}")), TASK_ID
        )
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert "GetSecretValue" in str(caught.value.where)


def test_secret_that_is_not_json_is_refused_without_quoting_it(aws: AwsLab, tmp_path: Path) -> None:
    with pytest.raises(DomainlessSecretError) as caught:
        prepare_domainless(aws, tmp_path, f"password={SECRET_PASSWORD}")
    assert caught.value.exit_code == ExitCode.INVALID
    assert SECRET_PASSWORD not in caught.value.diagnostics()


def test_secret_without_domain_name_is_refused_without_quoting_it(
    aws: AwsLab, tmp_path: Path
) -> None:
    secret = json.dumps({"username": "svc", "password": SECRET_PASSWORD})
    with pytest.raises(DomainlessSecretError) as caught:
        prepare_domainless(aws, tmp_path, secret)
    assert "'domainName'" in caught.value.what
    assert SECRET_PASSWORD not in json.dumps(caught.value.to_dict())


# --------------------------------------------------------------------------- platform choice


def test_linux_runtime_platform_picks_the_linux_agent() -> None:
    assert platform_for(task({"name": "web"}), None, Path("specs")) == "linux"


def test_windows_runtime_platform_picks_the_windows_agent() -> None:
    doc = {
        "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"},
        "containerDefinitions": [{"name": "web"}],
    }
    assert platform_for(parse_task_definition(doc, source="t.json"), None) == "windows"


def test_explicit_platform_wins_over_the_task_definition() -> None:
    assert platform_for(task({"name": "web"}), "windows") == "windows"


def test_credspec_dir_without_runtime_platform_means_windows() -> None:
    doc = {"containerDefinitions": [{"name": "web"}]}
    assert platform_for(parse_task_definition(doc, source="t.json"), None, Path("d")) == "windows"


def test_windows_prepare_without_credspec_dir_is_a_clear_input_error(tmp_path: Path) -> None:
    path = tmp_path / "task.json"
    path.write_text(json.dumps({"containerDefinitions": [{"name": "web"}]}))
    result = CliRunner().invoke(
        cli, ["task", "prepare", str(path), "--task-id", TASK_ID, "--platform", "windows"]
    )
    assert result.exit_code == ExitCode.INVALID
    assert "--credspec-dir" in result.output


def test_linux_cleanup_of_an_unknown_task_needs_no_service(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "task",
            "cleanup",
            "--task-id",
            TASK_ID,
            "--platform",
            "linux",
            "--krb-dir",
            str(tmp_path / "krb"),
            "--socket",
            str(tmp_path / "none.sock"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["known"] is False
