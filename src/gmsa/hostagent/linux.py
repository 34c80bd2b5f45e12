"""The Linux host agent: a Kerberos lease per task and a read-only ticket mount per container.

This is what the ECS agent does on Linux with the credentials-fetcher daemon
(``docs/background.md#the-ecs-agent-on-linux``,
``docs/background.md#credentials-fetchers-grpc-api``), with its gaps closed:

- every spec of the task is fetched and validated, and a domainless task's user
  secret read, *before* the ticket service is asked for anything;
- the task gets one lease holding every gMSA its containers use (one
  AddKerberosLease or AddNonDomainJoinedKerberosLease call), and each
  container the mount of its own gMSA's directory;
- containers get ``KRB5CCNAME`` pointing at the mounted cache, which the ECS
  agent never sets;
- a container that runs as a numeric ``user`` gets caches owned by that uid and
  gid, so a non-root process can read its ticket;
- a small ledger (:mod:`gmsa.hostagent.ledger`, in
  ``<krb dir>/.gmsa/tasks/task_<id>.json``, written atomically and never
  through a symbolic link) records the lease and the task definition, so
  cleanup deletes exactly that lease, even after a restart, and a task id
  prepared from another task definition is refused;
- prepare and cleanup of one task id are serialised across processes by a lock
  next to the ledger;
- if anything fails after the lease was made, the lease is deleted again;
- a domainless task's lease is kept alive as the ECS agent does it: when the
  task's execution-role credentials are refreshed, or after the ticket service
  restarted (it keeps user passwords in memory only), :meth:`LinuxHostAgent.renew`
  reads the user secret again and calls RenewNonDomainJoinedKerberosLease, so a
  rotated password or a new user in the secret is used from then on.

The domainless user's password is read from Secrets Manager with the task
execution role and handed to the ticket service; it lives only in memory, in
no result, log line or error message.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gmsa.aws import AWS_FAILURES, AwsConfig
from gmsa.credspec.model import CredentialSpec
from gmsa.credspec.render import render
from gmsa.credspec.validate import CredentialSpecError, check_bytes
from gmsa.domainless import DomainlessUser, UserSecretError
from gmsa.domainless import read_domainless_user as read_secret_user
from gmsa.errors import ExitCode, GmsaError
from gmsa.findings import Finding, warning, warning_about
from gmsa.fsutil import DirHandle
from gmsa.hostagent.interface import (
    CleanupResult,
    HostAgent,
    HostAgentError,
    Mount,
    PreparedContainer,
    PreparedTask,
    Renewal,
    TaskInputError,
    TaskKeeper,
    check_task_id,
)
from gmsa.hostagent.ledger import (
    LEDGER_DIR,
    LeaseLedger,
    check_same_definition,
    ledger_path,
    locked_task,
    read_lease,
    read_lease_ledger,
    remove_ledger,
    task_definition_identity,
    write_lease_ledger,
)
from gmsa.hostagent.plan import ReferencePlan, no_reference_warning, plan_references
from gmsa.reference import Mode, parse_secret_arn
from gmsa.source.fetcher import SpecFetcher
from gmsa.source.interface import SourceNotConfiguredError
from gmsa.taskdef.model import ContainerDefinition, TaskDefinition
from gmsa.tickets.client import LeaseReply, TicketClient
from gmsa.tickets.errors import (
    LeaseNotFoundError,
    RemoteError,
    ServiceTimeoutError,
    ServiceUnreachableError,
    SocketError,
)
from gmsa.tickets.layout import CONTAINER_KRB_DIR, KRB5CCNAME
from gmsa.tickets.leases import new_lease_id

_NUMERIC_USER_RE = re.compile(r"^(?P<uid>\d{1,10})(?::(?P<gid>\d{1,10}))?$")


KEEP_ALIVE_SECONDS = 10.0
"""How often a running domainless task's credentials and ticket service are checked."""
KEEP_ALIVE_BACKOFF_MAX = 600.0
"""Longest wait after failed renewals: each failure doubles the wait, so a wrong password
in the secret is not sent to the domain every 10 seconds (and cannot lock the user out)."""


class LeaseKeeper(TaskKeeper):
    """Keeps a running domainless task's lease alive, as the ECS agent does.

    Every :attr:`LinuxHostAgent.keep_alive_seconds` it looks at two things and, when
    either changed, renews the lease (:meth:`LinuxHostAgent.renew`: the user secret read
    again with the current credentials, then RenewNonDomainJoinedKerberosLease):

    - the task execution role's credentials: when they were refreshed, the secret is
      read with the new ones (the ECS agent renews when it gets new credentials);
    - the ticket service: when it holds the lease but not its user's password, it
      restarted (it keeps passwords in memory only) and renews nothing until told.

    A failed renewal is recorded and tried again later, the wait doubling with each
    failure up to :data:`KEEP_ALIVE_BACKOFF_MAX` (a wrong password must not lock the user
    out); the tickets in place stay valid until they end. Nothing here raises.
    """

    def __init__(
        self,
        agent: LinuxHostAgent,
        task_def: TaskDefinition,
        task_id: str,
        lease_id: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.agent = agent
        self.task_def = task_def
        self.task_id = task_id
        self.lease_id = lease_id
        self.renewals = []
        self._clock = clock
        self._credentials = agent.credentials_fingerprint()
        self._next = clock() + agent.keep_alive_seconds
        self._lost = False
        self._failures = 0

    def poll(self) -> Renewal | None:
        """Check if the check is due; renew if the credentials or the service changed."""
        now = self._clock()
        if now < self._next or self._lost:
            return None
        self._next = now + self.agent.keep_alive_seconds
        credentials = self.agent.credentials_fingerprint()
        refreshed = credentials is not None and credentials != self._credentials
        if refreshed:
            reason = "credentials-refreshed"
        else:
            try:
                awaiting = self.agent.lease_awaits_credentials(self.lease_id)
            except GmsaError as exc:
                self._lost = True  # nothing to renew any more; said once
                return self._record("lease-missing", exc)
            if not awaiting:
                return None
            reason = "ticket-service-restarted"
        try:
            renewed = self.agent.renew(self.task_def, self.task_id)
        except GmsaError as exc:
            return self._record(reason, exc)
        if refreshed:
            self._credentials = credentials
        self._failures = 0
        renewal = Renewal(reason, True, renewed.renewed)
        self.renewals.append(renewal)
        return renewal

    def _record(self, reason: str, exc: GmsaError) -> Renewal:
        self._failures += 1
        wait = self.agent.keep_alive_seconds * 2**self._failures
        self._next = self._clock() + min(wait, KEEP_ALIVE_BACKOFF_MAX)
        renewal = Renewal(reason, False, error=str(exc))
        self.renewals.append(renewal)
        return renewal


class DomainlessSecretError(HostAgentError):
    """The domainless user secret is missing, unreadable or not the expected document."""

    code = "invalid-domainless-secret"
    exit_code = ExitCode.INVALID


class LeaseNotMadeError(HostAgentError):
    """The ticket service did not make the task's lease (the code is the service's)."""

    maybe_made = True
    """Whether the lease may have been made all the same (the service may have done it
    without the answer arriving); ``False`` only when the service was never reached."""


@dataclass(frozen=True)
class RenewedTask:
    """What :meth:`LinuxHostAgent.renew` did for one task."""

    task_id: str
    """The task."""
    lease_id: str | None
    """The task's lease; None when the task was never prepared here."""
    user: str | None
    """``user@domain`` of the domainless user renewed with; None when there was nothing to
    renew (a domain-joined lease is renewed by the ticket service itself)."""
    renewed: tuple[str, ...] = ()
    """The task's ticket directories that got a fresh ticket."""

    def to_dict(self) -> dict[str, Any]:
        """JSON view (never the password)."""
        return {
            "task_id": self.task_id,
            "lease_id": self.lease_id,
            "user": self.user,
            "renewed": list(self.renewed),
        }


@dataclass
class _Plan(ReferencePlan):
    """One distinct reference of the task and the spec it names."""

    spec: CredentialSpec | None = None
    content: str = ""


class LinuxHostAgent(HostAgent):
    """Prepares tasks through a ticket service (credentials-fetcher API) on a unix socket.

    ``fetcher`` reads S3, SSM and ``file://`` specs (with the task execution role);
    ``aws`` (the same role, by default the fetcher's settings) reads a domainless
    task's user secret from Secrets Manager. ``state_dir`` holds the task ledgers;
    by default the krb directory itself, where the ticket service ignores them.
    """

    def __init__(
        self,
        krb_dir: Path,
        socket: Path,
        fetcher: SpecFetcher,
        aws: AwsConfig | None = None,
        *,
        state_dir: Path | None = None,
        timeout: float = 60.0,
        keep_alive_seconds: float = KEEP_ALIVE_SECONDS,
    ) -> None:
        self.krb_dir = Path(krb_dir)
        self.socket = Path(socket)
        self.fetcher = fetcher
        self.aws = aws if aws is not None else fetcher.aws
        self.state_dir = Path(state_dir) if state_dir is not None else self.krb_dir
        self.timeout = timeout
        self.keep_alive_seconds = keep_alive_seconds
        """How often a running domainless task's keeper checks its credentials and the
        ticket service (:meth:`keeper`)."""
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ prepare

    def prepare(
        self, task_def: TaskDefinition, task_id: str, task_arn: str | None = None
    ) -> PreparedTask:
        """Fetch and validate every spec, then make one lease for the task; all or nothing."""
        check_task_id(task_id)
        warnings: list[Finding] = []
        plans, per_container = plan_references(task_def, _Plan)
        if not per_container:
            warnings.append(no_reference_warning(task_def))
            return PreparedTask(task_id=task_id, containers=(), warnings=tuple(warnings))
        modes = {p.reference.mode for p in plans.values()}
        if len(modes) > 1:
            raise TaskInputError(
                "the task mixes credentialspec: and credentialspecdomainless: references; "
                "a task's lease is either domain-joined or domainless",
                where=task_def.source,
                fix="use one prefix for every container: credentialspecdomainless: on a host "
                "outside the domain, credentialspec: on a joined host",
            )
        owner = _owner_for(task_def, [name for name, _ in per_container], warnings)
        for plan in plans.values():
            self._load(plan, warnings)
        user: DomainlessUser | None = None
        if Mode.DOMAINLESS in modes:
            user = self._domainless_user(list(plans.values()))
        ordered = list(plans.values())
        identity = task_definition_identity(task_def)
        with self._locked(task_id) as state:
            assert state is not None
            reply, left = self._lease_for(state, task_id, task_arn, identity, ordered, user, owner)
        directories = _directories(reply, ordered)
        for stale in left:
            warnings.append(
                warning_about(
                    "stale-lease-left",
                    str(self.krb_dir / stale),
                    f"the lease {stale} of an earlier prepare of this task could not be deleted",
                    f"delete it once no container uses it: gmsa tickets delete {stale} (or "
                    f"gmsa task cleanup --task-id {task_id} once the task has stopped)",
                )
            )
        containers = []
        for name, plan in per_container:
            assert plan.spec is not None
            directory = directories[plan.spec.account_name.lower()]
            containers.append(
                PreparedContainer(
                    name=name,
                    reference=plan.raw,
                    mounts=(Mount(source=str(directory), target=CONTAINER_KRB_DIR),),
                    environment={"KRB5CCNAME": KRB5CCNAME},
                    gmsa=plan.spec.account_name,
                )
            )
        return PreparedTask(
            task_id=task_id,
            containers=tuple(containers),
            warnings=tuple(warnings),
            lease_id=reply.lease_id,
        )

    def _lease_for(
        self,
        state: DirHandle,
        task_id: str,
        task_arn: str | None,
        identity: str,
        plans: list[_Plan],
        user: DomainlessUser | None,
        owner: tuple[int, int] | None,
    ) -> tuple[LeaseReply, list[str]]:
        """Make the task's lease, recorded before it is asked for; delete the leases it
        replaces. Returns the lease and the replaced leases that could not be deleted.

        The ledger names the new lease (an id gmsa chooses) before the ticket service
        is asked, so a process killed at any point leaves a ledger that names every
        lease the service may hold for the task.
        """
        recorded = read_lease_ledger(state, task_id)
        if recorded is not None:
            check_same_definition(
                recorded.task_definition, identity, task_id, self.ledger_path(task_id)
            )
        requested = new_lease_id()
        references = tuple((str(p.reference), tuple(p.containers)) for p in plans)
        intent = LeaseLedger(
            task_id=task_id,
            task_arn=task_arn,
            lease_id=recorded.lease_id if recorded is not None else None,
            references=recorded.references if recorded is not None else references,
            task_definition=identity,
            pending=(*(recorded.pending if recorded is not None else ()), requested),
        )
        write_lease_ledger(state, intent)
        try:
            reply = self._add_lease(plans, user, requested)
        except HostAgentError as exc:
            self._undo_intent(state, recorded, intent, requested, exc)
            raise
        made = reply.lease_id
        try:
            if made != requested:  # a service that picks its own ids: record it at once
                intent = replace(intent, pending=(*intent.pending, made))
                write_lease_ledger(state, intent)
            _directories(reply, plans)
            if owner is not None:
                with self._client() as client:
                    client.set_owner(made, owner[0], owner[1])
            replaced = tuple(lease for lease in intent.leases() if lease not in (made, requested))
            final = LeaseLedger(
                task_id=task_id,
                task_arn=task_arn,
                lease_id=made,
                references=references,
                task_definition=identity,
                pending=replaced,
            )
            write_lease_ledger(state, final)
        except GmsaError as exc:
            self._undo_intent(state, recorded, intent, made, exc)
            if isinstance(exc, HostAgentError):
                raise
            raise HostAgentError(
                exc.what, where=exc.where, fix=exc.fix, exit_code=exc.exit_code
            ) from exc
        left = [lease for lease in replaced if self._delete_quietly(lease)]
        if left != list(replaced):
            with contextlib.suppress(GmsaError):
                write_lease_ledger(state, replace(final, pending=tuple(left)))
        return reply, left

    def _undo_intent(
        self,
        state: DirHandle,
        recorded: LeaseLedger | None,
        intent: LeaseLedger,
        lease_id: str,
        exc: GmsaError,
    ) -> None:
        """After a failed prepare: delete the lease it may have made and put the ledger
        back as it was. A lease that cannot be deleted stays in the ledger (cleanup
        deletes it later) and ``exc``'s fix says so."""
        maybe_made = not isinstance(exc, LeaseNotMadeError) or exc.maybe_made
        if maybe_made and self._delete_quietly(lease_id):
            exc.fix = (exc.fix + "; " if exc.fix else "") + (
                f"the lease {lease_id} could not be deleted: run gmsa task cleanup --task-id "
                f"{intent.task_id} once the ticket service answers"
            )
            return
        with contextlib.suppress(GmsaError):
            if recorded is None:
                remove_ledger(state, intent.task_id, fix=f"check permissions on {self.state_dir}")
            else:
                write_lease_ledger(state, recorded)

    def _load(self, plan: _Plan, warnings: list[Finding]) -> None:
        """Fetch and validate one reference's spec."""
        try:
            data = self.fetcher.fetch(plan.reference.location).data
            report = check_bytes(data, source=plan.raw)
            if not report.valid or report.spec is None:
                raise CredentialSpecError(report.findings, source=plan.raw)
        except GmsaError as exc:
            raise HostAgentError.for_container(plan.containers[0], plan.raw, exc) from exc
        warnings.extend(plan.located(found) for found in report.warnings)
        spec = report.spec
        if plan.reference.mode is Mode.DOMAINLESS and spec.host_account_config is None:
            raise TaskInputError(
                "a credentialspecdomainless: reference needs a domainless spec (with "
                "ActiveDirectoryConfig.HostAccountConfig)",
                where=f"container {plan.containers[0]!r} ({plan.raw})",
                fix="use credentialspec: on a domain-joined host, or add HostAccountConfig to "
                'the spec with PluginInput {"CredentialArn": "<Secrets Manager ARN>"}',
            )
        plan.spec = spec
        plan.content = render(spec)

    def _domainless_user(self, plans: list[_Plan]) -> DomainlessUser:
        """The one user secret every domainless spec of the task names, read and checked."""
        arns: dict[str, _Plan] = {}
        for plan in plans:
            assert plan.spec is not None and plan.spec.host_account_config is not None
            arn = plan.spec.host_account_config.credential_arn
            where = (
                f"container {plan.containers[0]!r} ({plan.raw}): "
                "ActiveDirectoryConfig.HostAccountConfig.PluginInput"
            )
            if not arn:
                raise DomainlessSecretError(
                    "the spec's PluginInput names no credentialArn (the user secret)",
                    where=where,
                    fix='set PluginInput to {"CredentialArn": "arn:aws:secretsmanager:REGION:'
                    'ACCOUNT:secret:NAME"}',
                )
            if parse_secret_arn(arn) is None:
                raise DomainlessSecretError(
                    "the credentialArn is not a Secrets Manager secret ARN (on Linux the user "
                    "secret is read from Secrets Manager)",
                    where=f"{where}: {arn[:200]}",
                    fix="store the user secret in Secrets Manager and give its ARN "
                    "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
                )
            arns.setdefault(arn, plan)
        if len(arns) > 1:
            raise DomainlessSecretError(
                "the task's domainless specs name different user secrets; one lease reads "
                "every gMSA password as one user",
                where=", ".join(f"{p.raw}: {a}" for a, p in arns.items()),
                fix="give every spec of the task the same credentialArn",
            )
        arn, plan = next(iter(arns.items()))
        try:
            return read_domainless_user(self.aws, arn)
        except HostAgentError:
            raise
        except GmsaError as exc:
            # An AWS refusal or a missing secret: name the container, keep the exit code.
            raise DomainlessSecretError.for_container(plan.containers[0], plan.raw, exc) from None

    def _add_lease(
        self, plans: list[_Plan], user: DomainlessUser | None, lease_id: str
    ) -> LeaseReply:
        contents = [p.content for p in plans]
        try:
            with self._client() as client:
                if user is None:
                    return client.add_lease(contents, lease_id=lease_id)
                return client.add_domainless_lease(
                    contents,
                    username=user.username,
                    password=user.password,
                    domain=user.domain,
                    lease_id=lease_id,
                )
        except GmsaError as exc:
            where = exc.where or str(self.socket)
            index = re.match(r"^credspec_contents\[(\d+)\]", where)
            if index is not None and int(index.group(1)) < len(plans):
                plan = plans[int(index.group(1))]
                where = f"container {plan.containers[0]!r} ({plan.raw}): {where}"
            answered = not isinstance(exc, ServiceUnreachableError | SocketError)
            err = LeaseNotMadeError(
                # "refused" only when the service answered; otherwise it was not reached.
                f"the ticket service refused the lease: {exc.what}"
                if answered
                else f"could not ask the ticket service for a lease: {exc.what}",
                where=where,
                fix=exc.fix,
                exit_code=exc.exit_code,
            )
            err.code = exc.code
            # Not reached at all: nothing was made. Any other failure (the service
            # answered an error, or did not answer in time) is checked by deleting.
            err.maybe_made = answered or isinstance(exc, ServiceTimeoutError)
            raise err from None

    def _client(self) -> TicketClient:
        return TicketClient(self.socket, timeout=self.timeout)

    def _delete_quietly(self, lease_id: str) -> bool:
        """Delete a lease; ``True`` when it could not be deleted (a gone lease is fine)."""
        try:
            with self._client() as client:
                client.delete_lease(lease_id)
        except LeaseNotFoundError:
            return False
        except RemoteError as exc:
            return exc.grpc_status != "NOT_FOUND"
        except GmsaError:
            return True
        return False

    # ------------------------------------------------------------------ renew

    def renew(self, task_def: TaskDefinition, task_id: str) -> RenewedTask:
        """Keep a domainless task's lease alive (RenewNonDomainJoinedKerberosLease).

        Call it when the task's execution-role credentials are refreshed and after the
        ticket service restarted. The task's domainless specs are fetched again and
        their user secret read with the current credentials (``fetcher``/``aws``), so a
        new password, or a new user, is what the service renews with. A task never
        prepared here, or whose lease is domain-joined, needs nothing.
        """
        check_task_id(task_id)
        lease_id = read_lease(self.state_dir, task_id)
        if lease_id is None:
            return RenewedTask(task_id, None, None)
        plans, _ = plan_references(task_def, _Plan)
        domainless = [p for p in plans.values() if p.reference.mode is Mode.DOMAINLESS]
        if not domainless:
            return RenewedTask(task_id, lease_id, None)
        for plan in domainless:
            self._load(plan, [])
        user = self._domainless_user(domainless)
        try:
            with self._client() as client:
                renewed = client.renew_domainless(
                    username=user.username,
                    password=user.password,
                    domain=user.domain,
                    lease_ids=(lease_id,),
                )
        except GmsaError as exc:
            err = HostAgentError(
                f"the ticket service could not renew the task's lease {lease_id}: {exc.what}",
                where=exc.where or str(self.socket),
                fix=exc.fix,
                exit_code=exc.exit_code,
            )
            err.code = exc.code
            raise err from None
        mine = tuple(p for p in renewed if Path(p).parent.name == lease_id)
        if not mine:
            raise self._lease_gone(
                lease_id,
                f" for {user}",
                fix="prepare the task again (gmsa task prepare) to get a new lease",
            )
        return RenewedTask(task_id, lease_id, str(user), mine)

    def keeper(self, task_def: TaskDefinition, prepared: PreparedTask) -> LeaseKeeper | None:
        """A :class:`LeaseKeeper` for a prepared domainless task; None for a domain-joined
        one (the ticket service renews it with the host's keytab by itself)."""
        if prepared.lease_id is None:
            return None
        plans, _ = plan_references(task_def, _Plan)
        if not any(p.reference.mode is Mode.DOMAINLESS for p in plans.values()):
            return None
        return LeaseKeeper(self, task_def, prepared.task_id, prepared.lease_id)

    def credentials_fingerprint(self) -> bytes | None:
        """A digest of the AWS credentials the agent reads with now (the task execution
        role's); asking refreshes them when they are due, as botocore does before a call.
        None when they cannot be told (no credentials, AWS unreachable)."""
        if self.aws is None:
            return None
        try:
            credentials = self.aws.session().get_credentials()
            if credentials is None:
                return None
            frozen = credentials.get_frozen_credentials()
        except GmsaError:
            return None
        except AWS_FAILURES:
            return None
        return hashlib.sha256(f"{frozen.access_key}\0{frozen.token or ''}".encode()).digest()

    def lease_awaits_credentials(self, lease_id: str) -> bool | None:
        """Whether the ticket service holds the lease but not its domain user's password
        (it restarted since the last renew); None when the service cannot be asked."""
        try:
            with self._client() as client:
                report = client.status(lease_ids=[lease_id])
        except GmsaError:
            return None
        for lease in report.get("leases", []):
            if isinstance(lease, dict) and lease.get("lease_id") == lease_id:
                return bool(lease.get("awaiting_credentials"))
        raise self._lease_gone(lease_id, "", fix="start the task again to get a new lease")

    def _lease_gone(self, lease_id: str, whose: str, *, fix: str) -> HostAgentError:
        return HostAgentError(
            f"the ticket service holds no lease {lease_id}{whose} any more (deleted, or "
            "expired by its TTL)",
            where=str(self.krb_dir / lease_id),
            fix=fix,
            exit_code=ExitCode.EXTERNAL,
        )

    # ------------------------------------------------------------------ cleanup

    def cleanup(self, task_id: str) -> CleanupResult:
        """Delete every lease the task's ledger names (its own, and any a killed or
        replaced prepare may have made), then the ledger; an unknown task is not an
        error. A named lease the service does not hold is fine: either it was deleted
        already or the prepare that chose its id never got it made."""
        check_task_id(task_id)
        unknown = CleanupResult(task_id=task_id, known=False, removed=(), kept=())
        with self._locked(task_id, create=False) as state:
            if state is None:
                return unknown
            fix = f"check permissions on {self.state_dir / LEDGER_DIR}"
            recorded = read_lease_ledger(state, task_id)
            if recorded is None:
                remove_ledger(state, task_id, fix=fix)  # a temporary copy a killed prepare left
                return unknown
            removed: list[str] = []
            missing: list[str] = []
            deleted: list[str] = []
            for lease_id in recorded.leases():
                try:
                    with self._client() as client:
                        reply = client.delete_lease(lease_id)
                    removed.extend(reply.paths)
                    deleted.append(lease_id)
                except RemoteError as exc:
                    if exc.grpc_status != "NOT_FOUND":
                        raise self._cleanup_error(lease_id, exc) from None
                    if lease_id == recorded.lease_id:
                        missing.append(str(self.krb_dir / lease_id))
                except GmsaError as exc:
                    raise self._cleanup_error(lease_id, exc) from None
            remove_ledger(state, task_id, fix=fix)
        return CleanupResult(
            task_id=task_id,
            known=True,
            removed=tuple(removed),
            kept=(),
            missing=tuple(missing),
            lease_id=recorded.lease_id
            if recorded.lease_id is not None
            else next(iter(deleted), None),
            leases=tuple(deleted),
        )

    @contextlib.contextmanager
    def _locked(self, task_id: str, *, create: bool = True) -> Iterator[DirHandle | None]:
        """The state directory, opened once, with the task locked in this process and
        across processes (``None`` when ``create`` is false and there is no ledger)."""
        fix = f"check permissions on {self.state_dir / LEDGER_DIR}"
        with (
            self._lock,
            locked_task(self.state_dir, task_id, private=True, fix=fix, create=create) as held,
        ):
            yield held

    def _cleanup_error(self, lease_id: str, exc: GmsaError) -> HostAgentError:
        err = HostAgentError(
            f"cannot delete the task's lease {lease_id}: {exc.what}",
            where=exc.where or str(self.socket),
            fix=(exc.fix + "; " if exc.fix else "") + "the task's record is kept: run cleanup "
            "again once the ticket service answers",
            exit_code=exc.exit_code,
        )
        err.code = exc.code
        return err

    # ------------------------------------------------------------------ ledger

    def ledger_path(self, task_id: str) -> Path:
        """Where the record of ``task_id``'s lease is kept."""
        return ledger_path(self.state_dir, check_task_id(task_id))


def read_domainless_user(aws: AwsConfig | None, arn: str) -> DomainlessUser:
    """The domain user in the Secrets Manager secret ``arn``, read with ``aws``
    (:func:`gmsa.domainless.read_domainless_user`, once AWS settings are known).

    No error quotes any of the secret.
    """
    if aws is None:
        raise SourceNotConfiguredError(
            "a domainless spec names a Secrets Manager secret, but no AWS settings were given",
            where=arn,
            fix="give the AWS options (--region, --role-arn, --endpoint-url, --profile)",
        )
    try:
        return read_secret_user(aws, arn)
    except UserSecretError as exc:
        raise DomainlessSecretError(exc.what, where=exc.where, fix=exc.fix) from None


def _directories(reply: LeaseReply, plans: list[_Plan]) -> dict[str, Path]:
    """The lease's ticket directory of every gMSA, by lower-case name."""
    found = {Path(p).name.lower(): Path(p) for p in reply.paths}
    for plan in plans:
        assert plan.spec is not None
        if plan.spec.account_name.lower() not in found:
            raise HostAgentError(
                f"the ticket service made no ticket directory for {plan.spec.account_name!r}",
                where=f"lease {reply.lease_id}",
                fix="check the ticket service's version and log",
                exit_code=ExitCode.EXTERNAL,
            )
    return found


def parse_user(value: str) -> tuple[int, int] | None:
    """``(uid, gid)`` of a numeric container ``user`` (``uid`` or ``uid:gid``), else None.

    A user given by name cannot be resolved on the host (the name lives in the
    image's ``/etc/passwd``), so it gives None. With only a uid, the gid is the uid:
    the cache is mode 0600, so only its owner reads it and the group does not matter.
    """
    match = _NUMERIC_USER_RE.match(value.strip())
    if match is None:
        return None
    uid = int(match.group("uid"))
    gid = int(match.group("gid")) if match.group("gid") is not None else uid
    if uid > 0xFFFFFFFE or gid > 0xFFFFFFFE:
        return None
    return uid, gid


def _owner_for(
    task_def: TaskDefinition, names: list[str], warnings: list[Finding]
) -> tuple[int, int] | None:
    """The owner the lease's caches need so every non-root container can read its ticket."""
    owners: dict[tuple[int, int], str] = {}
    for name in names:
        container = task_def.container(name)
        assert container is not None
        user = _user_of(container)
        if user is None:
            continue
        path = f"{container.path}.user"
        where = f"{task_def.source}: {path}"
        pair = parse_user(user)
        if pair is None:
            if user.strip().split(":")[0] not in ("root", "0"):
                warnings.append(
                    replace(
                        warning(
                            "container-user-not-numeric",
                            path,
                            f"the container runs as {user!r}, a name the host cannot resolve; "
                            "its ticket cache stays readable by root only",
                            'give the numeric uid[:gid] (e.g. "1000:1000") so gmsa can give '
                            "the cache to that user",
                        ),
                        source=task_def.source,
                    )
                )
            continue
        if pair[0] == 0:
            continue
        owners.setdefault(pair, where)
    if len(owners) > 1:
        raise TaskInputError(
            "containers of the task run as different non-root users, but one lease's caches "
            "have one owner",
            where="; ".join(f"{w} = {u}:{g}" for (u, g), w in owners.items()),
            fix="run every container that has a credential spec as one uid:gid, or split the task",
        )
    return next(iter(owners), None)


def _user_of(container: ContainerDefinition) -> str | None:
    value = container.raw.get("user")
    return value if isinstance(value, str) and value.strip() else None


__all__ = [
    "KEEP_ALIVE_BACKOFF_MAX",
    "KEEP_ALIVE_SECONDS",
    "DomainlessSecretError",
    "LeaseKeeper",
    "LeaseNotMadeError",
    "LinuxHostAgent",
    "RenewedTask",
    "parse_user",
    "read_domainless_user",
]
