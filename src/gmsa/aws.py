"""How gmsa reaches AWS: region, endpoint, credentials, and the task execution role.

The ECS agent reads specs with the **task execution role**; :class:`AwsConfig`
does the same by assuming ``role_arn`` with STS, on top of whatever base
credentials boto3 finds (environment, profile, instance role) or those given.

Every AWS failure becomes a typed error through :func:`aws_error`: it names the
IAM action and the resource ARN, and says which policy statement or trust
relationship to fix. Credentials never appear in any message.

Every client gmsa makes is guarded the same way (:class:`_Guard`):

- **One deadline per request.** A request, over all its tries and connections,
  ends within :attr:`AwsConfig.timeout` seconds (``--timeout``): each try waits
  only as long as is left, and no try starts when what is left is used up. The
  error says how long it waited and how many tries it made. The retry decisions
  are botocore's standard ones.
- **An answer that is not from AWS is named as such.** Every AWS answer carries
  a request id (``x-amzn-RequestId``, ``x-amz-request-id``); one without it (an
  HTML page of a proxy, a captive portal, another service behind the URL) or
  whose body is not the JSON or XML its protocol needs is refused before
  botocore reads it, so it never passes for "parameter does not exist" or for a
  spec's text.
- Region and endpoint are checked when the configuration is made
  (:func:`check_region`, :func:`check_endpoint_url`): the CLI turns the same
  checks into usage errors naming the option.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

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
    HTTPClientError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.parsers import ResponseParserError
from botocore.retries.standard import (
    ExponentialBackoff,
    RetryEventAdapter,
    RetryPolicy,
    StandardRetryConditions,
)

from gmsa.errors import (
    AccessDeniedError,
    ExternalError,
    GmsaError,
    InvalidInputError,
    NotFoundError,
)
from gmsa.identifiers import REGION_RE
from gmsa.printable import has_surrogates, printable

AWS_FAILURES: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)
"""What a boto3 call can raise; callers catch these and hand them to :func:`aws_error`."""

ROLE_SESSION_SECONDS = 3600
"""Lifetime asked for the assumed role's credentials; botocore refreshes them before expiry."""

DEFAULT_TIMEOUT = 30.0
"""Seconds one AWS request may take in all, over its tries and connections (``--timeout``)."""

REQUEST_ID_HEADERS = frozenset({"x-amzn-requestid", "x-amz-request-id", "x-amz-id-2"})
"""Headers of which every AWS answer carries one (lower case)."""

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


class AwsOptionError(InvalidInputError):
    """A region or endpoint that cannot be one (exit 1 from the library; the CLI
    reports the same check as a usage error naming the option)."""

    code = "invalid-aws-option"

    def __init__(self, what: str, *, option: str, value: str, fix: str) -> None:
        super().__init__(what, where=f"{option} {printable(value)}", fix=fix)
        self.option = option
        """The option it was given as (``--region``, ``--endpoint-url``)."""


def check_region(region: str) -> str:
    """``region`` if it is an AWS region name (``us-east-1``: the pattern of every
    region, not a list), else :class:`AwsOptionError`."""
    if not REGION_RE.fullmatch(region):
        raise AwsOptionError(
            f"'{printable(region)}' is not an AWS region name",
            option="--region",
            value=region,
            fix="give a region such as us-east-1 or eu-west-3 (letters, dashes, a number)",
        )
    return region


_SCHEMES = ("http", "https")


def check_endpoint_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host botocore can connect to, else
    :class:`AwsOptionError` saying what is wrong and showing a valid form."""

    def refuse(what: str, example: str) -> AwsOptionError:
        return AwsOptionError(
            f"'{printable(url)}' is not an endpoint URL: {what}",
            option="--endpoint-url",
            value=url,
            fix=f"give it as {example}",
        )

    generic = "http://HOST:PORT or https://HOST (e.g. http://localhost:4566)"
    if has_surrogates(url) or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise refuse("it holds spaces, control characters or bytes that are not UTF-8", generic)
    if "://" not in url:
        bare = url.lstrip("/")
        scheme = "http" if bare.startswith(("localhost", "127.", "[::1]")) else "https"
        raise refuse("it has no scheme", f"{scheme}://{bare}" if bare else generic)
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        if "IPv6" in str(exc):
            raise refuse(
                "its IPv6 address is broken", "http://[::1]:4566 for an IPv6 address"
            ) from None
        raise refuse("its port is not a number from 1 to 65535", generic) from None
    if parts.scheme not in _SCHEMES:
        raise refuse(
            f"the scheme is {parts.scheme!r}; AWS endpoints speak http or https",
            f"https://{parts.netloc}" if parts.netloc else generic,
        )
    if not host:
        raise refuse("it names no host", generic)
    if parts.username is not None or parts.password is not None:
        raise refuse("it holds a user name or password", f"{parts.scheme}://{host}")
    if "[" in parts.netloc:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise refuse(
                "its IPv6 address is broken", "http://[::1]:4566 for an IPv6 address"
            ) from None
    else:
        try:
            host.encode("idna")
        except UnicodeError:
            raise refuse("its host is not a host name", generic) from None
    if port == 0:
        raise refuse("port 0 is not a port", generic)
    return url


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
    """Tries per request at most, with botocore's standard backoff between them."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds one request may take in all, over its tries and connections."""
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

    def __post_init__(self) -> None:
        if self.region is not None:
            check_region(self.region)
        if self.endpoint_url is not None:
            check_endpoint_url(self.endpoint_url)
        if not self.timeout > 0:
            raise AwsOptionError(
                "the timeout must be more than 0 seconds",
                option="--timeout",
                value=str(self.timeout),
                fix=f"give a number of seconds, e.g. {DEFAULT_TIMEOUT:g}",
            )

    def botocore_config(self) -> Config:
        """Timeouts shared by every client. Retries are decided by :class:`_Guard`
        within :attr:`timeout`, so botocore's own are off."""
        return Config(
            connect_timeout=min(self.connect_timeout, self.timeout),
            read_timeout=min(self.read_timeout, self.timeout),
            retries={"total_max_attempts": 1, "mode": self.retry_mode},
            max_pool_connections=self.max_pool_connections,
        )

    def base_client(self, service: str, *, region: str | None = None) -> Any:
        """A client of the base credentials (never the assumed role), guarded like
        :meth:`client`; made anew on each call."""
        return _guarded_client(self.base_session(), service, self, region=region)

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
                cached = _guarded_client(self.session(), service, self, region=region)
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
        sts = _guarded_client(base, "sts", self, region=self.region)

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


class NotAwsAnswerError(BotoCoreError):
    """The endpoint answered, but not as AWS does (raised inside botocore, mapped by
    :func:`aws_error`)."""

    fmt = "{endpoint_url} did not answer as AWS: {reason}"


class NoAnswerError(BotoCoreError):
    """No answer came within the deadline, or none on any try (raised inside
    botocore, mapped by :func:`aws_error`)."""

    fmt = "cannot reach {endpoint_url}: {reason}"


def _kind_of_body(headers: Mapping[str, str], body: bytes | None) -> str:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    text = (body or b"").lstrip()[:256].lower()
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text:
        return "an HTML page"
    if body is None and content_type.lower().startswith("text/html"):
        return "an HTML page"
    if body is not None and not text:
        return "an empty body"
    return f"a body of type {content_type}" if content_type else "a body of no stated type"


def not_aws_reason(
    status: int, headers: Mapping[str, str], body: bytes | None, protocol: str
) -> str | None:
    """Why an HTTP answer cannot be AWS's, or ``None`` when it may be: it carries no
    AWS request id, it is an HTML page, or it is a success whose body is not what
    the protocol's answers are (a JSON object, XML). ``body`` is ``None`` when it is
    a stream not read yet (an S3 object). A server error (5xx) is left to the
    retries and to :func:`aws_error`, which name it as one."""
    if status >= 500:
        return None
    kind = _kind_of_body(headers, body)
    if not {name.lower() for name in headers} & REQUEST_ID_HEADERS:
        return f"HTTP {status} with {kind} and no AWS request id"
    text = (body or b"").strip()
    if not text:
        return None
    if kind == "an HTML page":
        return f"HTTP {status} with {kind}"
    if status >= 300:
        return None  # an error in another form than the protocol's: botocore reads its status
    if "json" in protocol:
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            return f"HTTP {status} with {kind} that is not a JSON object"
    elif protocol in ("query", "rest-xml", "ec2") and not text.startswith(b"<"):
        return f"HTTP {status} with {kind} that is not XML"
    return None


_STARTED = "gmsa.started"
_TRIES = "gmsa.tries"
_MIN_TRY = 0.05
"""Seconds a try needs at least to be worth starting."""

_CAUSES: tuple[tuple[type[Exception], str], ...] = (
    (ReadTimeoutError, "the endpoint took the connection but sent no answer in time"),
    (ConnectTimeoutError, "the endpoint did not accept a connection in time"),
    (ConnectionClosedError, "the endpoint closed the connection without an answer"),
    (EndpointConnectionError, "the endpoint could not be connected to"),
)


def _cause(exc: BaseException) -> str:
    said = next((text for kind, text in _CAUSES if isinstance(exc, kind)), None)
    return f"{said} ({type(exc).__name__})" if said else type(exc).__name__


class _Guard:
    """Hooks one client into botocore's events: the request's deadline and tries, and
    the check that an answer comes from AWS (see the module's description)."""

    def __init__(self, endpoint_url: str, config: AwsConfig, attempts: int) -> None:
        self.endpoint_url = endpoint_url
        self.timeout = config.timeout
        self.read_timeout = min(config.read_timeout, config.timeout)
        self.policy = RetryPolicy(
            retry_checker=StandardRetryConditions(max_attempts=attempts),
            retry_backoff=ExponentialBackoff(),
        )
        self.adapter = RetryEventAdapter()

    def register(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        events = client.meta.events
        events.register_first(f"before-send.{service}", self.before_send)
        events.register_first(f"needs-retry.{service}", self.needs_retry)
        events.register_first(f"before-parse.{service}", self.before_parse)

    def _remaining(self, context: dict[str, Any]) -> float:
        started = context.setdefault(_STARTED, time.monotonic())
        return float(started) + self.timeout - time.monotonic()

    def before_send(self, request: Any, **kwargs: Any) -> None:
        """Count the try; let it wait only as long as the request has left."""
        context = request.context
        remaining = self._remaining(context)
        if remaining <= 0:
            raise self._no_answer(context, None)
        context[_TRIES] = int(context.get(_TRIES, 0)) + 1
        context["read_timeout"] = max(min(self.read_timeout, remaining), _MIN_TRY)

    def needs_retry(
        self,
        *,
        attempts: int,
        caught_exception: BaseException | None,
        request_dict: dict[str, Any],
        **kwargs: Any,
    ) -> float | None:
        """Botocore's standard decision, within the deadline; when the last try found
        no answer, :class:`NoAnswerError` says how long and how many tries. ``None``
        leaves the decision to botocore's other handlers (S3's region redirect);
        its standard retries are off, so they retry nothing else."""
        if isinstance(caught_exception, NoAnswerError | NotAwsAnswerError):
            return None
        context = request_dict["context"]
        retry = self.adapter.create_retry_context(
            attempts=attempts,
            caught_exception=caught_exception,
            request_dict=request_dict,
            **kwargs,
        )
        if self.policy.should_retry(retry):
            delay = float(self.policy.compute_retry_delay(retry))
            if self._remaining(context) - delay >= _MIN_TRY:
                return delay
        if isinstance(caught_exception, BotocoreConnectionError | HTTPClientError):
            raise self._no_answer(context, caught_exception)
        return None

    def _no_answer(self, context: dict[str, Any], cause: BaseException | None) -> NoAnswerError:
        tries = int(context.get(_TRIES, 0))
        waited = self.timeout - self._remaining(context)
        counted = f"{tries} {'try' if tries == 1 else 'tries'}"
        last = f"the last: {_cause(cause)}" if cause is not None else ""
        if waited >= self.timeout - _MIN_TRY or cause is None:
            head = f"no answer within {self.timeout:g} s"
            details = [f"waited {waited:.1f} s over {counted}", last]
        else:
            head, details = f"no answer on any of {counted} in {waited:.1f} s", [last]
        said = "; ".join(d for d in details if d)
        reason = f"{head} ({said})" if said else head
        return NoAnswerError(
            endpoint_url=self.endpoint_url,
            reason=reason,
            seconds=round(waited, 1),
            tries=tries,
            timeout=self.timeout,
        )

    def before_parse(
        self, *, operation_model: Any, response_dict: dict[str, Any], **kwargs: Any
    ) -> None:
        """Refuse an answer that cannot be AWS's before botocore reads it as one."""
        body = response_dict.get("body")
        reason = not_aws_reason(
            int(response_dict.get("status_code") or 0),
            response_dict.get("headers") or {},
            body if isinstance(body, bytes) else None,
            str(
                getattr(operation_model.service_model, "resolved_protocol", None)
                or operation_model.metadata.get("protocol", "")
            ),
        )
        if reason is not None:
            raise NotAwsAnswerError(endpoint_url=self.endpoint_url, reason=reason)


def _guarded_client(
    session: boto3.Session,
    service: str,
    config: AwsConfig,
    *,
    region: str | None,
    attempts: int | None = None,
) -> Any:
    """A client of ``session`` for ``service`` with the configuration's endpoint,
    region and timeouts, guarded by :class:`_Guard`."""
    try:
        client = session.client(  # type: ignore[call-overload]
            service,
            endpoint_url=config.endpoint_url,
            region_name=region or config.region,
            config=config.botocore_config(),
        )
    except (BotoCoreError, ValueError) as exc:
        raise aws_error(exc, action=f"{service} client", resource=service) from exc
    endpoint = str(client.meta.endpoint_url)
    _Guard(endpoint, config, attempts or config.max_attempts).register(client)
    return client


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
        sts = _guarded_client(base, "sts", config, region=config.region, attempts=1)
        return str(sts.get_caller_identity()["Arn"])
    except AWS_FAILURES:
        return None
    except (KeyError, GmsaError):
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
    if isinstance(exc, NoAnswerError):
        return AwsConnectionError(
            f"cannot reach {exc.kwargs['endpoint_url']}: {exc.kwargs['reason']}",
            where=where,
            fix="check the network, proxy and firewall, the region, and --endpoint-url "
            "(or AWS_ENDPOINT_URL); give --timeout SECONDS to wait longer",
        )
    if isinstance(exc, NotAwsAnswerError):
        return AwsError(
            f"the endpoint {exc.kwargs['endpoint_url']} did not answer as AWS "
            f"({exc.kwargs['reason']}): this is not an AWS response; often a proxy's page, "
            "or another service behind the URL",
            where=where,
            fix="check --endpoint-url (or AWS_ENDPOINT_URL) and any proxy in between "
            "(HTTPS_PROXY, NO_PROXY)",
        )
    if isinstance(exc, InvalidRegionError):
        return AwsError(
            f"the region is not a region name ({exc.kwargs.get('region_name')!r})",
            where=where,
            fix="check AWS_REGION, AWS_DEFAULT_REGION and the region of the profile",
        )
    if isinstance(exc, ValueError):
        return AwsError(
            f"botocore refused the endpoint or region: {exc}",
            where=where,
            fix="check --endpoint-url (or AWS_ENDPOINT_URL) and the region of the profile",
        )
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
                "(gmsa iam policy REFERENCE prints the whole policy); where gmsa assumes "
                "the task execution role, that role is the identity in use"
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
    "DEFAULT_TIMEOUT",
    "REQUEST_ID_HEADERS",
    "ROLE_SESSION_SECONDS",
    "AssumeRoleError",
    "AwsAccessDeniedError",
    "AwsConfig",
    "AwsConnectionError",
    "AwsCredentialsError",
    "AwsError",
    "AwsNotFoundError",
    "AwsOptionError",
    "NoAnswerError",
    "NotAwsAnswerError",
    "aws_error",
    "check_endpoint_url",
    "check_region",
    "code_and_status",
    "get_secret_string",
    "not_aws_reason",
]
