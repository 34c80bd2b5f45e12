"""``gmsa spec validate`` on infrastructure as code: the specs a template, a CDK cloud
assembly or a Terraform plan stores, in text, JSON and SARIF, with exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from gmsa.cli.main import cli
from tests.support.cli import json_of

SPECS = Path(__file__).parents[2] / "data" / "iac" / "specs"
TEMPLATE = SPECS / "cloudformation" / "gmsa-specs.yaml"
CDK = SPECS / "cdk.out"
PLAN = SPECS / "terraform" / "plan.json"


def run(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["spec", "validate", *map(str, args)], input=stdin)


def test_text_names_the_resource_path_and_line_of_each_spec() -> None:
    result = run(TEMPLATE)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert f"✓ {TEMPLATE}:21: WebappSpecParameter: Properties.Value: valid" in lines
    assert f"✗ {TEMPLATE}:47: ReportsSpecParameter: Properties.Value: not valid (2 errors)" in lines
    assert any(
        line.strip().startswith(
            f"error: {TEMPLATE}:51: ReportsSpecParameter: Properties.Value.DomainJoinConfig.Sid:"
        )
        for line in lines
    )
    assert any("info:" in line and "BatchSpecParameter" in line for line in lines)
    assert lines[-1] == (
        f"{TEMPLATE} (cloudformation): 2 credential specs: 1 valid, 1 not valid, "
        "2 values not checked"
    )


def test_quiet_prints_only_the_problems() -> None:
    result = run(TEMPLATE, "--quiet")
    assert result.exit_code == 1
    assert "ReportsSpecParameter" in result.stdout
    assert "info:" not in result.stdout and "✓" not in result.stdout


def test_json_has_every_finding_and_each_spec() -> None:
    result = run(TEMPLATE, "--json")
    assert result.exit_code == 1
    data = json_of(result)
    assert data["ok"] is False and data["valid"] is False
    (file,) = data["files"]
    assert [(s["resource"], s["valid"]) for s in file["specs"]] == [
        ("WebappSpecParameter", True),
        ("ReportsSpecParameter", False),
    ]
    found = {(f["severity"], f["resource"], f["path"], f.get("line")) for f in data["findings"]}
    assert ("error", "ReportsSpecParameter", "Properties.Value.DomainJoinConfig.Sid", 51) in found
    assert ("info", "VpcIdParameter", "Properties.Value", 102) in found
    assert all(f["source"] == str(TEMPLATE) for f in data["findings"])


def test_sarif_points_at_the_line_of_each_problem() -> None:
    result = run(TEMPLATE, "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    located = {
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in log["runs"][0]["results"]
    }
    uri = TEMPLATE.as_uri()
    assert ("sid-not-domain-sid", uri, 51) in located
    assert ("account-name-dollar", uri, 52) in located
    names = [
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        for r in log["runs"][0]["results"]
    ]
    assert "ReportsSpecParameter Properties.Value.DomainJoinConfig.Sid" in names


def test_a_plan_and_an_assembly_and_a_spec_file_in_one_run(example_spec_file: Path) -> None:
    result = run(PLAN, CDK, example_spec_file, "--json")
    assert result.exit_code == 1
    files = json_of(result)["files"]
    assert [f["source"] for f in files] == [str(PLAN), str(CDK), str(example_spec_file)]
    assert [f.get("input_format") for f in files] == ["terraform", "cloudformation", None]
    assert files[2]["valid"] is True
    text = run(PLAN, CDK, example_spec_file)
    assert text.stdout.splitlines()[-1] == "3 files: 1 valid, 2 not valid"


def test_only_valid_specs_exit_zero_and_values_not_known_are_no_error(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    text = TEMPLATE.read_text()
    template.write_text(text.replace("-1105", "").replace("Reports01$", "Reports01"))
    result = run(template)
    assert result.exit_code == 0, result.output
    assert "2 values not checked" in result.stdout


def test_a_template_without_a_spec_exits_one_and_says_where_to_look(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    result = run(template)
    assert result.exit_code == 1
    assert "there is no credential spec in it" in result.stdout
    assert "gmsa task check" in result.stdout


def test_the_input_format_can_be_chosen() -> None:
    as_spec = run(TEMPLATE, "--input-format", "spec", "--json")
    assert as_spec.exit_code == 1
    assert "input_format" not in json_of(as_spec)["files"][0]
    assert run(PLAN, "--input-format", "terraform").exit_code == 1
    wrong = run(PLAN, "--input-format", "cloudformation", "--json")
    assert [f["code"] for f in json_of(wrong)["findings"]] == ["invalid-template"]
    assert run(TEMPLATE, "--input-format", "ecs").exit_code == 2


def test_a_template_on_standard_input() -> None:
    result = run("-", "--json", stdin=TEMPLATE.read_text())
    data: dict[str, Any] = json_of(result)
    assert data["files"][0]["source"] == "<stdin>"
    assert len(data["files"][0]["specs"]) == 2


def test_sarif_of_a_plan_names_each_address() -> None:
    result = run(PLAN, "--format", "sarif")
    assert result.exit_code == 1
    results = json.loads(result.stdout)["runs"][0]["results"]
    names = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in results}
    assert "aws_ssm_parameter.reports01_spec value.DomainJoinConfig.Sid" in names
    assert all(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == PLAN.as_uri()
        for r in results
    )
