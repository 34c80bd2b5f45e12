"""How gmsa reaches AWS: region, endpoint, credentials, and the task execution role.

The ECS agent reads specs with the **task execution role**; :class:`AwsConfig`
does the same by assuming ``role_arn`` with STS, on top of whatever base
credentials boto3 finds (environment, profile, instance role) or those given.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config


@dataclass(frozen=True)
class AwsConfig:
    """Everything needed to make AWS clients, immutable and shareable between threads."""

    region: str | None = None
    """Region for SSM, STS and IAM calls; boto3's default chain when None."""
    endpoint_url: str | None = None
    """Endpoint override for every service (a local endpoint, a VPC endpoint)."""
    profile: str | None = None
    """Named profile for the base credentials."""
    access_key_id: str | None = None
    """Explicit base credentials (rarely needed; prefer profiles or the environment)."""
    secret_access_key: str | None = field(default=None, repr=False)
    """Explicit base credentials' secret. Never printed."""
    session_token: str | None = field(default=None, repr=False)
    """Explicit session token. Never printed."""
    role_arn: str | None = None
    """Role to assume with STS before reading specs: the task execution role."""
    role_session_name: str = "gmsa"
    """Session name recorded in CloudTrail for the assumed role."""
    connect_timeout: float = 5.0
    """Seconds to wait for a connection."""
    read_timeout: float = 15.0
    """Seconds to wait for a response."""
    max_attempts: int = 5
    """Attempts per call, with botocore's adaptive backoff between them."""
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, compare=False, repr=False, hash=False
    )

    def botocore_config(self) -> Config:
        """Timeouts and retries shared by every client."""
        return Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"max_attempts": self.max_attempts, "mode": "standard"},
            max_pool_connections=32,
        )

    def base_session(self) -> boto3.Session:
        """The session of the base credentials (before any role is assumed)."""
        return boto3.Session(
            profile_name=self.profile,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=self.region,
        )
