"""The ticket service: leases, their tickets, renewal and health, without the transport.

:class:`TicketService` does what each RPC asks (the gRPC layer in
:mod:`gmsa.tickets.server` only translates), and renews tickets in a background
thread. All state that matters is on disk (:class:`~gmsa.tickets.leases.LeaseStore`);
what is only in memory is the schedule, the last errors and the passwords of
domainless users, which the ECS agent sends again with every renew request.
"""

from __future__ import annotations

import contextvars
import datetime
import functools
import logging
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gmsa.credspec.validate import load_spec
from gmsa.domainless import DomainlessUser
from gmsa.errors import GmsaError
from gmsa.findings import count
from gmsa.reference import S3Location, parse_location
from gmsa.tickets.acquire import Acquirer, Acquisition, Clock, utcnow
from gmsa.tickets.arn import ArnReader, AwsArnReader, AwsKeys, parse_arn_entry
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.errors import LeaseExistsError, LeaseNotFoundError, LeaseRequestError
from gmsa.tickets.interface import CredentialProvider, GmsaAccount, Identity
from gmsa.tickets.leases import (
    BrokenLease,
    Lease,
    LeaseStore,
    Owner,
    TicketRecord,
    check_lease_id,
    check_stored_lease_id,
    iso_utc,
    new_lease_id,
    safe_account_dir,
)

log = logging.getLogger("gmsa.tickets")

HEALTHY = "OK"
"""What HealthCheck answers when every lease is fine (the ECS agent's expectation)."""
RENEW_SUCCESSFUL = "successful"
"""RenewKerberosArnLease's status when every ARN lease got fresh tickets."""
RENEW_FAILED = "failed"
"""RenewKerberosArnLease's status when any ARN lease could not be renewed."""
_MAX_WAIT = 60.0
_IN_A_ROUND = datetime.datetime.min.replace(tzinfo=datetime.UTC)
"""The loop's planned wake-up while a round runs: nothing needs to wake it then."""


@dataclass(frozen=True)
class LeaseResult:
    """What AddKerberosLease and DeleteKerberosLease answer."""

    lease_id: str
    """The lease."""
    paths: tuple[Path, ...]
    """One ticket directory per gMSA: ``<krb dir>/<lease id>/<gMSA name>``."""


@dataclass(frozen=True)
class ArnLeaseResult:
    """What AddKerberosArnLease answers."""

    lease_id: str
    """The lease id the caller chose."""
    tickets: tuple[tuple[str, Path], ...]
    """``(S3 ARN of the spec, <krb dir>/<lease id>/<directory>)`` per entry, in request order."""


@dataclass(frozen=True)
class ArnRenewal:
    """What RenewKerberosArnLease did."""

    renewed: tuple[Path, ...] = ()
    """Ticket directories that got a fresh ticket."""
    failed: tuple[tuple[str, GmsaError], ...] = ()
    """``(lease id, error)`` for each ARN lease (or ticket) that could not be renewed; its
    tickets stay as they were."""

    @property
    def status(self) -> str:
        """``successful`` or ``failed``, as credentials-fetcher answers."""
        return RENEW_FAILED if self.failed else RENEW_SUCCESSFUL


@dataclass
class _ArnReads:
    """Specs and user secrets read in one ARN call: each ARN is read once per call."""

    keys: AwsKeys
    specs: dict[str, tuple[GmsaAccount, str]] = field(default_factory=dict)
    users: dict[str, DomainlessUser] = field(default_factory=dict)


@dataclass(frozen=True)
class RoundReport:
    """What one renewal round did."""

    renewed: tuple[Path, ...] = ()
    """Ticket directories that got a fresh ticket."""
    failed: tuple[tuple[str, str, GmsaError], ...] = ()
    """``(lease id, gMSA name, error)`` for each due ticket that could not be renewed."""
    acquisitions: int = 0
    """Distinct gMSA acquisitions the round started (one per gMSA and identity)."""
    expired_leases: tuple[str, ...] = ()
    """Leases removed because their TTL ran out."""


@dataclass
class _Group:
    account: GmsaAccount
    identity: Identity
    members: list[tuple[str, GmsaAccount]] = field(default_factory=list)
    due: list[tuple[str, GmsaAccount]] = field(default_factory=list)


def parse_credspecs(contents: Sequence[str]) -> tuple[GmsaAccount, ...]:
    """The distinct gMSAs the specs name (``MachineAccountName`` in ``DnsName``)."""
    if not contents:
        raise LeaseRequestError(
            "credspec_contents is empty",
            where="credspec_contents",
            fix="send at least one credential spec (its JSON document as a string)",
        )
    accounts: dict[str, GmsaAccount] = {}
    for index, text in enumerate(contents):
        try:
            account = _account_of_spec(text)
        except GmsaError:
            # Again, uncached, so the error names the request's field.
            load_spec(text.encode("utf-8", "surrogatepass"), source=f"credspec_contents[{index}]")
            raise
        known = accounts.get(account.key[0])
        if known is not None and known.key != account.key:
            raise LeaseRequestError(
                f"two specs name gMSA {account.name!r} in different domains "
                f"({known.domain}, {account.domain}); one lease holds one directory per name",
                where=f"credspec_contents[{index}]",
                fix="request one lease per domain",
            )
        accounts.setdefault(account.key[0], account)
    return tuple(accounts.values())


@functools.lru_cache(maxsize=512)
def _account_of_spec(text: str) -> GmsaAccount:
    """The gMSA a spec names. Kept per spec text: an agent sends the same few specs for
    every task, and validating one costs more than the rest of a lease's own work."""
    spec = load_spec(text.encode("utf-8", "surrogatepass"), source="credspec_contents")
    account = GmsaAccount(spec.account_name, spec.domain_join_config.dns_name)
    safe_account_dir(account.name)
    return account


def _check_user(user: DomainlessUser) -> None:
    missing = [n for n in ("username", "password", "domain") if not getattr(user, n)]
    if missing:
        raise LeaseRequestError(
            f"{', '.join(missing)} must not be empty for a domainless lease",
            where=missing[0],
            fix="send the domain user's username, password and domain (from the spec's secret)",
        )


class TicketService:
    """Leases and tickets for the credentials-fetcher API. Safe to call from many threads."""

    def __init__(
        self,
        store: LeaseStore,
        provider: CredentialProvider,
        settings: ServiceSettings | None = None,
        *,
        clock: Clock = utcnow,
        arn_reader: ArnReader | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or ServiceSettings()
        self.clock = clock
        self.arn_reader = arn_reader or AwsArnReader()
        """Reads ARN leases' specs and user secrets (from AWS unless a test gives another)."""
        self.acquirer = Acquirer(provider, clock=clock, reuse_for=self.settings.ticket_reuse)
        self._lock = threading.RLock()
        self._leases: dict[str, Lease] = {}
        self._reserved: set[str] = set()
        self._saving = tuple(threading.Lock() for _ in range(64))
        self._due: dict[tuple[str, str], datetime.datetime] = {}
        self._users: dict[tuple[str, str], DomainlessUser] = {}
        self._broken: list[BrokenLease] = []
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._round_started: float | None = None
        self._planned: datetime.datetime | None = None
        """When the renewal loop will wake up by itself; None before it runs."""
        self._pool = ThreadPoolExecutor(
            max_workers=self.settings.renewal_workers, thread_name_prefix="gmsa-renew"
        )

    # ----------------------------------------------------------------- lifecycle

    def start(self, *, scheduler: bool = True) -> None:
        """Prepare the krb directory, recover every lease on disk, start renewing.

        Recovered leases are renewed at once (one acquisition per gMSA): the files
        of a crash may be stale, and health must reflect the directory as it is now.
        """
        self.store.prepare()
        leases, broken = self.store.load_all()
        now = self.clock()
        with self._lock:
            for lease in leases:
                self._leases[lease.lease_id] = lease
                for record in lease.tickets:
                    self._due[(lease.lease_id, record.account.key[0])] = now
            self._broken = broken
        for item in broken:
            log.warning("lease %s is unreadable: %s", item.path, item.reason)
        log.info("recovered %s from %s", count(len(leases), "lease"), self.store.root)
        if scheduler:
            self._thread = threading.Thread(target=self._loop, name="gmsa-renewal", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop renewing (leases stay on disk for the next start)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._pool.shutdown(wait=True, cancel_futures=True)

    # ----------------------------------------------------------------- RPC operations

    def add_lease(
        self,
        credspecs: Sequence[str],
        user: DomainlessUser | None = None,
        *,
        lease_id: str | None = None,
    ) -> LeaseResult:
        """A new lease with a fresh ticket for each gMSA the specs name.

        Domain-joined when ``user`` is None (the host's keytab reads the password),
        domainless otherwise. Either every ticket is obtained and the lease written
        whole, or the call fails and nothing is written. ``lease_id`` is the id the
        caller chose (a fresh :func:`~gmsa.tickets.leases.new_lease_id`, recorded
        before it asks, so it can find the lease even if it never hears the answer);
        by default the service picks one. A chosen id already in use is refused
        (:class:`~gmsa.tickets.errors.LeaseExistsError`).
        """
        if lease_id is not None:
            check_lease_id(lease_id)
            with self._lock:
                self._check_unused(lease_id)
        accounts = parse_credspecs(credspecs)
        identity: Identity = self.settings.host_identity
        if user is not None:
            _check_user(user)
            identity = user
        acquired = [self.acquirer.acquire(account, identity) for account in accounts]
        now = self.clock()
        owner = self.settings.owner_for(tuple(a.name for a in accounts))
        with self._lock:
            if lease_id is None:
                lease_id = self._unused_lease_id()
            else:
                self._check_unused(lease_id)
            self._reserved.add(lease_id)
        lease = Lease(
            lease_id=lease_id,
            created_at=now,
            last_seen=now,
            tickets=tuple(_record(a.account, a) for a in acquired),
            domainless_user=(user.username, user.domain) if user else None,
            owner=owner,
        )
        try:
            # The files are written outside the service's lock: concurrent calls write
            # their own leases in parallel, and the id is reserved meanwhile.
            paths = self.store.create(lease, {a.account: a.ccache for a in acquired})
        finally:
            with self._lock:
                self._reserved.discard(lease_id)
        with self._lock:
            self._leases[lease_id] = lease
            for item in acquired:
                self._schedule(lease_id, item.account, item)
            if user is not None:
                self._users[user.user_key] = user
        log.debug("lease %s created for %s", lease_id, ", ".join(str(a) for a in accounts))
        return LeaseResult(lease_id, paths)

    def renew_domainless(
        self, user: DomainlessUser, lease_ids: Collection[str] | None = None
    ) -> tuple[Path, ...]:
        """Fresh tickets for the leases of a domain user (the agent's renew call).

        Without ``lease_ids`` (the ECS agent's call) every lease made with this user
        (name and domain) is renewed. With them (gmsa's host agent names its task's
        lease) those leases are renewed as ``user`` whoever they were made with, so a
        secret that now names another user moves them to it without a new lease.

        A new password or user is adopted by the leases it renewed, and kept in memory
        for the scheduler's own renewals until the service stops. If it renews nothing
        (a wrong new password), nothing is adopted: the service keeps the credentials
        that last worked and the tickets in place, and the first failure is raised.
        """
        _check_user(user)
        now = self.clock()
        with self._lock:
            if lease_ids is None:
                chosen = {
                    lease.lease_id
                    for lease in self._leases.values()
                    if lease.domainless_user and _user_key(lease.domainless_user) == user.user_key
                }
            else:
                chosen = {self._domainless_lease(lease_id) for lease_id in lease_ids}
            for lease_id in chosen:
                self._replace(replace(self._leases[lease_id], last_seen=now), save=True)
        if not chosen:
            return ()
        report = self.run_due(force=True, only=chosen, identities=dict.fromkeys(chosen, user))
        self._adopt(user, chosen - {lease_id for lease_id, _, _ in report.failed})
        if report.failed:
            raise report.failed[0][2]
        return report.renewed

    def _domainless_lease(self, lease_id: str) -> str:
        """``lease_id`` if the service holds it and it was made with a domain user."""
        lease = self._leases.get(check_stored_lease_id(lease_id))
        if lease is None:
            raise LeaseNotFoundError(
                f"there is no lease {lease_id}",
                where="lease_id",
                fix="it was deleted or expired: make a new lease (prepare the task again)",
            )
        if lease.domainless_user is None:
            raise LeaseRequestError(
                f"the lease {lease_id} is domain-joined: the service renews it with the "
                "host's keytab",
                where="lease_id",
                fix="renew only leases made with a domain user",
            )
        return lease_id

    def _adopt(self, user: DomainlessUser, lease_ids: Collection[str]) -> None:
        """Make ``user`` the one these leases renew as from now on (they just renewed as
        it): its password is kept for the scheduler, and a lease made with another user
        records the new one."""
        if not lease_ids:
            return
        with self._lock:
            self._users[user.user_key] = user
            for lease_id in lease_ids:
                lease = self._leases.get(lease_id)
                if lease is None or lease.domainless_user is None:
                    continue
                if _user_key(lease.domainless_user) != user.user_key:
                    moved = replace(lease, domainless_user=(user.username, user.domain))
                    self._replace(moved, save=True)
                    log.info("lease %s now renews as %s", lease_id, user)

    def add_arn_lease(self, entries: Sequence[str], keys: AwsKeys) -> ArnLeaseResult:
        """A lease for domainless specs named by S3 ARNs (the agent's AddKerberosArnLease).

        Each entry is ``<S3 ARN>#<lease id>/<directory>``; every entry names the same
        lease id, and no directory twice. Each spec and its user secret are read with
        ``keys``; every spec must name the same domain user. Either every ticket is
        obtained and the lease written whole at ``<krb dir>/<lease id>/<directory>``,
        or the call fails and nothing is written. The lease records each spec's ARN and
        the user's name, never ``keys`` or the password.
        """
        keys.check()
        if not entries:
            raise LeaseRequestError(
                "credspec_arns is empty",
                where="credspec_arns",
                fix="send at least one <S3 ARN of a domainless spec>#<lease id>/<directory>",
            )
        parsed = [parse_arn_entry(text, index) for index, text in enumerate(entries)]
        lease_id = parsed[0].lease_id
        directories: dict[str, int] = {}
        for index, entry in enumerate(parsed):
            where = f"credspec_arns[{index}]"
            if entry.lease_id != lease_id:
                raise LeaseRequestError(
                    f"the entries name two lease ids ({lease_id!r}, {entry.lease_id!r}); "
                    "one request makes one lease",
                    where=where,
                    fix="send one request per lease id",
                )
            earlier = directories.setdefault(entry.directory.lower(), index)
            if earlier != index:
                raise LeaseRequestError(
                    f"the directory {entry.directory!r} appears twice (also in "
                    f"credspec_arns[{earlier}])",
                    where=where,
                    fix="give every spec of the request its own directory",
                )
        self._check_unused(lease_id)
        reads = _ArnReads(keys)
        accounts, user = self._read_arns(
            [(e.location, f"credspec_arns[{i}]") for i, e in enumerate(parsed)], reads
        )
        acquired: dict[tuple[str, str], Acquisition] = {}
        for account in accounts:
            if account.key not in acquired:
                acquired[account.key] = self.acquirer.acquire(account, user)
        now = self.clock()
        records = tuple(
            replace(
                _record(account, acquired[account.key]),
                directory=entry.directory,
                credspec_arn=entry.arn,
            )
            for entry, account in zip(parsed, accounts, strict=True)
        )
        with self._lock:
            self._check_unused(lease_id)
            lease = Lease(
                lease_id=lease_id,
                created_at=now,
                last_seen=now,
                tickets=records,
                domainless_user=(user.username, user.domain),
                owner=self.settings.owner_for(tuple(a.name for a in accounts)),
            )
            paths = self.store.create(lease, {a.account: a.ccache for a in acquired.values()})
            self._leases[lease_id] = lease
            for item in acquired.values():
                self._schedule(lease_id, item.account, item)
            self._users[user.user_key] = user
        log.debug("ARN lease %s created for %s", lease_id, ", ".join(str(a) for a in accounts))
        return ArnLeaseResult(
            lease_id, tuple((e.arn, p) for e, p in zip(parsed, paths, strict=True))
        )

    def renew_arn_leases(self, keys: AwsKeys) -> ArnRenewal:
        """Fresh tickets for every ARN lease (the agent's RenewKerberosArnLease).

        Each lease's specs and user secret are read again with ``keys``, so a new
        password, or a new user, in the secret is used from now on (also by the
        scheduler's own renewals) once it renewed the lease. A lease whose spec or
        secret cannot be read, or whose new user the DC refuses, keeps its tickets and
        the credentials that last worked, and is reported failed with the reason (also
        in ``gmsa tickets status``).
        """
        keys.check()
        now = self.clock()
        with self._lock:
            leases = [lease for lease in self._leases.values() if lease.mode == "arn"]
        reads = _ArnReads(keys)
        chosen: dict[str, DomainlessUser] = {}
        failed: list[tuple[str, GmsaError]] = []
        for lease in leases:
            try:
                user = self._reread_arn_lease(lease, reads)
            except GmsaError as exc:
                log.warning("cannot renew ARN lease %s: %s", lease.lease_id, exc)
                with self._lock:
                    if lease.lease_id in self._leases:
                        for record in lease.tickets:
                            self._update(lease.lease_id, record.account, last_error=_reason(exc))
                failed.append((lease.lease_id, exc))
                continue
            with self._lock:
                current = self._leases.get(lease.lease_id)
                if current is None:
                    continue  # deleted meanwhile
                self._replace(replace(current, last_seen=now), save=True)
            chosen[lease.lease_id] = user
        report = (
            self.run_due(force=True, only=set(chosen), identities=chosen)
            if chosen
            else RoundReport()
        )
        refused = {lease_id for lease_id, _, _ in report.failed}
        by_user: dict[tuple[str, ...], list[str]] = {}
        for lease_id, user in chosen.items():
            if lease_id not in refused:
                by_user.setdefault(user.key, []).append(lease_id)
        for lease_ids in by_user.values():
            self._adopt(chosen[lease_ids[0]], lease_ids)
        failed += [(lease_id, error) for lease_id, _, error in report.failed]
        return ArnRenewal(report.renewed, tuple(failed))

    def _reread_arn_lease(self, lease: Lease, reads: _ArnReads) -> DomainlessUser:
        """The lease's user, read again; every spec must still name the lease's gMSAs."""
        targets: list[tuple[S3Location, str]] = []
        for record in lease.tickets:
            arn = record.credspec_arn or ""
            location = parse_location(arn)
            if not isinstance(location, S3Location):
                raise LeaseRequestError(
                    "the lease's metadata names a spec that is not in S3", where=arn
                )
            targets.append((location, arn))
        accounts, user = self._read_arns(targets, reads)
        for record, account in zip(lease.tickets, accounts, strict=True):
            if account.key != record.account.key:
                raise LeaseRequestError(
                    f"the spec now names the gMSA {account}, but the lease holds tickets for "
                    f"{record.account}",
                    where=f"{record.credspec_arn} (directory {record.directory_name})",
                    fix="make a new lease for the new gMSA and delete this one",
                )
        return user

    def _read_arns(
        self, targets: Sequence[tuple[S3Location, str]], reads: _ArnReads
    ) -> tuple[list[GmsaAccount], DomainlessUser]:
        """Each spec's gMSA and the one domain user their secrets name, read with the
        call's keys (each ARN once per call)."""
        accounts: list[GmsaAccount] = []
        users: dict[tuple[str, str], tuple[DomainlessUser, str]] = {}
        for location, where in targets:
            known = reads.specs.get(location.arn)
            if known is None:
                data = self.arn_reader.read_spec(location, reads.keys)
                spec = load_spec(data, source=location.arn)
                secret_arn = (
                    spec.host_account_config.credential_arn if spec.host_account_config else None
                )
                if not secret_arn:
                    raise LeaseRequestError(
                        "an ARN lease needs a domainless spec: its HostAccountConfig.PluginInput "
                        "must name the user's Secrets Manager secret (CredentialArn)",
                        where=f"{where}: {location.arn}",
                        fix='add HostAccountConfig with PluginInput {"CredentialArn": '
                        '"arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME"}',
                    )
                account = GmsaAccount(spec.account_name, spec.domain_join_config.dns_name)
                safe_account_dir(account.name)
                known = reads.specs.setdefault(location.arn, (account, secret_arn))
            account, secret_arn = known
            user = reads.users.get(secret_arn)
            if user is None:
                user = reads.users.setdefault(
                    secret_arn, self.arn_reader.read_user(secret_arn, reads.keys)
                )
            users.setdefault(user.user_key, (user, secret_arn))
            accounts.append(account)
        if len(users) > 1:
            shown = ", ".join(f"{u} (from {arn})" for u, arn in users.values())
            raise LeaseRequestError(
                f"the specs name different domain users ({shown}); one lease reads every "
                "gMSA password as one user",
                where="credspec_arns",
                fix="give every spec of the lease the same user secret, or make one lease per user",
            )
        return accounts, next(iter(users.values()))[0]

    def _check_unused(self, lease_id: str) -> None:
        taken = lease_id in self._leases or lease_id in self._reserved
        if taken or self.store.lease_dir(lease_id).exists():
            raise LeaseExistsError(
                f"a lease {lease_id} exists already",
                where=str(self.store.lease_dir(lease_id)),
                fix="choose another lease id, or delete the lease first (DeleteKerberosLease)",
            )

    def delete_lease(self, lease_id: str) -> LeaseResult:
        """Remove a lease and its ticket caches."""
        check_stored_lease_id(lease_id)
        with self._lock:
            lease = self._leases.pop(lease_id, None)
            for key in [k for k in self._due if k[0] == lease_id]:
                del self._due[key]
            self._reserved.add(lease_id)  # no new lease takes the id while its files go
        try:
            paths = self.store.delete(lease_id)
        except LeaseNotFoundError:
            if lease is None:
                raise
            paths = ()
        finally:
            with self._lock:
                self._reserved.discard(lease_id)
                self._broken = [b for b in self._broken if b.path.name != lease_id]
        log.info("lease %s deleted", lease_id)
        return LeaseResult(lease_id, paths)

    def set_owner(self, lease_id: str, owner: Owner) -> None:
        """Give a lease's caches to ``owner`` (now and at every renewal)."""
        check_stored_lease_id(lease_id)
        with self._lock:
            lease = self._leases.get(lease_id)
            if lease is None:
                raise LeaseNotFoundError(
                    f"there is no lease {lease_id}", where="lease_id", fix="check the lease id"
                )
            updated = replace(lease, owner=owner)
            self.store.set_owner(updated, owner)
            self._replace(updated, save=True)

    def reload(self, settings: ServiceSettings, provider: CredentialProvider | None = None) -> None:
        """Apply new settings (and a provider made from them) without dropping a lease.

        Renewal policy, TTL, reuse window, host identity and cache owners apply at once;
        the sizes of the worker pools keep their values until the service restarts.
        """
        with self._lock:
            self.settings = settings
            self.acquirer.reuse_for = settings.ticket_reuse
            if provider is not None:
                self.acquirer.provider = provider
        self._wake.set()
        log.info("settings reloaded; %s kept", count(len(self._leases), "lease"))

    def renewal_loop_healthy(self, stuck_after: float) -> bool:
        """Whether the renewal loop runs and no round has taken longer than ``stuck_after``
        seconds (what the systemd watchdog pings on)."""
        if self._thread is None or not self._thread.is_alive():
            return False
        started = self._round_started
        return started is None or time.monotonic() - started < stuck_after

    def summary(self) -> str:
        """One line for ``systemctl status``: leases, tickets and failing tickets."""
        leases, broken = self.snapshot()
        tickets = sum(len(lease.tickets) for lease in leases)
        failing = sum(1 for lease in leases for r in lease.tickets if r.failures)
        line = f"{count(len(leases), 'lease')}, {count(tickets, 'ticket')}, {failing} failing"
        return line + (f", {broken} unreadable" if broken else "")

    def health(self) -> str:
        """``OK``, or what is wrong (failing renewals, expired tickets, unreadable leases)."""
        problems = self._problems(self.clock())
        if not problems:
            return HEALTHY
        shown = "; ".join(problems[:3])
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        return f"FAILING: {count(len(problems), 'problem')}: {shown}{more}"

    def status(self, lease_ids: Collection[str] | None = None) -> dict[str, Any]:
        """Every lease (or those of ``lease_ids`` the service holds) and its tickets with
        their end times, last renewals and last errors, as JSON."""
        now = self.clock()
        with self._lock:
            held = (
                self._leases.values()
                if lease_ids is None
                else [self._leases[i] for i in set(lease_ids) if i in self._leases]
            )
            leases = sorted(held, key=lambda lease: lease.created_at)
            due = dict(self._due)
            broken = list(self._broken)
            users = set(self._users)
        counters = self.acquirer.counters
        return {
            "status": self.health(),
            "krb_dir": str(self.store.root),
            "now": iso_utc(now),
            "leases": [
                {
                    "lease_id": lease.lease_id,
                    "mode": lease.mode,
                    "created_at": iso_utc(lease.created_at),
                    "last_seen": iso_utc(lease.last_seen),
                    "domainless_user": (
                        f"{lease.domainless_user[0]}@{lease.domainless_user[1]}"
                        if lease.domainless_user
                        else None
                    ),
                    "awaiting_credentials": bool(
                        lease.domainless_user and _user_key(lease.domainless_user) not in users
                    ),
                    "owner": {"uid": lease.owner.uid, "gid": lease.owner.gid}
                    if lease.owner
                    else None,
                    "tickets": [
                        {
                            "gmsa": str(r.account),
                            "path": str(self.store.ticket_dir(lease.lease_id, r)),
                            "credspec_arn": r.credspec_arn,
                            "start_time": iso_utc(r.start_time),
                            "end_time": iso_utc(r.end_time),
                            "last_renewal": iso_utc(r.last_renewal),
                            "next_renewal": iso_utc(due.get((lease.lease_id, r.account.key[0]))),
                            "last_error": r.last_error,
                            "failures": r.failures,
                        }
                        for r in lease.tickets
                    ],
                }
                for lease in leases
            ],
            "unreadable_leases": [{"path": str(b.path), "reason": b.reason} for b in broken],
            "counters": {
                "password_reads": counters.password_reads,
                "tgt_requests": counters.tgt_requests,
                "shared_acquisitions": counters.shared,
            },
        }

    def snapshot(self) -> tuple[tuple[Lease, ...], int]:
        """Every lease held now and how many lease directories are unreadable (metrics)."""
        with self._lock:
            return tuple(self._leases.values()), len(self._broken)

    def lease(self, lease_id: str) -> Lease:
        """A lease's current record (for tests and the status view)."""
        with self._lock:
            lease = self._leases.get(check_stored_lease_id(lease_id))
        if lease is None:
            raise LeaseNotFoundError(f"there is no lease {lease_id}", where="lease_id")
        return lease

    # ----------------------------------------------------------------- renewal

    def run_due(
        self,
        now: datetime.datetime | None = None,
        *,
        force: bool = False,
        only: set[str] | None = None,
        identities: Mapping[str, Identity] | None = None,
    ) -> RoundReport:
        """One renewal round: every gMSA with a due ticket is acquired once, in parallel,
        and the result written to *every* lease holding that gMSA (due or not), so the
        leases of a gMSA stay in step and the next round again needs one acquisition.
        ``force`` treats every ticket as due; ``only`` limits the round to some leases;
        ``identities`` renews some leases as another identity than their own (new
        credentials being tried) without making it theirs.
        """
        now = now or self.clock()
        expired = self._expire(now) if only is None else ()
        groups: dict[tuple[object, ...], _Group] = {}
        with self._lock:
            for lease in self._leases.values():
                if only is not None and lease.lease_id not in only:
                    continue
                identity = (identities or {}).get(lease.lease_id) or self._identity_for(lease)
                if identity is None:
                    continue
                held: set[tuple[str, str]] = set()
                for record in lease.tickets:
                    if record.account.key in held:
                        continue  # an ARN lease may mount one gMSA in two directories
                    held.add(record.account.key)
                    key = (record.account.key, identity.key)
                    group = groups.setdefault(key, _Group(record.account, identity))
                    member = (lease.lease_id, record.account)
                    group.members.append(member)
                    when = self._due.get((lease.lease_id, record.account.key[0]), now)
                    if force or when <= now:
                        group.due.append(member)
        work = [g for g in groups.values() if g.due]
        # Each gMSA is acquired and written to its leases in a worker of its own, in a
        # copy of the caller's context, so what it touches is noted in the caller's log
        # event (a renew RPC's).
        futures = [
            self._pool.submit(contextvars.copy_context().run, self._renew_group, g, now)
            for g in work
        ]
        renewed: list[Path] = []
        failed: list[tuple[str, str, GmsaError]] = []
        for future in futures:
            done, refused = future.result()
            renewed.extend(done)
            failed.extend(refused)
        return RoundReport(tuple(renewed), tuple(failed), len(work), expired)

    def _renew_group(
        self, group: _Group, now: datetime.datetime
    ) -> tuple[list[Path], list[tuple[str, str, GmsaError]]]:
        try:
            acquired = self.acquirer.acquire(group.account, group.identity, fresh_after=now)
        except GmsaError as exc:
            return [], self._apply_failure(group, exc, now)
        return self._apply_success(group, acquired), []

    def _apply_success(self, group: _Group, acquired: Acquisition) -> list[Path]:
        """Write the fresh ticket into every lease of the group. The files are written
        outside the service's lock (calls go on meanwhile, other gMSAs' workers write in
        parallel); the records change under it."""
        renewed: list[Path] = []
        for lease_id, account in group.members:
            lease = self._leases.get(lease_id)  # leases are immutable: a reference will do
            if lease is None:
                continue  # deleted while the round ran
            try:
                written = self._write_tickets(lease, account, acquired)
                with self._lock:
                    current = self._leases.get(lease_id)
                    if current is None:
                        continue
                    if current.owner != lease.owner:  # set_owner ran meanwhile
                        written = self._write_tickets(current, account, acquired)
                    self._update(
                        lease_id,
                        account,
                        save=False,
                        start_time=acquired.ticket.start_time,
                        end_time=acquired.ticket.end_time,
                        last_renewal=acquired.acquired_at,
                        last_error=None,
                        failures=0,
                    )
                    self._schedule(lease_id, account, acquired)
            except GmsaError as exc:
                with self._lock:
                    if lease_id not in self._leases:
                        continue  # deleted while it was written
                    log.error(
                        "lease %s: cannot write the ticket for %s: %s", lease_id, account, exc
                    )
                    self._update(lease_id, account, save=False, last_error=exc.what)
                self._save(lease_id)
                continue
            self._save(lease_id)
            renewed.extend(written)
        log.info("renewed %s in %s", group.account, count(len(renewed), "lease"))
        return renewed

    def _write_tickets(
        self, lease: Lease, account: GmsaAccount, acquired: Acquisition
    ) -> list[Path]:
        """The ticket cache of every directory of ``lease`` holding ``account``."""
        return [
            self.store.write_ccache(lease, record, acquired.ccache).parent
            for record in lease.tickets
            if record.account.key == account.key
        ]

    def _apply_failure(
        self, group: _Group, error: GmsaError, now: datetime.datetime
    ) -> list[tuple[str, str, GmsaError]]:
        failed: list[tuple[str, str, GmsaError]] = []
        log.warning("cannot renew %s as %s: %s", group.account, group.identity, error)
        with self._lock:
            for lease_id, account in group.due:
                lease = self._leases.get(lease_id)
                if lease is None:
                    continue
                record = _find(lease, account)
                failures = record.failures + 1
                self._update(lease_id, account, last_error=_reason(error), failures=failures)
                retry = self.settings.policy.retry_at(now, failures, record.end_time)
                self._due_at(lease_id, account, retry)
                failed.append((lease_id, account.name, error))
        return failed

    def _expire(self, now: datetime.datetime) -> tuple[str, ...]:
        ttl = self.settings.lease_ttl
        if ttl is None:
            return ()
        with self._lock:
            stale = [i for i, lease in self._leases.items() if now - lease.last_seen > ttl]
        for lease_id in stale:
            log.info(
                "lease %s expired: not deleted nor renewed by its owner within %s", lease_id, ttl
            )
            try:
                self.delete_lease(lease_id)
            except GmsaError as exc:
                log.error("cannot remove expired lease %s: %s", lease_id, exc)
        return tuple(stale)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                self._planned = _IN_A_ROUND  # the round's end looks at every due moment
            self._round_started = time.monotonic()
            try:
                self.run_due()
            except Exception:
                log.exception("renewal round failed")
            finally:
                self._round_started = None
            self._wake.wait(self._seconds_to_next())
            self._wake.clear()

    def _seconds_to_next(self) -> float:
        now = self.clock()
        with self._lock:
            moments = list(self._due.values())
            if self.settings.lease_ttl is not None:
                moments += [
                    lease.last_seen + self.settings.lease_ttl for lease in self._leases.values()
                ]
            wait = (min(moments) - now).total_seconds() if moments else _MAX_WAIT
            wait = min(max(wait, 0.05), _MAX_WAIT)
            self._planned = now + datetime.timedelta(seconds=wait)
        return wait

    # ----------------------------------------------------------------- state helpers

    def _identity_for(self, lease: Lease) -> Identity | None:
        if lease.domainless_user is None:
            return self.settings.host_identity
        return self._users.get(_user_key(lease.domainless_user))

    def _schedule(self, lease_id: str, account: GmsaAccount, acquired: Acquisition) -> None:
        ticket = acquired.ticket
        self._due_at(
            lease_id, account, self.settings.policy.renew_at(ticket.start_time, ticket.end_time)
        )

    def _due_at(self, lease_id: str, account: GmsaAccount, when: datetime.datetime) -> None:
        """Renew a ticket at ``when`` (lock held); the loop is woken only if that is before
        the moment it plans to wake at anyway, so making leases never makes it scan them."""
        self._due[(lease_id, account.key[0])] = when
        if self._planned is None or when < self._planned:
            self._wake.set()

    def _update(
        self, lease_id: str, account: GmsaAccount, *, save: bool = True, **changes: Any
    ) -> None:
        lease = self._leases[lease_id]
        tickets = tuple(
            replace(r, **changes) if r.account.key == account.key else r for r in lease.tickets
        )
        self._replace(replace(lease, tickets=tickets), save=save)

    def _replace(self, lease: Lease, *, save: bool) -> None:
        self._leases[lease.lease_id] = lease
        if save:
            self._save(lease.lease_id)

    def _save(self, lease_id: str) -> None:
        """Write the lease's current record to its metadata file.

        Saves of one lease are serialised by a lock of their own, and each writes the
        record held at that moment, so a save that finishes last never writes an older
        record than one before it; the service's lock is not needed (and, when held, is
        always taken first).
        """
        with self._saving[hash(lease_id) % len(self._saving)]:
            lease = self._leases.get(lease_id)
            if lease is None:
                return  # deleted meanwhile
            try:
                self.store.save(lease)
            except GmsaError as exc:
                if lease_id in self._leases:
                    log.error("lease %s: cannot save its metadata: %s", lease_id, exc)

    def _unused_lease_id(self) -> str:
        while True:
            lease_id = new_lease_id()
            taken = lease_id in self._leases or lease_id in self._reserved
            if not taken and not self.store.lease_dir(lease_id).exists():
                return lease_id

    def _problems(self, now: datetime.datetime) -> list[str]:
        problems: list[str] = []
        with self._lock:
            for lease in sorted(self._leases.values(), key=lambda item: item.created_at):
                for record in lease.tickets:
                    where = f"lease {lease.lease_id} {record.account.name}"
                    if record.last_error:
                        problems.append(f"{where}: {record.last_error}")
                    elif record.end_time is not None and record.end_time <= now:
                        problems.append(
                            f"{where}: the ticket expired at {iso_utc(record.end_time)}"
                        )
            problems += [f"lease {b.path.name}: {b.reason}" for b in self._broken]
        return problems


def _record(account: GmsaAccount, acquired: Acquisition) -> TicketRecord:
    return TicketRecord(
        account=account,
        start_time=acquired.ticket.start_time,
        end_time=acquired.ticket.end_time,
        last_renewal=acquired.acquired_at,
    )


def _reason(error: GmsaError) -> str:
    """A ticket's ``last_error``: what failed and where (never a secret)."""
    return f"{error.what}" + (f" ({error.where})" if error.where else "")


def _find(lease: Lease, account: GmsaAccount) -> TicketRecord:
    for record in lease.tickets:
        if record.account.key == account.key:
            return record
    raise KeyError(account.name)


def _user_key(user: tuple[str, str]) -> tuple[str, str]:
    return (user[0].lower(), user[1].lower())


__all__ = [
    "HEALTHY",
    "RENEW_FAILED",
    "RENEW_SUCCESSFUL",
    "ArnLeaseResult",
    "ArnRenewal",
    "LeaseResult",
    "RoundReport",
    "TicketService",
    "parse_credspecs",
]
