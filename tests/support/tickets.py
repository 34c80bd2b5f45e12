"""Ticket-service test helpers: a clock tests move by hand, the example spec for any gMSA,
an in-memory S3 and Secrets Manager for ARN leases, and ``gmsa tickets serve`` started as
a process of its own."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gmsa.aws import AwsAccessDeniedError, AwsCredentialsError, AwsNotFoundError
from gmsa.domainless import DomainlessUser
from gmsa.reference import S3Location
from gmsa.tickets.arn import ArnReader, AwsKeys
from gmsa.tickets.client import TicketClient
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import TicketService
from tests.conftest import EXAMPLE_SPEC

START = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime.datetime = START) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime.datetime:
        with self._lock:
            return self.now

    def advance(self, delta: datetime.timedelta) -> datetime.datetime:
        with self._lock:
            self.now += delta
            return self.now


def spec_for(name: str, domain: str = "example.com") -> str:
    """The example credential spec for another gMSA, as the ECS agent sends it (a JSON string)."""
    doc: dict[str, Any] = json.loads(json.dumps(EXAMPLE_SPEC))
    doc["DomainJoinConfig"]["MachineAccountName"] = name
    doc["DomainJoinConfig"]["DnsName"] = domain
    doc["DomainJoinConfig"]["DnsTreeName"] = domain
    doc["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"] = [
        {"Name": name, "Scope": domain},
        {"Name": name, "Scope": domain.split(".")[0].upper()},
    ]
    return json.dumps(doc)


def domainless_spec_for(name: str, secret_arn: str, domain: str = "example.com") -> str:
    """The example spec for ``name`` as a domainless spec naming the user secret ``secret_arn``."""
    doc: dict[str, Any] = json.loads(spec_for(name, domain))
    doc["ActiveDirectoryConfig"]["HostAccountConfig"] = {
        "PortableCcgVersion": "1",
        "PluginGUID": "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
        "PluginInput": {"CredentialArn": secret_arn},
    }
    return json.dumps(doc)


class AwsDouble(ArnReader):
    """S3 objects and Secrets Manager secrets in memory, readable with one key pair.

    Every read is recorded as ``(kind, arn, access key id)`` so tests see which
    credentials each read used; keys other than :attr:`valid` are refused as AWS would.
    """

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.secrets: dict[str, dict[str, str]] = {}
        self.valid: set[str] = {"AKIAFIRST"}
        self.denied: set[str] = set()
        self.reads: list[tuple[str, str, str]] = []

    def put_spec(self, key: str, text: str) -> str:
        arn = f"arn:aws:s3:::specs/{key}"
        self.objects[arn] = text.encode()
        return arn

    def put_secret(
        self, name: str, username: str, password: str, domain: str = "example.com"
    ) -> str:
        arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf"
        self.secrets[arn] = {"username": username, "password": password, "domainName": domain}
        return arn

    def _check(self, arn: str, keys: AwsKeys, action: str) -> None:
        if keys.access_key_id not in self.valid:
            raise AwsCredentialsError("AWS refused the credentials (InvalidClientTokenId)")
        if arn in self.denied:
            raise AwsAccessDeniedError(f"AWS refused {action}", where=f"{action} on {arn}")

    def read_spec(self, location: S3Location, keys: AwsKeys) -> bytes:
        self.reads.append(("s3", location.arn, keys.access_key_id))
        self._check(location.arn, keys, "s3:GetObject")
        if location.arn not in self.objects:
            raise AwsNotFoundError(f"{location.arn} does not exist (NoSuchKey)")
        return self.objects[location.arn]

    def read_user(self, secret_arn: str, keys: AwsKeys) -> DomainlessUser:
        self.reads.append(("secret", secret_arn, keys.access_key_id))
        self._check(secret_arn, keys, "secretsmanager:GetSecretValue")
        doc = self.secrets[secret_arn]
        return DomainlessUser(doc["username"], doc["domainName"], doc["password"])


@contextmanager
def serving(service: TicketService, socket_dir: Path) -> Iterator[TicketServer]:
    """Start ``service`` (no scheduler) and serve it on ``socket_dir``/cf.sock; stop both."""
    service.start(scheduler=False)
    socket_dir.mkdir(mode=0o750)
    server = TicketServer(service, socket_dir / "cf.sock", workers=4)
    server.start()
    try:
        yield server
    finally:
        server.stop(grace=0)
        service.stop()


def serve_env(dns_server: str, **extra: str) -> dict[str, str]:
    """The environment of a ``gmsa tickets serve`` process: the domain's DNS server, the
    settings in ``extra``, and nothing stale from the caller's (DC, KDC, krb5, CF_ keys)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GMSA_", "DOMAIN_CONTROLLER_GMSA", "KRB5", "CF_"))
    }
    env.update({"GMSA_DNS_SERVER": dns_server, **extra})
    return env


def start_serve(
    sock: Path, krb: Path, config: Path, env: dict[str, str], log: Path, *args: str
) -> subprocess.Popen[bytes]:
    """Start ``gmsa tickets serve`` (provider ``active-directory``, then ``args``) and wait
    until it answers HealthCheck; its output goes to ``log``."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gmsa",
                "tickets",
                "serve",
                "--socket",
                str(sock),
                "--krb-dir",
                str(krb),
                "--config",
                str(config),
                "--provider",
                "active-directory",
                *args,
            ],
            env=env,
            stdout=out,
            stderr=out,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {log.read_text(errors='replace')}")
        if sock.exists():
            try:
                with TicketClient(sock, timeout=5) as client:
                    client.health()
                return process
            except Exception:  # not listening yet (a stale socket, or starting)
                pass
        time.sleep(0.05)
    process.kill()
    process.wait(10)
    raise AssertionError(f"serve did not start: {log.read_text(errors='replace')}")
