"""The per-task ledger: what prepare made, so cleanup removes exactly that.

The ECS agent forgets what it wrote when it restarts and deletes by name; a name
is not proof of ownership. The Windows agent's ledger (:class:`Ledger`) lists
every file written for a task with its SHA-256; the Linux agent's
(:class:`LeaseLedger`) names the task's lease. Either lives in
``<dir>/.gmsa/tasks/task_<id>.json`` (next to the specs, or in the krb
directory, where neither Docker nor the ticket service looks) and is written
atomically, so it survives restarts and is never half there. Cleanup trusts an
entry only if its name is one prepare could have made for that task, so an
edited ledger cannot aim it at other files.

The ledger is written *before* the files it lists (and again afterwards only
when it then lists more than the task uses), so a prepare killed at any point
leaves a ledger naming every file (and, by :func:`temp_name`, every temporary
file) it may have written; cleanup, or the next prepare of the task, removes
them. The Linux agent's ledger likewise names a lease before the ticket service
is asked for it (the agent chooses its id: :attr:`LeaseLedger.pending`). Work on one task
id is serialised across processes by :func:`task_lock`. The ledger directory is
opened below the given directory without following links
(:class:`~gmsa.fsutil.DirHandle`): a ``.gmsa`` or ``.gmsa/tasks`` that is a
symbolic link is refused, never written or deleted through.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from gmsa import jsondoc
from gmsa.errors import ExitCode, GmsaError
from gmsa.fsutil import DirHandle, LinkedPathError
from gmsa.hostagent.interface import HostAgentError, HostStateError
from gmsa.taskdef.model import TaskDefinition
from gmsa.tickets.layout import LEASE_ID_RE

LEDGER_DIR = Path(".gmsa") / "tasks"
"""Where ledgers live, relative to the CredentialSpecs directory."""
LEDGER_FORMAT = 1
"""Version of the ledger document; a reader refuses versions it does not know."""
LEASE_LEDGER_FORMAT = 1
"""Version of the Linux agent's ledger document."""
MAX_LEDGER_BYTES = 1024 * 1024
"""Largest ledger read back (a task has a handful of entries)."""

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NAME_TAIL = re.compile(r"^[a-z0-9]+_[0-9a-f]{16}\.json$")
_FILES_FIX = "remove the task's gmsa_<task id>_* files by hand, then delete the ledger"
_LEASE_FIX = (
    "delete the task's lease by hand (gmsa tickets status lists leases), then remove the ledger"
)


def file_prefix(task_id: str) -> str:
    """Every file written for ``task_id`` starts with this."""
    return f"gmsa_{task_id}_"


def task_definition_identity(task_def: TaskDefinition) -> str:
    """What names the task definition a task id was prepared from, in its ledger.

    The ARN when the document has one (describe-task-definition output), else
    ``family:revision`` or the family; a definition without a family is named by
    where it was read from.
    """
    arn = task_def.raw.get("taskDefinitionArn")
    if isinstance(arn, str) and arn:
        return arn
    if task_def.family:
        revision = task_def.raw.get("revision")
        if isinstance(revision, int) and not isinstance(revision, bool):
            return f"{task_def.family}:{revision}"
        return task_def.family
    return f"file {task_def.source}"


@dataclass(frozen=True)
class LedgerEntry:
    """One file written for a task."""

    name: str
    """File name in the CredentialSpecs directory."""
    sha256: str
    """Hex SHA-256 of the content written; cleanup removes the file only if it still matches."""
    reference: str
    """The reference the file was made from (no secrets: an ARN or a path)."""
    containers: tuple[str, ...]
    """Containers of the task that use it."""
    earlier: tuple[str, ...] = ()
    """While a prepare replaces them: digests of content an earlier prepare of the task
    wrote under this name, which the file still holds if the new content is not written yet."""

    def digests(self) -> frozenset[str]:
        """Every content cleanup may recognise as gmsa's for this name."""
        return frozenset((self.sha256, *self.earlier))

    def to_dict(self) -> dict[str, Any]:
        """As stored."""
        out: dict[str, Any] = {
            "name": self.name,
            "sha256": self.sha256,
            "reference": self.reference,
            "containers": list(self.containers),
        }
        if self.earlier:
            out["earlier"] = list(self.earlier)
        return out


@dataclass(frozen=True)
class Ledger:
    """What prepare wrote for one task."""

    task_id: str
    """The task id."""
    task_arn: str | None
    """The task ARN given to prepare, if any."""
    files: tuple[LedgerEntry, ...]
    """Files written, in the order they were written; while a prepare runs, every file it
    may write or remove."""
    task_definition: str | None = None
    """The task definition the task was prepared from (:func:`task_definition_identity`)."""

    def to_dict(self) -> dict[str, Any]:
        """As stored."""
        out: dict[str, Any] = {
            "format": LEDGER_FORMAT,
            "task_id": self.task_id,
            "task_arn": self.task_arn,
            "task_definition": self.task_definition,
            "files": [f.to_dict() for f in self.files],
        }
        return out


@dataclass(frozen=True)
class LeaseLedger:
    """What the Linux agent made for one task: one lease of the ticket service, and
    while a prepare runs (or after one was killed) the leases it may have made.

    Like the Windows ledger it is written *before* the ticket service is asked: the
    agent chooses the new lease's id, records it in :attr:`pending`, and only then
    asks for a lease with that id. So a prepare killed at any point leaves a ledger
    naming every lease the service may hold for the task; cleanup (or the next
    prepare) deletes them, and a lease that was never made is simply not found.
    """

    task_id: str
    """The task id."""
    task_arn: str | None
    """The task ARN given to prepare, if any."""
    lease_id: str | None
    """The lease the task's containers use; cleanup deletes it. ``None`` until a first
    prepare has finished."""
    references: tuple[tuple[str, tuple[str, ...]], ...]
    """Each reference of the task and the containers that use it (for people)."""
    task_definition: str | None = None
    """The task definition the task was prepared from (:func:`task_definition_identity`)."""
    pending: tuple[str, ...] = ()
    """Other leases gmsa may hold for the task and no container uses: one being made,
    one a killed prepare may have made, one an earlier prepare made that is being
    replaced. Cleanup and the next prepare delete them (a missing one is fine)."""

    def leases(self) -> tuple[str, ...]:
        """Every lease the ledger names, the task's own first."""
        own = (self.lease_id,) if self.lease_id is not None else ()
        return own + tuple(p for p in self.pending if p != self.lease_id)

    def to_dict(self) -> dict[str, Any]:
        """As stored."""
        out: dict[str, Any] = {
            "format": LEASE_LEDGER_FORMAT,
            "task_id": self.task_id,
            "task_arn": self.task_arn,
            "task_definition": self.task_definition,
            "lease_id": self.lease_id,
            "references": [
                {"reference": reference, "containers": list(containers)}
                for reference, containers in self.references
            ],
        }
        if self.pending:
            out["pending"] = list(self.pending)
        return out


def ledger_path(root: Path, task_id: str) -> Path:
    """Where the ledger of ``task_id`` lives (the id must already be checked).

    The ``task_`` prefix keeps names such as ``CON`` or ``NUL`` from becoming device
    names on Windows.
    """
    return root / LEDGER_DIR / ledger_name(task_id)


def ledger_name(task_id: str) -> str:
    """The ledger's file name in the ledger directory."""
    return f"task_{task_id}.json"


def temp_name(name: str) -> str:
    """The one temporary name a task's file ``name`` is written through.

    Every write of a task's files happens under the task's lock, so the name can be
    fixed: after a crash, cleanup knows exactly which temporary file to remove.
    """
    return f".{name}.tmp"


def _as_handle(root: Path | DirHandle) -> contextlib.AbstractContextManager[DirHandle]:
    """``root`` as an open directory: a given handle stays open, a path is opened and closed."""
    if isinstance(root, DirHandle):
        return contextlib.nullcontext(root)
    return DirHandle.open(Path(root))


def _root_path(root: Path | DirHandle) -> Path:
    """The path of ``root`` for a message."""
    return root.path if isinstance(root, DirHandle) else Path(root)


def _host_error(exc: GmsaError, what: str, fix: str) -> HostStateError:
    """``exc`` (from the file system) as the host agent's error, its code and exit code kept."""
    err = HostStateError(
        f"{what}: {exc.what}",
        where=exc.where,
        fix=exc.fix if isinstance(exc, LinkedPathError) else fix,
        exit_code=exc.exit_code,
    )
    if isinstance(exc, LinkedPathError):
        err.code = exc.code
    return err


@contextlib.contextmanager
def _ledger_dir(
    root: Path | DirHandle, *, create: bool, private: bool, fix: str
) -> Iterator[DirHandle | None]:
    """``<root>/.gmsa/tasks`` opened without following links (``None`` if absent)."""
    mode = 0o700 if private else 0o777
    tasks: DirHandle | None = None
    try:
        if isinstance(root, DirHandle) or create or Path(root).is_dir():
            if not isinstance(root, DirHandle):
                Path(root).mkdir(parents=True, exist_ok=True)
            with _as_handle(root) as handle:
                tasks = handle.descend(LEDGER_DIR, create=create, mode=mode)
    except OSError as exc:
        raise HostStateError.from_os_error(
            "cannot create the directory", _root_path(root), exc, fix
        ) from None
    except GmsaError as exc:
        raise _host_error(exc, "cannot open the ledger directory", fix) from None
    try:
        yield tasks
    finally:
        if tasks is not None:
            tasks.close()


class TaskIdInUseError(HostAgentError):
    """The task id is already prepared here from another task definition."""

    code = "task-id-in-use"
    exit_code = ExitCode.INVALID


def check_same_definition(recorded: str | None, identity: str, task_id: str, where: Path) -> None:
    """Refuse to prepare ``task_id`` from ``identity`` when its ledger names another
    task definition (a ledger from before definitions were recorded names none)."""
    if recorded is None or recorded == identity:
        return
    raise TaskIdInUseError(
        f"the task id {task_id} is already prepared here from task definition {recorded!r}, "
        f"not {identity!r}",
        where=str(where),
        fix=f"give this task its own id, or clean up first: gmsa task cleanup --task-id {task_id}",
    )


@contextlib.contextmanager
def task_lock(
    root: DirHandle, task_id: str, *, private: bool, fix: str, create: bool = True
) -> Iterator[bool]:
    """Hold the task's lock (``.gmsa/tasks/task_<id>.lock``) against other processes.

    Prepare and cleanup of one task id take it, so their ledger reads and writes and
    the files they list never interleave, whichever process runs them. The lock file
    is gone again once the lock is released. With ``create=False`` and no ledger
    directory nothing is locked or made, and the context gives ``False``.
    """
    with (
        _ledger_dir(root, create=create, private=private, fix=fix) as tasks,
        contextlib.ExitStack() as held,
    ):
        if tasks is None:
            yield False
            return
        try:
            held.enter_context(tasks.lock(f"task_{task_id}.lock"))
        except GmsaError as exc:
            raise _host_error(exc, "cannot lock the task", fix) from None
        yield True


@contextlib.contextmanager
def locked_task(
    root: Path, task_id: str, *, private: bool, fix: str, create: bool = True
) -> Iterator[DirHandle | None]:
    """``root`` opened once, with ``task_id`` locked across processes (:func:`task_lock`).

    ``root`` is created when missing; a ``private`` ledger directory is readable by
    its owner only.
    With ``create=False`` and no ledger directory the context gives ``None`` and
    nothing is made.
    """
    try:
        if not root.is_dir():
            if not create:
                yield None
                return
            root.mkdir(parents=True, exist_ok=True)
        handle = DirHandle.open(root)
    except OSError as exc:
        raise HostStateError.from_os_error("cannot create the directory", root, exc, fix) from None
    except GmsaError as exc:
        raise _host_error(exc, "cannot open the directory", fix) from None
    with handle, task_lock(handle, task_id, private=private, fix=fix, create=create) as held:
        yield handle if held else None


def write_ledger(root: Path | DirHandle, ledger: Ledger) -> None:
    """Write (or replace) the Windows agent's ledger atomically.

    Atomic but not fsynced, like the spec files it lists: all of it is about running
    containers, which a power loss ends anyway, and two fsyncs would double the
    host-side cost of preparing a task. A ledger lost that way leaves the task's
    ``gmsa_<id>_*`` files behind, never removes anything else.
    """
    _write(
        root,
        ledger.task_id,
        ledger.to_dict(),
        private=False,
        fix="check that the CredentialSpecs directory is writable",
    )


def write_lease_ledger(root: Path | DirHandle, ledger: LeaseLedger) -> None:
    """Write (or replace) the Linux agent's ledger atomically, readable by its owner only."""
    _write(
        root,
        ledger.task_id,
        ledger.to_dict(),
        private=True,
        fix="check that the krb directory (or --state-dir) is writable",
    )


def _write(
    root: Path | DirHandle, task_id: str, document: dict[str, Any], *, private: bool, fix: str
) -> None:
    """Write a ledger document atomically, unsynced; ``private`` keeps it from other users."""
    name = ledger_name(task_id)
    data = (jsondoc.dumps(document) + "\n").encode("utf-8")
    with _ledger_dir(root, create=True, private=private, fix=fix) as tasks:
        assert tasks is not None
        try:
            tasks.write_atomic(
                name, data, mode=0o600 if private else 0o644, durable=False, temp=temp_name(name)
            )
        except GmsaError as exc:
            raise _host_error(exc, "cannot write the task's ledger", fix) from None


def remove_ledger(
    root: Path | DirHandle,
    task_id: str,
    *,
    fix: str = "check permissions on the CredentialSpecs directory",
) -> None:
    """Remove the ledger and a temporary copy a crash left; a missing one is fine."""
    name = ledger_name(task_id)
    with _ledger_dir(root, create=False, private=False, fix=fix) as tasks:
        if tasks is None:
            return
        try:
            tasks.unlink(name)
            tasks.unlink(temp_name(name))
        except GmsaError as exc:
            raise _host_error(exc, "cannot remove the task's ledger", fix) from None


def _corrupt(path: Path, what: str, fix: str = _FILES_FIX) -> HostStateError:
    return HostStateError(f"the task's ledger is damaged: {what}", where=str(path), fix=fix)


def _load(
    root: Path | DirHandle, task_id: str, fix: str, *, not_ours: str
) -> tuple[Path, dict[str, Any] | None]:
    """The ledger of ``task_id`` as a JSON object (``None`` when there is none), and its path.

    Raises :class:`HostStateError` when it cannot be read or is not an object
    (``not_ours`` says so), or when a link stands where the ledger or its directory
    belongs.
    """
    name = ledger_name(task_id)
    with _ledger_dir(root, create=False, private=False, fix=fix) as tasks:
        if tasks is None:
            return Path(LEDGER_DIR / name), None
        path = tasks.child(name)
        try:
            data = tasks.read(name, max_bytes=MAX_LEDGER_BYTES)
            if data is None:
                return path, None
            doc = jsondoc.loads(data, source=str(path), max_bytes=MAX_LEDGER_BYTES)
        except LinkedPathError as exc:
            raise _host_error(exc, "the task's ledger cannot be trusted", fix) from None
        except GmsaError as exc:
            raise _corrupt(path, exc.what, fix) from None
    if not isinstance(doc, dict):
        raise _corrupt(path, not_ours, fix)
    return path, doc


def recorded_platform(root: Path, task_id: str) -> str | None:
    """Which host agent's ledger of ``task_id`` is in ``root``: ``windows`` (it lists
    files) or ``linux`` (it names a lease); ``None`` when there is none, or none that
    can be read (the agent itself then says what is wrong with it).

    ``task_id`` must already be checked.
    """
    try:
        _, doc = _load(root, task_id, "", not_ours="")
    except (GmsaError, OSError):
        return None
    if doc is None:
        return None
    if "lease_id" in doc:
        return "linux"
    if "files" in doc:
        return "windows"
    return None


def read_lease(root: Path | DirHandle, task_id: str) -> str | None:
    """The lease the Linux agent's ledger of ``task_id`` records, or ``None`` without one."""
    ledger = read_lease_ledger(root, task_id)
    return ledger.lease_id if ledger is not None else None


def read_lease_ledger(root: Path | DirHandle, task_id: str) -> LeaseLedger | None:
    """The Linux agent's ledger of ``task_id``, or ``None`` without one."""
    not_ours = "not a Linux task ledger of this task"
    path, doc = _load(root, task_id, _LEASE_FIX, not_ours=not_ours)
    if doc is None:
        return None
    lease_id = doc.get("lease_id")
    task_arn = doc.get("task_arn")
    task_definition = doc.get("task_definition")
    references = doc.get("references", [])
    pending = doc.get("pending", [])
    if (
        doc.get("format") != LEASE_LEDGER_FORMAT
        or doc.get("task_id") != task_id
        or not (lease_id is None or _lease_id(lease_id))
        or not isinstance(pending, list)
        or not all(_lease_id(p) for p in pending)
        or (lease_id is None and not pending)
        or not isinstance(task_arn, str | None)
        or not isinstance(task_definition, str | None)
        or not isinstance(references, list)
    ):
        raise _corrupt(path, not_ours, _LEASE_FIX)
    pairs: list[tuple[str, tuple[str, ...]]] = []
    for item in references:
        reference = item.get("reference") if isinstance(item, dict) else None
        containers = item.get("containers") if isinstance(item, dict) else None
        if not isinstance(reference, str) or not _names(containers):
            raise _corrupt(path, not_ours, _LEASE_FIX)
        pairs.append((reference, tuple(containers)))
    return LeaseLedger(
        task_id=task_id,
        task_arn=task_arn,
        lease_id=lease_id,
        references=tuple(pairs),
        task_definition=task_definition,
        pending=tuple(pending),
    )


def _lease_id(value: Any) -> bool:
    """Whether ``value`` is a lease id the ticket service issues (or gmsa chooses)."""
    return isinstance(value, str) and LEASE_ID_RE.fullmatch(value) is not None


def read_ledger(root: Path | DirHandle, task_id: str) -> Ledger | None:
    """The Windows agent's ledger of ``task_id``, or ``None`` when the task was never
    prepared here.

    Raises :class:`HostStateError` when the ledger exists but cannot be trusted.
    """
    not_ours = f"not a format-{LEDGER_FORMAT} ledger"
    path, doc = _load(root, task_id, _FILES_FIX, not_ours=not_ours)
    if doc is None:
        return None
    if doc.get("format") != LEDGER_FORMAT:
        raise _corrupt(path, not_ours)
    if doc.get("task_id") != task_id:
        raise _corrupt(path, "it belongs to another task id")
    task_arn = doc.get("task_arn")
    if task_arn is not None and not isinstance(task_arn, str):
        raise _corrupt(path, "task_arn is not a string")
    task_definition = doc.get("task_definition")
    if task_definition is not None and not isinstance(task_definition, str):
        raise _corrupt(path, "task_definition is not a string")
    files = doc.get("files")
    if not isinstance(files, list):
        raise _corrupt(path, "files is not a list")
    entries = [_entry(item, i, task_id, path) for i, item in enumerate(files)]
    return Ledger(
        task_id=task_id,
        task_arn=task_arn,
        files=tuple(entries),
        task_definition=task_definition,
    )


def _names(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(c, str) for c in value)


def _entry(item: Any, index: int, task_id: str, path: Path) -> LedgerEntry:
    if not isinstance(item, dict):
        raise _corrupt(path, f"files[{index}] is not an object")
    name, digest, reference = item.get("name"), item.get("sha256"), item.get("reference")
    containers = item.get("containers")
    earlier = item.get("earlier", [])
    prefix = file_prefix(task_id)
    if (
        not isinstance(name, str)
        or not name.startswith(prefix)
        or not _NAME_TAIL.match(name[len(prefix) :])
    ):
        raise _corrupt(path, f"files[{index}].name is not a file gmsa writes for this task")
    if not isinstance(digest, str) or not _HEX64.match(digest):
        raise _corrupt(path, f"files[{index}].sha256 is not a SHA-256")
    if not isinstance(earlier, list) or not all(
        isinstance(d, str) and _HEX64.match(d) for d in earlier
    ):
        raise _corrupt(path, f"files[{index}].earlier is not a list of SHA-256 digests")
    if not isinstance(reference, str):
        raise _corrupt(path, f"files[{index}].reference is not a string")
    if not _names(containers):
        raise _corrupt(path, f"files[{index}].containers is not a list of names")
    return LedgerEntry(
        name=name,
        sha256=digest,
        reference=reference,
        containers=tuple(containers),
        earlier=tuple(earlier),
    )


__all__ = [
    "LEASE_LEDGER_FORMAT",
    "LEDGER_DIR",
    "LEDGER_FORMAT",
    "MAX_LEDGER_BYTES",
    "LeaseLedger",
    "Ledger",
    "LedgerEntry",
    "TaskIdInUseError",
    "check_same_definition",
    "file_prefix",
    "ledger_name",
    "ledger_path",
    "locked_task",
    "read_lease",
    "read_lease_ledger",
    "read_ledger",
    "recorded_platform",
    "remove_ledger",
    "task_definition_identity",
    "task_lock",
    "temp_name",
    "write_lease_ledger",
    "write_ledger",
]
