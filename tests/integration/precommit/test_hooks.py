"""The hooks of .pre-commit-hooks.yaml, run by pre-commit itself against a repository.

A temporary git repository copies this project's files (tracked and new, as they are
now) and commits them: that is the hook repository. Another temporary repository
uses it in its .pre-commit-config.yaml (``repo:`` its path, ``rev:`` the commit),
holds specs and task definitions, and runs ``pre-commit run --all-files``, once
clean and once with a broken spec and task definition.

pre-commit builds the hook environment as for any user (a virtualenv with gmsa
installed from the hook repository); to keep the test short, pip is told to skip
dependencies and build isolation, and the hook finds them (and pip finds setuptools)
where the test's own environment has them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SPEC
from tests.unit.credspec.test_examples import fresh

pytestmark = pytest.mark.xdist_group("precommit")

PROJECT = Path(__file__).resolve().parents[3]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _project_files() -> list[str]:
    listed = git(PROJECT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return [name for name in listed.split("\0") if name and (PROJECT / name).is_file()]


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repository holding this project as it is now, and its commit."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in _project_files():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / name, target)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hooks under test")
    return repo, git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """pre-commit's environment: its own cache, shared by the runs of this module."""
    env = dict(os.environ)
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    env["PIP_NO_DEPS"] = "1"
    # pip reads this one inverted: "0" turns build isolation off, so setuptools comes from
    # the test's environment too instead of being installed into a build environment.
    env["PIP_NO_BUILD_ISOLATION"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(
        dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    )
    env.pop("PRE_COMMIT", None)
    yield env


def _user_repo(tmp_path: Path, hook_repo: tuple[Path, str]) -> Path:
    repo_path, rev = hook_repo
    repo = tmp_path / "user-repo"
    repo.mkdir()
    git(repo, "init", "-q")
    config = {
        "repos": [
            {
                "repo": str(repo_path),
                "rev": rev,
                "hooks": [
                    {"id": "gmsa-spec-validate"},
                    {"id": "gmsa-task-check", "args": ["--spec-dir", "credentialspecs"]},
                    # The specs a template stores in SSM parameters: the same hook, told
                    # which files are such templates.
                    {
                        "id": "gmsa-spec-validate",
                        "alias": "gmsa-spec-validate-templates",
                        "name": "specs in templates",
                        "files": "^infra/.*\\.ya?ml$",
                    },
                ],
            }
        ]
    }
    # JSON is YAML: pre-commit reads it as its config.
    (repo / ".pre-commit-config.yaml").write_text(json.dumps(config, indent=2))
    (repo / "credentialspecs").mkdir()
    (repo / "credentialspecs" / "example_webapp01.json").write_text(json.dumps(fresh("full")))
    (repo / "taskdefs").mkdir()
    (repo / "taskdefs" / "web.json").write_text(json.dumps(_taskdef("example_webapp01.json")))
    (repo / "api-taskdef.json").write_text(json.dumps(_taskdef("example_webapp01.json")))
    (repo / "infra").mkdir()
    (repo / "infra" / "gmsa-specs.yaml").write_text(_template(fresh("full")))
    # Neither a spec nor a task definition: the hooks must not see it.
    (repo / "package.json").write_text('{"name": "web"}')
    git(repo, "add", "-A")
    return repo


def _template(spec: dict[str, object]) -> str:
    """A CloudFormation template storing ``spec`` in an SSM parameter, as a literal block
    that starts on line 7."""
    text = json.dumps(spec, indent=2)
    return (
        "Resources:\n"
        "  WebappSpecParameter:\n"
        "    Type: AWS::SSM::Parameter\n"
        "    Properties:\n"
        "      Type: String\n"
        "      Value: |\n" + "".join(f"        {line}\n" for line in text.splitlines())
    )


def _taskdef(spec_file: str) -> dict[str, object]:
    return {
        "family": "web",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "mcr.microsoft.com/windows/servercore:ltsc2022",
                "hostname": "WebApp01",
                "credentialSpecs": [f"credentialspec:file://{spec_file}"],
            }
        ],
    }


def run_hooks(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PRE_COMMIT, "run", "--all-files", "--verbose", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )


def test_hooks_pass_on_valid_specs_and_task_definitions(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    repo = _user_repo(tmp_path, hook_repo)
    result = run_hooks(repo, pre_commit_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gmsa spec validate" in result.stdout
    assert "credentialspecs/example_webapp01.json: valid" in result.stdout
    assert "taskdefs/web.json: valid" in result.stdout
    assert "api-taskdef.json: valid" in result.stdout
    assert "infra/gmsa-specs.yaml:6: WebappSpecParameter: Properties.Value: valid" in result.stdout
    assert "package.json" not in result.stdout


def test_hooks_fail_on_a_broken_spec_and_task_definition_saying_why(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_env: dict[str, str]
) -> None:
    repo = _user_repo(tmp_path, hook_repo)
    broken = dict(EXAMPLE_SPEC, DomainJoinConfig=dict(EXAMPLE_SPEC["DomainJoinConfig"]))
    broken["DomainJoinConfig"]["Sid"] = "S-1-5-21-2554468230-2647958158-2204241789-1104"
    (repo / "credentialspecs" / "broken.json").write_text(json.dumps(broken))
    (repo / "taskdefs" / "escape.json").write_text(json.dumps(_taskdef("../escape.json")))
    (repo / "infra" / "gmsa-specs.yaml").write_text(_template(broken))
    git(repo, "add", "-A")
    result = run_hooks(repo, pre_commit_env)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    spec_part, task_part = out.split("gmsa task check", 1)
    task_part, template_part = task_part.split("specs in templates", 1)
    lines = _template(broken).splitlines()
    sid_line = 1 + next(i for i, line in enumerate(lines) if '"Sid"' in line)
    assert "Failed" in template_part and "- exit code: 1" in template_part
    assert (
        f"infra/gmsa-specs.yaml:{sid_line}: WebappSpecParameter: "
        "Properties.Value.DomainJoinConfig.Sid:"
    ) in template_part
    assert "Failed" in spec_part and "- exit code: 1" in spec_part
    assert "credentialspecs/broken.json: not valid" in spec_part
    assert "DomainJoinConfig.Sid" in spec_part
    assert "credentialspecs/example_webapp01.json: valid" in spec_part
    assert "Failed" in task_part and "- exit code: 1" in task_part
    assert "taskdefs/escape.json: invalid" in task_part
    assert "would leave the CredentialSpecs directory" in task_part
    assert "taskdefs/web.json: valid" in task_part
