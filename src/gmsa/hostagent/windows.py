"""The Windows host agent: credential specs into Docker's CredentialSpecs directory.

This is what the ECS agent's credentialspec task resource does on Windows, with
its gaps closed (``docs/background.md#the-ecs-agent-on-windows``,
``docs/decisions/0006-host-agent-files.md``):

- every spec is fetched and validated *before* anything is written, and a write
  that fails part-way is undone, so a failed task leaves nothing behind;
- names come from the task id and a hash of the whole reference, so two S3 keys
  with one basename do not collide and preparing a task twice writes the same
  names with the same content;
- a ledger records each file and its digest *before* the file is written;
  cleanup removes exactly those (and their temporary files), and only while
  their content is what gmsa wrote, so even a prepare killed half-way leaves
  nothing cleanup cannot remove;
- the directory is opened once and every name below it is resolved without
  following links (:class:`~gmsa.fsutil.DirHandle`), and work on one task id is
  serialised across processes by a lock next to the ledger;
- a shared :class:`~gmsa.source.fetcher.SpecFetcher` (with its cache) lets many
  tasks that use one spec share one fetch, which the ECS agent does not do, and a
  spec's content is validated once however many tasks use it.

Files are replaced atomically (a reader sees the old file or the whole new one) but
not fsynced: they serve running containers, which do not survive a power loss, and
prepare writes them again, identically, for any new task. The ECS agent does not
fsync them either.

A user's own ``file://`` spec (domain-joined) is already where Docker reads it:
it is validated in place, never copied, never removed. It is read like every
other name below the directory: relative to the directory opened once, never
through a symbolic link, so a link planted at a spec's name cannot make the agent
validate (or, for a domainless reference, copy) a file from elsewhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from gmsa.credspec.model import CredentialSpec
from gmsa.credspec.render import render, with_plugin_input
from gmsa.credspec.validate import CredentialSpecError, check_bytes
from gmsa.errors import GmsaError, InvalidInputError
from gmsa.findings import Finding, warning_about
from gmsa.fsutil import DirHandle
from gmsa.hostagent.interface import (
    CleanupResult,
    HostAgent,
    HostAgentError,
    HostStateError,
    KeptFile,
    PreparedContainer,
    PreparedTask,
    TaskInputError,
    check_task_id,
)
from gmsa.hostagent.ledger import (
    MAX_LEDGER_BYTES,
    Ledger,
    LedgerEntry,
    check_same_definition,
    file_prefix,
    ledger_path,
    locked_task,
    read_ledger,
    remove_ledger,
    task_definition_identity,
    temp_name,
    write_ledger,
)
from gmsa.hostagent.plan import ReferencePlan, no_reference_warning, plan_references
from gmsa.reference import FileLocation, Mode, Reference
from gmsa.source.fetcher import SpecFetcher
from gmsa.source.localdir import LocalDirSource
from gmsa.taskdef.model import TaskDefinition

CCG_REGISTRY_BASE = "HKLM\\System\\CurrentControlSet\\Services\\AmazonECSCCGPlugin"
"""Registry key under which the ECS agent stores a domainless task's execution-role
credentials for the CCG plugin, one subkey per task ARN."""

SECURITY_OPTION_PREFIX = "credentialspec=file://"
"""Docker's security option for a spec file in the CredentialSpecs directory."""

_TASK_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):ecs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"task/(?:(?P<cluster>[A-Za-z0-9_-]{1,255})/)?(?P<id>[A-Za-z0-9_-]{1,64})$"
)


def spec_file_name(task_id: str, reference: Reference) -> str:
    """The file name gmsa writes ``reference``'s spec to for ``task_id``.

    ``gmsa_<taskId>_<s3|ssm|file>_<16 hex>.json``, the hex being the start of the
    SHA-256 of the whole reference (prefix included, so a domain-joined and a
    domainless use of one location get different files). Stable across runs and
    distinct for distinct references of a task.
    """
    digest = hashlib.sha256(str(reference).encode("utf-8")).hexdigest()[:16]
    return f"{file_prefix(task_id)}{reference.kind}_{digest}.json"


def registry_key_for(task_arn: str) -> str:
    """The registry key the CCG plugin reads a domainless task's credentials from."""
    return f"{CCG_REGISTRY_BASE}\\{task_arn}"


def check_task_arn(task_arn: str) -> re.Match[str]:
    """Parse an ECS task ARN, raising :class:`TaskInputError` when it is not one.

    The ARN becomes a registry key name, which cannot hold a backslash; the ECS
    forms are ``task/<id>`` and ``task/<cluster>/<id>``.
    """
    match = _TASK_ARN_RE.match(task_arn)
    if match is None:
        raise TaskInputError(
            "not an ECS task ARN",
            where=f"--task-arn {task_arn!r}",
            fix="give arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/TASK_ID (from describe-tasks)",
        )
    return match


@dataclass
class _Plan(ReferencePlan):
    """One distinct reference of the task: what to fetch, validate and write."""

    name: str = ""
    content: bytes | None = None
    """Bytes to write; ``None`` for a user's own file, which is used in place."""
    registry_key: str | None = None


@dataclass(frozen=True)
class _Checked:
    """A validated spec, kept by content so tasks sharing a spec validate it once."""

    spec: CredentialSpec
    warnings: tuple[Finding, ...]
    rendered: bytes


_PERMISSIONS_FIX = "check permissions on the CredentialSpecs directory"
_CHECKED_MAX = 256
"""Distinct spec contents remembered as validated (a host runs a few services)."""
_LOCK_STRIPES = 64
"""Locks shared out among task ids by hash."""


class WindowsHostAgent(HostAgent):
    """Prepares tasks in one CredentialSpecs directory; safe to share between threads.

    ``fetcher`` reads S3 and SSM specs (with the task execution role's
    credentials); give every agent of a process one fetcher with one
    :class:`~gmsa.source.cache.SpecCache` so tasks that share a spec share its
    fetch. ``file://`` specs are read from ``credspec_dir`` itself.
    """

    def __init__(self, credspec_dir: Path, fetcher: SpecFetcher) -> None:
        self.credspec_dir = Path(credspec_dir)
        self.fetcher = fetcher
        self._files = LocalDirSource(self.credspec_dir, follow_links=False)
        self._checked: dict[bytes, _Checked] = {}
        # Striped locks: one task's prepare and cleanup never interleave in this
        # process, and the number of locks stays bounded however many tasks pass.
        self._stripes = tuple(threading.Lock() for _ in range(_LOCK_STRIPES))

    # ------------------------------------------------------------------ prepare

    def prepare(
        self, task_def: TaskDefinition, task_id: str, task_arn: str | None = None
    ) -> PreparedTask:
        """Fetch, validate and write every spec of the task; all or nothing."""
        check_task_id(task_id)
        root = self._root()
        warnings: list[Finding] = []
        key_name = self._registry_subkey(task_id, task_arn, warnings)
        plans, per_container = self._plan(task_def, task_id)
        if not per_container:
            warnings.append(no_reference_warning(task_def))
        if task_arn is None and any(p.reference.mode is Mode.DOMAINLESS for p in plans.values()):
            warnings.append(
                warning_about(
                    "task-arn-placeholder",
                    "--task-arn",
                    "no task ARN given: domainless specs get regKeyPath "
                    f"{registry_key_for(task_id)} (the task id in place of the task ARN the "
                    "ECS agent uses)",
                    "give --task-arn with the task's ARN when the CCG plugin must find the "
                    "ECS agent's registry key",
                )
            )
        for plan in plans.values():
            self._load(plan, key_name, warnings)
        identity = task_definition_identity(task_def)
        with self._locked(task_id) as handle:
            assert handle is not None
            left = self._commit(handle, task_id, task_arn, identity, list(plans.values()))
        if left:
            warnings.append(
                warning_about(
                    "stale-files-left",
                    str(root),
                    "files of an earlier prepare of this task that it no longer uses were "
                    "left in place: " + ", ".join(left),
                    "remove them by hand once no container uses them",
                )
            )
        containers = tuple(
            PreparedContainer(
                name=name,
                reference=plan.raw,
                file=plan.name,
                security_option=SECURITY_OPTION_PREFIX + plan.name,
                written=plan.content is not None,
                registry_key=plan.registry_key,
            )
            for name, plan in per_container
        )
        return PreparedTask(task_id=task_id, containers=containers, warnings=tuple(warnings))

    def _root(self) -> Path:
        root = self.credspec_dir
        if not root.is_dir():
            raise HostStateError(
                "the CredentialSpecs directory does not exist",
                where=str(root),
                fix="give Docker's CredentialSpecs directory (on Windows "
                "%ProgramData%\\docker\\CredentialSpecs), or create it",
            )
        return root

    @contextlib.contextmanager
    def _locked(self, task_id: str, *, create: bool = True) -> Iterator[DirHandle | None]:
        """The directory, opened once, with the task locked in this process and across
        processes; ``None`` (nothing locked) when ``create`` is false and no ledger
        directory exists."""
        root = self._root()
        with (
            self._task_lock(task_id),
            locked_task(root, task_id, private=False, fix=_PERMISSIONS_FIX, create=create) as held,
        ):
            yield held

    def _registry_subkey(self, task_id: str, task_arn: str | None, warnings: list[Finding]) -> str:
        if task_arn is None:
            return task_id
        match = check_task_arn(task_arn)
        if match.group("id") != task_id:
            warnings.append(
                warning_about(
                    "task-arn-id-mismatch",
                    "--task-arn",
                    f"the task ARN ends in {match.group('id')!r}, not the task id {task_id!r}",
                    "give the ARN of the task being prepared",
                )
            )
        return task_arn

    def _plan(
        self, task_def: TaskDefinition, task_id: str
    ) -> tuple[dict[str, _Plan], list[tuple[str, _Plan]]]:
        """Group the task's references and name the file each one's spec goes to."""
        plans, per_container = plan_references(task_def, _Plan)
        for plan in plans.values():
            location = plan.reference.location
            if isinstance(location, FileLocation) and plan.reference.mode is Mode.DOMAIN_JOINED:
                plan.name = location.path
            else:
                plan.name = spec_file_name(task_id, plan.reference)
        return plans, per_container

    def _load(self, plan: _Plan, key_name: str, warnings: list[Finding]) -> None:
        """Fetch and validate one reference's spec and decide what to write."""
        reference = plan.reference
        container = plan.containers[0]
        try:
            data = self._fetch(reference)
            checked = self._validate(data, plan.raw)
            warnings.extend(plan.located(found) for found in checked.warnings)
            if reference.mode is Mode.DOMAINLESS:
                plan.registry_key = registry_key_for(key_name)
                plan.content = _domainless_content(checked.spec, plan.registry_key, plan.raw)
                return
            if checked.spec.is_domainless:
                warnings.append(_domainless_spec_warning(plan.raw))
            is_file = isinstance(reference.location, FileLocation)
            plan.content = None if is_file else checked.rendered
        except GmsaError as exc:
            raise HostAgentError.for_container(container, plan.raw, exc) from exc

    def _fetch(self, reference: Reference) -> bytes:
        location = reference.location
        if isinstance(location, FileLocation):
            # Read in place, uncached: the user's file may change between tasks; below
            # the directory the agent writes in, never through a link.
            return self._files.fetch(location).data
        return self.fetcher.fetch(location).data

    def _validate(self, data: bytes, source: str) -> _Checked:
        """Validate ``data``, once per distinct content: many tasks share one spec."""
        checked = self._checked.get(data)
        if checked is not None:
            return checked
        report = check_bytes(data, source=source)
        if not report.valid or report.spec is None:
            raise CredentialSpecError(report.findings, source=source)
        checked = _Checked(
            spec=report.spec,
            warnings=report.warnings,
            rendered=(render(report.spec) + "\n").encode("utf-8"),
        )
        if len(self._checked) >= _CHECKED_MAX:
            self._checked.clear()
        self._checked[data] = checked
        return checked

    def _commit(
        self,
        root: DirHandle,
        task_id: str,
        task_arn: str | None,
        identity: str,
        plans: list[_Plan],
    ) -> list[str]:
        """Record the files, then write them; undo on failure.

        The ledger lists every file before it is written, so a crash at any point
        leaves nothing cleanup cannot find; it is written again afterwards only when
        it listed more than the task now uses. A task prepared before with other
        references keeps only what it uses now: files of the old ledger that are no
        longer used are removed (if unchanged); the ones left are returned for a warning.
        """
        previous = read_ledger(root, task_id)
        if previous is not None:
            check_same_definition(
                previous.task_definition, identity, task_id, ledger_path(root.path, task_id)
            )
        before = {e.name: e for e in previous.files} if previous is not None else {}
        writes: list[tuple[_Plan, LedgerEntry]] = []
        for plan in plans:
            if plan.content is None:
                continue
            digest = hashlib.sha256(plan.content).hexdigest()
            earlier = before[plan.name].digests() - {digest} if plan.name in before else ()
            entry = LedgerEntry(
                name=plan.name,
                sha256=digest,
                reference=str(plan.reference),
                containers=tuple(plan.containers),
                earlier=tuple(sorted(earlier)),
            )
            writes.append((plan, entry))
        entries = tuple(replace(entry, earlier=()) for _, entry in writes)
        current = {e.name for e in entries}
        stale = [e for e in before.values() if e.name not in current]
        final = Ledger(task_id=task_id, task_arn=task_arn, files=entries, task_definition=identity)
        intent = replace(final, files=tuple(entry for _, entry in writes) + tuple(stale))
        undo: list[tuple[str, bytes | None]] = []
        try:
            if intent != previous:
                write_ledger(root, intent)
            for entry in before.values():  # a killed prepare's temporary files
                root.unlink(temp_name(entry.name))
            for plan, entry in writes:
                assert plan.content is not None
                old = _read_regular(root, entry.name)
                if old != plan.content:
                    root.write_atomic(
                        entry.name, plan.content, durable=False, temp=temp_name(entry.name)
                    )
                    undo.append((entry.name, old))
        except GmsaError as exc:
            failed = _undo(root, undo)
            fix = exc.fix
            if failed:
                fix = (fix + "; " if fix else "") + (
                    "these files could not be rolled back; the task's ledger still lists "
                    f"them: run gmsa task cleanup --task-id {task_id} ({', '.join(failed)})"
                )
            else:
                _restore(root, task_id, previous)
            if isinstance(exc, HostAgentError):
                exc.fix = fix
                raise
            raise HostStateError(
                f"cannot write the task's specs: {exc.what}",
                where=exc.where,
                fix=fix,
                exit_code=exc.exit_code,
            ) from exc
        left: list[str] = []
        for old_entry in stale:
            try:
                outcome = _remove_if_unchanged(root, old_entry.name, old_entry.digests())
            except HostStateError:
                outcome = "cannot be removed"
            if outcome not in ("removed", "missing"):
                left.append(f"{old_entry.name} ({outcome})")
        try:
            if final != intent:
                write_ledger(root, final)
        except HostStateError as exc:
            exc.fix = (exc.fix + "; " if exc.fix else "") + (
                "the task's files are written and its ledger lists them: "
                f"gmsa task cleanup --task-id {task_id} removes them"
            )
            raise
        return left

    def _task_lock(self, task_id: str) -> threading.Lock:
        digest = hashlib.sha256(task_id.encode("utf-8")).digest()
        return self._stripes[digest[0] % _LOCK_STRIPES]

    # ------------------------------------------------------------------ cleanup

    def cleanup(self, task_id: str) -> CleanupResult:
        """Remove the files the task's ledger lists while they still hold what gmsa
        wrote (and the temporary files of a prepare that was killed); report the
        others. An unknown task is not an error."""
        check_task_id(task_id)
        unknown = CleanupResult(task_id=task_id, known=False, removed=(), kept=())
        with self._locked(task_id, create=False) as root:
            if root is None:
                return unknown
            ledger = read_ledger(root, task_id)
            if ledger is None:
                remove_ledger(root, task_id)  # a temporary copy a killed prepare left
                return unknown
            removed: list[str] = []
            kept: list[KeptFile] = []
            missing: list[str] = []
            for entry in ledger.files:
                outcome = _remove_if_unchanged(root, entry.name, entry.digests())
                if outcome == "removed":
                    removed.append(entry.name)
                elif outcome == "missing":
                    missing.append(entry.name)
                else:
                    kept.append(KeptFile(file=entry.name, reason=outcome))
                _unlink(root, temp_name(entry.name))  # left if a prepare was killed
            remove_ledger(root, task_id)
        return CleanupResult(
            task_id=task_id,
            known=True,
            removed=tuple(removed),
            kept=tuple(kept),
            missing=tuple(missing),
        )

    def ledger_path(self, task_id: str) -> Path:
        """Where the ledger of ``task_id`` is kept (for reports and tests)."""
        return ledger_path(self.credspec_dir, check_task_id(task_id))


def _domainless_content(spec: CredentialSpec, registry_key: str, source: str) -> bytes:
    if spec.host_account_config is None:
        raise TaskInputError(
            "a credentialspecdomainless: reference needs a domainless spec (with "
            "ActiveDirectoryConfig.HostAccountConfig)",
            where=source,
            fix="use credentialspec: on a domain-joined host, or add HostAccountConfig to the "
            "spec (PluginGUID, PortableCcgVersion and PluginInput with the credentialArn)",
        )
    updated = with_plugin_input(spec, {"regKeyPath": registry_key})
    return (render(updated) + "\n").encode("utf-8")


def _domainless_spec_warning(source: str) -> Finding:
    return warning_about(
        "domainless-spec-domain-joined-reference",
        source,
        "the spec has HostAccountConfig (domainless) but the reference is credentialspec: "
        "(domain-joined), so the agent sets no regKeyPath for the CCG plugin",
        "use credentialspecdomainless: for a host outside the domain",
    )


def _read_regular(root: DirHandle, name: str) -> bytes | None:
    """The content of ``name`` if it is a regular file (not a link), else ``None``."""
    try:
        return root.read(name, max_bytes=MAX_LEDGER_BYTES)
    except GmsaError:
        return None


def _unlink(root: DirHandle, name: str) -> None:
    try:
        root.unlink(name)
    except GmsaError as exc:
        raise HostStateError(exc.what, where=exc.where, fix=_PERMISSIONS_FIX) from None


def _undo(root: DirHandle, undo: list[tuple[str, bytes | None]]) -> list[str]:
    """Put back what a failed prepare changed; names of files that could not be."""
    failed: list[str] = []
    for name, old in reversed(undo):
        try:
            if old is None:
                root.unlink(name)
            else:
                root.write_atomic(name, old, durable=False, temp=temp_name(name))
        except (OSError, GmsaError):
            failed.append(name)
    return failed


def _restore(root: DirHandle, task_id: str, previous: Ledger | None) -> None:
    """Put the ledger back as it was before a prepare that failed and was undone."""
    with contextlib.suppress(GmsaError):
        if previous is None:
            remove_ledger(root, task_id)
        else:
            write_ledger(root, previous)


def _remove_if_unchanged(root: DirHandle, name: str, digests: frozenset[str]) -> str:
    """Remove ``name`` if it still holds content with one of ``digests``.

    Returns ``removed``, ``missing`` or the reason it was kept.
    """
    path = root.child(name)
    try:
        info = root.lstat(name)
        if info is None:
            return "missing"
        if stat.S_ISLNK(info.st_mode):
            return "replaced by a symbolic link after prepare"
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file any more"
        data = root.read(name, max_bytes=MAX_LEDGER_BYTES)
    except InvalidInputError:
        return "content changed after prepare"
    except GmsaError as exc:
        raise HostStateError(
            f"cannot read a task's spec file: {exc.what}", where=str(path), fix=_PERMISSIONS_FIX
        ) from None
    if data is None:
        return "missing"
    if hashlib.sha256(data).hexdigest() not in digests:
        return "content changed after prepare"
    try:
        if not root.unlink(name):
            return "missing"
    except GmsaError as exc:
        raise HostStateError(
            f"cannot remove a task's spec file: {exc.what}",
            where=str(path),
            fix=f"{_PERMISSIONS_FIX}; the file may be in use",
        ) from None
    return "removed"


__all__ = [
    "CCG_REGISTRY_BASE",
    "SECURITY_OPTION_PREFIX",
    "WindowsHostAgent",
    "check_task_arn",
    "registry_key_for",
    "spec_file_name",
]
