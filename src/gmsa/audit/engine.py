"""The account walk behind ``gmsa audit``: list, describe, keep those using gMSA, check.

The listing (:mod:`gmsa.audit.ecs`) runs in the calling thread and hands each
name to a pool of at most ``concurrency`` threads, which describe the task
definition and, when it uses gMSA, check it with every rule of ``gmsa task
check`` (:func:`~gmsa.taskdef.lint.lint_task_definition`), with:

- every S3/SSM spec it references read and validated
  (:func:`~gmsa.source.resolve.read_spec`) **once per run**, however many task
  definitions share it: the first thread to need a spec reads it, the others
  wait for that read (:class:`~gmsa.singleflight.SingleFlight`), and the result
  (or the failure) is kept for the rest of the run;
- every execution role's inline and attached policies read
  (:func:`~gmsa.iam.role.role_policies`) once per run in the same way, and
  evaluated against exactly the permissions that task definition's references
  need.

Specs are read with the credentials in use (the auditor's), not each task's
execution role: whether the role may read them is what the policy evaluation
says. ``file://`` specs live on the hosts and are reported as such. A spec or a
role that does not exist is a finding (the task would fail); one that cannot be
read (access denied, throttled after every retry) leaves the task definitions
that need it *not checked*, with the reason.

Every client shares one session with a call counter (``before-call`` and
``before-send`` hooks), so the result says how many calls each API took and how
many requests (retries included) were sent. Clients retry with botocore's
*adaptive* mode when the caller asks for it: backoff on throttling plus a
client-side rate that slows down when AWS throttles. The pool's queue is
bounded, so memory stays flat however many task definitions the account has.
Ctrl-C in the calling thread stops the walk: what was checked so far is
returned, marked interrupted.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Generic, TypeVar

from gmsa.audit.ecs import Selection, describe, family_and_revision, names_to_describe
from gmsa.audit.results import (
    AuditedTaskDefinition,
    AuditResult,
    NotRead,
    Outcome,
    Unchecked,
    about_task_definition,
)
from gmsa.aws import AwsConfig
from gmsa.errors import GmsaError
from gmsa.findings import Finding, error, info
from gmsa.iam.policy import PolicyDocument
from gmsa.iam.role import RoleNotFoundError, role_account, role_policies
from gmsa.reference import FileLocation, Location, Reference
from gmsa.singleflight import SingleFlight
from gmsa.source.publish import partition_for_region
from gmsa.source.resolve import ResolvedSpec, read_spec
from gmsa.taskdef.lint import lint_task_definition
from gmsa.taskdef.model import TaskDefinition, parse_task_definition

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

DEFAULT_CONCURRENCY = 8
"""Threads describing and checking task definitions at once, by default."""
MAX_CONCURRENCY = 64
"""The most ``--concurrency`` accepts: more only trips API rate limits sooner."""
MAX_ATTEMPTS = 8
"""Attempts per AWS call (botocore's adaptive retry mode): an audit makes thousands of
calls and would rather wait out throttling than leave task definitions unchecked."""
QUEUED_PER_THREAD = 4
"""Names waiting for a thread, per thread: the listing waits when that many are queued."""
_POLL_SECONDS = 0.2
"""How long the calling thread waits at a time, so Ctrl-C is acted on promptly."""

HOST_SIDE_CODE = "spec-host-side"
"""The info finding about a ``file://`` spec: it is on the hosts, not in the account."""
ROLE_NOT_FOUND_CODE = "execution-role-not-found"
"""The error finding about an execution role that does not exist."""


@dataclass(frozen=True)
class AuditOptions:
    """What to audit and how hard to push."""

    regions: tuple[str, ...]
    """The regions to walk, in order."""
    selection: Selection = field(default_factory=Selection)
    """Which task definitions of each region."""
    concurrency: int = DEFAULT_CONCURRENCY
    """Threads describing and checking at once."""


@dataclass(frozen=True)
class Counts:
    """How far an audit is, for a progress line."""

    listed: int = 0
    """Names the listings gave."""
    read: int = 0
    """Task definitions described."""
    using_gmsa: int = 0
    """Of those, the ones using gMSA."""
    would_fail: int = 0
    """Checked: with errors."""
    passed: int = 0
    """Checked: without errors."""
    not_checked: int = 0
    """Not (fully) checked, or not read."""
    seconds: float = 0.0
    """Since the audit started."""

    @property
    def rate(self) -> float:
        """Task definitions described per second."""
        return self.read / self.seconds if self.seconds > 0 else 0.0


class CallCounter:
    """AWS calls and HTTP requests by API, counted by botocore event hooks on a session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        """API calls by ``service:Operation`` (``before-call``: once per call)."""
        self.requests: Counter[str] = Counter()
        """HTTP requests by ``service:Operation`` (``before-send``: retries included)."""

    def attach(self, events: Any) -> None:
        """Count the calls of every client made from now on from the session whose
        event system ``events`` is (clients copy the session's hooks when made)."""
        events.register("before-call", self._on_call)
        events.register("before-send", self._on_send)

    @staticmethod
    def api(event_name: str) -> str:
        """``before-call.ecs.DescribeTaskDefinition`` -> ``ecs:DescribeTaskDefinition``."""
        _, service, operation = [*event_name.split(".", 2), "", ""][:3]
        return f"{service}:{operation}"

    def _on_call(self, event_name: str, **kwargs: Any) -> None:
        with self._lock:
            self.calls[self.api(event_name)] += 1

    def _on_send(self, event_name: str, **kwargs: Any) -> None:
        with self._lock:
            self.requests[self.api(event_name)] += 1

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        """(calls, requests) so far."""
        with self._lock:
            return dict(self.calls), dict(self.requests)


@dataclass(frozen=True)
class _Read(Generic[V]):
    value: V | None = None
    error: GmsaError | None = None


class _Once(Generic[K, V]):
    """Each key's work runs once per run; its result, or its typed error, is kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[K, _Read[V]] = {}
        self._flights: SingleFlight[K, _Read[V]] = SingleFlight(self._lock)
        self.runs = 0
        """How many times a work really ran."""

    def get(self, key: K, work: Callable[[], V]) -> _Read[V]:
        def run() -> _Read[V]:
            with self._lock:
                self.runs += 1
            try:
                return _Read(value=work())
            except GmsaError as exc:
                return _Read(error=exc)

        def keep(read: _Read[V]) -> None:
            self._kept[key] = read

        return self._flights.run(key, run, kept=lambda: self._kept.get(key), finished=keep)


class Audit:
    """One audit run: :meth:`run` it once; :meth:`counts` may be read meanwhile."""

    def __init__(self, aws: AwsConfig, options: AuditOptions) -> None:
        self.aws = aws
        """How to reach AWS: the auditor's credentials (no role is assumed)."""
        self.options = options
        """What to audit."""
        self.calls = CallCounter()
        """The AWS calls made."""
        self._specs: _Once[Location, ResolvedSpec] = _Once()
        self._roles: _Once[str, tuple[PolicyDocument, ...]] = _Once()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counts = Counts()
        self._started = time.monotonic()
        self._account: str | None = None

    @property
    def spec_reads(self) -> int:
        """Specs read so far (each distinct location once)."""
        return self._specs.runs

    @property
    def role_reads(self) -> int:
        """Execution roles whose policies were read so far (each once)."""
        return self._roles.runs

    def counts(self) -> Counts:
        """How far the audit is (safe from any thread)."""
        with self._lock:
            return replace(self._counts, seconds=time.monotonic() - self._started)

    def _add(self, **deltas: int) -> None:
        with self._lock:
            values = {k: getattr(self._counts, k) + v for k, v in deltas.items()}
            self._counts = replace(self._counts, **values)

    # ------------------------------------------------------------------ the walk

    def run(self) -> AuditResult:
        """Walk every region; return what was found (so far, on Ctrl-C)."""
        self._started = time.monotonic()
        self.calls.attach(self.aws.session().events)
        selection = self.options.selection
        workers = max(1, self.options.concurrency)
        slots = threading.BoundedSemaphore(workers * QUEUED_PER_THREAD)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gmsa-audit")
        pending: set[Future[tuple[int, AuditedTaskDefinition | NotRead | None]]] = set()
        found: list[tuple[int, AuditedTaskDefinition | NotRead | None]] = []
        not_listed: list[NotRead] = []
        interrupted = False
        index = 0

        def harvest(done: set[Future[tuple[int, AuditedTaskDefinition | NotRead | None]]]) -> None:
            for future in done:
                if not future.cancelled():
                    found.append(future.result())

        def release(_: object) -> None:
            slots.release()

        try:
            self._account = self._caller_account()
            for region in self.options.regions:
                try:
                    client = self.aws.client("ecs", region=region)
                    for name in names_to_describe(client, selection):
                        self._add(listed=1)
                        while not slots.acquire(timeout=_POLL_SECONDS):
                            pass
                        future = pool.submit(self._audit_one, index, region, name)
                        future.add_done_callback(release)
                        pending.add(future)
                        index += 1
                        done = {f for f in pending if f.done()}
                        pending -= done
                        harvest(done)
                except GmsaError as exc:
                    not_listed.append(NotRead(region, self._listing(region), Unchecked.of(exc)))
                    self._add(not_checked=1)
            while pending:
                done, pending = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
                harvest(done)
        except KeyboardInterrupt:
            interrupted = True
            self._stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            harvest({f for f in pending if f.done()})
        finally:
            pool.shutdown(wait=not interrupted)
        ordered = [item for _, item in sorted(found, key=lambda pair: pair[0])]
        calls, requests = self.calls.snapshot()
        return AuditResult(
            account=self._account,
            regions=self.options.regions,
            selection=selection,
            listed=self.counts().listed,
            read=self.counts().read,
            audited=tuple(i for i in ordered if isinstance(i, AuditedTaskDefinition)),
            not_read=(*(i for i in ordered if isinstance(i, NotRead)), *not_listed),
            interrupted=interrupted,
            seconds=time.monotonic() - self._started,
            calls=calls,
            attempts=requests,
        )

    def _caller_account(self) -> str | None:
        try:
            return self.aws.caller_account(region=self.options.regions[0])
        except GmsaError:
            return None  # every call will fail the same way, and say why

    def _arn(self, region: str, name: str) -> str:
        if name.startswith("arn:"):
            return name
        partition = partition_for_region(region)
        return f"arn:{partition}:ecs:{region}:{self._account or ''}:task-definition/{name}"

    def _listing(self, region: str) -> str:
        return self._arn(region, f"{self.options.selection.family_prefix or ''}*")

    # ------------------------------------------------------------------ one task definition

    def _audit_one(
        self, index: int, region: str, name: str
    ) -> tuple[int, AuditedTaskDefinition | NotRead | None]:
        if self._stop.is_set():
            return index, None
        try:
            client = self.aws.client("ecs", region=region)
            document = describe(
                client, name, self.options.selection, resource=self._arn(region, name)
            )
        except GmsaError as exc:
            self._add(not_checked=1)
            return index, NotRead(region, self._arn(region, name), Unchecked.of(exc))
        if document is None:
            return index, None
        self._add(read=1)
        arn = str(document.get("taskDefinitionArn") or self._arn(region, name))
        try:
            definition = parse_task_definition(document, source=arn)
        except GmsaError as exc:
            self._add(not_checked=1)
            return index, NotRead(region, arn, Unchecked.of(exc))
        if not definition.credential_spec_uses:
            return index, None
        self._add(using_gmsa=1)
        audited = self._check(region, arn, definition)
        outcome = audited.outcome
        self._add(
            would_fail=int(outcome is Outcome.FAIL),
            passed=int(outcome is Outcome.PASS),
            not_checked=int(outcome is Outcome.NOT_CHECKED),
        )
        return index, audited

    def _check(self, region: str, arn: str, definition: TaskDefinition) -> AuditedTaskDefinition:
        extra: list[Finding] = []
        unchecked: list[Unchecked] = []
        specs: dict[Reference, ResolvedSpec] = {}
        for use in definition.credential_spec_uses:
            ref = use.reference
            if ref is None:
                continue
            if isinstance(ref.location, FileLocation):
                extra.append(_host_side(use.path, ref))
                continue
            if ref in specs:
                continue
            read = self._specs.get(ref.location, partial(read_spec, ref, aws=self.aws))
            if read.error is not None:
                reason = Unchecked.of(read.error)
                if reason not in unchecked:
                    unchecked.append(reason)
            elif read.value is not None:
                specs[ref] = replace(read.value, reference=ref)
        policies: tuple[PolicyDocument, ...] | None = None
        role = definition.execution_role_arn
        if role and any(r.needs_aws for r in definition.references):
            policies = self._policies(role, extra, unchecked)
        report = lint_task_definition(definition, specs=specs, policies=policies)
        family, revision = family_and_revision(arn)
        return AuditedTaskDefinition(
            arn=arn,
            region=region,
            family=definition.family or family,
            revision=revision,
            findings=tuple(
                about_task_definition(f, arn) for f in (*report.findings, *report.notes, *extra)
            ),
            unchecked=tuple(unchecked),
        )

    def _policies(
        self, role: str, extra: list[Finding], unchecked: list[Unchecked]
    ) -> tuple[PolicyDocument, ...] | None:
        """The role's policies, or ``None`` (with the reason added) when they cannot be
        read; a malformed ARN is left to the lint's own rule."""
        try:
            account = role_account(role)
        except GmsaError:
            return None
        if self._account is not None and account != self._account:
            unchecked.append(
                Unchecked(
                    "role-in-another-account",
                    f"the execution role is in account {account}, and IAM reads a role by "
                    f"name in the account of the credentials in use ({self._account})",
                    role,
                    f"audit account {account} with its own credentials (--profile)",
                )
            )
            return None
        read = self._roles.get(role, partial(role_policies, self.aws, role))
        if isinstance(read.error, RoleNotFoundError):
            extra.append(
                error(
                    ROLE_NOT_FOUND_CODE,
                    "executionRoleArn",
                    f"the execution role {role} does not exist: ECS cannot start the task "
                    "with it, and nothing can read the credential spec",
                    "create the role (gmsa iam policy prints what it must allow), or name an "
                    "existing one in executionRoleArn",
                )
            )
            return None
        if read.error is not None:
            unchecked.append(Unchecked.of(read.error))
            return None
        return read.value


def _host_side(path: str, ref: Reference) -> Finding:
    return info(
        HOST_SIDE_CODE,
        path,
        f"{ref.location} is read from each host's CredentialSpecs directory when a task "
        "starts; the account cannot tell whether the hosts have it",
        "check it on a host: gmsa task check TASKDEF --credspec-dir DIR",
    )


__all__ = [
    "DEFAULT_CONCURRENCY",
    "HOST_SIDE_CODE",
    "MAX_ATTEMPTS",
    "MAX_CONCURRENCY",
    "QUEUED_PER_THREAD",
    "ROLE_NOT_FOUND_CODE",
    "Audit",
    "AuditOptions",
    "CallCounter",
    "Counts",
    "K",
    "V",
]
