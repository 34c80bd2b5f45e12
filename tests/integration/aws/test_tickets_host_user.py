"""A host outside the domain: the ticket service takes its own identity from the Secrets
Manager secret ECS hosts name in CREDENTIALS_FETCHER_SECRET_NAME_FOR_DOMAINLESS_GMSA."""

from __future__ import annotations

import json

import pytest

from gmsa.aws import AwsConfig
from gmsa.cli.tickets import _with_deployment
from gmsa.domainless import DomainlessUser, UserSecretError, read_host_user
from gmsa.errors import GmsaError
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.deployment import resolve
from gmsa.tickets.interface import HostKeytab
from tests.support.moto import AwsLab

USER = {"username": "svc-gmsa", "password": "User-Passw0rd!", "domainName": "example.com"}


def config_for(aws: AwsLab) -> AwsConfig:
    return AwsConfig(
        region=aws.region,
        endpoint_url=aws.endpoint,
        access_key_id=aws.access_key,
        secret_access_key=aws.secret_key,
    )


def test_the_secret_named_in_ecs_config_becomes_the_identity_of_host_leases(
    aws: AwsLab,
) -> None:
    aws.client("secretsmanager").create_secret(Name="gmsa/host-user", SecretString=json.dumps(USER))
    deployment = resolve(
        {}, {}, {}, {"CREDENTIALS_FETCHER_SECRET_NAME_FOR_DOMAINLESS_GMSA": "gmsa/host-user"}
    )
    settings = _with_deployment(ServiceSettings(), deployment, config_for(aws))
    assert settings.host_identity == DomainlessUser("svc-gmsa", "example.com", "User-Passw0rd!")
    by_arn = aws.client("secretsmanager").describe_secret(SecretId="gmsa/host-user")["ARN"]
    assert read_host_user(config_for(aws), by_arn).username == "svc-gmsa"


def test_without_the_setting_the_host_keytab_stays(aws: AwsLab) -> None:
    settings = _with_deployment(ServiceSettings(), resolve({}, {}, {}, {}), config_for(aws))
    assert isinstance(settings.host_identity, HostKeytab)


def test_a_missing_or_malformed_secret_is_a_typed_error_without_its_content(aws: AwsLab) -> None:
    with pytest.raises(GmsaError) as missing:
        read_host_user(config_for(aws), "gmsa/nobody")
    assert missing.value.exit_code in (1, 3)
    aws.client("secretsmanager").create_secret(Name="gmsa/broken", SecretString='{"user": "x"}')
    with pytest.raises(UserSecretError, match="no non-empty string 'username'") as broken:
        read_host_user(config_for(aws), "gmsa/broken")
    assert '"x"' not in str(broken.value.to_dict())


def test_a_lone_surrogate_in_the_secret_is_refused_without_quoting_it(aws: AwsLab) -> None:
    text = json.dumps({**USER, "password": "Passw0rd-\\ud800-x"}).replace("\\\\ud800", "\\ud800")
    aws.client("secretsmanager").create_secret(Name="gmsa/surrogate", SecretString=text)
    with pytest.raises(UserSecretError, match="'password' holds a lone surrogate") as caught:
        read_host_user(config_for(aws), "gmsa/surrogate")
    assert "Passw0rd" not in str(caught.value.to_dict())
