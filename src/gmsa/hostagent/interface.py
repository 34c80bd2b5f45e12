"""What a host agent does for a task, the results it returns, and its error family.

A host agent turns a task definition's credential spec references into what the
container runtime needs before the task's containers start, and takes it away
when the task stops. On Windows that is a file in Docker's CredentialSpecs
directory and a ``credentialspec=file://`` security option per container; on
Linux a Kerberos lease and a read-only bind mount.
Both answer to :class:`HostAgent`, so the CLI and callers do not care which.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gmsa.errors import ExitCode, GmsaError
from gmsa.findings import Finding
from gmsa.taskdef.model import TaskDefinition

TASK_ID_MAX = 64
"""Longest task id accepted: ECS ids are 32 hex digits (36 for the old UUID form)."""

_TASK_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class HostAgentError(GmsaError):
    """A task cannot be prepared or cleaned up. Implementations subclass this.

    The exit code is the class's by default; :meth:`for_container` keeps the exit
    code of the error it wraps, so an access denial stays an outside failure (3)
    and an invalid spec stays invalid input (1).
    """

    code = "host-agent"

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        fix: str | None = None,
        exit_code: ExitCode | None = None,
        findings: Sequence[Finding] = (),
    ) -> None:
        super().__init__(what, where=where, fix=fix)
        if exit_code is not None:
            self.exit_code = exit_code
        self.findings: tuple[Finding, ...] = tuple(findings)

    @classmethod
    def for_container(cls, container: str, reference: str, cause: GmsaError) -> HostAgentError:
        """Wrap ``cause`` (a source, spec or file error) with the container it broke."""
        where = f"container {container!r} ({reference})"
        if cause.where:
            where += f": {cause.where}"
        found = getattr(cause, "findings", ())
        err = cls(
            cause.what,
            where=where,
            fix=cause.fix,
            exit_code=cause.exit_code,
            findings=tuple(f for f in found if isinstance(f, Finding)),
        )
        err.code = cause.code
        return err

    def diagnostics(self) -> str:
        """The base diagnostics plus every finding of a rejected spec."""
        text = super().diagnostics()
        if self.findings:
            text += "\n" + "\n".join("  " + f.render() for f in self.findings)
        return text

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON, with the findings of a rejected spec."""
        out = super().to_dict()
        if self.findings:
            out["findings"] = [f.to_dict() for f in self.findings]
        return out


class InvalidTaskIdError(HostAgentError):
    """A task id cannot be used as part of a file name."""

    code = "invalid-task-id"
    exit_code = ExitCode.INVALID


class TaskInputError(HostAgentError):
    """The task definition cannot be prepared: a bad reference, two specs in a container."""

    code = "invalid-task-input"
    exit_code = ExitCode.INVALID


class HostStateError(HostAgentError):
    """The host's directory or the task's ledger cannot be read or written."""

    code = "host-state"
    exit_code = ExitCode.EXTERNAL

    @classmethod
    def from_os_error(cls, what: str, path: Path, exc: OSError, fix: str) -> HostStateError:
        """``what`` (``cannot remove ...``) failed on ``path``, for the system's reason."""
        return cls(f"{what}: {exc.strerror}", where=str(path), fix=fix)


_CONTROL_NAMES = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", "\0": "NUL"}


def _control_name(char: str) -> str:
    name = _CONTROL_NAMES.get(char, "DEL" if char == "\x7f" else "")
    code = f"U+{ord(char):04X}"
    return f"{name} ({code})" if name else code


def check_task_id(task_id: str) -> str:
    """Return ``task_id`` if it is safe as a file-name part, else raise
    :class:`InvalidTaskIdError`.

    ECS task ids are hex digits (or a UUID); anything with a separator, a dot or a
    reserved character could name a file outside the directory or collide with
    another task's names, so it is refused rather than escaped.
    """
    if not task_id:
        raise InvalidTaskIdError(
            "the task id is empty",
            where="--task-id",
            fix="give the task's id, the last part of its ARN (32 hex digits)",
        )
    control = next((i for i, c in enumerate(task_id) if unicodedata.category(c) == "Cc"), None)
    if control is not None:
        raise InvalidTaskIdError(
            f"the task id holds a control character, {_control_name(task_id[control])} at "
            f"position {control + 1}; a task id may hold only letters, digits, '-' and '_' "
            "(it becomes part of file names)",
            where=f"--task-id {task_id[:TASK_ID_MAX]!r}",
            fix="give the task id without control characters (a newline often comes from "
            "a command's output: strip it)",
        )
    if task_id.startswith("arn:") or "/" in task_id:
        raise InvalidTaskIdError(
            "the task id looks like an ARN or a path; it becomes part of file names",
            where=f"--task-id {task_id!r}",
            fix="give the last part of the task ARN only (32 hex digits)",
        )
    if len(task_id) > TASK_ID_MAX:
        raise InvalidTaskIdError(
            f"the task id is longer than {TASK_ID_MAX} characters",
            where=f"--task-id {task_id[:TASK_ID_MAX]!r}...",
            fix="give the task's id, the last part of its ARN",
        )
    if not _TASK_ID_RE.fullmatch(task_id):
        raise InvalidTaskIdError(
            "the task id may hold only letters, digits, '-' and '_' (it becomes part of "
            "file names)",
            where=f"--task-id {task_id!r}",
            fix="use letters, digits, '-' and '_' only, starting with a letter or digit",
        )
    return task_id


@dataclass(frozen=True)
class Mount:
    """A bind mount the container must be started with (Linux: its ticket directory)."""

    source: str
    """Path on the host."""
    target: str
    """Path inside the container."""
    read_only: bool = True
    """Whether the container may only read it (tickets are the host's to renew)."""

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {"source": self.source, "target": self.target, "read_only": self.read_only}


@dataclass(frozen=True)
class PreparedContainer:
    """What one container needs from the host to run with its gMSA identity.

    Windows fills :attr:`file` and :attr:`security_option`; Linux fills
    :attr:`mounts` and :attr:`environment` and leaves the first two empty.
    """

    name: str
    """The container's name in the task definition."""
    reference: str
    """The credential spec reference as written in the task definition."""
    file: str = ""
    """The spec's file name in the CredentialSpecs directory (relative, ``/`` separated);
    empty on Linux, where no file is written."""
    security_option: str = ""
    """The Docker security option to start the container with:
    ``credentialspec=file://NAME``; empty on Linux."""
    written: bool = False
    """Whether the agent wrote the file (``False`` for a user's own ``file://`` spec)."""
    registry_key: str | None = None
    """Domainless only: the registry key (``HKLM\\...``) the CCG plugin reads the execution
    role's credentials from. The agent reports it and stores no credentials."""
    mounts: tuple[Mount, ...] = ()
    """Linux: bind mounts to add (the gMSA's ticket directory, read-only)."""
    environment: dict[str, str] = field(default_factory=dict)
    """Linux: environment variables to add (``KRB5CCNAME``, which the ECS agent never sets)."""
    gmsa: str | None = None
    """Linux: the gMSA (``Name`` of the spec, without ``$``) whose ticket the container gets."""

    def to_dict(self) -> dict[str, Any]:
        """The container as JSON output."""
        out: dict[str, Any] = {
            "name": self.name,
            "reference": self.reference,
            "file": self.file or None,
            "security_option": self.security_option or None,
            "written": self.written,
        }
        if self.registry_key is not None:
            out["registry_key"] = self.registry_key
        if self.gmsa is not None:
            out["gmsa"] = self.gmsa
        if self.mounts or self.environment:
            out["mounts"] = [m.to_dict() for m in self.mounts]
            out["environment"] = dict(self.environment)
        return out


@dataclass(frozen=True)
class PreparedTask:
    """The result of preparing a task."""

    task_id: str
    """The task id the files are named after."""
    containers: tuple[PreparedContainer, ...]
    """One entry per container that has a credential spec, in task-definition order."""
    warnings: tuple[Finding, ...]
    """Things that will work but deserve a look (a placeholder task ARN, a spec shape)."""
    lease_id: str | None = None
    """Linux: the Kerberos lease the ticket service made for the task."""

    def to_dict(self) -> dict[str, Any]:
        """The result as ``--json`` output."""
        out: dict[str, Any] = {
            "task_id": self.task_id,
            "containers": [c.to_dict() for c in self.containers],
            "warnings": [w.to_dict() for w in self.warnings],
        }
        if self.lease_id is not None:
            out["lease_id"] = self.lease_id
        return out


@dataclass(frozen=True)
class KeptFile:
    """A file cleanup left in place, and why."""

    file: str
    """Its name in the CredentialSpecs directory."""
    reason: str
    """Why it was kept, e.g. its content changed after prepare."""

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {"file": self.file, "reason": self.reason}


@dataclass(frozen=True)
class CleanupResult:
    """The result of cleaning up a task."""

    task_id: str
    """The task id."""
    known: bool
    """Whether the host had a record of preparing this task. Cleaning up an unknown
    task succeeds and removes nothing, so a retried cleanup is harmless."""
    removed: tuple[str, ...]
    """Files removed, as named in the CredentialSpecs directory."""
    kept: tuple[KeptFile, ...]
    """Files recorded for the task but left in place (modified since prepare)."""
    missing: tuple[str, ...] = ()
    """Files recorded for the task that were already gone."""
    lease_id: str | None = None
    """Linux: the task's lease, deleted (its ticket directories are in :attr:`removed`)."""
    leases: tuple[str, ...] = ()
    """Linux: every lease deleted: the task's own and any that a prepare killed part-way,
    or one replacing the lease, had made."""

    def to_dict(self) -> dict[str, Any]:
        """The result as ``--json`` output."""
        out: dict[str, Any] = {
            "task_id": self.task_id,
            "known": self.known,
            "removed": list(self.removed),
            "kept": [k.to_dict() for k in self.kept],
            "missing": list(self.missing),
        }
        if self.lease_id is not None:
            out["lease_id"] = self.lease_id
        if self.leases:
            out["leases_deleted"] = list(self.leases)
        return out


@dataclass(frozen=True)
class Renewal:
    """One time a running task's credentials were renewed, or could not be."""

    reason: str
    """Why: ``credentials-refreshed`` (the task execution role's credentials changed),
    ``ticket-service-restarted`` (the service holds the lease but not its user's
    password), or ``lease-missing`` (the service holds no such lease any more: nothing can
    be renewed, said once)."""
    ok: bool
    """Whether the renewal succeeded; the tickets in place stay valid either way."""
    renewed: tuple[str, ...] = ()
    """The task's ticket directories that got a fresh ticket."""
    error: str | None = None
    """What failed (never a secret); it is tried again at the next check."""

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "reason": self.reason,
            "ok": self.ok,
            "renewed": list(self.renewed),
            "error": self.error,
        }


class TaskKeeper(ABC):
    """Keeps a running task's credentials alive: polled while its containers run."""

    renewals: list[Renewal]
    """Every renewal so far, in order."""

    @abstractmethod
    def poll(self) -> Renewal | None:
        """Check (at the keeper's own pace) whether the task needs a renewal and make it;
        the renewal made, if any. Never raises: a failure is a failed :class:`Renewal`."""


class HostAgent(ABC):
    """Prepares a task's gMSA credentials on a host and cleans them up afterwards."""

    def keeper(self, task_def: TaskDefinition, prepared: PreparedTask) -> TaskKeeper | None:
        """What keeps the prepared task's credentials alive while it runs; None when the
        platform needs nothing (the default)."""
        return None

    @abstractmethod
    def prepare(
        self, task_def: TaskDefinition, task_id: str, task_arn: str | None = None
    ) -> PreparedTask:
        """Fetch, validate and hand over every credential spec the task references.

        All or nothing: when any container fails, nothing of the task stays on the
        host and a :class:`HostAgentError` says which container and why. Preparing a
        task again gives the same result.
        """

    @abstractmethod
    def cleanup(self, task_id: str) -> CleanupResult:
        """Take away what :meth:`prepare` set up for the task, and nothing else."""


__all__ = [
    "TASK_ID_MAX",
    "CleanupResult",
    "HostAgent",
    "HostAgentError",
    "HostStateError",
    "InvalidTaskIdError",
    "KeptFile",
    "Mount",
    "PreparedContainer",
    "PreparedTask",
    "Renewal",
    "TaskInputError",
    "TaskKeeper",
    "check_task_id",
]
