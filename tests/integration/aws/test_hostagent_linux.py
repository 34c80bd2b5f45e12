"""The Linux host agent's checks that need AWS but no domain: user secrets, task shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gmsa.aws import AwsConfig
from gmsa.errors import ExitCode
from gmsa.hostagent.interface import HostAgentError, TaskInputError
from gmsa.hostagent.linux import DomainlessSecretError, LinuxHostAgent
from gmsa.source.fetcher import SpecFetcher
from tests.conftest import EXAMPLE_SPEC
from tests.support.moto import AwsLab
from tests.unit.hostagent.test_linux import TASK_ID, task

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


def container(name: str, reference: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "credentialSpecs": [reference], **extra}


def prepare_domainless(aws: AwsLab, tmp_path: Path, secret: str) -> None:
    arn = aws.client("secretsmanager").create_secret(Name="user", SecretString=secret)["ARN"]
    spec = aws.put_object(BUCKET, "dl.json", domainless({"CredentialArn": arn}))
    agent_for(aws, tmp_path).prepare(
        task(container("web", f"credentialspecdomainless:{spec}")), TASK_ID
    )


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
