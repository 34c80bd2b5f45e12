"""Which kind of file a task definition comes in: detection and the --input-format choices."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import pytest

from gmsa.errors import InvalidInputError
from gmsa.iac.cloudformation import TemplateError
from gmsa.iac.terraform import PlanError
from gmsa.jsondoc import JsonDocumentError
from gmsa.taskdef.inputs import InputFormat, load_input
from gmsa.taskdef.model import TaskDefinitionError

DATA = Path(__file__).parents[2] / "data"
ECS = DATA / "taskdefs" / "s3.json"
DESCRIBE = DATA / "taskdefs" / "describe-s3.json"
YAML = DATA / "iac" / "cloudformation" / "windows-app.yaml"
CDK = DATA / "iac" / "cdk.out"
CDK_TEMPLATE = CDK / "GmsaWindowsStack.template.json"
PLAN = DATA / "iac" / "terraform" / "plan.json"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (ECS, InputFormat.ECS),
        (DESCRIBE, InputFormat.ECS),
        (YAML, InputFormat.CLOUDFORMATION),
        (CDK_TEMPLATE, InputFormat.CLOUDFORMATION),
        (CDK, InputFormat.CLOUDFORMATION),
        (PLAN, InputFormat.TERRAFORM),
    ],
)
def test_the_format_is_detected(path: Path, expected: InputFormat) -> None:
    loaded = load_input(path)
    assert loaded.input_format is expected
    assert loaded.source == str(path)
    if expected is InputFormat.ECS:
        assert loaded.ecs is not None and not loaded.resources
    else:
        assert loaded.ecs is None and loaded.resources


@pytest.mark.parametrize(
    ("path", "chosen"),
    [
        (ECS, InputFormat.ECS),
        (YAML, InputFormat.CLOUDFORMATION),
        (CDK_TEMPLATE, InputFormat.CLOUDFORMATION),
        (PLAN, InputFormat.TERRAFORM),
    ],
)
def test_the_chosen_format_reads_its_files(path: Path, chosen: InputFormat) -> None:
    assert load_input(path, chosen).input_format is chosen


def test_the_wrong_chosen_format_is_a_typed_error() -> None:
    with pytest.raises(TaskDefinitionError):
        load_input(PLAN, InputFormat.ECS)
    with pytest.raises(TemplateError):
        load_input(ECS, InputFormat.CLOUDFORMATION)
    with pytest.raises(PlanError):
        load_input(CDK_TEMPLATE, InputFormat.TERRAFORM)
    with pytest.raises(InvalidInputError):
        load_input(CDK, InputFormat.TERRAFORM)


def test_a_cdk_assembly_reads_every_stack_template(tmp_path: Path) -> None:
    loaded = load_input(CDK)
    assert [r.resource for r in loaded.resources] == ["ApiTaskDefC6E2B4A7"]
    assert loaded.resources[0].source == str(CDK_TEMPLATE)
    nested = tmp_path / "cdk.out" / "assembly-Prod"
    nested.mkdir(parents=True)
    shutil.copy(CDK_TEMPLATE, nested / "Prod-GmsaWindowsStack.template.json")
    assert len(load_input(tmp_path / "cdk.out").resources) == 1


def test_an_assembly_or_template_without_task_definitions_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no AWS::ECS::TaskDefinition"):
        load_input(CDK / "NetworkStack.template.json")
    empty = tmp_path / "cdk.out"
    empty.mkdir()
    with pytest.raises(InvalidInputError, match=r"\*\.template\.json"):
        load_input(empty)
    plan = json.loads(PLAN.read_text())
    plan["planned_values"]["root_module"] = {"resources": []}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    with pytest.raises(InvalidInputError, match="no aws_ecs_task_definition"):
        load_input(tmp_path / "plan.json")


def test_text_that_is_neither_json_nor_a_template_is_a_json_error(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text("family: x\n")
    with pytest.raises(JsonDocumentError) as caught:
        load_input(path)
    assert "CloudFormation" in (caught.value.fix or "")


def test_stdin_is_detected_too(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(YAML.read_bytes()))
    monkeypatch.setattr(sys, "stdin", stdin)
    loaded = load_input("-")
    assert loaded.input_format is InputFormat.CLOUDFORMATION
    assert loaded.source == "<stdin>"


def test_a_credential_spec_given_as_a_task_definition_says_which_command_checks_it(
    example_spec_file: Path,
) -> None:
    with pytest.raises(TaskDefinitionError) as caught:
        load_input(example_spec_file)
    assert caught.value.what == "this is a credential spec, not a task definition"
    assert caught.value.fix == f"check it with: gmsa spec validate {example_spec_file}"
