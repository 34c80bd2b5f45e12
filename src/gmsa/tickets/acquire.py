"""Getting a gMSA's ticket: password, keys, TGT, ccache, shared between concurrent callers.

Many leases for one gMSA (a service's tasks starting together, or a renewal
round) must not each read the password and ask the KDC: the first caller runs
the acquisition and the others wait for its result (single flight). A result
may also be reused for a short, configurable window by new leases, and a
renewal round asks for results no older than the round itself.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from gmsa.errors import GmsaError
from gmsa.kerberos.ccache import encode_ccache
from gmsa.kerberos.keys import GmsaKeys, derive_keys
from gmsa.kerberos.ticket import Ticket
from gmsa.singleflight import SingleFlight
from gmsa.tickets.interface import (
    CredentialProvider,
    CredentialProviderError,
    GmsaAccount,
    Identity,
)
from gmsa.tickets.logformat import event, note

log = logging.getLogger("gmsa.tickets")

Clock = Callable[[], datetime.datetime]
_MAX_KEPT_KEYS = 4096


def utcnow() -> datetime.datetime:
    """The current time, timezone-aware (the default clock)."""
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class Acquisition:
    """A fresh ticket for one gMSA, ready to be written into any number of leases."""

    account: GmsaAccount
    """The gMSA."""
    ticket: Ticket
    """The TGT; its times drive renewal."""
    ccache: bytes = field(repr=False)
    """The ticket cache file content."""
    acquired_at: datetime.datetime
    """When the acquisition finished."""
    dc: str | None = None
    """The domain controller that gave the password (and, unless told otherwise, the
    ticket), for log lines; None when the provider does not say."""


@dataclass
class Counters:
    """What the acquisitions cost the directory, for status and benchmarks."""

    password_reads: int = 0
    """Calls to read_password."""
    tgt_requests: int = 0
    """Calls to get_tgt."""
    shared: int = 0
    """Callers served by another caller's acquisition (in flight or recent)."""
    key_derivations: int = 0
    """Passwords whose keys were derived (PBKDF2); a password read again unchanged
    reuses the keys derived from it."""


class Observer(Protocol):
    """Told how each step of an acquisition went (metrics); must not raise."""

    def password_read(self, account: GmsaAccount, seconds: float, ok: bool) -> None:
        """A read of the managed password (LDAP) took ``seconds``."""

    def tgt_request(self, account: GmsaAccount, seconds: float, ok: bool) -> None:
        """A TGT request (KDC) took ``seconds``."""

    def acquisition(self, account: GmsaAccount, ok: bool) -> None:
        """An acquisition for ``account`` ended."""


class Acquirer:
    """Runs acquisitions through a provider, one at a time per gMSA and identity."""

    observers: list[Observer]
    """Told about every password read, TGT request and acquisition."""

    def __init__(
        self,
        provider: CredentialProvider,
        *,
        clock: Clock = utcnow,
        reuse_for: datetime.timedelta = datetime.timedelta(0),
    ) -> None:
        self.provider = provider
        self.clock = clock
        self.reuse_for = reuse_for
        self.counters = Counters()
        self.observers = []
        self._lock = threading.Lock()
        self._flights: SingleFlight[tuple[object, ...], Acquisition] = SingleFlight(self._lock)
        self._recent: dict[tuple[object, ...], Acquisition] = {}
        self._keys: dict[tuple[str, str], tuple[bytes, GmsaKeys]] = {}

    def acquire(
        self,
        account: GmsaAccount,
        identity: Identity,
        *,
        fresh_after: datetime.datetime | None = None,
    ) -> Acquisition:
        """A ticket for ``account`` read as ``identity``.

        Joins an acquisition already in flight for the same gMSA and identity. With
        ``fresh_after`` (a renewal round), a finished result counts only if it was
        obtained after that moment; without it, one obtained within the reuse window.
        An acquisition in flight is always joined: its password read has not happened yet
        or is happening now.
        """
        key = (account.key, identity.key)

        def kept() -> Acquisition | None:
            recent = self._recent.get(key)
            if recent is not None and self._usable(recent, fresh_after):
                self.counters.shared += 1
                return recent
            return None

        def joined() -> None:
            self.counters.shared += 1

        note(gmsa=account.name)
        result = self._flights.run(
            key,
            lambda: self._run(account, identity),
            kept=kept,
            joined=joined,
            finished=lambda result: self._remember(key, result),
        )
        note(dc=result.dc)
        return result

    def _timed(self, account: GmsaAccount, step: Callable[[Observer], StepReport]) -> _Timed:
        return _Timed([step(o) for o in self.observers], account)

    def _usable(self, recent: Acquisition, fresh_after: datetime.datetime | None) -> bool:
        if fresh_after is not None:
            return recent.acquired_at > fresh_after
        if self.reuse_for <= datetime.timedelta(0):
            return False
        now = self.clock()
        if now - recent.acquired_at > self.reuse_for:
            return False
        remaining = recent.ticket.end_time - now
        return remaining > recent.ticket.lifetime / 2

    def _remember(self, key: tuple[object, ...], result: Acquisition) -> None:
        horizon = result.acquired_at - max(self.reuse_for, datetime.timedelta(minutes=5))
        for stale in [k for k, v in self._recent.items() if v.acquired_at < horizon]:
            del self._recent[stale]
        self._recent[key] = result

    def _keys_for(self, account: GmsaAccount, password: bytes) -> GmsaKeys:
        """The keys of ``password``: derived once per password and gMSA, then reused.

        A gMSA's password changes every few weeks, but every acquisition reads it: the
        keys derived from the same password (a PBKDF2 each) are kept, identified by the
        password's SHA-256, and derived again when the password differs.
        """
        digest = hashlib.sha256(password).digest()
        name = (account.name, account.realm)
        with self._lock:
            known = self._keys.get(name)
        if known is not None and hmac.compare_digest(known[0], digest):
            return known[1]
        keys = derive_keys(password, account=account.name, realm=account.realm)
        with self._lock:
            self.counters.key_derivations += 1
            if len(self._keys) >= _MAX_KEPT_KEYS:
                self._keys.clear()
            self._keys[name] = (digest, keys)
        return keys

    def _run(self, account: GmsaAccount, identity: Identity) -> Acquisition:
        ok = False
        reached: list[str] = []
        try:
            with event() as steps:  # the DCs the provider reaches, for the call's log line
                try:
                    with self._lock:
                        self.counters.password_reads += 1
                    with self._timed(account, lambda o: o.password_read):
                        password = self.provider.read_password(account, identity)
                    keys = self._keys_for(account, password.current)
                    with self._lock:
                        self.counters.tgt_requests += 1
                    with self._timed(account, lambda o: o.tgt_request):
                        ticket = self.provider.get_tgt(account, keys)
                finally:
                    reached = steps.dcs
            ok = True
        except GmsaError:
            raise
        except Exception as exc:
            log.exception("credential provider failed for %s", account)
            raise CredentialProviderError(
                f"the credential provider failed unexpectedly ({type(exc).__name__})",
                where=str(account),
                fix="see the service's log for the cause",
            ) from exc
        finally:
            for name in reached:
                note(dc=name)
            for observer in self.observers:
                observer.acquisition(account, ok)
        dc = reached[0] if reached else None
        return Acquisition(account, ticket, encode_ccache([ticket]), self.clock(), dc)


StepReport = Callable[[GmsaAccount, float, bool], None]
"""An observer's method told how long a step took and whether it succeeded."""


class _Timed:
    """Times one step for the observers; the step's exception passes through."""

    def __init__(self, reports: list[StepReport], account: GmsaAccount) -> None:
        self.reports = reports
        self.account = account
        self.started = 0.0

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, kind: type[BaseException] | None, *_rest: object) -> None:
        seconds = time.perf_counter() - self.started
        for report in self.reports:
            report(self.account, seconds, kind is None)


__all__ = [
    "Acquirer",
    "Acquisition",
    "Clock",
    "Counters",
    "Observer",
    "StepReport",
    "utcnow",
]
