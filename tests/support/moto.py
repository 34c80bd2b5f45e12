"""A moto server on loopback: the AWS endpoint of the tests.

Started once per test process as a separate process, exactly as a user would run
it, and reset between tests. IAM enforcement is switched on per test through
moto's ``/moto-api/reset-auth``: the admin user and its key are made while
enforcement is off, then every request is checked against IAM policies.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """One moto server process bound to 127.0.0.1."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gmsa.localaws", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("moto server did not start")

    def post(self, path: str, body: str = "") -> None:
        request = urllib.request.Request(
            self.endpoint + path,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def reset(self) -> None:
        """Forget every resource and switch IAM enforcement off."""
        self.post("/moto-api/reset-auth", "inf")
        self.post("/moto-api/reset")

    def enforce_iam(self) -> None:
        """From the next request on, every request is checked against IAM."""
        self.post("/moto-api/reset-auth", "0")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class AwsLab:
    """The endpoint plus helpers to make resources, with IAM enforcement off."""

    server: MotoServer
    access_key: str = "testing"
    secret_key: str = "testing"

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def region(self) -> str:
        return REGION

    @property
    def account(self) -> str:
        return ACCOUNT

    def session(self) -> boto3.Session:
        return boto3.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
        )

    def client(self, service: str) -> Any:
        return self.session().client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def put_object(self, bucket: str, key: str, body: bytes | str) -> str:
        s3 = self.client("s3")
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        return f"arn:aws:s3:::{bucket}/{key}"

    def put_parameter(self, name: str, value: str, *, secure: bool = False) -> str:
        self.client("ssm").put_parameter(
            Name=name, Value=value, Type="SecureString" if secure else "String", Overwrite=True
        )
        return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"

    def put_secret(self, name: str, value: dict[str, str]) -> str:
        response = self.client("secretsmanager").create_secret(
            Name=name, SecretString=json.dumps(value)
        )
        return str(response["ARN"])


ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass
class IamLab:
    """An endpoint that enforces IAM, with an admin user able to do everything."""

    aws: AwsLab
    admin_arn: str
    admin: AwsLab
    roles: list[str] = field(default_factory=list)

    def make_role(
        self,
        name: str,
        inline_policies: dict[str, dict[str, Any]],
        managed: dict[str, dict[str, Any]] | None = None,
    ) -> str:
        """A role the admin may assume, with the given inline and managed policies."""
        iam = self.admin.client("iam")
        # One statement naming both principals: moto's trust check crashes (HTTP 500)
        # on a statement whose Principal has no "AWS" entry.
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": self.admin_arn,
                        "Service": "ecs-tasks.amazonaws.com",
                    },
                    "Action": "sts:AssumeRole",
                },
            ],
        }
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
        for policy_name, document in inline_policies.items():
            iam.put_role_policy(
                RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )
        for policy_name, document in (managed or {}).items():
            policy_arn = iam.create_policy(
                PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )["Policy"]["Arn"]
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        self.roles.append(arn)
        return str(arn)


def enforce_with_admin(aws: AwsLab) -> IamLab:
    """Create an admin user and key (enforcement off), then switch enforcement on."""
    iam = aws.client("iam")
    iam.create_user(UserName="admin")
    iam.put_user_policy(
        UserName="admin", PolicyName="admin", PolicyDocument=json.dumps(ADMIN_POLICY)
    )
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    admin_arn = f"arn:aws:iam::{ACCOUNT}:user/admin"
    admin = AwsLab(aws.server, key["AccessKeyId"], key["SecretAccessKey"])
    aws.server.enforce_iam()
    return IamLab(aws=aws, admin_arn=admin_arn, admin=admin)
