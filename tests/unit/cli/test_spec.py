"""``gmsa spec validate|show|schema``: exit codes, JSON output, human output, stdin."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gmsa.cli.spec import spec
from tests.unit.credspec.test_examples import SECRET_ARN, fresh


def run(*args: str, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(spec, list(args), input=stdin)


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=4), encoding="utf-8")
    return str(path)


@pytest.fixture
def broken_file(tmp_path: Path) -> str:
    document = fresh("full")
    document["DomainJoinConfig"]["Sid"] = "S-1-5-21-2554468230-2647958158-2204241789-1104"
    return write(tmp_path, "broken.json", document)


def test_validate_ecs_example_spec_exits_0_with_a_check_mark(example_spec_file: Path) -> None:
    result = run("validate", str(example_spec_file))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("✓ ")
    assert "main account" in result.output


def test_validate_broken_spec_exits_1_and_shows_path_and_fix(broken_file: str) -> None:
    result = run("validate", broken_file)
    assert result.exit_code == 1
    assert result.output.startswith("✗ ")
    assert "DomainJoinConfig.Sid" in result.output
    assert 'fix: use the domain SID "S-1-5-21-2554468230-2647958158-2204241789"' in result.output


def test_validate_json_lists_every_file(example_spec_file: Path, broken_file: str) -> None:
    result = run("validate", str(example_spec_file), broken_file, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["valid"] is False
    first, second = data["files"]
    assert first["valid"] is True
    assert first["errors"] == []
    assert first["warnings"][0]["path"] == "ActiveDirectoryConfig.GroupManagedServiceAccounts"
    assert second["valid"] is False
    assert second["source"] == broken_file
    assert second["errors"][0]["code"] == "sid-not-domain-sid"
    assert second["errors"][0]["path"] == "DomainJoinConfig.Sid"
    assert second["errors"][0]["message"]


def test_validate_all_valid_json_exits_0(tmp_path: Path) -> None:
    result = run("validate", write(tmp_path, "a.json", fresh("full")), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "ok": True,
        "findings": [],
        "valid": True,
        "files": [
            {"source": str(tmp_path / "a.json"), "valid": True, "errors": [], "warnings": []}
        ],
    }


def test_validate_missing_file_is_an_error_for_that_file_only(
    tmp_path: Path, example_spec_file: Path
) -> None:
    missing = str(tmp_path / "missing.json")
    result = run("validate", missing, str(example_spec_file), "--json")
    assert result.exit_code == 1
    files = json.loads(result.stdout)["files"]
    assert files[0]["errors"][0]["code"] == "file-not-found"
    assert files[1]["valid"] is True


def test_validate_reads_standard_input(example_spec: dict[str, Any]) -> None:
    data = codecs.BOM_UTF16_LE + json.dumps(example_spec).encode("utf-16-le")
    result = run("validate", "-", "--json", stdin=data)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["files"][0]["source"] == "<stdin>"


def test_validate_broken_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "CmsPlugins": [\n}')
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert "line 3, column 1" in result.output


def test_validate_without_files_is_a_usage_error() -> None:
    assert run("validate").exit_code == 2


def test_validate_summary_counts_files(example_spec_file: Path, broken_file: str) -> None:
    result = run("validate", str(example_spec_file), broken_file)
    assert "2 files: 1 valid, 1 not valid" in result.output


def test_show_summarises_a_domain_joined_spec(tmp_path: Path) -> None:
    result = run("show", write(tmp_path, "s.json", fresh("full")))
    assert result.exit_code == 0, result.output
    for text in (
        "example.com (NetBIOS EXAMPLE)",
        "S-1-5-21-2554468230-2647958158-2204241789",
        "8665abd4-e947-4dd0-9a51-f8254943c90b",
        "Reporting01",
        "domain-joined",
        "scopes: example.com, EXAMPLE",
    ):
        assert text in result.output


def test_show_names_the_plugin_and_credential_of_a_domainless_spec(tmp_path: Path) -> None:
    result = run("show", write(tmp_path, "s.json", fresh("domainless-linux")))
    assert result.exit_code == 0
    assert "domainless" in result.output
    assert "AWS ECS CCG plugin" in result.output
    assert SECRET_ARN in result.output


def test_show_json_gives_the_summary_as_data(tmp_path: Path) -> None:
    result = run("show", write(tmp_path, "s.json", fresh("domainless-windows")), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["valid"] is True
    assert data["spec"]["main_account"] == "WebApp01"
    assert data["spec"]["domainless"] is True
    assert data["spec"]["credential_arn"] == SECRET_ARN
    assert data["spec"]["plugin"]["input_shape"] == "string"


def test_show_invalid_spec_exits_1_with_findings(broken_file: str) -> None:
    result = run("show", broken_file, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["errors"][0]["code"] == "sid-not-domain-sid"


def test_show_canonical_prints_normalized_json(tmp_path: Path) -> None:
    document = fresh("full")
    document["DomainJoinConfig"] = dict(reversed(list(document["DomainJoinConfig"].items())))
    result = run("show", write(tmp_path, "s.json", document), "--canonical")
    assert result.exit_code == 0
    assert next(iter(json.loads(result.stdout)["DomainJoinConfig"])) == "Sid"
    assert result.stdout.endswith("}\n")


@pytest.mark.parametrize("quiet", [[], ["-q"]])
def test_show_canonical_prints_the_document_even_when_quiet(
    tmp_path: Path, quiet: list[str]
) -> None:
    result = run("show", write(tmp_path, "s.json", fresh("full")), "--canonical", *quiet)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["DomainJoinConfig"]["Sid"]


def test_show_canonical_with_json_is_the_envelope_with_the_canonical_spec(tmp_path: Path) -> None:
    """Before, --canonical --json (and --format sarif) printed the spec itself: not the
    report --json promises."""
    document = fresh("full")
    result = run("show", write(tmp_path, "s.json", document), "--canonical", "--json")
    assert result.exit_code == 0
    envelope = json.loads(result.stdout)
    assert envelope["ok"] is True
    assert envelope["canonical"]["DomainJoinConfig"]["Sid"] == document["DomainJoinConfig"]["Sid"]
    sarif = run("show", write(tmp_path, "s.json", document), "--canonical", "--format", "sarif")
    assert json.loads(sarif.stdout)["version"] == "2.1.0"


def test_show_canonical_refuses_an_invalid_spec(broken_file: str) -> None:
    result = run("show", broken_file, "--canonical")
    assert result.exit_code == 1
    assert "DomainJoinConfig.Sid" in result.stderr


def test_show_reads_standard_input(example_spec: dict[str, Any]) -> None:
    result = run("show", "-", stdin=json.dumps(example_spec).encode())
    assert result.exit_code == 0
    assert "WebApp01" in result.output


def test_show_missing_file_exits_1(tmp_path: Path) -> None:
    result = run("show", str(tmp_path / "none.json"))
    assert result.exit_code == 1
    assert "not found" in result.output


def test_schema_prints_a_draft_2020_12_schema() -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "DomainJoinConfig" in schema["properties"]


@pytest.mark.parametrize("command", ["validate", "show", "schema"])
def test_help_teaches_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"gmsa spec {command}" in result.output
