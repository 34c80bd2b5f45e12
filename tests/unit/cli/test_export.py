"""``gmsa export kubernetes|docker``: output, exit codes, warnings on stderr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from gmsa.cli.main import cli
from tests.unit.credspec.test_examples import fresh


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["export", *args], input=stdin)


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def test_kubernetes_prints_one_yaml_stream_of_three_objects(tmp_path: Path) -> None:
    spec = write(tmp_path, "webapp01.json", fresh("full"))
    result = run("kubernetes", spec, "--name", "webapp01", "--service-account", "shop/frontend")
    assert result.exit_code == 0, result.output
    objects = list(yaml.safe_load_all(result.stdout))
    assert [o["kind"] for o in objects] == ["GMSACredentialSpec", "ClusterRole", "RoleBinding"]
    assert objects[0]["credspec"] == fresh("full")
    assert result.stderr == ""


def test_kubernetes_json_is_the_envelope_with_a_list(tmp_path: Path) -> None:
    spec = write(tmp_path, "webapp01.json", fresh("full"))
    result = run("kubernetes", spec, "--name", "webapp01", "--json")
    assert result.exit_code == 0, result.output
    envelope = json.loads(result.stdout)
    assert envelope["ok"] is True
    document = envelope["list"]
    assert (document["apiVersion"], document["kind"]) == ("v1", "List")
    assert [o["kind"] for o in document["items"]] == ["GMSACredentialSpec", "ClusterRole"]


def test_kubernetes_reads_standard_input() -> None:
    result = run("kubernetes", "-", "--name", "webapp01", stdin=json.dumps(fresh("full")))
    assert result.exit_code == 0, result.output
    assert next(yaml.safe_load_all(result.stdout))["metadata"]["name"] == "webapp01"


def test_kubernetes_warnings_go_to_stderr_and_stdout_stays_yaml(tmp_path: Path) -> None:
    spec = write(tmp_path, "linux.json", fresh("domainless-linux"))
    result = run("kubernetes", spec, "--name", "webapp01")
    assert result.exit_code == 0, result.output
    assert "plugin-input" not in result.stdout
    assert "PluginInput is a JSON object" in result.stderr
    assert len(list(yaml.safe_load_all(result.stdout))) == 2


def test_kubernetes_shows_the_specs_own_warnings(
    example_spec_file: Path,
) -> None:
    result = run("kubernetes", str(example_spec_file), "--name", "webapp01")
    assert result.exit_code == 0, result.output
    assert "NetBIOS name" in result.stderr


def test_kubernetes_refuses_an_invalid_spec_with_its_findings(tmp_path: Path) -> None:
    document = fresh("full")
    document["DomainJoinConfig"]["Sid"] = "S-1-5-21-2554468230-2647958158-2204241789-1104"
    spec = write(tmp_path, "broken.json", document)
    result = run("kubernetes", spec, "--name", "webapp01", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid-credential-spec"
    assert any(f["path"] == "DomainJoinConfig.Sid" for f in error["findings"])


def test_kubernetes_refuses_a_bad_name(tmp_path: Path) -> None:
    spec = write(tmp_path, "webapp01.json", fresh("full"))
    result = run("kubernetes", spec, "--name", "WebApp01")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "not a valid Kubernetes name" in result.stderr
    assert "where: --name" in result.stderr


def test_kubernetes_refuses_a_bad_service_account(tmp_path: Path) -> None:
    spec = write(tmp_path, "webapp01.json", fresh("full"))
    result = run("kubernetes", spec, "--name", "webapp01", "--service-account", "frontend")
    assert result.exit_code == 1
    assert "is not NAMESPACE/NAME" in result.stderr


def test_kubernetes_needs_a_name(tmp_path: Path) -> None:
    spec = write(tmp_path, "webapp01.json", fresh("full"))
    assert run("kubernetes", spec).exit_code == 2


def test_docker_text_shows_docker_run_and_compose(tmp_path: Path) -> None:
    spec = write(tmp_path, "example_webapp01.json", fresh("full"))
    result = run("docker", spec)
    assert result.exit_code == 0, result.output
    assert (
        'docker run --security-opt "credentialspec=file://example_webapp01.json" '
        "--hostname WebApp01 IMAGE"
    ) in result.stdout
    assert "security_opt:\n- credentialspec=file://example_webapp01.json\n" in result.stdout
    assert "hostname: WebApp01\n" in result.stdout
    assert "CredentialSpecs\\example_webapp01.json" in result.stdout


def test_docker_json(tmp_path: Path) -> None:
    spec = write(tmp_path, "w.json", fresh("full"))
    result = run("docker", spec, "--file-name", "webapp01.json", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["security_opt"] == "credentialspec=file://webapp01.json"
    assert document["hostname"] == "WebApp01"
    assert document["compose"]["security_opt"] == ["credentialspec=file://webapp01.json"]
    # where the text says to copy the spec, the JSON says too
    host_path = "C:\\ProgramData\\docker\\CredentialSpecs\\webapp01.json"
    assert document["host_path"] == host_path
    text = run("docker", spec, "--file-name", "webapp01.json")
    assert f"# Copy the spec to {host_path} on each host." in text.stdout


def test_docker_names_standard_input_as_spec_new_does() -> None:
    result = run("docker", "-", "--json", stdin=json.dumps(fresh("full")))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["file_name"] == "example_webapp01.json"


def test_docker_refuses_a_path_outside_the_directory(tmp_path: Path) -> None:
    spec = write(tmp_path, "w.json", fresh("full"))
    result = run("docker", spec, "--file-name", "../w.json", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "invalid-reference"


def test_docker_refuses_an_invalid_spec(tmp_path: Path) -> None:
    document = fresh("full")
    del document["DomainJoinConfig"]
    result = run("docker", write(tmp_path, "w.json", document))
    assert result.exit_code == 1
    assert "not valid" in result.stderr


def test_export_help_describes_both_commands() -> None:
    result = CliRunner().invoke(cli, ["export", "--help"])
    assert result.exit_code == 0
    assert "kubernetes" in result.output and "docker" in result.output
