"""How gmsa reaches AWS: region, endpoint, credentials, and the task execution role.

The ECS agent reads specs with the **task execution role**; :class:`AwsConfig`
does the same by assuming ``role_arn`` with STS, on top of whatever base
credentials boto3 finds (environment, profile, instance role) or those given.

Every AWS failure becomes a typed error through :func:`aws_error`: it names the
IAM action and the resource ARN, and says which policy statement or trust
relationship to fix. Credentials never appear in any message.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    Credentials,
    RefreshableCredentials,
)
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from gmsa.errors import AccessDeniedError, ExternalError, GmsaError, NotFoundError

AWS_FAILURES: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)
"""What a boto3 call can raise; callers catch these and hand them to :func:`aws_error`."""

ROLE_SESSION_SECONDS = 3600
"""Lifetime asked for the assumed role's credentials; botocore refreshes them before expiry."""

_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AllAccessDisabled",
        "Forbidden",
        "UnauthorizedOperation",
        "AuthorizationError",
        "403",
    }
)
_BAD_CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "TokenRefreshRequired",
        "InvalidToken",
    }
)
_NOT_FOUND_CODES = frozenset(
    {"NoSuchKey", "NoSuchBucket", "ParameterNotFound", "NotFound", "404", "NoSuchEntity"}
)
_THROTTLE_CODES = frozenset(
    {"Throttling", "ThrottlingException", "SlowDown", "TooManyRequestsException"}
)


class AwsError(ExternalError):
    """An AWS call failed or was refused (exit code 3). More precise kinds subclass it."""

    code = "aws-failure"


class AwsAccessDeniedError(AccessDeniedError, AwsError):
    """IAM refused a call: the identity in use lacks the action on the resource."""

    code = "access-denied"


class AwsNotFoundError(NotFoundError, AwsError):
    """The bucket, object or parameter does not exist."""

    code = "spec-not-found"


class AwsConnectionError(AwsError):
    """The endpoint could not be reached, or did not answer in time."""

    code = "aws-unreachable"


class AwsCredentialsError(AwsError):
    """No usable base credentials: none found, a missing profile, or keys AWS refuses."""

    code = "aws-credentials"


class AssumeRoleError(AwsAccessDeniedError):
    """STS refused to let the caller assume the task execution role."""

    code = "assume-role-denied"


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
    """Attempts per call, with botocore's backoff between them."""
    retry_mode: Literal["standard", "adaptive"] = "standard"
    """botocore's retry mode: ``standard`` (backoff on throttling and transient errors) or
    ``adaptive`` (the same, plus a client-side rate limit that slows down when AWS
    throttles: for commands that make many calls, such as ``gmsa audit``)."""
    max_pool_connections: int = 32
    """Connections each client keeps open: at least the threads that share it."""
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)
    _lock: threading.RLock = field(
        default_factory=threading.RLock, compare=False, repr=False, hash=False
    )

    def botocore_config(self) -> Config:
        """Timeouts and retries shared by every client."""
        return Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"max_attempts": self.max_attempts, "mode": self.retry_mode},
            max_pool_connections=self.max_pool_connections,
        )

    def base_session(self) -> boto3.Session:
        """The session of the base credentials (before any role is assumed)."""
        try:
            return boto3.Session(
                profile_name=self.profile,
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key,
                aws_session_token=self.session_token,
                region_name=self.region,
            )
        except BotoCoreError as exc:
            raise aws_error(exc, action="load credentials", resource="base session") from exc

    def session(self) -> boto3.Session:
        """The session clients are made from: the base one, or the assumed role's.

        With :attr:`role_arn` the role is assumed at once (so a refusal surfaces
        here, naming the role) and its credentials refresh themselves before they
        expire. Made once per configuration; safe to call from many threads.
        """
        with self._lock:
            cached = self._cache.get("session")
            if cached is None:
                cached = self._make_session()
                self._cache["session"] = cached
            assert isinstance(cached, boto3.Session)
            return cached

    def client(self, service: str, *, region: str | None = None) -> Any:
        """A client for ``service`` with the endpoint, region, timeouts and retries.

        ``region`` overrides :attr:`region` (an SSM parameter lives in the region
        its ARN names). Clients are made once per service and region and shared.
        """
        key = f"client:{service}:{region or ''}"
        with self._lock:
            cached = self._cache.get(key)
            if cached is None:
                session = self.session()
                try:
                    cached = session.client(  # type: ignore[call-overload]
                        service,
                        endpoint_url=self.endpoint_url,
                        region_name=region or self.region,
                        config=self.botocore_config(),
                    )
                except BotoCoreError as exc:
                    raise aws_error(exc, action=f"{service} client", resource=service) from exc
                self._cache[key] = cached
            return cached

    def caller_account(self, *, region: str | None = None) -> str:
        """The 12-digit account of the identity the clients act as (the assumed role's
        when :attr:`role_arn` is set): STS ``GetCallerIdentity``, asked once per
        configuration. ``region`` picks the STS endpoint for the first call only."""
        with self._lock:
            cached = self._cache.get("caller_account")
            if cached is None:
                try:
                    answer = self.client("sts", region=region).get_caller_identity()
                    cached = str(answer["Account"])
                except AWS_FAILURES as exc:
                    raise aws_error(exc, action="sts:GetCallerIdentity", resource="*") from exc
                self._cache["caller_account"] = cached
            assert isinstance(cached, str)
            return cached

    def _make_session(self) -> boto3.Session:
        base = self.base_session()
        if not self.role_arn:
            return base
        role_arn = self.role_arn
        sts = base.client(
            "sts",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            config=self.botocore_config(),
        )

        def assume() -> dict[str, str]:
            try:
                answer = sts.assume_role(
                    RoleArn=role_arn,
                    RoleSessionName=self.role_session_name,
                    DurationSeconds=ROLE_SESSION_SECONDS,
                )
            except AWS_FAILURES as exc:
                raise _assume_role_error(exc, role_arn, base, self) from exc
            creds = answer["Credentials"]
            expiry = creds["Expiration"]
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": expiry.isoformat() if isinstance(expiry, datetime) else str(expiry),
            }

        credentials = RefreshableCredentials.create_from_metadata(
            metadata=assume(), refresh_using=assume, method="assume-role"
        )
        core = botocore.session.get_session()
        core.register_component(
            "credential_provider", CredentialResolver(providers=[_AssumedRoleProvider(credentials)])
        )
        return boto3.Session(botocore_session=core, region_name=self.region or base.region_name)


class _AssumedRoleProvider(CredentialProvider):
    """Hands botocore the assumed role's (self-refreshing) credentials."""

    METHOD = "assume-role"
    CANONICAL_NAME = "gmsa-assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


def _caller_arn(base: boto3.Session, config: AwsConfig) -> str | None:
    """Who the base credentials are, to name in a trust-policy fix (best effort)."""
    try:
        sts = base.client(
            "sts",
            endpoint_url=config.endpoint_url,
            region_name=config.region,
            config=Config(
                connect_timeout=config.connect_timeout,
                read_timeout=config.read_timeout,
                retries={"max_attempts": 1},
            ),
        )
        return str(sts.get_caller_identity()["Arn"])
    except AWS_FAILURES:
        return None
    except KeyError:
        return None


def _assume_role_error(
    exc: BaseException, role_arn: str, base: boto3.Session, config: AwsConfig
) -> ExternalError:
    if isinstance(exc, ClientError):
        code, status = code_and_status(exc)
        if code in _DENIED_CODES or status == 403:
            caller = _caller_arn(base, config)
            who = caller or "the caller (see: aws sts get-caller-identity)"
            return AssumeRoleError(
                f"STS refused to let the caller assume the role ({code})",
                where=f"sts:AssumeRole on {role_arn}",
                fix=(
                    f"the role's trust policy must allow {who} as Principal with "
                    f'"Action": "sts:AssumeRole", and the caller\'s own policies must allow '
                    f"sts:AssumeRole on {role_arn}"
                ),
            )
        if code in {"NoSuchEntity", "ValidationError"} or status == 404:
            return AwsError(
                f"the role cannot be assumed: {code}",
                where=f"sts:AssumeRole on {role_arn}",
                fix="check the role ARN (arn:aws:iam::ACCOUNT:role/NAME) and that the role exists",
            )
    return aws_error(exc, action="sts:AssumeRole", resource=role_arn)


def code_and_status(exc: ClientError) -> tuple[str, int | None]:
    """The error code AWS gave (``""`` when none) and the HTTP status of the answer."""
    response: Any = exc.response
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    meta = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
    code = str(error.get("Code", "") or "")
    status = meta.get("HTTPStatusCode")
    return code, status if isinstance(status, int) else None


def aws_error(exc: BaseException, *, action: str, resource: str) -> ExternalError:
    """Turn a boto3/botocore failure into a typed gmsa error.

    ``action`` is the IAM action the call needs (``s3:GetObject``) and
    ``resource`` the ARN it was made on; both appear in the message, and an
    access refusal says which statement to add. A gmsa error passes through
    unchanged (a role refusal raised while refreshing credentials).
    """
    where = f"{action} on {resource}"
    if isinstance(exc, ExternalError):
        return exc
    if isinstance(exc, GmsaError):
        return AwsError(exc.what, where=exc.where or where, fix=exc.fix)
    if isinstance(exc, ClientError):
        return _client_error(exc, action=action, resource=resource, where=where)
    if isinstance(
        exc,
        EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError,
    ):
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url") or "the AWS endpoint"
        return AwsConnectionError(
            f"cannot reach {endpoint} ({type(exc).__name__})",
            where=where,
            fix="check the network, proxy and firewall, the region, and --endpoint-url "
            "(or AWS_ENDPOINT_URL)",
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return AwsCredentialsError(
            "no usable AWS credentials were found",
            where=where,
            fix="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or --profile, or run where an "
            "instance or task role is available",
        )
    if isinstance(exc, ProfileNotFound):
        return AwsCredentialsError(
            "the AWS profile does not exist",
            where=where,
            fix="check --profile / AWS_PROFILE against ~/.aws/config",
        )
    if isinstance(exc, NoRegionError):
        return AwsError(
            "no AWS region is set",
            where=where,
            fix="give --region or set AWS_REGION",
        )
    if isinstance(exc, ResponseParserError):
        return AwsError(
            "the endpoint answered with something that is not an AWS response "
            "(often an HTML page from a proxy, or another service behind the URL)",
            where=where,
            fix="check --endpoint-url (or AWS_ENDPOINT_URL) and any proxy in between; "
            "run with -v to see the answer",
        )
    return AwsError(
        f"the AWS call failed: {type(exc).__name__}",
        where=where,
        fix="retry; run with -v to see the cause",
    )


def _client_error(exc: ClientError, *, action: str, resource: str, where: str) -> ExternalError:
    code, status = code_and_status(exc)
    # Before the 403 fallback: S3 answers an unknown key with InvalidAccessKeyId and 403.
    if code in _BAD_CREDENTIAL_CODES:
        return AwsCredentialsError(
            f"AWS refused the credentials ({code})",
            where=where,
            fix="check the access key, profile or session token (they may have expired)",
        )
    if code in _DENIED_CODES or status == 403:
        return AwsAccessDeniedError(
            f"AWS refused {action} ({code or status})",
            where=where,
            fix=(
                f'allow it in a policy of the identity in use: {{"Effect": "Allow", '
                f'"Action": "{action}", "Resource": "{resource}"}} '
                "(gmsa iam policy REFERENCE prints the whole policy); with --role-arn, "
                "that is the task execution role"
            ),
        )
    if code in _NOT_FOUND_CODES or status == 404:
        return AwsNotFoundError(
            f"{resource} does not exist ({code or status})",
            where=where,
            fix="publish the spec there (gmsa spec publish FILE TARGET), or correct the "
            "reference (bucket, key, parameter name, region)",
        )
    if code in _THROTTLE_CODES:
        return AwsError(
            f"AWS throttled {action} after every retry ({code})",
            where=where,
            fix="retry later, or raise the attempts; many callers should share one cache",
        )
    if status is not None and status >= 500:
        return AwsError(
            f"the endpoint failed {action} with HTTP {status} after every retry "
            "(a server or proxy error, not a refusal)",
            where=where,
            fix="retry later; if it persists, check --endpoint-url (or AWS_ENDPOINT_URL) "
            "and any proxy in between",
        )
    return AwsError(
        f"AWS refused {action} ({code or status})",
        where=where,
        fix="run with -v to see the cause",
    )


def get_secret_string(config: AwsConfig, arn: str, *, region: str | None) -> str | None:
    """The ``SecretString`` of the Secrets Manager secret ``arn`` (or name); ``None`` for a
    binary one.

    ``region`` is the secret's (from its ARN); None: the configuration's. A failure
    becomes a typed error naming ``secretsmanager:GetSecretValue`` and the secret.
    """
    try:
        client = config.client("secretsmanager", region=region)
        answer = client.get_secret_value(SecretId=arn)
    except AWS_FAILURES as exc:
        raise aws_error(exc, action="secretsmanager:GetSecretValue", resource=arn) from None
    text = answer.get("SecretString") if isinstance(answer, dict) else None
    return text if isinstance(text, str) else None


__all__ = [
    "AWS_FAILURES",
    "ROLE_SESSION_SECONDS",
    "AssumeRoleError",
    "AwsAccessDeniedError",
    "AwsConfig",
    "AwsConnectionError",
    "AwsCredentialsError",
    "AwsError",
    "AwsNotFoundError",
    "aws_error",
    "code_and_status",
    "get_secret_string",
]
