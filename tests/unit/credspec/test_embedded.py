"""Credential specs stored in infrastructure as code: SSM parameters of CloudFormation
templates (YAML short tags, literal blocks, CDK synth output) and SSM parameters and S3
objects of Terraform plans; each finding names the resource, the path and the line."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from gmsa.credspec.embedded import (
    NO_CREDENTIAL_SPEC,
    NOT_A_CREDENTIAL_SPEC,
    SPEC_NOT_A_STRING,
    EmbeddedSpecs,
    SpecInputFormat,
    check_input,
)
from gmsa.credspec.validate import SpecReport, check_bytes
from gmsa.findings import NOT_CHECKED, Finding, Severity
from tests.conftest import EXAMPLE_SPEC

SPECS = Path(__file__).parents[2] / "data" / "iac" / "specs"
TEMPLATE = SPECS / "cloudformation" / "gmsa-specs.yaml"
CDK = SPECS / "cdk.out"
PLAN = SPECS / "terraform" / "plan.json"


def embedded(name: str | Path, fmt: SpecInputFormat = SpecInputFormat.AUTO) -> EmbeddedSpecs:
    report = check_input(str(name), fmt)
    assert isinstance(report, EmbeddedSpecs), report
    return report


def at(finding: Finding) -> tuple[str | None, str, int | None]:
    return finding.resource, finding.path, finding.line


def by_code(report: EmbeddedSpecs) -> dict[str, Finding]:
    return {f.code: f for f in report.findings}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def ssm_template(value: str, *, extra: str = "") -> str:
    """A YAML template with one SSM parameter whose Value line is ``Value: <value>``
    (line 6)."""
    return (
        "Resources:\n"
        "  Spec:\n"
        "    Type: AWS::SSM::Parameter\n"
        "    Properties:\n"
        "      Type: String\n"
        f"      Value: {value}\n" + extra
    )


# -- CloudFormation ------------------------------------------------------------------


def test_every_spec_of_a_template_with_resource_path_and_line() -> None:
    report = embedded(TEMPLATE)
    assert report.input_format is SpecInputFormat.CLOUDFORMATION
    assert [(s.resource, s.path, s.line, s.valid) for s in report.specs] == [
        ("WebappSpecParameter", "Properties.Value", 21, True),
        ("ReportsSpecParameter", "Properties.Value", 47, False),
    ]
    errors = [at(f) for f in report.findings if f.severity is Severity.ERROR]
    assert errors == [
        ("ReportsSpecParameter", "Properties.Value.DomainJoinConfig.Sid", 51),
        ("ReportsSpecParameter", "Properties.Value.DomainJoinConfig.MachineAccountName", 52),
    ]
    assert TEMPLATE.read_text().splitlines()[50].strip().startswith('"Sid": "S-1-5-21-')
    assert all(f.source == str(TEMPLATE) for f in report.findings)
    assert not report.valid


def test_values_known_only_at_deploy_time_are_not_checked() -> None:
    notes = {f.resource: f for f in embedded(TEMPLATE).notes}
    assert set(notes) == {"BatchSpecParameter", "VpcIdParameter"}
    batch, vpc = notes["BatchSpecParameter"], notes["VpcIdParameter"]
    assert (batch.severity, batch.code, batch.path, batch.line) == (
        Severity.INFO,
        NOT_CHECKED,
        "Properties.Value",
        73,
    )
    assert "the credential spec uses ${DomainSid}" in batch.message
    assert "!Ref VpcId" in vpc.message and "if it is a credential spec" in vpc.message


def test_values_that_are_not_specs_are_skipped() -> None:
    report = embedded(TEMPLATE)
    resources = {f.resource for f in report.findings} | {s.resource for s in report.specs}
    assert "ListenPortParameter" not in resources
    assert "WebTask" not in resources


def test_a_literal_json_string_in_a_json_template_has_the_value_line(tmp_path: Path) -> None:
    spec = dict(EXAMPLE_SPEC, DomainJoinConfig=dict(EXAMPLE_SPEC["DomainJoinConfig"], Guid="x"))
    template = {
        "Resources": {
            "Other": {"Type": "AWS::SNS::Topic"},
            "Spec": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": json.dumps(spec)},
            },
        }
    }
    path = write(tmp_path, "t.json", json.dumps(template, indent=1))
    report = embedded(path)
    (error,) = [f for f in report.findings if f.severity is Severity.ERROR]
    assert at(error) == ("Spec", "Properties.Value.DomainJoinConfig.Guid", 10)
    assert '"Value"' in path.read_text().splitlines()[9]


def test_join_and_sub_of_literals_are_resolved_and_checked(tmp_path: Path) -> None:
    text = json.dumps(EXAMPLE_SPEC)
    head, tail = text[:20], text[20:]
    joined = ssm_template(f"!Join ['', [{json.dumps(head)}, {json.dumps(tail)}]]")
    assert embedded(write(tmp_path, "j.yaml", joined)).specs[0].valid
    subbed = ssm_template(f"!Sub {json.dumps(text.replace('ActiveDirectory', '${!Literal}'))}")
    (spec,) = embedded(write(tmp_path, "s.yaml", subbed)).specs
    assert spec.resource == "Spec"
    assert any("${Literal}" in f.message for f in spec.findings)


def test_a_join_with_a_parameter_names_it(tmp_path: Path) -> None:
    head = '\'{"CmsPlugins": ["ActiveDirectory"], "DomainJoinConfig": {"Sid": "\''
    value = f"!Join ['', [{head}, !Ref DomainSid, '\"}}}}']]"
    (note,) = embedded(write(tmp_path, "t.yaml", ssm_template(value))).notes
    assert "uses !Ref DomainSid" in note.message and note.line == 6


def test_to_json_string_is_checked_with_the_lines_of_the_mapping(tmp_path: Path) -> None:
    text = (
        "Transform: AWS::LanguageExtensions\n"  # 1
        "Resources:\n"  # 2
        "  Spec:\n"  # 3
        "    Type: AWS::SSM::Parameter\n"  # 4
        "    Properties:\n"  # 5
        "      Type: String\n"  # 6
        "      Value: !ToJsonString\n"  # 7
        "        CmsPlugins: [ActiveDirectory]\n"  # 8
        "        DomainJoinConfig:\n"  # 9
        "          Sid: S-1-5-21-2554468230-2647958158-2204241789\n"  # 10
        "          MachineAccountName: WebApp01$\n"  # 11
        "          Guid: 8665abd4-e947-4dd0-9a51-f8254943c90b\n"  # 12
        "          DnsTreeName: example.com\n"  # 13
        "          DnsName: example.com\n"  # 14
        "          NetBiosName: EXAMPLE\n"  # 15
        "        ActiveDirectoryConfig:\n"  # 16
        "          GroupManagedServiceAccounts:\n"  # 17
        "            - {Name: WebApp01, Scope: example.com}\n"  # 18
        "            - {Name: WebApp01, Scope: EXAMPLE}\n"  # 19
    )
    report = embedded(write(tmp_path, "t.yaml", text))
    (error,) = [f for f in report.findings if f.severity is Severity.ERROR]
    assert at(error) == (
        "Spec",
        "Properties.Value.Fn::ToJsonString.DomainJoinConfig.MachineAccountName",
        11,
    )


def test_a_spec_written_as_a_mapping_is_an_error_and_still_checked(tmp_path: Path) -> None:
    mapping = json.dumps(dict(EXAMPLE_SPEC, CmsPlugins=["Nope"]))
    report = embedded(write(tmp_path, "t.yaml", ssm_template(mapping)))
    codes = by_code(report)
    assert at(codes[SPEC_NOT_A_STRING]) == ("Spec", "Properties.Value", 6)
    assert "ToJsonString" in (codes[SPEC_NOT_A_STRING].fix or "")
    assert any(f.path.startswith("Properties.Value.CmsPlugins") for f in report.findings)


def test_broken_json_in_a_literal_block_points_at_its_line(tmp_path: Path) -> None:
    text = ssm_template(
        "|", extra='        {\n          "CmsPlugins": ["ActiveDirectory"],\n        }\n'
    )
    report = embedded(write(tmp_path, "t.yaml", text))
    (error,) = report.findings
    assert error.severity is Severity.ERROR and error.resource == "Spec"
    assert error.line == 9  # the closing brace after the trailing comma
    assert "of the value" in error.message


def test_a_template_without_a_spec_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", ssm_template('"8080"'))
    report = embedded(path)
    (problem,) = report.findings
    assert (problem.code, problem.severity, problem.source) == (
        NO_CREDENTIAL_SPEC,
        Severity.ERROR,
        str(path),
    )
    assert "gmsa task check" in (problem.fix or "")


def test_a_template_whose_values_are_all_unknown_is_not_an_error(tmp_path: Path) -> None:
    report = embedded(write(tmp_path, "t.yaml", ssm_template("!Ref SpecJson")))
    assert report.valid and report.specs == () and len(report.notes) == 1


# -- CDK -----------------------------------------------------------------------------


def test_a_cdk_assembly_every_stack() -> None:
    report = embedded(CDK)
    stack = str(CDK / "GmsaSpecsStack.template.json")
    (spec,) = report.specs
    assert (spec.source, spec.resource, spec.line) == (stack, "ApiCredentialSpecB5F3A0D2", 7)
    (error,) = spec.errors
    assert at(error) == ("ApiCredentialSpecB5F3A0D2", "Properties.Value.DomainJoinConfig.Guid", 7)
    notes = {n.resource: n for n in report.notes}
    assert "uses !Ref DomainSid" in notes["JobsCredentialSpec0C8E41A9"].message
    assert notes["VpcIdParameter3F9A1B2C"].source == str(CDK / "NetworkStack.template.json")


def test_one_stack_template_of_an_assembly_is_a_template() -> None:
    report = embedded(CDK / "NetworkStack.template.json")
    assert report.specs == () and [n.resource for n in report.notes] == ["VpcIdParameter3F9A1B2C"]


# -- Terraform -----------------------------------------------------------------------


def test_every_spec_of_a_plan_by_address() -> None:
    report = embedded(PLAN)
    assert report.input_format is SpecInputFormat.TERRAFORM
    assert [(s.resource, s.path, s.valid) for s in report.specs] == [
        ("aws_ssm_parameter.webapp01_spec", "value", True),
        ("aws_ssm_parameter.reports01_spec", "value", False),
        ("aws_s3_object.batch01_spec", "content", True),
        ('module.services.aws_ssm_parameter.spec["svc01"]', "value", True),
        ('module.services.aws_ssm_parameter.spec["svc02"]', "value", False),
    ]
    errors = [at(f) for f in report.findings if f.severity is Severity.ERROR]
    assert errors == [
        ("aws_ssm_parameter.reports01_spec", "value.DomainJoinConfig.Sid", None),
        (
            'module.services.aws_ssm_parameter.spec["svc02"]',
            "value.DomainJoinConfig.MachineAccountName",
            None,
        ),
    ]
    (note,) = report.notes
    assert (note.resource, note.path, note.code) == (
        "aws_ssm_parameter.db_endpoint",
        "value",
        NOT_CHECKED,
    )
    assert "after terraform apply" in note.message


def test_the_s3_size_limit_of_credentials_fetcher_is_said_only_for_s3(tmp_path: Path) -> None:
    big = dict(EXAMPLE_SPEC, Padding="x" * 4000)
    data = json.dumps(big).encode()
    codes = {f.code for f in check_bytes(data, source="s").findings}
    assert "larger-than-credentials-fetcher-limit" in codes
    plan = json.loads(PLAN.read_text())
    resources = plan["planned_values"]["root_module"]["resources"]
    resources[0]["values"]["value"] = json.dumps(big)
    resources[4]["values"]["content"] = json.dumps(big)
    report = embedded(write(tmp_path, "plan.json", json.dumps(plan)))
    limited = {
        s.resource
        for s in report.specs
        if any(f.code == "larger-than-credentials-fetcher-limit" for f in s.findings)
    }
    assert limited == {"aws_s3_object.batch01_spec"}


def test_a_secret_that_is_not_a_spec_is_never_repeated(tmp_path: Path) -> None:
    plan = json.loads(PLAN.read_text())
    resources = plan["planned_values"]["root_module"]["resources"]
    resources[3]["values"]["value"] = "hunter2-db-password"
    report = embedded(write(tmp_path, "plan.json", json.dumps(plan)))
    assert "hunter2" not in json.dumps([f.to_json() for f in report.findings])
    assert "hunter2" not in json.dumps(report.to_dict())


# -- which kind of file ---------------------------------------------------------------


def test_a_spec_file_is_still_a_spec(example_spec_file: Path) -> None:
    report = check_input(str(example_spec_file))
    assert isinstance(report, SpecReport) and report.valid and report.resource is None


def test_a_chosen_format_is_kept_to(tmp_path: Path) -> None:
    as_spec = check_input(str(TEMPLATE), SpecInputFormat.SPEC)
    assert isinstance(as_spec, SpecReport) and not as_spec.valid
    as_plan = embedded(TEMPLATE, SpecInputFormat.TERRAFORM)
    assert [f.code for f in as_plan.findings] == ["invalid-json"]
    assert [f.code for f in embedded(PLAN, SpecInputFormat.CLOUDFORMATION).findings] == [
        "invalid-template"
    ]
    directory = embedded(CDK, SpecInputFormat.TERRAFORM)
    assert "CDK cloud assembly" in directory.findings[0].message


def test_a_yaml_template_that_cannot_be_read_is_a_finding(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", "Resources:\n  A: {Type: X}\n  A: {Type: Y}\n")
    (problem,) = embedded(path).findings
    assert problem.code == "invalid-template" and problem.source == str(path)


def test_a_missing_file_and_an_empty_assembly(tmp_path: Path) -> None:
    missing = check_input(str(tmp_path / "nope.yaml"))
    assert isinstance(missing, SpecReport) and missing.findings[0].code == "file-not-found"
    (tmp_path / "cdk.out").mkdir()
    (problem,) = embedded(tmp_path / "cdk.out").findings
    assert "template.json" in problem.message


def test_a_template_on_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(TEMPLATE.read_bytes())))
    report = embedded("-")
    assert report.source == "<stdin>" and len(report.specs) == 2


def test_the_report_as_json_keeps_the_fields_of_a_spec_file() -> None:
    data: dict[str, Any] = embedded(TEMPLATE).to_dict()
    assert {"source", "valid", "errors", "warnings"} <= set(data)
    assert data["input_format"] == "cloudformation"
    assert [s["resource"] for s in data["specs"]] == ["WebappSpecParameter", "ReportsSpecParameter"]
    assert data["specs"][1]["line"] == 47
    assert [i["resource"] for i in data["info"]] == ["BatchSpecParameter", "VpcIdParameter"]


def test_a_task_definition_given_as_a_spec_says_which_command_checks_it() -> None:
    taskdef = Path(__file__).parents[2] / "data" / "taskdefs" / "describe-s3.json"
    report = check_input(str(taskdef))
    assert isinstance(report, SpecReport)
    (finding,) = report.findings
    assert finding.code == NOT_A_CREDENTIAL_SPEC
    assert finding.fix == f"check it with: gmsa task check {taskdef}"
    # told it is a spec, it is checked as one
    as_spec = check_input(str(taskdef), SpecInputFormat.SPEC)
    assert NOT_A_CREDENTIAL_SPEC not in {f.code for f in as_spec.findings}
