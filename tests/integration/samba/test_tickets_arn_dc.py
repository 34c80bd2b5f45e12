"""ARN leases against the real (Samba) DC and the moto server with IAM enforced.

The ticket service runs with the ``active-directory`` provider on a private
socket; the spec sits in S3 and the domainless user (HOST01$, allowed to read
WebApp01's password) in Secrets Manager. Every call comes from a client
generated from the .proto alone, in its own process, with the temporary keys of
an assumed role, exactly what the ECS agent sends: the task execution role's.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gmsa.kerberos.ccache import read_ccache
from gmsa.tickets.arn import AwsArnReader
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.interface import HostKeytab
from gmsa.tickets.leases import LeaseStore
from gmsa.tickets.providers import create_provider
from gmsa.tickets.service import TicketService
from tests.support.agent_rpc import call, generate_stubs
from tests.support.moto import IamLab
from tests.support.samba import (
    DOMAIN,
    GMSA,
    HOST_DIRECT,
    HOST_NESTED,
    PASSWORD,
    REALM,
    DomainLab,
)
from tests.support.tickets import domainless_spec_for, serving

pytestmark = pytest.mark.xdist_group("samba")

BUCKET = "arn-specs"


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_stubs(tmp_path_factory.mktemp("agent"))


@dataclass
class ArnHost:
    """A running ticket service, the AWS lab, and the agent's way of calling it."""

    iam: IamLab
    service: TicketService
    socket: Path
    stubs: Path
    krb_dir: Path
    secret_arn: str
    spec_arn: str

    def role_keys(self, *, secret: bool = True) -> dict[str, str]:
        """Temporary keys of a fresh role that may read the spec (and the secret)."""
        statements: list[dict[str, Any]] = [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{self.spec_arn}"}
        ]
        if secret:
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": self.secret_arn,
                }
            )
        name = f"task-execution-{len(self.iam.roles)}"
        role = self.iam.make_role(
            name, {"read": {"Version": "2012-10-17", "Statement": statements}}
        )
        creds = self.iam.admin.client("sts").assume_role(RoleArn=role, RoleSessionName="task")[
            "Credentials"
        ]
        return {
            "access_key_id": creds["AccessKeyId"],
            "secret_access_key": creds["SecretAccessKey"],
            "session_token": creds["SessionToken"],
            "region": self.iam.aws.region,
        }

    def add(self, entries: list[str], keys: dict[str, str]) -> dict[str, Any]:
        return call(
            self.stubs,
            self.socket,
            "AddKerberosArnLease",
            "KerberosArnLeaseRequest",
            {"credspec_arns": entries, **keys},
        )

    def renew(self, keys: dict[str, str]) -> dict[str, Any]:
        return call(
            self.stubs, self.socket, "RenewKerberosArnLease", "RenewKerberosArnLeaseRequest", keys
        )

    def set_secret(self, username: str, password: str) -> None:
        value = json.dumps({"username": username, "password": password, "domainName": DOMAIN})
        self.iam.admin.client("secretsmanager").put_secret_value(
            SecretId=self.secret_arn, SecretString=value
        )


@pytest.fixture
def host(lab_dns: DomainLab, iam_lab: IamLab, stubs: Path, tmp_path: Path) -> Iterator[ArnHost]:
    secret_arn = iam_lab.admin.put_secret(
        "gmsa-user", {"username": f"{HOST_DIRECT}$", "password": PASSWORD, "domainName": DOMAIN}
    )
    spec_arn = iam_lab.admin.put_object(
        BUCKET, "specs/webapp01.json", domainless_spec_for(GMSA, secret_arn, DOMAIN)
    )
    settings = ServiceSettings(
        host_identity=HostKeytab(lab_dns.host_keytab), ticket_reuse=datetime.timedelta(0)
    )
    krb_dir = tmp_path / "krb"
    service = TicketService(
        LeaseStore(krb_dir),
        create_provider("active-directory", settings),
        settings,
        arn_reader=AwsArnReader(endpoint_url=iam_lab.aws.endpoint),
    )
    with serving(service, tmp_path / "sock") as server:
        yield ArnHost(iam_lab, service, server.socket_path, stubs, krb_dir, secret_arn, spec_arn)


def leases_on_disk(krb_dir: Path) -> list[str]:
    return sorted(p.name for p in krb_dir.iterdir()) if krb_dir.exists() else []


def test_an_arn_lease_gives_the_gmsa_ticket_read_with_the_roles_keys(host: ArnHost) -> None:
    keys = host.role_keys()
    answer = host.add([f"{host.spec_arn}#task-0001/web"], keys)
    directory = host.krb_dir / "task-0001" / "web"
    assert answer == {
        "ok": {
            "lease_id": "task-0001",
            "krb_ticket_response_map": [
                {"credspec_arns": host.spec_arn, "created_kerberos_file_paths": str(directory)}
            ],
        }
    }
    assert str(read_ccache(directory / "krb5cc").principal) == f"{GMSA}$@{REALM}"
    for path in host.krb_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (keys["secret_access_key"], keys["session_token"], PASSWORD):
                assert secret.encode() not in data


def test_renew_with_refreshed_keys_gets_a_fresh_ticket(host: ArnHost) -> None:
    host.add([f"{host.spec_arn}#task-0001/web"], host.role_keys())
    cache = host.krb_dir / "task-0001" / "web" / "krb5cc"
    issued = cache.read_bytes()
    assert host.renew(host.role_keys()) == {"ok": {"status": "successful"}}
    assert cache.read_bytes() != issued
    assert str(read_ccache(cache).principal) == f"{GMSA}$@{REALM}"


def test_a_role_that_may_not_read_the_secret_is_permission_denied(host: ArnHost) -> None:
    answer = host.add([f"{host.spec_arn}#task-0001/web"], host.role_keys(secret=False))
    code, details = answer["error"]
    assert code == "PERMISSION_DENIED"
    assert "secretsmanager:GetSecretValue" in details and host.secret_arn in details
    assert leases_on_disk(host.krb_dir) == []


def test_keys_aws_does_not_know_are_unauthenticated(host: ArnHost) -> None:
    keys = {**host.role_keys(), "access_key_id": "AKIAUNKNOWN000000000"}
    answer = host.add([f"{host.spec_arn}#task-0001/web"], keys)
    assert answer["error"][0] == "UNAUTHENTICATED", answer
    assert leases_on_disk(host.krb_dir) == []


def test_an_oversized_object_is_refused_before_it_is_read(host: ArnHost) -> None:
    big = host.iam.admin.put_object(BUCKET, "specs/big.json", "x" * 200_000)
    host.spec_arn = big
    answer = host.add([f"{big}#task-0001/web"], host.role_keys())
    assert answer["error"][0] == "INVALID_ARGUMENT"
    assert "at most" in answer["error"][1]


def test_a_traversing_directory_is_invalid_argument(host: ArnHost) -> None:
    answer = host.add([f"{host.spec_arn}#task-0001/.."], host.role_keys())
    assert answer["error"][0] == "INVALID_ARGUMENT"
    assert "credspec_arns[0]" in answer["error"][1]


def test_a_secret_naming_a_new_user_is_used_by_the_next_renew(host: ArnHost) -> None:
    host.add([f"{host.spec_arn}#task-0001/web"], host.role_keys())
    cache = host.krb_dir / "task-0001" / "web" / "krb5cc"
    issued = cache.read_bytes()
    host.set_secret(f"{HOST_NESTED}$", PASSWORD)  # allowed through nested groups
    assert cache.read_bytes() == issued  # nothing changes until the next renew
    assert host.renew(host.role_keys()) == {"ok": {"status": "successful"}}
    assert host.service.lease("task-0001").domainless_user == (f"{HOST_NESTED}$", DOMAIN)
    assert cache.read_bytes() != issued


def test_a_wrong_new_password_fails_the_renew_and_keeps_the_valid_ticket(host: ArnHost) -> None:
    host.add([f"{host.spec_arn}#task-0001/web"], host.role_keys())
    cache = host.krb_dir / "task-0001" / "web" / "krb5cc"
    issued = cache.read_bytes()
    host.set_secret(f"{HOST_DIRECT}$", "Not-The-Passw0rd!")
    assert host.renew(host.role_keys()) == {"ok": {"status": "failed"}}
    assert cache.read_bytes() == issued
    ticket = read_ccache(cache).tickets[0]
    assert ticket.end_time > datetime.datetime.now(datetime.UTC)
    status = host.service.status()["leases"][0]["tickets"][0]
    assert status["last_error"] is not None and f"{HOST_DIRECT}$" in status["last_error"]
    assert "Not-The-Passw0rd!" not in json.dumps(host.service.status())


def test_a_wrong_domainless_password_is_unauthenticated(host: ArnHost) -> None:
    spec = json.loads(domainless_spec_for(GMSA, host.secret_arn, DOMAIN))
    del spec["ActiveDirectoryConfig"]["HostAccountConfig"]
    answer = call(
        host.stubs,
        host.socket,
        "AddNonDomainJoinedKerberosLease",
        "CreateNonDomainJoinedKerberosLeaseRequest",
        {
            "credspec_contents": [json.dumps(spec)],
            "username": f"{HOST_DIRECT}$",
            "password": "Not-The-Passw0rd!",
            "domain": DOMAIN,
        },
    )
    code, details = answer["error"]
    assert code == "UNAUTHENTICATED"  # the ECS agent does not retry it
    assert "Not-The-Passw0rd!" not in details
    assert leases_on_disk(host.krb_dir) == []
