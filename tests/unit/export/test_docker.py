"""``gmsa.export.docker``: the docker run and Compose options for a spec file."""

from __future__ import annotations

import shlex

import pytest
import yaml

from gmsa.credspec.model import CredentialSpec
from gmsa.credspec.validate import check_document
from gmsa.export.docker import export
from gmsa.reference import InvalidReferenceError
from tests.unit.credspec.test_examples import fresh


def webapp01_spec() -> CredentialSpec:
    report = check_document(fresh("full"), source="test.json")
    assert report.spec is not None
    return report.spec


def test_security_opt_names_the_file_in_the_credential_specs_directory() -> None:
    result = export(webapp01_spec(), "example_webapp01.json")
    assert result.security_opt == "credentialspec=file://example_webapp01.json"


def test_hostname_is_the_gmsa_name_for_the_windows_server_2016_rule() -> None:
    assert export(webapp01_spec(), "x.json").hostname == "WebApp01"


def test_docker_run_args_and_command() -> None:
    result = export(webapp01_spec(), "example_webapp01.json")
    assert result.run_args == [
        "--security-opt",
        "credentialspec=file://example_webapp01.json",
        "--hostname",
        "WebApp01",
    ]
    command = result.run_command("mcr.microsoft.com/windows/servercore:ltsc2022")
    assert command == (
        'docker run --security-opt "credentialspec=file://example_webapp01.json" '
        "--hostname WebApp01 mcr.microsoft.com/windows/servercore:ltsc2022"
    )
    assert shlex.split(command)[2:-1] == result.run_args


def test_a_file_name_with_shell_characters_is_quoted_for_the_shell() -> None:
    result = export(webapp01_spec(), "web app$1.json")
    assert shlex.split(result.run_command())[2:-1] == result.run_args


def test_subdirectories_of_the_credential_specs_directory_are_kept() -> None:
    result = export(webapp01_spec(), "team/webapp01.json")
    assert result.security_opt == "credentialspec=file://team/webapp01.json"


def test_compose_service_keys_read_back_from_yaml() -> None:
    result = export(webapp01_spec(), "example_webapp01.json")
    assert result.compose_service == {
        "hostname": "WebApp01",
        "security_opt": ["credentialspec=file://example_webapp01.json"],
    }
    assert yaml.safe_load(result.compose_yaml()) == result.compose_service


def test_to_dict() -> None:
    result = export(webapp01_spec(), "example_webapp01.json")
    assert result.to_dict() == {
        "file_name": "example_webapp01.json",
        "host_path": "C:\\ProgramData\\docker\\CredentialSpecs\\example_webapp01.json",
        "security_opt": "credentialspec=file://example_webapp01.json",
        "hostname": "WebApp01",
        "docker_run_args": result.run_args,
        "compose": result.compose_service,
    }


@pytest.mark.parametrize(
    "name", ["", "../webapp01.json", "/etc/webapp01.json", "C:/specs/w.json", "a|b.json"]
)
def test_file_names_docker_would_not_read_are_refused(name: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        export(webapp01_spec(), name)
    assert caught.value.part == "file path"
