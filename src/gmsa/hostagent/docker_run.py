"""Run a task's containers on a Docker engine with what the host agent prepared.

The ECS agent starts a task's containers itself; ``gmsa task run`` does the same on
any Docker engine so a credential spec can be tried end to end without ECS. Each
container definition becomes a Docker container with the task definition's image,
command, entry point, environment, user, hostname, network mode and mount points of
host volumes, plus what the host agent returned for it: bind mounts and environment
variables on Linux (the Kerberos ticket directory and ``KRB5CCNAME``), a
``credentialspec=`` security option on Windows.

Everything a run creates is taken away when it ends, however it ends: containers
(found by their ``gmsa.task-id`` label) are removed and the host agent cleans up the
task, after a container exits, a start fails, or the run is interrupted.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.types import Mount as DockerMount

from gmsa.errors import ExitCode, ExternalError, InvalidInputError
from gmsa.findings import json_path
from gmsa.hostagent.interface import (
    HostAgent,
    Mount,
    PreparedContainer,
    PreparedTask,
    Renewal,
    check_task_id,
)
from gmsa.taskdef.model import ContainerDefinition, TaskDefinition

LABEL_TASK_ID = "gmsa.task-id"
"""Label on every container a run creates: the task id. Cleanup finds containers by it."""
LABEL_CONTAINER = "gmsa.container"
"""Label on every container a run creates: its name in the task definition."""
NETWORK_MODES = ("host", "none", "bridge")
"""Task ``networkMode`` values a plain Docker engine can give (``awsvpc`` needs ECS)."""
STOP_TIMEOUT = 10
"""Seconds a container gets between SIGTERM and SIGKILL when the run stops it, unless its
definition sets ``stopTimeout``."""
_POLL_SECONDS = 0.2


class TaskRunInputError(InvalidInputError):
    """A container definition cannot be run as written (no image, wrong types)."""

    code = "invalid-task-run"


class DockerEngineError(ExternalError):
    """The Docker engine cannot be reached, or refused to create or start a container."""

    code = "docker-failure"


@dataclass(frozen=True)
class ContainerPlan:
    """Everything needed to create one Docker container of the task."""

    name: str
    """The container's name in the task definition."""
    image: str
    """The image; never pulled, it must be on the engine."""
    command: tuple[str, ...] | None
    """``command``, when the definition sets it."""
    entrypoint: tuple[str, ...] | None
    """``entryPoint``, when the definition sets it."""
    environment: Mapping[str, str]
    """The definition's ``environment`` plus the host agent's variables (these win)."""
    user: str | None
    """``user``, when set."""
    hostname: str | None
    """``hostname``, when set (ignored by Docker on the host network)."""
    essential: bool
    """When an essential container exits, the task stops (ECS's rule; default true)."""
    network_mode: str
    """``host``, ``none`` or ``bridge``."""
    mounts: tuple[Mount, ...] = ()
    """Bind mounts: the definition's ``mountPoints`` of host volumes, then the host
    agent's."""
    stop_timeout: int = STOP_TIMEOUT
    """``stopTimeout``: seconds between SIGTERM and SIGKILL when the task stops it."""
    security_opt: tuple[str, ...] = ()
    """Docker security options: the host agent's ``credentialspec=`` on Windows."""

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON (environment names only: values may be secrets)."""
        return {
            "name": self.name,
            "image": self.image,
            "essential": self.essential,
            "network_mode": self.network_mode,
            "environment": sorted(self.environment),
            "mounts": [m.to_dict() for m in self.mounts],
            "security_opt": list(self.security_opt),
        }


@dataclass(frozen=True)
class ContainerOutcome:
    """How one container of the task ended."""

    name: str
    """The container's name in the task definition."""
    container_id: str
    """The Docker container id."""
    essential: bool
    """Whether it was essential."""
    exit_code: int | None
    """Its exit code; ``None`` when still running (a detached run)."""
    logs: str = ""
    """What it wrote to stdout and stderr."""

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "name": self.name,
            "container_id": self.container_id,
            "essential": self.essential,
            "exit_code": self.exit_code,
            "logs": self.logs,
        }


@dataclass(frozen=True)
class RunResult:
    """The result of running a task."""

    task_id: str
    """The task id the containers are labelled with."""
    containers: tuple[ContainerOutcome, ...]
    """One entry per container, in task-definition order."""
    detached: bool = False
    """Whether the run returned with the containers still running."""
    prepared: PreparedTask | None = None
    """What the host agent prepared, when the task had credential specs."""
    cleaned_up: bool = field(default=True)
    """Whether containers and prepared state were removed (false only when detached)."""
    renewals: tuple[Renewal, ...] = ()
    """What kept the task's credentials alive while it ran (a domainless Linux task's
    lease renewals), in order."""

    @property
    def exit_code(self) -> int:
        """0 when every essential container exited 0 (or a detached run started), else 1."""
        if self.detached:
            return int(ExitCode.OK)
        failed = any(c.essential and c.exit_code != 0 for c in self.containers)
        return int(ExitCode.INVALID if failed else ExitCode.OK)

    def to_dict(self) -> dict[str, Any]:
        """As ``--json`` output."""
        return {
            "task_id": self.task_id,
            "detached": self.detached,
            "exit_code": self.exit_code,
            "containers": [c.to_dict() for c in self.containers],
            "prepared": self.prepared.to_dict() if self.prepared else None,
            "renewals": [r.to_dict() for r in self.renewals],
        }


def new_task_id() -> str:
    """A fresh task id in ECS's shape (32 hex digits)."""
    return uuid.uuid4().hex


def connect(docker_host: str | None = None) -> docker.DockerClient:
    """A client for the engine at ``docker_host`` (``DOCKER_HOST`` or the default when
    ``None``), checked with a ping so an unreachable engine fails here, clearly."""
    where = docker_host or "DOCKER_HOST or the default socket"
    try:
        client = docker.DockerClient(base_url=docker_host) if docker_host else docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise DockerEngineError(
            f"cannot reach the Docker engine: {_short(exc)}",
            where=where,
            fix="start dockerd, or give its socket with --docker-host unix:///path/docker.sock",
        ) from exc
    return client


def _short(exc: BaseException) -> str:
    if isinstance(exc, docker.errors.APIError) and exc.explanation:
        return str(exc.explanation)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _string_list(container: ContainerDefinition, key: str, source: str) -> tuple[str, ...] | None:
    value = container.raw.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaskRunInputError(
            f"{key} must be an array of strings",
            where=f"{source}: {json_path(container.path, key)}",
            fix=f'write "{key}": ["program", "argument"]',
        )
    return tuple(value)


def _optional_str(container: ContainerDefinition, key: str, source: str) -> str | None:
    value = container.raw.get(key)
    if value is None or isinstance(value, str):
        return value
    raise TaskRunInputError(
        f"{key} must be a string",
        where=f"{source}: {json_path(container.path, key)}",
        fix=f'write "{key}": "..." or remove it',
    )


def _array(value: Any, key: str, where: str, fix: str) -> list[Any]:
    """The entries of an optional array field: none when it is absent."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise TaskRunInputError(f"{key} must be an array", where=where, fix=fix)
    return value


def _environment(container: ContainerDefinition, source: str) -> dict[str, str]:
    where = f"{source}: {json_path(container.path, 'environment')}"
    fix = 'write "environment": [{"name": "NAME", "value": "text"}]'
    env: dict[str, str] = {}
    for i, item in enumerate(_array(container.raw.get("environment"), "environment", where, fix)):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("name"), str)
            or not isinstance(item.get("value", ""), str)
        ):
            raise TaskRunInputError(
                "each environment entry needs a string name and a string value",
                where=f"{source}: {json_path(container.path, 'environment', i)}",
                fix=fix,
            )
        env[item["name"]] = item.get("value", "")
    return env


def _network_mode(task_def: TaskDefinition) -> str:
    mode = task_def.network_mode
    if mode is None or mode == "default":
        return "bridge"
    if mode not in NETWORK_MODES:
        raise TaskRunInputError(
            f"networkMode {mode!r} cannot be given by a plain Docker engine",
            where=f"{task_def.source}: {task_def.path_in_source('networkMode')}",
            fix="use host, none or bridge to run the task here (awsvpc needs ECS)",
        )
    return mode


def _task_volumes(task_def: TaskDefinition) -> dict[str, str]:
    """The task's ``volumes`` that name a host directory: volume name to ``host.sourcePath``.

    A plain Docker engine can give only bind mounts of host paths; a volume without a
    ``sourcePath`` (a Docker-managed or EFS volume) is refused when a container mounts it.
    """
    where = f"{task_def.source}: {task_def.path_in_source('volumes')}"
    fix = 'write "volumes": [{"name": "conf", "host": {"sourcePath": "/etc/krb5.conf"}}]'
    volumes: dict[str, str] = {}
    for i, item in enumerate(_array(task_def.raw.get("volumes"), "volumes", where, fix)):
        item_where = f"{task_def.source}: {task_def.path_in_source(json_path('volumes', i))}"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise TaskRunInputError("each volume needs a string name", where=item_where, fix=fix)
        host = item.get("host")
        source_path = host.get("sourcePath") if isinstance(host, dict) else None
        if isinstance(source_path, str) and source_path.startswith("/"):
            volumes[item["name"]] = source_path
    return volumes


def _mount_points(
    container: ContainerDefinition, volumes: Mapping[str, str], source: str
) -> tuple[Mount, ...]:
    """The container's ``mountPoints`` as bind mounts of the task's host volumes."""
    fix = (
        'write "mountPoints": [{"sourceVolume": "conf", "containerPath": "/etc/krb5.conf", '
        '"readOnly": true}] naming a task volume with host.sourcePath'
    )
    value = _array(
        container.raw.get("mountPoints"),
        "mountPoints",
        f"{source}: {json_path(container.path, 'mountPoints')}",
        fix,
    )
    mounts: list[Mount] = []
    for i, item in enumerate(value):
        where = f"{source}: {json_path(container.path, 'mountPoints', i)}"
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("sourceVolume"), str)
            or not isinstance(item.get("containerPath"), str)
            or not item["containerPath"].startswith("/")
            or not isinstance(item.get("readOnly", False), bool)
        ):
            raise TaskRunInputError(
                "each mount point needs a sourceVolume, an absolute containerPath and "
                "readOnly true or false",
                where=where,
                fix=fix,
            )
        host_path = volumes.get(item["sourceVolume"])
        if host_path is None:
            raise TaskRunInputError(
                f"mount point volume {item['sourceVolume']!r} is not a task volume with a "
                "host sourcePath",
                where=where,
                fix=fix,
            )
        mounts.append(Mount(host_path, item["containerPath"], item.get("readOnly", False)))
    return tuple(mounts)


def _additions(
    container: PreparedContainer | None,
) -> tuple[tuple[Mount, ...], dict[str, str], tuple[str, ...]]:
    """The host agent's additions for a container: mounts, environment, security options.

    A Linux agent hands over mounts and environment variables, a Windows agent a
    ``credentialspec=`` security option (which a Linux engine would refuse).
    """
    if container is None:
        return (), {}, ()
    option = container.security_option
    security = (option,) if option and not container.mounts else ()
    return tuple(container.mounts), dict(container.environment), security


def plan_task(
    task_def: TaskDefinition, prepared: PreparedTask | None = None
) -> tuple[ContainerPlan, ...]:
    """Turn the task definition (and what the host agent prepared) into container plans.

    Raises :class:`TaskRunInputError` for a field that cannot be run as written, before
    anything is created.
    """
    source = task_def.source
    network = _network_mode(task_def)
    volumes = _task_volumes(task_def)
    by_name = {c.name: c for c in prepared.containers} if prepared else {}
    plans: list[ContainerPlan] = []
    for container in task_def.containers:
        image = _optional_str(container, "image", source)
        if not image:
            raise TaskRunInputError(
                "the container has no image",
                where=f"{source}: {json_path(container.path, 'image')}",
                fix='write "image": "name:tag" (an image already on the Docker engine)',
            )
        essential = container.raw.get("essential", True)
        if not isinstance(essential, bool):
            raise TaskRunInputError(
                "essential must be true or false",
                where=f"{source}: {json_path(container.path, 'essential')}",
                fix='write "essential": true or remove it',
            )
        stop_timeout = container.raw.get("stopTimeout", STOP_TIMEOUT)
        if isinstance(stop_timeout, bool) or not isinstance(stop_timeout, int) or stop_timeout < 0:
            raise TaskRunInputError(
                "stopTimeout must be a whole number of seconds",
                where=f"{source}: {json_path(container.path, 'stopTimeout')}",
                fix='write "stopTimeout": 10 or remove it',
            )
        mounts, extra_env, security = _additions(by_name.get(container.name))
        plans.append(
            ContainerPlan(
                name=container.name,
                image=image,
                command=_string_list(container, "command", source),
                entrypoint=_string_list(container, "entryPoint", source),
                environment={**_environment(container, source), **extra_env},
                user=_optional_str(container, "user", source),
                hostname=container.hostname,
                essential=essential,
                network_mode=network,
                mounts=_mount_points(container, volumes, source) + mounts,
                stop_timeout=stop_timeout,
                security_opt=security,
            )
        )
    return tuple(plans)


def task_containers(client: docker.DockerClient, task_id: str) -> list[Container]:
    """Every container on the engine labelled with this task id, running or not."""
    try:
        return list(
            client.containers.list(all=True, filters={"label": f"{LABEL_TASK_ID}={task_id}"})
        )
    except docker.errors.DockerException as exc:
        raise DockerEngineError(
            f"cannot list the task's containers: {_short(exc)}",
            where=f"label {LABEL_TASK_ID}={task_id}",
            fix="check that the Docker engine is running",
        ) from exc


def remove_task_containers(client: docker.DockerClient, task_id: str) -> int:
    """Stop and remove every container of the task; return how many were removed."""
    removed = 0
    for container in task_containers(client, task_id):
        with contextlib.suppress(docker.errors.NotFound):
            try:
                container.remove(force=True)
            except docker.errors.APIError as exc:
                raise DockerEngineError(
                    f"cannot remove container {container.name}: {_short(exc)}",
                    where=f"label {LABEL_TASK_ID}={task_id}",
                    fix=f"remove it with docker rm -f {container.id}",
                ) from exc
            removed += 1
    return removed


def _create(client: docker.DockerClient, plan: ContainerPlan, task_id: str) -> Container:
    kwargs: dict[str, Any] = {
        "name": f"gmsa-{task_id}-{plan.name}",
        "labels": {LABEL_TASK_ID: task_id, LABEL_CONTAINER: plan.name},
        "environment": dict(plan.environment),
        "network_mode": plan.network_mode,
        "detach": True,
    }
    if plan.command is not None:
        kwargs["command"] = list(plan.command)
    if plan.entrypoint is not None:
        kwargs["entrypoint"] = list(plan.entrypoint)
    if plan.user:
        kwargs["user"] = plan.user
    if plan.hostname and plan.network_mode != "host":
        kwargs["hostname"] = plan.hostname
    if plan.mounts:
        kwargs["mounts"] = [
            DockerMount(target=m.target, source=m.source, type="bind", read_only=m.read_only)
            for m in plan.mounts
        ]
    if plan.security_opt:
        kwargs["security_opt"] = list(plan.security_opt)
    try:
        return client.containers.create(plan.image, **kwargs)
    except docker.errors.ImageNotFound as exc:
        raise DockerEngineError(
            f"the image {plan.image!r} is not on the Docker engine",
            where=f"container {plan.name!r}",
            fix="build or load the image first (docker images lists them); task run never pulls",
        ) from exc
    except docker.errors.DockerException as exc:
        raise DockerEngineError(
            f"the engine refused to create the container: {_short(exc)}",
            where=f"container {plan.name!r}",
            fix="check the container definition and the engine's log",
        ) from exc


def _start(plan: ContainerPlan, container: Container) -> None:
    try:
        container.start()
    except docker.errors.DockerException as exc:
        raise DockerEngineError(
            f"the container did not start: {_short(exc)}",
            where=f"container {plan.name!r}",
            fix="check the image's command and entry point, the user and the mounts",
        ) from exc


def _exit_code(container: Container) -> int | None:
    container.reload()
    if container.status in ("exited", "dead"):
        state = container.attrs.get("State", {})
        code = state.get("ExitCode")
        return int(code) if isinstance(code, int) else None
    return None


def _wait(
    started: Sequence[tuple[ContainerPlan, Container]],
    poll: Callable[[float], None],
    keep_alive: Callable[[], object] | None = None,
) -> None:
    """Wait until an essential container exits (ECS then stops the task) or all do,
    calling ``keep_alive`` (the host agent's keeper) meanwhile."""
    while True:
        if keep_alive is not None:
            keep_alive()
        try:
            codes = [(plan, _exit_code(c)) for plan, c in started]
        except docker.errors.DockerException as exc:
            raise DockerEngineError(
                f"lost track of the task's containers: {_short(exc)}",
                where=f"label {LABEL_TASK_ID}={started[0][1].labels.get(LABEL_TASK_ID)}"
                if started
                else None,
                fix="check the Docker engine (a container removed by hand, an engine restart)",
            ) from exc
        if all(code is not None for _, code in codes):
            return
        if any(plan.essential and code is not None for plan, code in codes):
            for plan, container in started:
                with contextlib.suppress(docker.errors.DockerException):
                    container.stop(timeout=plan.stop_timeout)
            return
        poll(_POLL_SECONDS)


def _outcome(plan: ContainerPlan, container: Container, with_logs: bool) -> ContainerOutcome:
    logs = ""
    code: int | None = None
    with contextlib.suppress(docker.errors.DockerException):
        code = _exit_code(container)
        if with_logs:
            logs = container.logs(stdout=True, stderr=True).decode("utf-8", errors="replace")
    return ContainerOutcome(
        name=plan.name,
        container_id=str(container.id),
        essential=plan.essential,
        exit_code=code,
        logs=logs,
    )


@contextlib.contextmanager
def _cleanup_on_exit(
    client: docker.DockerClient, agent: HostAgent | None, task_id: str, keep: list[bool]
) -> Iterator[None]:
    """Remove the task's containers and prepared state when the block ends, unless
    ``keep[0]`` was set (a detached run that started)."""
    try:
        yield
    finally:
        if not keep[0]:
            try:
                remove_task_containers(client, task_id)
            finally:
                if agent is not None:
                    agent.cleanup(task_id)


def run_task(
    client: docker.DockerClient,
    task_def: TaskDefinition,
    *,
    agent: HostAgent | None = None,
    task_id: str | None = None,
    task_arn: str | None = None,
    detach: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    on_renewal: Callable[[Renewal], None] | None = None,
) -> RunResult:
    """Prepare the task, create and start its containers, and wait for them.

    Without ``detach`` the containers are removed and the host agent cleans up the task
    before this returns, whatever happens (an exit, a failed start, KeyboardInterrupt);
    while they run, the host agent's keeper (:meth:`HostAgent.keeper`) keeps their
    credentials alive, and ``on_renewal`` hears of each renewal as it happens.
    With ``detach`` they are left running once all have started; :func:`stop_task` takes
    them away (and keeping a domainless lease alive is then ``gmsa task renew``'s job).
    A task with credential spec references needs ``agent``.
    """
    task_id = check_task_id(task_id) if task_id is not None else new_task_id()
    plan_task(task_def)  # every field checked before anything is created
    if task_def.credential_spec_uses and agent is None:
        raise TaskRunInputError(
            "the task has credential spec references but no host agent was given",
            where=task_def.source,
            fix="run with a host agent for the platform (--platform) or remove the references",
        )
    if task_containers(client, task_id):
        raise TaskRunInputError(
            "containers labelled with this task id already exist",
            where=f"label {LABEL_TASK_ID}={task_id}",
            fix="give another --task-id, or stop the earlier run with gmsa task stop",
        )
    keep = [False]
    prepared: PreparedTask | None = None
    with _cleanup_on_exit(client, agent if task_def.credential_spec_uses else None, task_id, keep):
        if agent is not None and task_def.credential_spec_uses:
            prepared = agent.prepare(task_def, task_id, task_arn)
        plans = plan_task(task_def, prepared)
        created = [(plan, _create(client, plan, task_id)) for plan in plans]
        for plan, container in created:
            _start(plan, container)
        if detach:
            keep[0] = True
            return RunResult(
                task_id=task_id,
                containers=tuple(_outcome(p, c, with_logs=False) for p, c in created),
                detached=True,
                prepared=prepared,
                cleaned_up=False,
            )
        keeper = agent.keeper(task_def, prepared) if agent and prepared else None

        def keep_alive() -> None:
            assert keeper is not None
            renewal = keeper.poll()
            if renewal is not None and on_renewal is not None:
                on_renewal(renewal)

        _wait(created, sleep, keep_alive if keeper is not None else None)
        return RunResult(
            task_id=task_id,
            containers=tuple(_outcome(p, c, with_logs=True) for p, c in created),
            prepared=prepared,
            renewals=tuple(keeper.renewals) if keeper is not None else (),
        )
    raise AssertionError("unreachable")  # pragma: no cover


def stop_task(client: docker.DockerClient, task_id: str, agent: HostAgent | None = None) -> int:
    """Remove a (detached) task's containers and let the host agent clean it up.

    Returns how many containers were removed. Stopping a task twice is harmless.
    """
    check_task_id(task_id)
    try:
        return remove_task_containers(client, task_id)
    finally:
        if agent is not None:
            agent.cleanup(task_id)


__all__ = [
    "LABEL_CONTAINER",
    "LABEL_TASK_ID",
    "NETWORK_MODES",
    "STOP_TIMEOUT",
    "ContainerOutcome",
    "ContainerPlan",
    "DockerEngineError",
    "RunResult",
    "TaskRunInputError",
    "connect",
    "new_task_id",
    "plan_task",
    "remove_task_containers",
    "run_task",
    "stop_task",
    "task_containers",
]
