"""The pre-commit hooks: which files they match, and the runner that checks each file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from gmsa.cli.precommit import precommit
from tests.unit.credspec.test_examples import fresh

HOOKS_FILE = Path(__file__).resolve().parents[3] / ".pre-commit-hooks.yaml"


def hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in yaml.safe_load(HOOKS_FILE.read_text())}


def matches(hook_id: str, path: str) -> bool:
    # pre-commit applies `files` with re.search to paths relative to the repository root.
    return re.search(hooks()[hook_id]["files"], path) is not None


def test_hooks_are_python_hooks_running_gmsa() -> None:
    found = hooks()
    assert set(found) == {"gmsa-spec-validate", "gmsa-task-check"}
    assert found["gmsa-spec-validate"]["entry"] == "gmsa spec validate"
    assert found["gmsa-task-check"]["entry"] == "python -m gmsa.cli.precommit task-check"
    assert {hook["language"] for hook in found.values()} == {"python"}


@pytest.mark.parametrize(
    "path",
    [
        "credentialspecs/example_webapp01.json",
        "deploy/CredentialSpecs/webapp01.json",
        "credential-specs/a.json",
        "credspecs/team/a.json",
        "webapp01.credspec.json",
        "specs/webapp01.CredSpec.json",
    ],
)
def test_spec_hook_matches_specs(path: str) -> None:
    assert matches("gmsa-spec-validate", path)


@pytest.mark.parametrize(
    "path",
    ["package.json", "taskdef.json", "credentialspecs/README.md", "specs.json", "tsconfig.json"],
)
def test_spec_hook_leaves_other_files_alone(path: str) -> None:
    assert not matches("gmsa-spec-validate", path)


@pytest.mark.parametrize(
    "path",
    [
        "taskdef.json",
        "web-taskdef.json",
        "ecs/task-definition.json",
        "ecs/web.task_definition.prod.json",
        "taskdefs/web.json",
        "deploy/task-definitions/web.json",
        "TaskDef.JSON",
    ],
)
def test_task_hook_matches_task_definitions(path: str) -> None:
    assert matches("gmsa-task-check", path)


@pytest.mark.parametrize(
    "path", ["package.json", "credentialspecs/web.json", "taskdef.yaml", "tasks/web.json"]
)
def test_task_hook_leaves_other_files_alone(path: str) -> None:
    assert not matches("gmsa-task-check", path)


def run(*args: str) -> Result:
    return CliRunner().invoke(precommit, ["task-check", *args])


def taskdef(tmp_path: Path, name: str, reference: str) -> str:
    path = tmp_path / name
    path.write_text(
        json.dumps(
            {
                "family": name.removesuffix(".json"),
                "containerDefinitions": [
                    {"name": "web", "image": "x", "credentialSpecs": [reference]}
                ],
            }
        )
    )
    return str(path)


def test_runner_checks_every_file_with_the_same_options(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "w.json").write_text(json.dumps(fresh("full")))
    a = taskdef(tmp_path, "a.json", "credentialspec:file://w.json")
    b = taskdef(tmp_path, "b.json", "credentialspec:file://w.json")
    result = run("--spec-dir", str(specs), a, b)
    assert result.exit_code == 0, result.output
    assert result.output.count("[file, domain-joined, gMSA WebApp01]") == 2


def test_runner_exits_1_when_any_file_fails_and_still_checks_the_rest(tmp_path: Path) -> None:
    bad = taskdef(tmp_path, "bad.json", "credentialspec:file://../w.json")
    good = taskdef(tmp_path, "good.json", "credentialspec:file://w.json")
    result = run(bad, good)
    assert result.exit_code == 1
    assert "bad.json: invalid" in result.output
    assert "good.json: valid" in result.output


def test_runner_exits_with_the_worst_code(tmp_path: Path) -> None:
    good = taskdef(tmp_path, "good.json", "credentialspec:file://w.json")
    bad = taskdef(tmp_path, "bad.json", "credentialspec:file://../w.json")
    unreachable = taskdef(tmp_path, "s3.json", "credentialspec:arn:aws:s3:::bucket/w.json")
    # Nothing listens on the discard port of the loopback address: AWS cannot be reached.
    options = ("--fetch", "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1")
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_MAX_ATTEMPTS": "1"}
    result = CliRunner(env=env).invoke(precommit, ["task-check", *options, good, unreachable, bad])
    assert result.exit_code == 3, result.output
    assert "cannot reach" in result.output
    assert "bad.json: invalid" in result.output


def test_runner_refuses_an_unknown_option_as_usage_error(tmp_path: Path) -> None:
    good = taskdef(tmp_path, "good.json", "credentialspec:file://w.json")
    assert run("--no-such-option", good).exit_code == 2
