"""The Linux host agent against the real (Samba) DC, a real ticket service and moto.

Each test runs the ticket service (``active-directory`` provider, HOST01$'s
keytab) on a private unix socket, publishes specs to the moto server, prepares
a task and checks what a container would get: a read-only mount of a ticket
directory whose ``krb5cc`` is the gMSA's identity, and ``KRB5CCNAME`` pointing
at it. Failures must leave no lease behind.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gmsa.aws import AwsConfig
from gmsa.cli.main import cli
from gmsa.errors import ExitCode
from gmsa.hostagent.interface import HostAgentError
from gmsa.hostagent.linux import LinuxHostAgent
from gmsa.kerberos.ccache import read_ccache
from gmsa.source.cache import SpecCache
from gmsa.source.fetcher import SpecFetcher
from gmsa.taskdef.model import TaskDefinition, parse_task_definition
from gmsa.tickets.client import TicketClient
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.interface import HostKeytab
from gmsa.tickets.layout import CONTAINER_KRB_DIR, KRB5CCNAME
from gmsa.tickets.leases import LeaseStore
from gmsa.tickets.providers import create_provider
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import TicketService
from tests.support.moto import AwsLab, IamLab
from tests.support.samba import (
    DOMAIN,
    GMSA,
    GMSA_DOMAIN_COMPUTERS,
    GMSA_NO_READERS,
    HOST_DIRECT,
    PASSWORD,
    REALM,
    DomainLab,
)
from tests.support.tickets import serving, spec_for

pytestmark = pytest.mark.xdist_group("samba")

TASK_ID = "0123456789abcdef0123456789abcdef"
BUCKET = "linux-gmsa-specs"


@dataclass
class Host:
    """A running ticket service and where it keeps leases."""

    socket: Path
    krb_dir: Path
    service: TicketService
    server: TicketServer

    def leases(self) -> list[str]:
        """Lease directories in the krb directory (the task ledger's folder is not one)."""
        if not self.krb_dir.exists():
            return []
        return sorted(p.name for p in self.krb_dir.iterdir() if not p.name.startswith("."))


@pytest.fixture
def host(lab_dns: DomainLab, tmp_path: Path) -> Iterator[Host]:
    settings = ServiceSettings(host_identity=HostKeytab(lab_dns.host_keytab))
    provider = create_provider("active-directory", settings)
    krb_dir = tmp_path / "krb"
    service = TicketService(LeaseStore(krb_dir), provider, settings)
    with serving(service, tmp_path / "sock") as server:
        yield Host(server.socket_path, krb_dir, service, server)


def aws_config(aws: AwsLab, role_arn: str | None = None) -> AwsConfig:
    return AwsConfig(
        region=aws.region,
        endpoint_url=aws.endpoint,
        access_key_id=aws.access_key,
        secret_access_key=aws.secret_key,
        role_arn=role_arn,
    )


def agent_for(host: Host, aws: AwsLab, role_arn: str | None = None) -> LinuxHostAgent:
    config = aws_config(aws, role_arn)
    fetcher = SpecFetcher(aws=config, cache=SpecCache())
    return LinuxHostAgent(host.krb_dir, host.socket, fetcher, config)


def publish(aws: AwsLab, name: str, spec: str | None = None) -> str:
    return aws.put_object(BUCKET, f"specs/{name}.json", spec or spec_for(name))


def domainless_spec(name: str, secret_arn: str, *, as_string: bool = False) -> str:
    doc: dict[str, Any] = json.loads(spec_for(name))
    plugin_input: Any = {"CredentialArn": secret_arn}
    if as_string:
        plugin_input = json.dumps({"credentialArn": secret_arn})
    doc["ActiveDirectoryConfig"]["HostAccountConfig"] = {
        "PortableCcgVersion": "1",
        "PluginGUID": "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
        "PluginInput": plugin_input,
    }
    return json.dumps(doc)


def task(*containers: dict[str, Any], role: str | None = None) -> TaskDefinition:
    doc: dict[str, Any] = {
        "family": "linux-gmsa",
        "runtimePlatform": {"operatingSystemFamily": "LINUX"},
        "containerDefinitions": list(containers),
    }
    if role is not None:
        doc["executionRoleArn"] = role
    return parse_task_definition(doc, source="task.json")


def container(name: str, reference: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "debian:stable", "credentialSpecs": [reference], **extra}


def cache_principal(directory: str) -> str:
    return str(read_ccache(Path(directory) / "krb5cc").principal)


# --------------------------------------------------------------------------- a working identity


def test_s3_spec_gives_the_container_a_ticket_for_its_gmsa(host: Host, aws: AwsLab) -> None:
    arn = publish(aws, GMSA)
    prepared = agent_for(host, aws).prepare(
        task(container("web", f"credentialspec:{arn}")), TASK_ID
    )
    (web,) = prepared.containers
    (mount,) = web.mounts
    assert prepared.lease_id is not None
    assert mount.source == str(host.krb_dir / prepared.lease_id / GMSA)
    assert (mount.target, mount.read_only) == (CONTAINER_KRB_DIR, True)
    assert web.environment == {"KRB5CCNAME": KRB5CCNAME}
    assert cache_principal(mount.source) == f"{GMSA}$@{REALM}"


def test_cleanup_deletes_the_lease_and_its_record(host: Host, aws: AwsLab) -> None:
    agent = agent_for(host, aws)
    arn = publish(aws, GMSA)
    prepared = agent.prepare(task(container("web", f"credentialspec:{arn}")), TASK_ID)
    done = agent.cleanup(TASK_ID)
    assert (done.known, done.lease_id) == (True, prepared.lease_id)
    assert host.leases() == []
    assert not agent.ledger_path(TASK_ID).exists()


def test_cleanup_of_an_unknown_task_succeeds_and_removes_nothing(host: Host, aws: AwsLab) -> None:
    done = agent_for(host, aws).cleanup(TASK_ID)
    assert (done.known, done.removed, done.lease_id) == (False, (), None)


def test_two_containers_with_two_specs_share_one_lease_with_the_right_ticket_each(
    host: Host, aws: AwsLab
) -> None:
    first, second = publish(aws, GMSA), publish(aws, GMSA_DOMAIN_COMPUTERS)
    prepared = agent_for(host, aws).prepare(
        task(
            container("web", f"credentialspec:{first}"),
            container("api", f"credentialspec:{second}"),
            container("worker", f"credentialspec:{first}"),
        ),
        TASK_ID,
    )
    assert host.leases() == [prepared.lease_id]
    owners = {c.name: cache_principal(c.mounts[0].source) for c in prepared.containers}
    assert owners == {
        "web": f"{GMSA}$@{REALM}",
        "api": f"{GMSA_DOMAIN_COMPUTERS}$@{REALM}",
        "worker": f"{GMSA}$@{REALM}",
    }


def test_numeric_container_user_owns_its_cache_with_mode_0600(host: Host, aws: AwsLab) -> None:
    arn = publish(aws, GMSA)
    prepared = agent_for(host, aws).prepare(
        task(container("web", f"credentialspec:{arn}", user="1000:1000")), TASK_ID
    )
    info = os.stat(Path(prepared.containers[0].mounts[0].source) / "krb5cc")
    assert (info.st_uid, info.st_gid) == (1000, 1000)
    assert stat.S_IMODE(info.st_mode) == 0o600


# --------------------------------------------------------------------------- domainless


def test_domainless_spec_gets_a_lease_as_the_secret_user(host: Host, aws: AwsLab) -> None:
    secret = aws.put_secret(
        "gmsa-user", {"username": f"{HOST_DIRECT}$", "password": PASSWORD, "domainName": DOMAIN}
    )
    arn = publish(aws, GMSA, domainless_spec(GMSA, secret, as_string=True))
    prepared = agent_for(host, aws).prepare(
        task(container("web", f"credentialspecdomainless:{arn}")), TASK_ID
    )
    assert cache_principal(prepared.containers[0].mounts[0].source) == f"{GMSA}$@{REALM}"
    assert PASSWORD not in json.dumps(prepared.to_dict())
    assert host.service.lease(str(prepared.lease_id)).mode == "domainless"


def test_domainless_without_secret_permission_exits_3_and_leaves_nothing(
    host: Host, iam_lab: IamLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = iam_lab.admin
    secret = admin.put_secret(
        "gmsa-user", {"username": f"{HOST_DIRECT}$", "password": PASSWORD, "domainName": DOMAIN}
    )
    arn = admin.put_object(BUCKET, "specs/dl.json", domainless_spec(GMSA, secret))
    role = iam_lab.make_role(
        "execution-no-secret",
        {
            "specs": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],
            }
        },
    )
    path = tmp_path / "task.json"
    path.write_text(
        json.dumps(
            {
                "executionRoleArn": role,
                "runtimePlatform": {"operatingSystemFamily": "LINUX"},
                "containerDefinitions": [container("web", f"credentialspecdomainless:{arn}")],
            }
        )
    )
    result = run_cli(
        monkeypatch,
        admin,
        "task",
        "prepare",
        str(path),
        "--task-id",
        TASK_ID,
        "--krb-dir",
        str(host.krb_dir),
        "--socket",
        str(host.socket),
    )
    assert result.exit_code == ExitCode.EXTERNAL, result.output
    assert "secretsmanager:GetSecretValue" in result.output
    assert PASSWORD not in result.output
    assert host.leases() == []


# --------------------------------------------------------------------------- all or nothing


def test_a_missing_second_spec_makes_no_lease(host: Host, aws: AwsLab) -> None:
    arn = publish(aws, GMSA)
    missing = f"arn:aws:s3:::{BUCKET}/specs/missing.json"
    with pytest.raises(HostAgentError) as caught:
        agent_for(host, aws).prepare(
            task(
                container("web", f"credentialspec:{arn}"),
                container("api", f"credentialspec:{missing}"),
            ),
            TASK_ID,
        )
    assert "'api'" in str(caught.value.where)
    assert host.leases() == []


def test_a_second_gmsa_the_host_may_not_read_makes_no_lease(host: Host, aws: AwsLab) -> None:
    first, second = publish(aws, GMSA), publish(aws, GMSA_NO_READERS)
    agent = agent_for(host, aws)
    with pytest.raises(HostAgentError) as caught:
        agent.prepare(
            task(
                container("web", f"credentialspec:{first}"),
                container("api", f"credentialspec:{second}"),
            ),
            TASK_ID,
        )
    assert caught.value.exit_code != ExitCode.OK
    assert host.leases() == []
    assert not agent.ledger_path(TASK_ID).exists()


def test_a_lease_made_before_a_later_failure_is_deleted(
    host: Host, aws: AwsLab, tmp_path: Path
) -> None:
    blocked = tmp_path / "state"
    blocked.write_text("a file where the ledger directory should be")
    config = aws_config(aws)
    agent = LinuxHostAgent(
        host.krb_dir, host.socket, SpecFetcher(aws=config), config, state_dir=blocked
    )
    arn = publish(aws, GMSA)
    with pytest.raises(HostAgentError) as caught:
        agent.prepare(task(container("web", f"credentialspec:{arn}")), TASK_ID)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert host.leases() == []


# --------------------------------------------------------------------------- the CLI


def run_cli(monkeypatch: pytest.MonkeyPatch, aws: AwsLab, *args: str) -> Result:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", aws.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws.secret_key)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    aws_args = ["--region", aws.region, "--endpoint-url", aws.endpoint]
    if args[:2] == ("task", "cleanup"):
        aws_args = []
    return CliRunner().invoke(cli, [*args, *aws_args])


def test_cli_prepare_and_cleanup_on_linux_print_mounts_and_delete_the_lease(
    host: Host, aws: AwsLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = publish(aws, GMSA)
    path = tmp_path / "task.json"
    path.write_text(
        json.dumps(
            {
                "runtimePlatform": {"operatingSystemFamily": "LINUX"},
                "containerDefinitions": [container("web", f"credentialspec:{arn}")],
            }
        )
    )
    where = ["--krb-dir", str(host.krb_dir), "--socket", str(host.socket)]
    result = run_cli(
        monkeypatch, aws, "task", "prepare", str(path), "--task-id", TASK_ID, *where, "--json"
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    lease = out["lease_id"]
    assert out["containers"][0]["mounts"] == [
        {"source": str(host.krb_dir / lease / GMSA), "target": CONTAINER_KRB_DIR, "read_only": True}
    ]
    assert out["containers"][0]["environment"] == {"KRB5CCNAME": KRB5CCNAME}
    done = run_cli(
        monkeypatch, aws, "task", "cleanup", "--task-id", TASK_ID, "--platform", "linux", *where
    )
    assert done.exit_code == 0, done.output
    assert f"lease {lease} deleted" in done.stdout
    assert host.leases() == []


def test_lease_of_a_task_is_listed_by_the_service(host: Host, aws: AwsLab) -> None:
    arn = publish(aws, GMSA)
    prepared = agent_for(host, aws).prepare(
        task(container("web", f"credentialspec:{arn}")), TASK_ID
    )
    with TicketClient(host.socket) as client:
        listed = [lease["lease_id"] for lease in client.status()["leases"]]
    assert listed == [prepared.lease_id]


def test_preparing_a_task_again_leaves_only_the_new_lease(host: Host, aws: AwsLab) -> None:
    agent = agent_for(host, aws)
    definition = task(container("web", f"credentialspec:{publish(aws, GMSA)}"))
    agent.prepare(definition, TASK_ID)
    again = agent.prepare(definition, TASK_ID)
    assert host.leases() == [again.lease_id]


def test_container_user_given_by_name_gets_a_warning(host: Host, aws: AwsLab) -> None:
    arn = publish(aws, GMSA)
    prepared = agent_for(host, aws).prepare(
        task(container("web", f"credentialspec:{arn}", user="nginx")), TASK_ID
    )
    assert [w.code for w in prepared.warnings] == ["container-user-not-numeric"]


# --------------------------------------------------------------------------- keeping leases alive


def restarted(host: Host, lab: DomainLab) -> TicketService:
    """A new ticket service over the same krb directory, as after a restart: it has the
    leases from disk but no domain user's password."""
    settings = ServiceSettings(host_identity=HostKeytab(lab.host_keytab))
    return TicketService(
        LeaseStore(host.krb_dir), create_provider("active-directory", settings), settings
    )


def test_renew_after_a_service_restart_gives_the_lease_its_user_again(
    host: Host, aws: AwsLab, lab: DomainLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = aws.put_secret(
        "gmsa-user", {"username": f"{HOST_DIRECT}$", "password": PASSWORD, "domainName": DOMAIN}
    )
    arn = publish(aws, GMSA, domainless_spec(GMSA, secret))
    definition = {
        "runtimePlatform": {"operatingSystemFamily": "LINUX"},
        "containerDefinitions": [container("web", f"credentialspecdomainless:{arn}")],
    }
    prepared = agent_for(host, aws).prepare(task(*definition["containerDefinitions"]), TASK_ID)
    lease = str(prepared.lease_id)
    cache = Path(prepared.containers[0].mounts[0].source) / "krb5cc"
    issued = cache.read_bytes()
    service = restarted(host, lab)
    with serving(service, tmp_path / "sock-restarted") as server:
        assert service.status()["leases"][0]["awaiting_credentials"] is True
        path = tmp_path / "task.json"
        path.write_text(json.dumps(definition))
        where = ["--krb-dir", str(host.krb_dir), "--socket", str(server.socket_path)]
        result = run_cli(
            monkeypatch, aws, "task", "renew", str(path), "--task-id", TASK_ID, *where, "--json"
        )
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        assert out == {
            "ok": True,
            "findings": [],
            "task_id": TASK_ID,
            "lease_id": lease,
            "user": f"{HOST_DIRECT}$@{DOMAIN}",
            "renewed": [str(host.krb_dir / lease / GMSA)],
        }
        assert PASSWORD not in result.output
        assert service.status()["leases"][0]["awaiting_credentials"] is False
        assert cache.read_bytes() != issued
        assert cache_principal(str(cache.parent)) == f"{GMSA}$@{REALM}"


def user_secret(aws: AwsLab, password: str = PASSWORD) -> str:
    return aws.put_secret(
        "gmsa-user", {"username": f"{HOST_DIRECT}$", "password": password, "domainName": DOMAIN}
    )


def test_a_running_task_keeper_renews_once_the_ticket_service_restarted(
    host: Host, aws: AwsLab, lab: DomainLab
) -> None:
    """What `gmsa task run` does while a domainless task runs: the restarted service
    holds the lease but not the user's password; the keeper notices and renews."""
    arn = publish(aws, GMSA, domainless_spec(GMSA, user_secret(aws)))
    definition = task(container("web", f"credentialspecdomainless:{arn}"))
    agent = agent_for(host, aws)
    agent.keep_alive_seconds = 0
    prepared = agent.prepare(definition, TASK_ID)
    keeper = agent.keeper(definition, prepared)
    assert keeper is not None
    assert keeper.poll() is None  # same credentials, the service has the password
    cache = Path(prepared.containers[0].mounts[0].source) / "krb5cc"
    issued = cache.read_bytes()
    host.server.stop(grace=0)
    host.service.stop()
    service = restarted(host, lab)
    service.start(scheduler=False)
    server = TicketServer(service, host.socket, workers=2)
    server.start()
    try:
        assert service.status()["leases"][0]["awaiting_credentials"] is True
        renewal = keeper.poll()
        assert renewal is not None and renewal.ok, renewal
        assert renewal.reason == "ticket-service-restarted"
        assert renewal.renewed == (str(host.krb_dir / str(prepared.lease_id) / GMSA),)
        assert service.status()["leases"][0]["awaiting_credentials"] is False
        assert cache.read_bytes() != issued
        assert keeper.poll() is None  # nothing changed since
        assert keeper.renewals == [renewal]
    finally:
        server.stop(grace=0)
        service.stop()


def test_a_running_task_keeper_renews_when_the_role_credentials_are_refreshed(
    host: Host, iam_lab: IamLab
) -> None:
    admin = iam_lab.admin
    secret = user_secret(admin)
    arn = admin.put_object(BUCKET, "specs/dl.json", domainless_spec(GMSA, secret))
    role = iam_lab.make_role(
        "execution-role",
        {
            "read": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:Get*", "secretsmanager:GetSecretValue"],
                        "Resource": "*",
                    }
                ],
            }
        },
    )
    definition = task(container("web", f"credentialspecdomainless:{arn}"), role=role)
    agent = agent_for(host, admin, role_arn=role)
    agent.keep_alive_seconds = 0
    prepared = agent.prepare(definition, TASK_ID)
    keeper = agent.keeper(definition, prepared)
    assert keeper is not None
    assert keeper.poll() is None
    # The role's credentials reach the end of their life: botocore assumes the role
    # again on the next use, as it does 15 minutes before they expire.
    assert agent.aws is not None
    credentials = agent.aws.session().get_credentials()
    credentials._expiry_time = datetime.datetime.now(datetime.UTC)
    renewal = keeper.poll()
    assert renewal is not None and renewal.ok, renewal
    assert renewal.reason == "credentials-refreshed"
    assert renewal.renewed == (str(host.krb_dir / str(prepared.lease_id) / GMSA),)
    assert keeper.poll() is None  # the new credentials are now the known ones


def test_a_keeper_reports_a_lease_the_service_no_longer_holds_once(host: Host, aws: AwsLab) -> None:
    arn = publish(aws, GMSA, domainless_spec(GMSA, user_secret(aws)))
    definition = task(container("web", f"credentialspecdomainless:{arn}"))
    agent = agent_for(host, aws)
    agent.keep_alive_seconds = 0
    prepared = agent.prepare(definition, TASK_ID)
    keeper = agent.keeper(definition, prepared)
    assert keeper is not None
    host.service.delete_lease(str(prepared.lease_id))
    renewal = keeper.poll()
    assert renewal is not None and not renewal.ok
    assert renewal.reason == "lease-missing"
    assert f"holds no lease {prepared.lease_id}" in str(renewal.error)
    assert keeper.poll() is None


def test_a_domain_joined_task_needs_no_keeper(host: Host, aws: AwsLab) -> None:
    definition = task(container("web", f"credentialspec:{publish(aws, GMSA)}"))
    agent = agent_for(host, aws)
    assert agent.keeper(definition, agent.prepare(definition, TASK_ID)) is None


# --------------------------------------------------------------------------- secret rotation


@dataclass
class Rotation:
    """A domainless task (WebApp02, readable by every computer) prepared with a domain
    user of its own, made for the test, whose secret the test changes."""

    agent: LinuxHostAgent
    definition: TaskDefinition
    secret: str
    lease_id: str
    cache: Path

    def issued(self) -> bytes:
        return self.cache.read_bytes()


def rotation(host: Host, aws: AwsLab, lab: DomainLab, user: str) -> Rotation:
    lab.set_computer_password(user, "First-Passw0rd!")
    secret = aws.put_secret(
        f"rotating-{user}",
        {"username": f"{user}$", "password": "First-Passw0rd!", "domainName": DOMAIN},
    )
    arn = publish(aws, GMSA_DOMAIN_COMPUTERS, domainless_spec(GMSA_DOMAIN_COMPUTERS, secret))
    definition = task(container("web", f"credentialspecdomainless:{arn}"))
    agent = agent_for(host, aws)
    prepared = agent.prepare(definition, TASK_ID)
    cache = Path(prepared.containers[0].mounts[0].source) / "krb5cc"
    assert host.service.lease(str(prepared.lease_id)).domainless_user == (f"{user}$", DOMAIN)
    return Rotation(agent, definition, secret, str(prepared.lease_id), cache)


def set_secret(aws: AwsLab, arn: str, user: str, password: str) -> None:
    aws.client("secretsmanager").put_secret_value(
        SecretId=arn,
        SecretString=json.dumps(
            {"username": f"{user}$", "password": password, "domainName": DOMAIN}
        ),
    )


def unique_computer() -> str:
    return f"ROT{secrets.token_hex(4).upper()}"  # the DC is shared between test workers


def test_a_rotated_password_in_the_secret_is_used_by_the_next_renew(
    host: Host, aws: AwsLab, lab_dns: DomainLab
) -> None:
    user = unique_computer()
    task_ = rotation(host, aws, lab_dns, user)
    issued = task_.issued()
    lab_dns.set_computer_password(user, "Second-Passw0rd!")  # AD rotates the password,
    set_secret(aws, task_.secret, user, "Second-Passw0rd!")  # the secret follows
    assert task_.issued() == issued  # the ticket in place stays until the next renew
    renewed = task_.agent.renew(task_.definition, TASK_ID)
    assert renewed.user == f"{user}$@{DOMAIN}"
    assert task_.issued() != issued
    # The service's own renewals read with the new password from now on.
    report = host.service.run_due(force=True)
    assert report.failed == () and task_.cache.parent in report.renewed


def test_a_secret_naming_a_new_user_moves_the_lease_to_it_without_a_new_lease(
    host: Host, aws: AwsLab, lab_dns: DomainLab
) -> None:
    old, new = unique_computer(), unique_computer()
    task_ = rotation(host, aws, lab_dns, old)
    issued = task_.issued()
    lab_dns.set_computer_password(new, "Blue-Passw0rd!")
    set_secret(aws, task_.secret, new, "Blue-Passw0rd!")
    renewed = task_.agent.renew(task_.definition, TASK_ID)
    assert renewed.lease_id == task_.lease_id  # the same lease, no prepare
    assert renewed.user == f"{new}$@{DOMAIN}"
    assert host.service.lease(task_.lease_id).domainless_user == (f"{new}$", DOMAIN)
    metadata = json.loads((host.krb_dir / task_.lease_id / "lease.json").read_text())
    assert metadata["domainless_user"]["username"] == f"{new}$"
    assert task_.issued() != issued
    assert cache_principal(str(task_.cache.parent)) == f"{GMSA_DOMAIN_COMPUTERS}$@{REALM}"
    report = host.service.run_due(force=True)
    assert report.failed == () and task_.cache.parent in report.renewed


def test_a_wrong_new_password_fails_the_renew_and_keeps_tickets_and_working_password(
    host: Host, aws: AwsLab, lab_dns: DomainLab
) -> None:
    user = unique_computer()
    task_ = rotation(host, aws, lab_dns, user)
    issued = task_.issued()
    set_secret(aws, task_.secret, user, "Typo-Passw0rd!")  # AD still has the first one
    with pytest.raises(HostAgentError) as caught:
        task_.agent.renew(task_.definition, TASK_ID)
    assert caught.value.code == "domainless-user-refused"  # UNAUTHENTICATED: not retried
    assert f"{user}$" in caught.value.what
    assert "Typo-Passw0rd!" not in caught.value.diagnostics()
    assert task_.issued() == issued  # the valid ticket stays in place
    ticket = read_ccache(task_.cache).tickets[0]
    assert ticket.end_time > datetime.datetime.now(datetime.UTC)
    record = host.service.lease(task_.lease_id).tickets[0]
    assert record.last_error is not None and f"{user}$" in record.last_error
    # The wrong password was not adopted: the service renews with the one that works.
    report = host.service.run_due(force=True)
    assert report.failed == () and task_.cache.parent in report.renewed
    assert "Typo-Passw0rd!" not in json.dumps(host.service.status())


def test_renew_of_a_domain_joined_or_unknown_task_needs_nothing(host: Host, aws: AwsLab) -> None:
    arn = publish(aws, GMSA)
    agent = agent_for(host, aws)
    definition = task(container("web", f"credentialspec:{arn}"))
    assert agent.renew(definition, TASK_ID).lease_id is None
    prepared = agent.prepare(definition, TASK_ID)
    renewed = agent.renew(definition, TASK_ID)
    assert (renewed.lease_id, renewed.user, renewed.renewed) == (prepared.lease_id, None, ())


def test_renew_after_the_lease_is_gone_says_to_prepare_again(host: Host, aws: AwsLab) -> None:
    secret = aws.put_secret(
        "gmsa-user", {"username": f"{HOST_DIRECT}$", "password": PASSWORD, "domainName": DOMAIN}
    )
    arn = publish(aws, GMSA, domainless_spec(GMSA, secret))
    definition = task(container("web", f"credentialspecdomainless:{arn}"))
    agent = agent_for(host, aws)
    prepared = agent.prepare(definition, TASK_ID)
    host.service.delete_lease(str(prepared.lease_id))
    with pytest.raises(HostAgentError) as caught:
        agent.renew(definition, TASK_ID)
    assert "prepare the task again" in str(caught.value.fix)
    assert PASSWORD not in caught.value.diagnostics()
