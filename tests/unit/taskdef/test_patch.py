"""Patching a task definition: one reference per container, register shape, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gmsa.reference import InvalidReferenceError
from gmsa.taskdef.lint import lint_task_definition
from gmsa.taskdef.model import READ_ONLY_FIELDS, load_task_definition, parse_task_definition
from gmsa.taskdef.patch import PatchError, patch_task_definition

DATA = Path(__file__).parents[2] / "data" / "taskdefs"
REF = "credentialspec:arn:aws:s3:::example-gmsa-specs/specs/other.json"


def doc(**container: Any) -> dict[str, Any]:
    return {
        "family": "app",
        "containerDefinitions": [
            {"name": "web", "image": "app:1", **container},
            {"name": "sidecar", "image": "side:1"},
        ],
    }


def patched(document: dict[str, Any], **kw: Any) -> dict[str, Any]:
    task = parse_task_definition(document, source="t")
    return patch_task_definition(task, **{"container": "web", "reference": REF, **kw})


def test_reference_is_added_to_credential_specs_by_default() -> None:
    out = patched(doc())
    assert out["containerDefinitions"][0]["credentialSpecs"] == [REF]
    assert "dockerSecurityOptions" not in out["containerDefinitions"][0]


def test_existing_credential_spec_is_replaced_not_added() -> None:
    out = patched(doc(credentialSpecs=["credentialspec:file://old.json"]))
    assert out["containerDefinitions"][0]["credentialSpecs"] == [REF]


def test_reference_moves_out_of_docker_security_options_and_keeps_other_options() -> None:
    out = patched(doc(dockerSecurityOptions=["no-new-privileges", "credentialspec:file://o.json"]))
    web = out["containerDefinitions"][0]
    assert web["dockerSecurityOptions"] == ["no-new-privileges"]
    assert web["credentialSpecs"] == [REF]


def test_field_docker_security_options_replaces_in_place() -> None:
    out = patched(
        doc(dockerSecurityOptions=["credentialspec:file://o.json", "no-new-privileges"]),
        field="dockerSecurityOptions",
    )
    assert out["containerDefinitions"][0]["dockerSecurityOptions"] == [REF, "no-new-privileges"]


def test_field_docker_security_options_drops_the_credential_specs_entry() -> None:
    out = patched(
        doc(credentialSpecs=["credentialspec:file://o.json"]), field="dockerSecurityOptions"
    )
    web = out["containerDefinitions"][0]
    assert web["dockerSecurityOptions"] == [REF]
    assert "credentialSpecs" not in web


def test_misspelled_option_is_replaced_too() -> None:
    out = patched(doc(dockerSecurityOptions=["credentialspecs:file://o.json"]))
    assert "dockerSecurityOptions" not in out["containerDefinitions"][0]


def test_hostname_is_set_when_given() -> None:
    out = patched(doc(), hostname="WebApp01")
    assert out["containerDefinitions"][0]["hostname"] == "WebApp01"


def test_hostname_in_awsvpc_is_refused() -> None:
    with pytest.raises(PatchError, match="awsvpc"):
        patched({**doc(), "networkMode": "awsvpc"}, hostname="WebApp01")


def test_invalid_reference_is_refused_before_patching() -> None:
    with pytest.raises(InvalidReferenceError):
        patched(doc(), reference="credentialspec:arn:aws:s3:::b/")


def test_unknown_container_lists_the_names() -> None:
    with pytest.raises(PatchError) as info:
        patched(doc(), container="api")
    assert "'web', 'sidecar'" in (info.value.fix or "")


def test_unknown_fields_are_kept_and_input_is_not_modified() -> None:
    original = doc(futureField={"a": [1]}, logConfiguration={"logDriver": "awslogs"})
    original["ephemeralStorage"] = {"sizeInGiB": 30}
    before = json.loads(json.dumps(original))
    out = patched(original)
    assert out["ephemeralStorage"] == {"sizeInGiB": 30}
    assert out["containerDefinitions"][0]["futureField"] == {"a": [1]}
    assert out["containerDefinitions"][1] == original["containerDefinitions"][1]
    assert original == before


def test_describe_output_becomes_register_input() -> None:
    task = load_task_definition(DATA / "describe-s3.json")
    out = patch_task_definition(task, container="webapp", reference=REF)
    assert "taskDefinition" not in out
    assert not set(READ_ONLY_FIELDS) & set(out)
    assert out["family"] == "webapp-s3"
    assert out["placementConstraints"] == []


def test_patched_ecs_example_output_checks_clean() -> None:
    task = load_task_definition(DATA / "describe-ssm.json")
    out = patch_task_definition(task, container="webapp", reference=REF, hostname="webapp01")
    report = lint_task_definition(parse_task_definition(out, source="out"))
    assert report.findings == ()
    assert report.hints == ()
