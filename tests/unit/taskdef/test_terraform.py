"""Reading task definitions out of Terraform plan JSON: modules, the container_definitions
string, and values known only after apply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gmsa.findings import NOT_CHECKED
from gmsa.iac.terraform import PlanError, is_plan
from gmsa.jsondoc import JsonDocumentError
from gmsa.taskdef.lint import lint_task_definition
from gmsa.taskdef.model import TaskDefinitionError
from gmsa.taskdef.terraform import task_definitions

PLAN = Path(__file__).parents[2] / "data" / "iac" / "terraform" / "plan.json"
SPEC = "credentialspec:arn:aws:s3:::example-gmsa-specs/specs/webapp01.json"


def plan(values: dict[str, Any], after_unknown: dict[str, Any] | None = None) -> dict[str, Any]:
    address = "aws_ecs_task_definition.app"
    resource = {"address": address, "mode": "managed", "type": "aws_ecs_task_definition"}
    return {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [{**resource, "values": values}]}},
        "resource_changes": [
            {**resource, "change": {"actions": ["create"], "after_unknown": after_unknown or {}}}
        ],
    }


def containers(*items: dict[str, Any]) -> str:
    return json.dumps(list(items))


def test_the_example_plan_holds_four_task_definitions_in_plan_order() -> None:
    items = task_definitions(json.loads(PLAN.read_text()), source="plan.json")
    assert [i.resource for i in items] == [
        "aws_ecs_task_definition.web",
        "aws_ecs_task_definition.legacy",
        "aws_ecs_task_definition.pending",
        'module.batch.aws_ecs_task_definition.this["prod"]',
    ]
    pending = items[2]
    assert pending.definition is None
    assert [n.path for n in pending.notes] == ["container_definitions"]


def test_terraform_arguments_fill_the_model() -> None:
    values = {
        "family": "app",
        "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
        "network_mode": "bridge",
        "requires_compatibilities": ["EC2"],
        "runtime_platform": [{"operating_system_family": "WINDOWS_SERVER_2019_CORE"}],
        "container_definitions": containers(
            {"name": "web", "hostname": "web01", "credentialSpecs": [SPEC]}
        ),
    }
    (item,) = task_definitions(plan(values), source="p.json")
    task = item.definition
    assert task is not None
    assert task.family == "app"
    assert task.execution_role_arn == "arn:aws:iam::123456789012:role/exec"
    assert task.network_mode == "bridge"
    assert task.requires_compatibilities == ("EC2",)
    assert task.operating_system_family == "WINDOWS_SERVER_2019_CORE"
    assert task.containers[0].credential_specs == (SPEC,)


def test_findings_name_the_address_and_the_path_inside_its_values() -> None:
    values = {
        "network_mode": "awsvpc",
        "requires_compatibilities": ["FARGATE"],
        "runtime_platform": [{"operating_system_family": "WINDOWS_SERVER_2019_CORE"}],
        "container_definitions": containers(
            {"name": "web", "hostname": "h", "credentialSpecs": [SPEC]}
        ),
    }
    (item,) = task_definitions(plan(values), source="p.json")
    assert item.definition is not None
    report = lint_task_definition(item.definition)
    paths = {f.code: f.path for f in report.errors}
    assert paths["hostname-in-awsvpc"] == "container_definitions[0].hostname"
    assert paths["fargate-windows-gmsa"] == "runtime_platform[0].operating_system_family"
    assert paths["missing-execution-role"] == "execution_role_arn"
    assert {f.resource for f in report.errors} == {"aws_ecs_task_definition.app"}
    assert {f.line for f in report.errors} == {None}


def test_values_known_only_after_apply_are_not_checked() -> None:
    values = {
        "requires_compatibilities": ["FARGATE"],
        "runtime_platform": [{"cpu_architecture": "X86_64"}],
        "container_definitions": containers(
            {
                "name": "web",
                "credentialSpecs": [SPEC.replace("credentialspec:", "credentialspecdomainless:")],
            }
        ),
    }
    unknown = {"execution_role_arn": True, "runtime_platform": [{"operating_system_family": True}]}
    (item,) = task_definitions(plan(values, unknown), source="p.json")
    assert item.definition is not None
    report = lint_task_definition(item.definition)
    assert report.errors == []
    assert sorted(f.path for f in report.infos) == [
        "execution_role_arn",
        "runtime_platform[0].operating_system_family",
    ]
    assert {f.code for f in report.infos} == {NOT_CHECKED}


def test_unknown_container_definitions_leave_only_a_note() -> None:
    (item,) = task_definitions(plan({"family": "x"}, {"container_definitions": True}), source="p")
    assert item.definition is None
    assert item.unchecked_report().valid


def test_container_definitions_must_be_a_json_string() -> None:
    with pytest.raises(TaskDefinitionError) as caught:
        task_definitions(plan({"container_definitions": [{"name": "x"}]}), source="p.json")
    assert caught.value.where == "p.json: aws_ecs_task_definition.app: container_definitions"
    with pytest.raises(JsonDocumentError):
        task_definitions(plan({"container_definitions": "[{"}), source="p.json")
    with pytest.raises(TaskDefinitionError) as caught:
        task_definitions(plan({"container_definitions": containers({"image": "x"})}), source="p")
    assert caught.value.where == "p: aws_ecs_task_definition.app: container_definitions[0]"


def test_state_json_is_read_too_and_data_sources_are_not() -> None:
    doc = plan({"container_definitions": containers({"name": "web"})})
    state = {"format_version": "1.0", "values": doc["planned_values"]}
    assert len(task_definitions(state, source="s.json")) == 1
    doc["planned_values"]["root_module"]["resources"][0]["mode"] = "data"
    assert task_definitions(doc, source="p.json") == []


def test_not_a_plan() -> None:
    assert not is_plan({"family": "x"})
    with pytest.raises(PlanError):
        task_definitions({"Resources": {}}, source="p.json")
