"""``gmsa demo``: the seed's whole system, end to end, on an embedded AWS endpoint.

It starts moto on 127.0.0.1 (nothing leaves the machine), publishes the seed's
example spec to S3, SSM and a CredentialSpecs directory, creates a task
execution role with the seed's two inline policies, switches IAM enforcement
on, and walks the seed's three task definitions through check, prepare and
cleanup. Then two broken variants fail the way a user would meet them, but
before any task runs: a role without the permission, and a hostname that breaks
the Windows Server 2016 rule.

Every step uses the same library calls as the commands; the demo only prints.
"""

from __future__ import annotations

import json
import socket
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gmsa.aws import AwsConfig
from gmsa.errors import ExternalError, GmsaError
from gmsa.findings import Finding, Severity

REGION = "us-east-1"
BUCKET = "gmsa-demo-credspecs"
OBJECT_KEY = "ecs/webapp01.json"
PARAMETER = "/gmsa-demo/webapp01"
SPEC_FILE = "webapp01.json"
ROLE = "ecsTaskExecutionRole"
ROLE_WITHOUT_SSM = "ecsTaskExecutionRole-s3only"

SEED_SPEC: dict[str, Any] = {
    "CmsPlugins": ["ActiveDirectory"],
    "DomainJoinConfig": {
        "Sid": "S-1-5-21-2554468230-2647958158-2204241789",
        "MachineAccountName": "WebApp01",
        "Guid": "8665abd4-e947-4dd0-9a51-f8254943c90b",
        "DnsTreeName": "example.com",
        "DnsName": "example.com",
        "NetBiosName": "example",
    },
    "ActiveDirectoryConfig": {
        "GroupManagedServiceAccounts": [{"Name": "WebApp01", "Scope": "example.com"}]
    },
}
"""The seed document's example credential spec, as printed there."""

Echo = Callable[[str], None]


def seed_s3_policy(bucket: str, key: str) -> dict[str, Any]:
    """The seed's inline policy for a spec in S3."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "VisualEditor",
                "Effect": "Allow",
                "Action": ["s3:Get*", "s3:List*"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{key}"],
            }
        ],
    }


def seed_ssm_policy(parameter_arn: str) -> dict[str, Any]:
    """The seed's inline policy for a spec in SSM Parameter Store."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": [parameter_arn]}
        ],
    }


def seed_task_definition(
    family: str, reference: str, execution_role_arn: str, *, hostname: str | None = None
) -> dict[str, Any]:
    """One of the seed's task definitions, with concrete values."""
    container: dict[str, Any] = {
        "name": "webapp",
        "image": "mcr.microsoft.com/dotnet/samples:aspnetapp",
        "memory": 512,
        "essential": True,
        "dockerSecurityOptions": [reference],
    }
    if hostname is not None:
        container["hostname"] = hostname
    return {
        "family": family,
        "executionRoleArn": execution_role_arn,
        "requiresCompatibilities": ["EC2"],
        "networkMode": "default",
        "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2019_CORE"},
        "containerDefinitions": [container],
    }


# ----------------------------------------------------------------- the endpoint


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmbeddedAws:
    """A moto server in this process, bound to 127.0.0.1 only."""

    endpoint: str
    _server: Any = field(repr=False)

    def set_auth(self, free_requests: str) -> None:
        """``inf``: IAM enforcement off; ``0``: every request checked from now on."""
        request = urllib.request.Request(  # noqa: S310 - loopback endpoint we started
            f"{self.endpoint}/moto-api/reset-auth",
            data=free_requests.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()


@contextmanager
def embedded_aws() -> Iterator[EmbeddedAws]:
    """Start moto on a free loopback port; stop it afterwards."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:  # pragma: no cover - depends on the install
        raise ExternalError(
            "the demo needs moto, which is not installed",
            where="gmsa demo",
            fix="install the demo extra: pip install 'gmsa[demo]'",
        ) from None
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise ExternalError(
                    "the embedded AWS endpoint did not start",
                    where=endpoint,
                    fix="check that loopback networking works",
                ) from None
            time.sleep(0.05)
    aws = EmbeddedAws(endpoint=endpoint, _server=server)
    try:
        aws.set_auth("inf")
        yield aws
    finally:
        server.stop()


# ----------------------------------------------------------------- the walk


@dataclass
class DemoOutcome:
    """What the demo saw; it succeeds when every expectation held."""

    expectations: list[tuple[str, bool]] = field(default_factory=list)

    def expect(self, what: str, held: bool) -> None:
        """Record one expectation."""
        self.expectations.append((what, held))

    @property
    def ok(self) -> bool:
        """Whether every expectation held."""
        return all(held for _, held in self.expectations)
