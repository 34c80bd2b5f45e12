"""Leases on disk: the only state the service keeps, so a restart loses nothing.

Layout under the krb directory (the ECS agent mounts ``<lease>/<gMSA name>``; the
names the host agent shares are in :mod:`gmsa.tickets.layout`)::

    <krb dir>/<lease id>/lease.json          metadata (0600, never in the container)
    <krb dir>/<lease id>/<gMSA name>/krb5cc  the ticket cache (0600)

A lease id is 20 lowercase hex digits made by :func:`new_lease_id` and checked by
:func:`check_lease_id`, or, for an ARN lease, the id its caller chose; every id that
reaches the file system passes :func:`check_stored_lease_id`, and an ARN lease's
directory names :func:`check_caller_name`, so no id or name can point outside the krb
directory. An ARN lease's ticket directories are the caller's names
(``<krb dir>/<lease id>/<directory>/krb5cc``), and its metadata records each
spec's S3 ARN and the domain user, never the AWS credentials or a password.

A new lease is built in a staging directory inside the krb directory and renamed
into place: a crash leaves a staging directory (removed on the next
start), never a half-written lease. Deletion renames the lease away first, so a
half-deleted lease never looks like one either.

Nothing is fsynced, as credentials-fetcher does not fsync its leases either. A
killed or crashed service loses nothing (what it wrote is the kernel's); only a power
loss or a kernel crash can lose a lease made in the seconds before it, and that ends
the lease's containers too: the agent asks for new leases for the tasks it starts
again. A lease whose files the power loss cut short is reported as unreadable at the
next start, like any damaged lease, never guessed at. Forcing each new lease to disk
took six fsyncs, more time than the domain controller's own work for the lease.

The krb directory is opened once (and refused if it is itself a symbolic link);
every lease, ticket directory and file below it is created, replaced and removed
relative to that open directory, one name at a time, never through a symbolic
link (:class:`~gmsa.fsutil.DirHandle`). A link planted where a lease or ticket
directory belongs is refused, never written or deleted through.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
import secrets
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gmsa import jsondoc
from gmsa.errors import ExternalError, GmsaError
from gmsa.fsutil import DirHandle, LinkedPathError
from gmsa.tickets.errors import LeaseIdError, LeaseNotFoundError, LeaseRequestError, LeaseStoreError
from gmsa.tickets.interface import GmsaAccount
from gmsa.tickets.layout import CCACHE_NAME, LEASE_ID_LENGTH, LEASE_ID_RE

METADATA_NAME = "lease.json"
METADATA_VERSION = 1
_STAGING_PREFIX = ".staging-"
_DELETING_PREFIX = ".deleting-"
_MAX_METADATA_BYTES = 1 << 20
_UNSAFE_NAME_CHARS = frozenset('/\\\0:*?"<>|')
CALLER_NAME_MAX = 128
"""Longest lease id or directory name an ARN lease's caller may choose."""
_CALLER_NAME_RE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.-]{{0,{CALLER_NAME_MAX - 1}}}")


def new_lease_id() -> str:
    """A fresh lease id: 20 hex digits (80 bits) from the system's secure random source."""
    return secrets.token_hex(LEASE_ID_LENGTH // 2)


def check_lease_id(lease_id: str) -> str:
    """Return ``lease_id`` if this service could have issued it; raise LeaseIdError if not."""
    if not isinstance(lease_id, str) or not LEASE_ID_RE.fullmatch(lease_id):
        shown = repr(lease_id[:40]) if isinstance(lease_id, str) else type(lease_id).__name__
        raise LeaseIdError(
            f"{shown} is not a lease id: lease ids are {LEASE_ID_LENGTH} lowercase hex digits",
            where="lease_id",
            fix="pass the lease_id that AddKerberosLease returned",
        )
    return lease_id


def check_caller_name(name: str, what: str, *, where: str) -> str:
    """Return ``name`` if it can be one directory an ARN lease's caller chose; raise if not.

    Letters, digits, ``-``, ``_`` and ``.`` (not first), at most :data:`CALLER_NAME_MAX`
    characters: no separator, no traversal, no control or hidden name, and never the
    lease's metadata file.
    """
    if (
        not isinstance(name, str)
        or not _CALLER_NAME_RE.fullmatch(name)
        or ".." in name
        or name.lower() == METADATA_NAME
    ):
        shown = repr(name[:40]) if isinstance(name, str) else type(name).__name__
        raise LeaseRequestError(
            f"{shown} cannot be a {what}: use 1 to {CALLER_NAME_MAX} letters, digits, '-', '_' "
            "or '.' (not first), with no '/' and no '..'",
            where=where,
            fix=f"choose a plain name as the {what}",
        )
    return name


def check_stored_lease_id(lease_id: str) -> str:
    """Return ``lease_id`` if it may name a lease on disk: one this service issued
    (:func:`check_lease_id`) or one an ARN lease's caller chose (:func:`check_caller_name`).
    Raise LeaseIdError if not."""
    if isinstance(lease_id, str) and LEASE_ID_RE.fullmatch(lease_id):
        return lease_id
    try:
        return check_caller_name(lease_id, "lease id", where="lease_id")
    except LeaseRequestError:
        shown = repr(lease_id[:40]) if isinstance(lease_id, str) else type(lease_id).__name__
        raise LeaseIdError(
            f"{shown} is not a lease id: lease ids are {LEASE_ID_LENGTH} lowercase hex digits, "
            f"or the plain name (up to {CALLER_NAME_MAX} letters, digits, '-', '_', '.') "
            "an ARN lease was made with",
            where="lease_id",
            fix="pass the lease_id that AddKerberosLease or AddKerberosArnLease returned",
        ) from None


@dataclass(frozen=True)
class Owner:
    """Who owns a lease's ticket caches, so a non-root container user can read them."""

    uid: int
    """Numeric user id (as inside the container)."""
    gid: int
    """Numeric group id."""

    def pair(self) -> tuple[int, int]:
        """``(uid, gid)`` for chown."""
        return (self.uid, self.gid)


@dataclass(frozen=True)
class TicketRecord:
    """One gMSA of a lease and the state of its ticket."""

    account: GmsaAccount
    """The gMSA; its name is the directory name."""
    start_time: datetime.datetime | None = None
    """Start of the current ticket's validity."""
    end_time: datetime.datetime | None = None
    """When the current ticket expires."""
    last_renewal: datetime.datetime | None = None
    """When the current ticket was obtained."""
    last_error: str | None = None
    """Why the last attempt to renew failed (no secrets); None after a success."""
    failures: int = 0
    """Failed attempts since the last success, for backoff."""
    directory: str | None = None
    """The ticket directory's name when the caller chose it (ARN leases); else the gMSA name."""
    credspec_arn: str | None = None
    """The S3 ARN of the spec (ARN leases): renewal reads it again."""

    @property
    def directory_name(self) -> str:
        """The name of this ticket's directory in its lease."""
        return self.directory if self.directory is not None else self.account.name


@dataclass(frozen=True)
class Lease:
    """A lease: the tickets of one task, and whose they are."""

    lease_id: str
    """20 hex digits."""
    created_at: datetime.datetime
    """When AddKerberosLease made it."""
    last_seen: datetime.datetime
    """Creation or the owner's last renew request: the TTL counts from here."""
    tickets: tuple[TicketRecord, ...]
    """One per distinct gMSA, in request order."""
    domainless_user: tuple[str, str] | None = None
    """``(username, domain)`` of a domainless lease; None when domain-joined."""
    owner: Owner | None = None
    """Owner given to the caches; None leaves them to the service's user."""

    @property
    def mode(self) -> str:
        """``domain-joined``, ``domainless``, or ``arn`` (specs and user read from AWS)."""
        if any(r.credspec_arn for r in self.tickets):
            return "arn"
        return "domainless" if self.domainless_user else "domain-joined"


@dataclass(frozen=True)
class BrokenLease:
    """A lease directory whose metadata cannot be read: reported, never guessed at."""

    path: Path
    """The lease directory."""
    reason: str
    """What is wrong with it."""


class LeaseStore:
    """Reads and writes leases under one krb directory. Callers serialise per lease."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self._handle: DirHandle | None = None
        self._opening = threading.Lock()

    # ----------------------------------------------------------------- layout

    def lease_dir(self, lease_id: str) -> Path:
        """``<root>/<lease id>``, for a valid id only."""
        return self.root / check_stored_lease_id(lease_id)

    def ticket_dir(self, lease_id: str, ticket: TicketRecord | GmsaAccount) -> Path:
        """``<root>/<lease id>/<directory>``: what the ECS agent mounts. The directory is
        the record's chosen one (ARN leases), else the gMSA's name."""
        return self.lease_dir(lease_id) / _directory_of(ticket)

    def ccache_path(self, lease_id: str, ticket: TicketRecord | GmsaAccount) -> Path:
        """The lease's ticket cache of ``ticket``."""
        return self.ticket_dir(lease_id, ticket) / CCACHE_NAME

    # ----------------------------------------------------------------- lifecycle

    def prepare(self) -> None:
        """Create the krb directory if needed, refuse an unsafe one, drop stale staging."""
        try:
            self.root.mkdir(mode=0o711, parents=True, exist_ok=True)
        except OSError as exc:
            raise self._fs_error("cannot create the krb directory", self.root, exc) from None
        root = self._dir()
        info = os.fstat(root.fd)
        if info.st_mode & stat.S_IWOTH:
            raise LeaseStoreError(
                "the krb directory is writable by every user, so anyone could plant tickets",
                where=str(self.root),
                fix=f"chmod o-w {self.root}",
            )
        for name in self._names(root):
            if name.startswith((_STAGING_PREFIX, _DELETING_PREFIX)):
                entry = root.lstat(name)
                if entry is not None and stat.S_ISLNK(entry.st_mode):
                    root.unlink(name)  # the link only, never what it points to
                else:
                    root.rmtree(name)

    def create(self, lease: Lease, ccaches: Mapping[GmsaAccount, bytes]) -> tuple[Path, ...]:
        """Write a new lease whole (metadata and one ccache per gMSA) or not at all.

        ``ccaches`` maps each record's account to its cache bytes. Returns the ticket
        directories, in record order.
        """
        final = self.lease_dir(lease.lease_id)
        root = self._dir()
        staging_name = f"{_STAGING_PREFIX}{lease.lease_id}-{secrets.token_hex(4)}"
        owner = lease.owner.pair() if lease.owner else None
        try:
            root.mkdir(staging_name, 0o700)
            staging = _opened(root.subdir(staging_name), root.child(staging_name))
            with staging:
                os.fchmod(staging.fd, 0o700)  # whatever the process umask
                for record in lease.tickets:
                    name = _directory_of(record)
                    staging.mkdir(name, 0o700)
                    with _opened(staging.subdir(name), staging.child(name)) as directory:
                        os.fchmod(directory.fd, 0o700)
                        # Staging is private until renamed: each file is written in place.
                        directory.write_new(
                            CCACHE_NAME, ccaches[record.account], mode=0o600, owner=owner
                        )
                        if owner:
                            os.fchown(directory.fd, *owner)
                staging.write_new(METADATA_NAME, _encode(lease), mode=0o600)
                if owner:
                    os.fchmod(staging.fd, 0o711)
            root.rename(staging_name, lease.lease_id)
        except (OSError, GmsaError) as exc:
            root.rmtree(staging_name)
            if isinstance(exc, GmsaError):
                raise self._store_error(exc) from None
            raise self._fs_error("cannot write the lease", final, exc) from None
        return tuple(self.ticket_dir(lease.lease_id, r) for r in lease.tickets)

    def write_ccache(self, lease: Lease, ticket: TicketRecord | GmsaAccount, data: bytes) -> Path:
        """Replace one ticket cache atomically (renewal)."""
        path = self.ccache_path(lease.lease_id, ticket)
        relative = Path(lease.lease_id) / _directory_of(ticket)
        try:
            with _opened(self._dir().descend(relative), path.parent) as directory:
                directory.write_atomic(
                    CCACHE_NAME,
                    data,
                    mode=0o600,
                    durable=False,
                    owner=lease.owner.pair() if lease.owner else None,
                )
        except GmsaError as exc:
            raise self._store_error(exc) from None
        return path

    def save(self, lease: Lease) -> None:
        """Rewrite a lease's metadata (renewal state, owner, last seen)."""
        directory = self.lease_dir(lease.lease_id)
        try:
            with _opened(self._dir().subdir(lease.lease_id), directory) as handle:
                handle.write_atomic(METADATA_NAME, _encode(lease), mode=0o600, durable=False)
        except GmsaError as exc:
            raise self._store_error(exc) from None

    def set_owner(self, lease: Lease, owner: Owner) -> None:
        """Give every ticket directory and cache of ``lease`` to ``owner``."""
        directory = self.lease_dir(lease.lease_id)
        try:
            with _opened(self._dir().subdir(lease.lease_id), directory) as handle:
                os.fchmod(handle.fd, 0o711)
                for record in lease.tickets:
                    name = _directory_of(record)
                    with _opened(handle.subdir(name), handle.child(name)) as tickets:
                        os.fchown(tickets.fd, *owner.pair())
                        with contextlib.suppress(FileNotFoundError):
                            os.chown(
                                CCACHE_NAME, *owner.pair(), dir_fd=tickets.fd, follow_symlinks=False
                            )
        except GmsaError as exc:
            raise self._store_error(exc) from None
        except OSError as exc:
            raise self._fs_error(
                "cannot change the owner of the lease's tickets", directory, exc
            ) from None

    def delete(self, lease_id: str) -> tuple[Path, ...]:
        """Remove a lease's directory and return the ticket directories it held.

        A missing lease raises LeaseNotFoundError.
        """
        source = self.lease_dir(lease_id)
        root = self._dir()
        parked = f"{_DELETING_PREFIX}{lease_id}-{secrets.token_hex(4)}"
        try:
            lease = root.subdir(lease_id)
            if lease is None:
                raise LeaseNotFoundError(
                    f"there is no lease {lease_id}",
                    where=str(source),
                    fix="it was deleted already, or expired; nothing to do",
                )
            with lease:
                held = tuple(source / name for name in lease.names() if _is_dir(lease.lstat(name)))
            root.rename(lease_id, parked)
        except LeaseNotFoundError:
            raise
        except GmsaError as exc:
            raise self._store_error(exc) from None
        except OSError as exc:
            raise self._fs_error("cannot delete the lease", source, exc) from None
        root.rmtree(parked)
        return held

    def load_all(self) -> tuple[list[Lease], list[BrokenLease]]:
        """Every lease on disk, and the lease directories whose metadata is unusable."""
        leases: list[Lease] = []
        broken: list[BrokenLease] = []
        root = self._dir()
        for name in self._names(root):
            ours = LEASE_ID_RE.fullmatch(name) is not None
            if not ours and not _caller_named(name):
                continue
            path = root.child(name)
            try:
                info = root.lstat(name)
                if info is None or not (stat.S_ISDIR(info.st_mode) or stat.S_ISLNK(info.st_mode)):
                    continue
                with _opened(root.subdir(name), path) as directory:
                    data = directory.read(METADATA_NAME, max_bytes=_MAX_METADATA_BYTES)
                source = str(path / METADATA_NAME)
                if data is None:
                    if not ours:
                        continue  # a folder with a caller's name is a lease only with metadata
                    raise _Invalid("lease metadata not found", where=source)
                document = jsondoc.loads(data, source=source, max_bytes=_MAX_METADATA_BYTES)
                leases.append(_decode(document, name))
            except GmsaError as exc:
                broken.append(BrokenLease(path, exc.what))
        leases.sort(key=lambda lease: lease.created_at)
        return leases, broken

    def close(self) -> None:
        """Close the krb directory (it is opened again when next needed)."""
        with self._opening:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None:
            handle.close()

    # ----------------------------------------------------------------- helpers

    def _dir(self) -> DirHandle:
        """The krb directory, opened once (a symbolic link in its place is refused)."""
        with self._opening:
            if self._handle is None:
                try:
                    self._handle = DirHandle.open(self.root, follow=False)
                except LinkedPathError:
                    raise LeaseStoreError(
                        "the krb directory is not a directory (or is a symbolic link)",
                        where=str(self.root),
                        fix="point --krb-dir at a real directory",
                    ) from None
                except GmsaError as exc:
                    raise self._store_error(exc) from None
            return self._handle

    def _names(self, root: DirHandle) -> list[str]:
        try:
            return root.names()
        except GmsaError as exc:
            raise LeaseStoreError(
                f"cannot list the krb directory: {exc.what}",
                where=str(self.root),
                fix=_STORE_FIX,
            ) from None

    @staticmethod
    def _store_error(exc: GmsaError) -> GmsaError:
        """A file-system error below the krb directory as the store's error (others kept)."""
        if isinstance(exc, LinkedPathError) or type(exc) is ExternalError:
            err = LeaseStoreError(exc.what, where=exc.where, fix=exc.fix or _STORE_FIX)
            err.code = exc.code if isinstance(exc, LinkedPathError) else err.code
            return err
        return exc

    @staticmethod
    def _fs_error(what: str, path: Path, exc: OSError) -> LeaseStoreError:
        return LeaseStoreError(f"{what}: {exc.strerror or exc}", where=str(path), fix=_STORE_FIX)


_STORE_FIX = "check that the krb directory exists, is writable by the service and has space"


def _opened(handle: DirHandle | None, path: Path) -> DirHandle:
    """``handle``, or the store's error for a directory that is not there."""
    if handle is None:
        raise LeaseStoreError(
            "the lease's directory is missing", where=str(path), fix="it was deleted; nothing to do"
        )
    return handle


def _is_dir(info: os.stat_result | None) -> bool:
    return info is not None and stat.S_ISDIR(info.st_mode)


def _caller_named(name: str) -> bool:
    """Whether ``name`` could be a lease id a caller chose (ARN leases)."""
    try:
        check_stored_lease_id(name)
    except LeaseIdError:
        return False
    return True


def _directory_of(ticket: TicketRecord | GmsaAccount) -> str:
    if isinstance(ticket, GmsaAccount):
        return safe_account_dir(ticket.name)
    if ticket.directory is not None:
        return check_caller_name(ticket.directory, "directory", where="directory")
    return safe_account_dir(ticket.account.name)


def safe_account_dir(name: str) -> str:
    """``name`` as a single directory name; anything that could escape is refused."""
    if (
        not name
        or name in (".", "..")
        or name.startswith(".")
        or any(ch in _UNSAFE_NAME_CHARS or ord(ch) < 32 for ch in name)
    ):
        raise LeaseRequestError(
            f"the gMSA name {name[:40]!r} cannot be a directory name",
            where="MachineAccountName",
            fix="use the gMSA's sAMAccountName without $ (letters, digits, - and _)",
        )
    return name


# --------------------------------------------------------------------------- metadata


def iso_utc(moment: datetime.datetime | None) -> str | None:
    """``2026-01-02T03:04:05Z``: how lease metadata and status write times (None stays None)."""
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _encode(lease: Lease) -> bytes:
    document: dict[str, Any] = {
        "version": METADATA_VERSION,
        "lease_id": lease.lease_id,
        "created_at": iso_utc(lease.created_at),
        "last_seen": iso_utc(lease.last_seen),
        "mode": lease.mode,
        "domainless_user": (
            {"username": lease.domainless_user[0], "domain": lease.domainless_user[1]}
            if lease.domainless_user
            else None
        ),
        "owner": {"uid": lease.owner.uid, "gid": lease.owner.gid} if lease.owner else None,
        "tickets": [
            {
                "name": r.account.name,
                "domain": r.account.domain,
                "start_time": iso_utc(r.start_time),
                "end_time": iso_utc(r.end_time),
                "last_renewal": iso_utc(r.last_renewal),
                "last_error": r.last_error,
                "failures": r.failures,
                **({"directory": r.directory} if r.directory is not None else {}),
                **({"credspec_arn": r.credspec_arn} if r.credspec_arn is not None else {}),
            }
            for r in lease.tickets
        ],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


class _Invalid(LeaseStoreError):
    code = "lease-metadata-invalid"


def _field(node: Any, key: str, kind: type | tuple[type, ...], path: str) -> Any:
    if not isinstance(node, dict) or key not in node:
        raise _Invalid(f"{METADATA_NAME}: {path}.{key} is missing")
    value = node[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise _Invalid(f"{METADATA_NAME}: {path}.{key} has the wrong type")
    return value


def _time(node: Any, key: str, path: str, *, optional: bool = False) -> datetime.datetime | None:
    value = _field(node, key, (str, type(None)) if optional else str, path)
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid(f"{METADATA_NAME}: {path}.{key} is not a time") from None
    if moment.tzinfo is None:
        raise _Invalid(f"{METADATA_NAME}: {path}.{key} has no time zone")
    return moment


def _optional(node: Any, key: str, path: str) -> str | None:
    """A string field that leases written before it existed do not have."""
    if not isinstance(node, dict) or node.get(key) is None:
        return None
    value: str = _field(node, key, str, path)
    return value


def _required_time(node: Any, key: str, path: str) -> datetime.datetime:
    moment = _time(node, key, path)
    if moment is None:
        raise _Invalid(f"{METADATA_NAME}: {path}.{key} is missing")
    return moment


def _decode(document: Any, dir_name: str) -> Lease:
    version = _field(document, "version", int, "$")
    if version != METADATA_VERSION:
        raise _Invalid(f"{METADATA_NAME}: version {version} is not supported")
    lease_id = _field(document, "lease_id", str, "$")
    if lease_id != dir_name:
        raise _Invalid(f"{METADATA_NAME}: lease_id does not match its directory")
    user_node = _field(document, "domainless_user", (dict, type(None)), "$")
    user = None
    if user_node is not None:
        path = "$.domainless_user"
        user = (_field(user_node, "username", str, path), _field(user_node, "domain", str, path))
    owner_node = _field(document, "owner", (dict, type(None)), "$")
    owner = None
    if owner_node is not None:
        owner = Owner(
            _field(owner_node, "uid", int, "$.owner"), _field(owner_node, "gid", int, "$.owner")
        )
    records = []
    for i, node in enumerate(_field(document, "tickets", list, "$")):
        path = f"$.tickets[{i}]"
        account = GmsaAccount(_field(node, "name", str, path), _field(node, "domain", str, path))
        safe_account_dir(account.name)
        directory = _optional(node, "directory", path)
        if directory is not None:
            try:
                check_caller_name(directory, "directory", where=f"{path}.directory")
            except LeaseRequestError:
                raise _Invalid(f"{METADATA_NAME}: {path}.directory is not a plain name") from None
        records.append(
            TicketRecord(
                account=account,
                start_time=_time(node, "start_time", path, optional=True),
                end_time=_time(node, "end_time", path, optional=True),
                last_renewal=_time(node, "last_renewal", path, optional=True),
                last_error=_field(node, "last_error", (str, type(None)), path),
                failures=_field(node, "failures", int, path),
                directory=directory,
                credspec_arn=_optional(node, "credspec_arn", path),
            )
        )
    if not records:
        raise _Invalid(f"{METADATA_NAME}: the lease has no tickets")
    created = _required_time(document, "created_at", "$")
    seen = _required_time(document, "last_seen", "$")
    return Lease(lease_id, created, seen, tuple(records), user, owner)


__all__ = [
    "CALLER_NAME_MAX",
    "METADATA_NAME",
    "METADATA_VERSION",
    "BrokenLease",
    "Lease",
    "LeaseStore",
    "Owner",
    "TicketRecord",
    "check_caller_name",
    "check_lease_id",
    "check_stored_lease_id",
    "iso_utc",
    "new_lease_id",
    "safe_account_dir",
]
