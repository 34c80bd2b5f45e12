"""A Linux container gets its gMSA identity for real: Samba DC, ticket service, moto, dockerd.

The ticket service runs in-process (``active-directory`` provider as HOST01$) on a
private socket; the spec is published to S3 on the moto server; ``run_task`` (and the
``gmsa task run`` command) with the real :class:`LinuxHostAgent` starts a container
from the locally built image on the host network, as uid 1000, with the lab's
krb5.conf mounted from a task volume. The container lists its ticket cache and asks
the DC for a service ticket with ``kvno``: that only works when the cache holds a TGT
of the gMSA. Afterwards neither a container, a lease directory nor a ledger file is
left.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
from click.testing import CliRunner

from gmsa.aws import AwsConfig
from gmsa.cli.main import cli
from gmsa.hostagent.docker_run import LABEL_TASK_ID, RunResult, connect, new_task_id, run_task
from gmsa.hostagent.interface import Renewal
from gmsa.hostagent.linux import LinuxHostAgent
from gmsa.source.cache import SpecCache
from gmsa.source.fetcher import SpecFetcher
from gmsa.source.publish import parse_target, publish
from gmsa.taskdef.model import parse_task_definition
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.interface import HostKeytab
from gmsa.tickets.leases import LeaseStore
from gmsa.tickets.providers import create_provider
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import TicketService
from tests.support.docker import APP_UID, IMAGE, DockerLab
from tests.support.moto import AwsLab
from tests.support.samba import DC_NAME, DOMAIN, GMSA, HOST_DIRECT, PASSWORD, REALM, DomainLab
from tests.support.tickets import serve_env, spec_for, start_serve

BUCKET = "e2e-gmsa-specs"
SERVICE = f"ldap/{DC_NAME}"
COMMAND = ["sh", "-c", f"echo uid=$(id -u) && klist && kvno {SERVICE}"]


@dataclass
class Host:
    """The ticket service of the test and where it keeps leases."""

    socket: Path
    krb_dir: Path

    def leftovers(self) -> list[str]:
        """Every file or directory under the krb directory except empty ledger folders."""
        if not self.krb_dir.exists():
            return []
        return sorted(
            str(p.relative_to(self.krb_dir))
            for p in self.krb_dir.rglob("*")
            if p.is_file() or (not p.name.startswith(".") and p.parent == self.krb_dir)
        )


@pytest.fixture
def host(lab: DomainLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    monkeypatch.setenv("GMSA_DNS_SERVER", lab.dns_server)
    for name in ("DOMAIN_CONTROLLER_GMSA", "GMSA_KDC", "GMSA_LDAP_PROTECTION"):
        monkeypatch.delenv(name, raising=False)
    settings = ServiceSettings(host_identity=HostKeytab(lab.host_keytab))
    service = TicketService(
        LeaseStore(tmp_path / "krb"), create_provider("active-directory", settings), settings
    )
    service.start(scheduler=False)
    sockets = tmp_path / "sock"
    sockets.mkdir(mode=0o750)
    server = TicketServer(service, sockets / "cf.sock", workers=2)
    server.start()
    try:
        yield Host(server.socket_path, tmp_path / "krb")
    finally:
        server.stop(grace=0)
        service.stop()


@pytest.fixture
def client(engine: DockerLab) -> Iterator[docker.DockerClient]:
    docker_client = connect(engine.url)
    try:
        yield docker_client
    finally:
        docker_client.close()


@pytest.fixture
def krb5_conf(lab: DomainLab, tmp_path: Path) -> Path:
    """The lab's krb5.conf (KDC on 127.0.0.1:88), readable by the container's user."""
    path = tmp_path / "conf" / "krb5.conf"
    path.parent.mkdir()
    shutil.copyfile(lab.krb5_conf, path)
    path.chmod(0o644)
    return path


def aws_config(aws: AwsLab) -> AwsConfig:
    """The lab's own keys and no role: the moto server here does not enforce IAM."""
    return AwsConfig(
        region=aws.region,
        endpoint_url=aws.endpoint,
        access_key_id=aws.access_key,
        secret_access_key=aws.secret_key,
    )


def publish_spec(aws: AwsLab, key: str, spec: str) -> str:
    aws.client("s3").create_bucket(Bucket=BUCKET)
    config = aws_config(aws)
    target = parse_target(f"s3://{BUCKET}/{key}", region=aws.region)
    publish(spec.encode(), target, source=f"{key}", aws=config)
    return f"arn:aws:s3:::{BUCKET}/{key}"


def domainless_spec(secret_arn: str) -> str:
    doc: dict[str, Any] = json.loads(spec_for(GMSA, DOMAIN))
    doc["ActiveDirectoryConfig"]["HostAccountConfig"] = {
        "PortableCcgVersion": "1",
        "PluginGUID": "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
        "PluginInput": {"CredentialArn": secret_arn},
    }
    return json.dumps(doc)


def task_doc(krb5_conf: Path, reference: str) -> dict[str, Any]:
    """One container from the test image on the host network (the KDC is 127.0.0.1:88),
    as uid 1000, with the lab's krb5.conf mounted from a host volume."""
    return {
        "family": "e2e-gmsa",
        "runtimePlatform": {"operatingSystemFamily": "LINUX"},
        "networkMode": "host",
        "volumes": [{"name": "krb5-conf", "host": {"sourcePath": str(krb5_conf)}}],
        "containerDefinitions": [
            {
                "name": "app",
                "image": IMAGE,
                "essential": True,
                "user": f"{APP_UID}:{APP_UID}",
                "command": COMMAND,
                "credentialSpecs": [reference],
                "mountPoints": [
                    {
                        "sourceVolume": "krb5-conf",
                        "containerPath": "/etc/krb5.conf",
                        "readOnly": True,
                    }
                ],
            }
        ],
    }


def run(
    client: docker.DockerClient, host: Host, aws: AwsLab, krb5_conf: Path, reference: str
) -> tuple[str, RunResult]:
    task_def = parse_task_definition(task_doc(krb5_conf, reference), source="taskdef.json")
    config = aws_config(aws)
    agent = LinuxHostAgent(
        host.krb_dir, host.socket, SpecFetcher(aws=config, cache=SpecCache()), config
    )
    task_id = new_task_id()
    return task_id, run_task(client, task_def, agent=agent, task_id=task_id)


def assert_identity_proved(result: RunResult) -> None:
    (outcome,) = result.containers
    assert outcome.exit_code == 0, outcome.logs
    assert f"uid={APP_UID}\n" in outcome.logs
    assert f"Default principal: {GMSA}$@{REALM}" in outcome.logs
    assert f"{SERVICE}@{REALM}: kvno = " in outcome.logs


def assert_nothing_left(client: docker.DockerClient, host: Host, task_id: str) -> None:
    assert client.containers.list(all=True, filters={"label": f"{LABEL_TASK_ID}={task_id}"}) == []
    assert host.leftovers() == []


def test_domain_joined_container_authenticates_to_the_dc_as_its_gmsa(
    client: docker.DockerClient, host: Host, aws: AwsLab, krb5_conf: Path
) -> None:
    arn = publish_spec(aws, "specs/webapp01.json", spec_for(GMSA, DOMAIN))
    task_id, result = run(client, host, aws, krb5_conf, f"credentialspec:{arn}")
    assert_identity_proved(result)
    assert_nothing_left(client, host, task_id)


def test_domainless_container_authenticates_to_the_dc_as_its_gmsa(
    client: docker.DockerClient, host: Host, aws: AwsLab, krb5_conf: Path
) -> None:
    secret = aws.put_secret(
        "e2e-gmsa-user",
        {"username": f"{HOST_DIRECT}$", "password": PASSWORD, "domainName": DOMAIN},
    )
    arn = publish_spec(aws, "specs/webapp01-domainless.json", domainless_spec(secret))
    task_id, result = run(client, host, aws, krb5_conf, f"credentialspecdomainless:{arn}")
    assert_identity_proved(result)
    assert PASSWORD not in json.dumps(result.to_dict())
    assert_nothing_left(client, host, task_id)


def test_task_run_command_gives_the_container_its_gmsa_identity(
    client: docker.DockerClient,
    engine: DockerLab,
    host: Host,
    aws: AwsLab,
    krb5_conf: Path,
    tmp_path: Path,
) -> None:
    arn = publish_spec(aws, "specs/webapp01.json", spec_for(GMSA, DOMAIN))
    taskdef = tmp_path / "taskdef.json"
    taskdef.write_text(json.dumps(task_doc(krb5_conf, f"credentialspec:{arn}")))
    task_id = new_task_id()
    result = CliRunner().invoke(
        cli,
        [
            "task", "run", str(taskdef), "--platform", "linux",
            "--krb-dir", str(host.krb_dir), "--socket", str(host.socket),
            "--docker-host", engine.url, "--task-id", task_id,
            "--no-assume-role", "--region", aws.region, "--endpoint-url", aws.endpoint,
        ],
        env={
            "AWS_ACCESS_KEY_ID": aws.access_key,
            "AWS_SECRET_ACCESS_KEY": aws.secret_key,
            "AWS_PROFILE": None,
            "AWS_SESSION_TOKEN": None,
        },
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Default principal: {GMSA}$@{REALM}" in result.output
    assert f"{SERVICE}@{REALM}: kvno = " in result.output
    assert_nothing_left(client, host, task_id)


# A domainless task whose ticket service restarts while it runs: the container waits until
# its ticket cache holds another TGT than the first one, then proves it with kvno.
WAIT_FOR_RENEWAL = [
    "sh",
    "-c",
    'echo uid=$(id -u); first="$(klist | grep krbtgt)"; echo "first: $first"; i=0; '
    'while [ "$(klist | grep krbtgt)" = "$first" ] && [ $i -lt 240 ]; do '
    "sleep 0.5; i=$((i+1)); done; "
    f'echo "now: $(klist | grep krbtgt)"; klist && kvno {SERVICE}',
]


def test_a_domainless_task_keeps_its_lease_across_a_ticket_service_restart(
    client: docker.DockerClient,
    engine: DockerLab,
    lab: DomainLab,
    aws: AwsLab,
    krb5_conf: Path,
    tmp_path: Path,
) -> None:
    """`gmsa tickets serve` as a process, killed and started again while the task runs:
    the restarted service holds the lease but not the user's password, and renews nothing
    until the host agent's keeper tells it (RenewNonDomainJoinedKerberosLease)."""
    sock, krb = tmp_path / "sock" / "cf.sock", tmp_path / "krb"
    config = tmp_path / "serve.json"
    config.write_text(json.dumps({"keytab": str(lab.host_keytab)}))
    env, log = serve_env(lab.dns_server), tmp_path / "serve.log"
    services = [start_serve(sock, krb, config, env, log)]
    secret = aws.put_secret(
        "e2e-gmsa-user",
        {"username": f"{HOST_DIRECT}$", "password": PASSWORD, "domainName": DOMAIN},
    )
    arn = publish_spec(aws, "specs/webapp01-domainless.json", domainless_spec(secret))
    doc = task_doc(krb5_conf, f"credentialspecdomainless:{arn}")
    doc["containerDefinitions"][0]["command"] = WAIT_FOR_RENEWAL
    task_def = parse_task_definition(doc, source="taskdef.json")
    config_aws = aws_config(aws)
    agent = LinuxHostAgent(
        krb,
        sock,
        SpecFetcher(aws=config_aws, cache=SpecCache()),
        config_aws,
        keep_alive_seconds=0.2,
    )

    task_id = new_task_id()

    def restart() -> None:
        """Once the task's container runs (its lease made), kill the service and start it
        again on the same socket and krb directory."""
        deadline = time.monotonic() + 120
        running = {"label": f"{LABEL_TASK_ID}={task_id}", "status": "running"}
        watcher = connect(engine.url)  # a client of its own: run_task uses the other
        try:
            while not watcher.containers.list(filters=running) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            watcher.close()
        services[0].kill()
        services[0].wait(10)
        services.append(start_serve(sock, krb, config, env, log))

    restarter = threading.Thread(target=restart)
    restarter.start()
    heard: list[Renewal] = []
    try:
        result = run_task(client, task_def, agent=agent, task_id=task_id, on_renewal=heard.append)
    finally:
        restarter.join()
        for service in services:
            if service.poll() is None:
                service.terminate()
            service.wait(30)
    assert_identity_proved(result)
    (outcome,) = result.containers
    first, now = (line for line in outcome.logs.splitlines() if line.startswith(("first:", "now:")))
    assert first.split(":", 1)[1] != now.split(":", 1)[1]  # a new TGT, given after the restart
    assert [r.reason for r in result.renewals if r.ok] == ["ticket-service-restarted"]
    assert heard == list(result.renewals)
    assert result.to_dict()["renewals"][-1]["reason"] == "ticket-service-restarted"
    assert PASSWORD not in json.dumps(result.to_dict())
    assert client.containers.list(all=True, filters={"label": f"{LABEL_TASK_ID}={task_id}"}) == []
    assert [p.name for p in krb.iterdir() if not p.name.startswith(".")] == []
