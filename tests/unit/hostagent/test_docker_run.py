"""How a task definition and a host agent's result become Docker container settings
(no engine needed; tests/integration/docker runs them for real)."""

from __future__ import annotations

from typing import Any

import pytest

from gmsa.hostagent.docker_run import STOP_TIMEOUT, TaskRunInputError, plan_task
from gmsa.hostagent.interface import Mount, PreparedContainer, PreparedTask
from gmsa.taskdef.model import parse_task_definition

REFERENCE = "credentialspec:file://webapp01.json"


def task(*containers: dict[str, Any], **top: Any) -> Any:
    doc = {"family": "demo", "containerDefinitions": list(containers), **top}
    return parse_task_definition(doc, source="task.json")


def prepared(container: PreparedContainer) -> PreparedTask:
    return PreparedTask(task_id="t1", containers=(container,), warnings=())


def test_windows_security_option_becomes_security_opt() -> None:
    option = "credentialspec=file://webapp01_t1.json"
    plans = plan_task(
        task({"name": "app", "image": "img", "credentialSpecs": [REFERENCE]}),
        prepared(PreparedContainer(name="app", reference=REFERENCE, security_option=option)),
    )
    assert plans[0].security_opt == (option,)
    assert plans[0].mounts == ()


def test_linux_mounts_and_environment_are_added_and_win_over_the_definition() -> None:
    mount = Mount("/var/credentials-fetcher/krbdir/lease/WebApp01", "/var/krb", True)
    plans = plan_task(
        task(
            {
                "name": "app",
                "image": "img",
                "credentialSpecs": [REFERENCE],
                "environment": [
                    {"name": "KRB5CCNAME", "value": "old"},
                    {"name": "A", "value": "1"},
                ],
            }
        ),
        prepared(
            PreparedContainer(
                name="app",
                reference=REFERENCE,
                mounts=(mount,),
                environment={"KRB5CCNAME": "/var/krb/krb5cc"},
            )
        ),
    )
    assert plans[0].mounts == (mount,)
    assert plans[0].environment == {"KRB5CCNAME": "/var/krb/krb5cc", "A": "1"}
    assert plans[0].security_opt == ()


def test_containers_without_a_spec_get_nothing_added() -> None:
    plans = plan_task(task({"name": "app", "image": "img"}, {"name": "side", "image": "img"}))
    assert [(p.mounts, dict(p.environment), p.security_opt) for p in plans] == [
        ((), {}, ()),
        ((), {}, ()),
    ]


def test_defaults_follow_ecs() -> None:
    plan = plan_task(task({"name": "app", "image": "img"}))[0]
    assert plan.essential is True
    assert plan.network_mode == "bridge"
    assert plan.stop_timeout == STOP_TIMEOUT
    assert plan.command is None
    assert plan.entrypoint is None


@pytest.mark.parametrize("mode", ["host", "none", "bridge"])
def test_network_modes_docker_can_give_are_kept(mode: str) -> None:
    assert plan_task(task({"name": "a", "image": "i"}, networkMode=mode))[0].network_mode == mode


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("command", "echo hi", "containerDefinitions[0].command"),
        ("entryPoint", [1], "containerDefinitions[0].entryPoint"),
        ("environment", [{"name": "A", "value": 1}], "containerDefinitions[0].environment[0]"),
        ("environment", {"A": "1"}, "containerDefinitions[0].environment"),
        ("essential", "yes", "containerDefinitions[0].essential"),
        ("user", 1000, "containerDefinitions[0].user"),
        ("stopTimeout", -1, "containerDefinitions[0].stopTimeout"),
        ("image", "", "containerDefinitions[0].image"),
    ],
)
def test_fields_docker_cannot_take_are_invalid_input_with_their_path(
    field: str, value: Any, path: str
) -> None:
    with pytest.raises(TaskRunInputError) as caught:
        plan_task(task({"name": "app", "image": "img", field: value}))
    assert caught.value.where == f"task.json: {path}"
    assert caught.value.exit_code == 1


def test_awsvpc_is_invalid_input() -> None:
    with pytest.raises(TaskRunInputError) as caught:
        plan_task(task({"name": "a", "image": "i"}, networkMode="awsvpc"))
    assert "networkMode" in (caught.value.where or "")


def test_mount_points_of_host_volumes_become_bind_mounts_before_the_agents() -> None:
    agent_mount = Mount("/krb/lease/app", "/var/credentials-fetcher/krbdir", True)
    plans = plan_task(
        task(
            {
                "name": "app",
                "image": "img",
                "credentialSpecs": [REFERENCE],
                "mountPoints": [
                    {"sourceVolume": "conf", "containerPath": "/etc/krb5.conf", "readOnly": True},
                    {"sourceVolume": "data", "containerPath": "/data"},
                ],
            },
            volumes=[
                {"name": "conf", "host": {"sourcePath": "/srv/krb5.conf"}},
                {"name": "data", "host": {"sourcePath": "/srv/data"}},
            ],
        ),
        prepared(PreparedContainer(name="app", reference=REFERENCE, mounts=(agent_mount,))),
    )
    assert plans[0].mounts == (
        Mount("/srv/krb5.conf", "/etc/krb5.conf", True),
        Mount("/srv/data", "/data", False),
        agent_mount,
    )


def test_mount_point_of_a_volume_without_a_host_path_is_refused_with_its_path() -> None:
    doc = task(
        {
            "name": "app",
            "image": "img",
            "mountPoints": [{"sourceVolume": "efs", "containerPath": "/data"}],
        },
        volumes=[{"name": "efs", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}],
    )
    with pytest.raises(TaskRunInputError) as caught:
        plan_task(doc)
    assert caught.value.where == "task.json: containerDefinitions[0].mountPoints[0]"


def test_mount_point_with_a_relative_container_path_is_refused() -> None:
    doc = task(
        {
            "name": "app",
            "image": "img",
            "mountPoints": [{"sourceVolume": "conf", "containerPath": "etc/krb5.conf"}],
        },
        volumes=[{"name": "conf", "host": {"sourcePath": "/srv/krb5.conf"}}],
    )
    with pytest.raises(TaskRunInputError):
        plan_task(doc)
