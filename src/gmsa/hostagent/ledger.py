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
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gmsa import jsondoc
from gmsa.errors import GmsaError
from gmsa.fsutil import write_atomic
from gmsa.hostagent.interface import HostStateError
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

    def to_dict(self) -> dict[str, Any]:
        """As stored."""
        return {
            "name": self.name,
            "sha256": self.sha256,
            "reference": self.reference,
            "containers": list(self.containers),
        }


@dataclass(frozen=True)
class Ledger:
    """What prepare wrote for one task."""

    task_id: str
    """The task id."""
    task_arn: str | None
    """The task ARN given to prepare, if any."""
    files: tuple[LedgerEntry, ...]
    """Files written, in the order they were written."""

    def to_dict(self) -> dict[str, Any]:
        """As stored."""
        return {
            "format": LEDGER_FORMAT,
            "task_id": self.task_id,
            "task_arn": self.task_arn,
            "files": [f.to_dict() for f in self.files],
        }


@dataclass(frozen=True)
class LeaseLedger:
    """What the Linux agent made for one task: one lease of the ticket service."""

    task_id: str
    """The task id."""
    task_arn: str | None
    """The task ARN given to prepare, if any."""
    lease_id: str
    """The lease the ticket service made; cleanup deletes it."""
    references: tuple[tuple[str, tuple[str, ...]], ...]
    """Each reference of the task and the containers that use it (for people)."""

    def to_dict(self) -> dict[str, Any]:
        """As stored."""
        return {
            "format": LEASE_LEDGER_FORMAT,
            "task_id": self.task_id,
            "task_arn": self.task_arn,
            "lease_id": self.lease_id,
            "references": [
                {"reference": reference, "containers": list(containers)}
                for reference, containers in self.references
            ],
        }


def ledger_path(root: Path, task_id: str) -> Path:
    """Where the ledger of ``task_id`` lives (the id must already be checked).

    The ``task_`` prefix keeps names such as ``CON`` or ``NUL`` from becoming device
    names on Windows.
    """
    return root / LEDGER_DIR / f"task_{task_id}.json"


def write_ledger(root: Path, ledger: Ledger) -> None:
    """Write (or replace) the Windows agent's ledger atomically.

    Atomic but not fsynced, like the spec files it lists: all of it is about running
    containers, which a power loss ends anyway, and two fsyncs would double the
    host-side cost of preparing a task. A ledger lost that way leaves the task's
    ``gmsa_<id>_*`` files behind, never removes anything else.
    """
    _write(
        ledger_path(root, ledger.task_id),
        ledger.to_dict(),
        private=False,
        fix="check that the CredentialSpecs directory is writable",
    )


def write_lease_ledger(root: Path, ledger: LeaseLedger) -> None:
    """Write (or replace) the Linux agent's ledger atomically, readable by its owner only."""
    _write(
        ledger_path(root, ledger.task_id),
        ledger.to_dict(),
        private=True,
        fix="check that the krb directory (or --state-dir) is writable",
    )


def _write(path: Path, document: dict[str, Any], *, private: bool, fix: str) -> None:
    """Write a ledger document atomically, unsynced; ``private`` keeps it from other users."""
    try:
        path.parent.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
    except OSError as exc:
        raise HostStateError.from_os_error(
            "cannot create the ledger directory", path.parent, exc, fix
        ) from None
    try:
        data = (jsondoc.dumps(document) + "\n").encode("utf-8")
        write_atomic(path, data, mode=0o600 if private else 0o644, durable=False)
    except GmsaError as exc:
        raise HostStateError(
            f"cannot write the task's ledger: {exc.what}", where=str(path), fix=exc.fix
        ) from None


def remove_ledger(
    root: Path, task_id: str, *, fix: str = "check permissions on the CredentialSpecs directory"
) -> None:
    """Remove the ledger; a missing one is fine."""
    path = ledger_path(root, task_id)
    try:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    except OSError as exc:
        raise HostStateError.from_os_error(
            "cannot remove the task's ledger", path, exc, fix
        ) from None


def _corrupt(path: Path, what: str, fix: str = _FILES_FIX) -> HostStateError:
    return HostStateError(f"the task's ledger is damaged: {what}", where=str(path), fix=fix)


def _load(path: Path, fix: str, *, not_ours: str) -> dict[str, Any] | None:
    """The ledger at ``path`` as a JSON object, or ``None`` when there is none.

    Raises :class:`HostStateError` when it cannot be read or is not an object
    (``not_ours`` says so).
    """
    if not path.exists():
        return None
    try:
        doc = jsondoc.load_file(path, max_bytes=MAX_LEDGER_BYTES, what="task ledger")
    except GmsaError as exc:
        raise _corrupt(path, exc.what, fix) from None
    if not isinstance(doc, dict):
        raise _corrupt(path, not_ours, fix)
    return doc


def read_lease(root: Path, task_id: str) -> str | None:
    """The lease the Linux agent's ledger of ``task_id`` records, or ``None`` without one."""
    path = ledger_path(root, task_id)
    not_ours = "not a Linux task ledger of this task"
    doc = _load(path, _LEASE_FIX, not_ours=not_ours)
    if doc is None:
        return None
    lease_id = doc.get("lease_id")
    if (
        doc.get("format") != LEASE_LEDGER_FORMAT
        or doc.get("task_id") != task_id
        or not isinstance(lease_id, str)
        or not LEASE_ID_RE.fullmatch(lease_id)
    ):
        raise _corrupt(path, not_ours, _LEASE_FIX)
    return lease_id


def read_ledger(root: Path, task_id: str) -> Ledger | None:
    """The Windows agent's ledger of ``task_id``, or ``None`` when the task was never
    prepared here.

    Raises :class:`HostStateError` when the ledger exists but cannot be trusted.
    """
    path = ledger_path(root, task_id)
    not_ours = f"not a format-{LEDGER_FORMAT} ledger"
    doc = _load(path, _FILES_FIX, not_ours=not_ours)
    if doc is None:
        return None
    if doc.get("format") != LEDGER_FORMAT:
        raise _corrupt(path, not_ours)
    if doc.get("task_id") != task_id:
        raise _corrupt(path, "it belongs to another task id")
    task_arn = doc.get("task_arn")
    if task_arn is not None and not isinstance(task_arn, str):
        raise _corrupt(path, "task_arn is not a string")
    files = doc.get("files")
    if not isinstance(files, list):
        raise _corrupt(path, "files is not a list")
    entries = [_entry(item, i, task_id, path) for i, item in enumerate(files)]
    return Ledger(task_id=task_id, task_arn=task_arn, files=tuple(entries))


def _entry(item: Any, index: int, task_id: str, path: Path) -> LedgerEntry:
    if not isinstance(item, dict):
        raise _corrupt(path, f"files[{index}] is not an object")
    name, digest, reference = item.get("name"), item.get("sha256"), item.get("reference")
    containers = item.get("containers")
    prefix = file_prefix(task_id)
    if (
        not isinstance(name, str)
        or not name.startswith(prefix)
        or not _NAME_TAIL.match(name[len(prefix) :])
    ):
        raise _corrupt(path, f"files[{index}].name is not a file gmsa writes for this task")
    if not isinstance(digest, str) or not _HEX64.match(digest):
        raise _corrupt(path, f"files[{index}].sha256 is not a SHA-256")
    if not isinstance(reference, str):
        raise _corrupt(path, f"files[{index}].reference is not a string")
    if not isinstance(containers, list) or not all(isinstance(c, str) for c in containers):
        raise _corrupt(path, f"files[{index}].containers is not a list of names")
    return LedgerEntry(name=name, sha256=digest, reference=reference, containers=tuple(containers))


__all__ = [
    "LEASE_LEDGER_FORMAT",
    "LEDGER_DIR",
    "LEDGER_FORMAT",
    "MAX_LEDGER_BYTES",
    "LeaseLedger",
    "Ledger",
    "LedgerEntry",
    "file_prefix",
    "ledger_path",
    "read_lease",
    "read_ledger",
    "remove_ledger",
    "write_lease_ledger",
    "write_ledger",
]
