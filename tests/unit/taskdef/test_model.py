"""Reading task definitions: both shapes, both fields, typed errors for everything else."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmsa.errors import InvalidInputError
from gmsa.findings import error
from gmsa.jsondoc import DuplicateKeyError
from gmsa.reference import Mode, S3Location
from gmsa.taskdef.lint import lint_task_definition
from gmsa.taskdef.model import (
    Origin,
    TaskDefinitionError,
    load_task_definition,
    parse_task_definition,
)

DATA = Path(__file__).parents[2] / "data" / "taskdefs"


def minimal(**container: Any) -> dict[str, Any]:
    return {"family": "f", "containerDefinitions": [{"name": "web", **container}]}


def test_register_input_is_read_with_its_fields() -> None:
    task = load_task_definition(DATA / "s3.json")
    assert task.family == "webapp-s3"
    assert task.execution_role_arn == "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
    assert task.requires_compatibilities == ("EC2",)
    assert task.operating_system_family == "WINDOWS_SERVER_2019_CORE"
    assert [c.name for c in task.containers] == ["webapp"]
    assert task.containers[0].hostname == "webapp01"
    assert not task.was_wrapped


def test_describe_output_is_unwrapped() -> None:
    task = load_task_definition(DATA / "describe-s3.json")
    assert task.was_wrapped
    assert task.family == "webapp-s3"
    assert task.raw["revision"] == 3
    assert task.path_in_source("executionRoleArn") == "taskDefinition.executionRoleArn"


def test_docker_security_option_reference_is_parsed() -> None:
    task = load_task_definition(DATA / "s3.json")
    (use,) = task.credential_spec_uses
    assert use.field == "dockerSecurityOptions"
    assert use.path == "containerDefinitions[0].dockerSecurityOptions[0]"
    assert use.reference is not None
    assert use.reference.mode is Mode.DOMAIN_JOINED
    assert use.reference.location == S3Location("aws", "example-gmsa-specs", "specs/webapp01.json")


def test_credential_specs_field_is_read() -> None:
    ref = "credentialspecdomainless:arn:aws:ssm:us-east-1:123456789012:parameter/spec"
    task = parse_task_definition(minimal(credentialSpecs=[ref]), source="t.json")
    (use,) = task.credential_spec_uses
    assert use.field == "credentialSpecs"
    assert use.reference is not None and use.reference.mode is Mode.DOMAINLESS


def test_other_security_options_are_not_references() -> None:
    task = parse_task_definition(
        minimal(dockerSecurityOptions=["no-new-privileges", "seccomp=unconfined"]), source="t"
    )
    assert task.credential_spec_uses == ()


@pytest.mark.parametrize(
    "value", ["credentialspecs:file://a.json", "credentialspec=file://a.json", "CredSpec:x"]
)
def test_misspelled_prefix_is_a_use_with_an_error(value: str) -> None:
    task = parse_task_definition(minimal(dockerSecurityOptions=[value]), source="t")
    (use,) = task.credential_spec_uses
    assert use.reference is None
    assert use.error is not None and use.error.part == "prefix"


def test_invalid_reference_in_credential_specs_is_kept_with_its_error() -> None:
    task = parse_task_definition(minimal(credentialSpecs=["arn:aws:s3:::b/k"]), source="t")
    (use,) = task.credential_spec_uses
    assert use.error is not None


def test_stdin_is_read_for_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (DATA / "file.json").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert load_task_definition("-").source == "<stdin>"


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"family": "a", "family": "b", "containerDefinitions": []}')
    with pytest.raises(DuplicateKeyError):
        load_task_definition(path)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as info:
        load_task_definition(tmp_path / "nope.json")
    assert info.value.exit_code == 1


def test_no_container_definitions_is_refused() -> None:
    with pytest.raises(TaskDefinitionError, match="no containerDefinitions"):
        parse_task_definition({"family": "x"}, source="t")


def test_empty_container_definitions_is_refused() -> None:
    with pytest.raises(TaskDefinitionError, match="empty"):
        parse_task_definition({"containerDefinitions": []}, source="t")


def test_container_without_name_is_refused_with_its_path() -> None:
    with pytest.raises(TaskDefinitionError) as info:
        parse_task_definition({"containerDefinitions": [{"image": "x"}]}, source="t.json")
    assert info.value.where == "t.json: containerDefinitions[0]"


def test_error_paths_in_describe_output_start_at_task_definition() -> None:
    doc = {"taskDefinition": {"containerDefinitions": [{"name": 5}]}}
    with pytest.raises(TaskDefinitionError) as info:
        parse_task_definition(doc, source="t.json")
    assert info.value.where == "t.json: taskDefinition.containerDefinitions[0].name"


def test_duplicate_container_names_are_refused() -> None:
    doc = {"containerDefinitions": [{"name": "a"}, {"name": "a"}]}
    with pytest.raises(TaskDefinitionError, match="two containers"):
        parse_task_definition(doc, source="t")


def test_non_string_security_option_is_refused_with_its_path() -> None:
    with pytest.raises(TaskDefinitionError) as info:
        parse_task_definition(minimal(dockerSecurityOptions=["ok", 3]), source="t")
    assert info.value.where == "t: containerDefinitions[0].dockerSecurityOptions[1]"


def test_credential_specs_must_be_a_list() -> None:
    with pytest.raises(TaskDefinitionError, match="array"):
        parse_task_definition(minimal(credentialSpecs="credentialspec:file://a.json"), source="t")


def test_hostname_must_be_a_string() -> None:
    with pytest.raises(TaskDefinitionError, match="hostname"):
        parse_task_definition(minimal(hostname=1), source="t")


def test_top_level_array_is_refused() -> None:
    with pytest.raises(TaskDefinitionError, match="JSON object"):
        parse_task_definition([], source="t")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
task_like = st.fixed_dictionaries(
    {},
    optional={
        "family": json_values,
        "executionRoleArn": json_values,
        "networkMode": json_values,
        "requiresCompatibilities": json_values,
        "runtimePlatform": json_values,
        "containerDefinitions": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "name": st.sampled_from(["a", "b", ""]) | json_values,
                    "hostname": json_values,
                    "dockerSecurityOptions": st.lists(
                        st.text() | st.sampled_from(["credentialspec:", "credentialspec:file://x"])
                    )
                    | json_values,
                    "credentialSpecs": st.lists(st.text()) | json_values,
                },
            )
            | json_values,
            max_size=3,
        )
        | json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, task_like, task_like.map(lambda t: {"taskDefinition": t})))
def test_arbitrary_json_raises_only_task_definition_error(document: Any) -> None:
    try:
        task = parse_task_definition(document, source="t")
    except TaskDefinitionError:
        return
    for use in task.credential_spec_uses:
        assert (use.reference is None) != (use.error is None)
    json.dumps(lint_task_definition(task, windows_server_2016=True).to_dict())


# -- task definitions read out of templates and plans -------------------------------


def _origin() -> Origin:
    return Origin(
        source="t.yaml",
        resource="Task",
        paths={
            "containerDefinitions": "Properties.ContainerDefinitions",
            "containerDefinitions[0]": "Properties.ContainerDefinitions[0]",
            "containerDefinitions[0].credentialSpecs[0]": (
                "Properties.ContainerDefinitions[0].CredentialSpecs[2]"
            ),
        },
        renames={"containerDefinitions": "ContainerDefinitions", "hostname": "Hostname"},
        root="Properties",
        lines={
            "Properties.ContainerDefinitions[0]": 10,
            "Properties.ContainerDefinitions[0].CredentialSpecs[2]": 14,
        },
        unchecked=frozenset({"Properties.ContainerDefinitions[0].Hostname"}),
    )


def test_origin_maps_model_paths_to_the_resource() -> None:
    origin = _origin()
    assert origin.path("containerDefinitions[0].credentialSpecs[0]") == (
        "Properties.ContainerDefinitions[0].CredentialSpecs[2]"
    )
    assert origin.path("containerDefinitions[0].hostname") == (
        "Properties.ContainerDefinitions[0].Hostname"
    )
    assert origin.path("executionRoleArn") == "Properties.executionRoleArn"
    assert origin.path("") == "Properties"


def test_origin_lines_come_from_the_nearest_known_value() -> None:
    origin = _origin()
    spec_path = "Properties.ContainerDefinitions[0].CredentialSpecs[2] -> DomainJoinConfig.Sid"
    assert origin.line(spec_path) == 14
    assert origin.line("Properties.ContainerDefinitions[0].Hostname") == 10
    assert origin.line("Properties.Family") is None
    assert origin.is_unchecked("Properties.ContainerDefinitions[0].Hostname")
    assert not origin.is_unchecked("Properties.ContainerDefinitions[0]")


def test_origin_locates_findings_and_they_render_with_file_line_and_resource() -> None:
    finding = error("x", "Properties.ContainerDefinitions[0].CredentialSpecs[2]", "bad")
    located = _origin().locate(finding)
    assert located.to_dict() == {
        "code": "x",
        "path": "Properties.ContainerDefinitions[0].CredentialSpecs[2]",
        "message": "bad",
        "fix": None,
        "resource": "Task",
        "source": "t.yaml",
        "line": 14,
    }
    assert located.render() == (
        "error: t.yaml:14: Task: Properties.ContainerDefinitions[0].CredentialSpecs[2]: bad"
    )
    assert "resource" not in finding.to_dict()
