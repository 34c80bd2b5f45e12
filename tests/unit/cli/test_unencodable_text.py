"""Text that no encoding can write never ends a command in a traceback or half its output.

A lone surrogate escape (``"\\ud800"``) in a key, a value or a reference of a spec, task
definition (JSON or YAML), Terraform plan or policy is refused as invalid input (exit
1, code ``invalid-unicode``) naming its JSON path. A file name or argument with bytes
that are not UTF-8 is printed with them escaped (``\\xff``). Every printer (text,
``--json``, ``--format sarif``) prints one whole answer: ``--json`` is always one valid
JSON document. Run in process and, with an ASCII locale and odd output encodings, as a
real process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gmsa.cli.main import cli
from tests.conftest import EXAMPLE_SPEC
from tests.support.cli import within

BYTE = "\udcff"
"""What Python makes of the byte 0xff in a file name or argument (not UTF-8)."""
LONE = "\\ud800"
"""A lone surrogate as a JSON escape."""
FORMATS = {"text": [], "json": ["--json"], "sarif": ["--format", "sarif"]}


def _spec(where: str) -> str:
    text = json.dumps(EXAMPLE_SPEC)
    if where == "key":
        return text[:-1] + f', "{LONE}x": 1}}'
    return text.replace('"WebApp01"', f'"Web{LONE}"', 1)


def _taskdef(where: str) -> str:
    container: dict[str, Any] = {
        "name": "web",
        "image": "img",
        "dockerSecurityOptions": ["credentialspec:file://webapp01.json"],
    }
    document = {"family": "f", "containerDefinitions": [container]}
    marker = "__marker__"
    if where == "key":
        container[marker] = 1
    elif where == "value":
        container["name"] = marker
    else:
        container["dockerSecurityOptions"] = [f"credentialspec:file://{marker}.json"]
    return json.dumps(document).replace(marker, f"a{LONE}")


def _template() -> str:
    return (
        "Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n"
        f'      ContainerDefinitions:\n        - Name: "web{LONE}"\n          Image: img\n'
    )


def _plan() -> str:
    containers = json.dumps([{"name": "web\ud800", "image": "img"}])  # escaped twice below
    resource = {
        "address": "aws_ecs_task_definition.web",
        "type": "aws_ecs_task_definition",
        "values": {"family": "f", "container_definitions": containers},
    }
    return json.dumps(
        {"format_version": "1.2", "planned_values": {"root_module": {"resources": [resource]}}}
    )


def _policy() -> str:
    statement = {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": f"arn:{LONE}"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}).replace(
        "\\\\ud800", LONE
    )


SSM_REF = "credentialspec:arn:aws:ssm:us-east-1:123456789012:parameter/webapp01"

# (name, file name, content, command line with {} for the file, JSON path refused)
REFUSED: list[tuple[str, str, str, list[str], str]] = [
    ("spec value", "spec.json", _spec("value"), ["spec", "validate", "{}"], "DomainJoinConfig"),
    ("spec key", "spec.json", _spec("key"), ["spec", "validate", "{}"], f"{LONE}x"),
    ("spec show", "spec.json", _spec("value"), ["spec", "show", "{}"], "DomainJoinConfig"),
    (
        "export",
        "spec.json",
        _spec("value"),
        ["export", "kubernetes", "{}", "--name", "web"],
        "DomainJoinConfig",
    ),
    ("taskdef key", "td.json", _taskdef("key"), ["task", "check", "{}"], "containerDefinitions"),
    (
        "taskdef value",
        "td.json",
        _taskdef("value"),
        ["task", "check", "{}"],
        "containerDefinitions",
    ),
    ("taskdef ref", "td.json", _taskdef("ref"), ["task", "check", "{}"], "containerDefinitions"),
    ("template", "t.yaml", _template(), ["task", "check", "{}"], "Resources.Task"),
    ("plan", "plan.json", _plan(), ["task", "check", "{}"], ""),
    ("policy", "p.json", _policy(), ["iam", "check", SSM_REF, "--policy", "{}"], "Statement"),
    (
        "task patch",
        "td.json",
        _taskdef("value"),
        ["task", "patch", "{}", "--container", "web", "--reference", SSM_REF],
        "containerDefinitions",
    ),
]


def invoke(args: list[str], **kwargs: Any) -> Result:
    with within(20):
        return CliRunner(**kwargs).invoke(cli, args)


def assert_whole_answer(result: Result, fmt: str) -> Any:
    """No traceback, an exit code of the contract, and for JSON exactly one document."""
    assert not isinstance(result.exception, UnicodeError), result.exception
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1, 2, 3)
    assert "Traceback" not in result.output
    if fmt == "text":
        return None
    return json.loads(result.stdout)  # one document: trailing text would fail here


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("name", "file", "content", "args", "path"), REFUSED, ids=[c[0] for c in REFUSED]
)
def test_a_lone_surrogate_in_any_input_is_refused_naming_its_path(
    name: str, file: str, content: str, args: list[str], path: str, fmt: str, tmp_path: Path
) -> None:
    target = tmp_path / file
    target.write_text(content, encoding="utf-8")
    result = invoke([a.replace("{}", str(target)) for a in args] + FORMATS[fmt])
    document = assert_whole_answer(result, fmt)
    assert result.exit_code == 1, result.output
    said = result.output if document is None else json.dumps(document)
    assert "invalid-unicode" in said or "lone surrogate" in said
    assert path in said.replace("\\\\", "\\")


def test_refused_input_names_the_path_in_text(tmp_path: Path) -> None:
    target = tmp_path / "spec.json"
    target.write_text(_spec("value"))
    result = invoke(["spec", "validate", str(target)])
    assert result.exit_code == 1
    assert "DomainJoinConfig.MachineAccountName" in result.output
    assert '"Web\\ud800" holds \\ud800, a lone surrogate' in result.output


def test_stdin_is_read_by_the_same_reader() -> None:
    with within(20):
        result = CliRunner().invoke(cli, ["spec", "validate", "-", "--json"], input=_spec("key"))
    document = assert_whole_answer(result, "json")
    assert result.exit_code == 1
    assert "invalid-unicode" in json.dumps(document)


def _taskdef(tmp_path: Path) -> Path:
    path = tmp_path / "taskdef.json"
    document = {"family": "web", "containerDefinitions": [{"name": "app", "image": "app"}]}
    path.write_text(json.dumps(document))
    return path


def _byte_name(tmp_path: Path) -> Path:
    path = tmp_path / f"spec{BYTE}.json"
    path.write_text(json.dumps(EXAMPLE_SPEC))
    return path


ARGUMENT_CASES: dict[str, Callable[[Path], list[str]]] = {
    "spec validate FILE": lambda p: ["spec", "validate", str(_byte_name(p))],
    "spec validate missing FILE": lambda p: ["spec", "validate", str(p / f"no{BYTE}.json")],
    "spec show FILE": lambda p: ["spec", "show", str(_byte_name(p))],
    "task check missing FILE": lambda p: ["task", "check", str(p / f"no{BYTE}.json")],
    "ref check": lambda p: ["ref", "check", f"credentialspec:file://a{BYTE}.json"],
    "ref check, not a reference": lambda p: ["ref", "check", f"x{BYTE}"],
    "iam policy": lambda p: ["iam", "policy", f"credentialspec:arn:aws:s3:::b/k{BYTE}"],
    "export --name": lambda p: ["export", "kubernetes", str(_byte_name(p)), "--name", BYTE],
    "spec publish to S3": lambda p: [
        "spec",
        "publish",
        str(_byte_name(p)),
        f"arn:aws:s3:::bucket/k{BYTE}.json",
    ],
    "task patch --hostname": lambda p: [
        "task",
        "patch",
        str(_taskdef(p)),
        "--container",
        "app",
        "--reference",
        "credentialspec:file://webapp01.json",
        "--hostname",
        f"web{BYTE}",
        "--out",
        str(p / "out.json"),
    ],
    "task prepare --task-id": lambda p: [
        "task",
        "prepare",
        str(p / "none.json"),
        "--task-id",
        f"t{BYTE}",
        "--credspec-dir",
        str(p),
    ],
    "task cleanup --task-id": lambda p: [
        "task",
        "cleanup",
        "--task-id",
        f"t{BYTE}",
        "--credspec-dir",
        str(p),
    ],
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", ARGUMENT_CASES)
def test_arguments_that_are_not_utf8_are_printed_escaped(
    case: str, fmt: str, tmp_path: Path
) -> None:
    args = ARGUMENT_CASES[case](tmp_path)
    result = invoke(args + FORMATS[fmt])
    document = assert_whole_answer(result, fmt)
    if document is not None:
        assert BYTE not in json.dumps(document, ensure_ascii=False)


def test_a_file_name_that_is_not_utf8_is_shown_with_the_byte(tmp_path: Path) -> None:
    path = _byte_name(tmp_path)
    text = invoke(["spec", "validate", str(path)])
    assert text.exit_code == 0, text.output
    assert "spec\\xff.json: valid" in text.output
    document = assert_whole_answer(invoke(["spec", "validate", str(path), "--json"]), "json")
    assert document["files"][0]["source"].endswith("spec\\xff.json")
    sarif = assert_whole_answer(
        invoke(["spec", "validate", str(path), "--format", "sarif"]), "sarif"
    )
    assert "spec%FF.json" in json.dumps(sarif)


def test_a_narrow_output_encoding_prints_whole_answers(tmp_path: Path) -> None:
    spec = _byte_name(tmp_path)
    result = invoke(["spec", "validate", str(spec)], charset="latin-1")
    assert result.exit_code == 0
    assert result.output.startswith("\\u2713 ")
    assert "spec\\xff.json: valid" in result.output
    result = invoke(["spec", "validate", str(spec), "--json"], charset="latin-1")
    assert json.loads(result.stdout)["ok"] is True


# -- a real process --------------------------------------------------------------------

ENCODINGS = {
    "C locale, ASCII": {"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"},
    "C locale": {"LC_ALL": "C"},
    "PYTHONIOENCODING=latin-1:strict": {"PYTHONIOENCODING": "latin-1:strict"},
    "PYTHONIOENCODING=utf-8:strict": {"PYTHONIOENCODING": "utf-8:strict"},
}


def run_gmsa(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHON"))}
    environment.update(env, LANG="C", PYTHONPATH=os.pathsep.join(sys.path))
    argv = [a.encode("utf-8", "surrogateescape") for a in [sys.executable, "-m", "gmsa", *args]]
    return subprocess.run(
        argv, env=environment, cwd=cwd, capture_output=True, timeout=60, check=False
    )


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_real_process_with_a_narrow_locale_prints_whole_answers(
    encoding: str, tmp_path: Path
) -> None:
    _byte_name(tmp_path)
    (tmp_path / "bad.json").write_text(_spec("value"))
    args = ["spec", "validate", f"spec{BYTE}.json", "bad.json"]
    env = ENCODINGS[encoding]
    text = run_gmsa(args, env, tmp_path)
    assert text.returncode == 1, text.stderr
    assert b"Traceback" not in text.stderr
    assert b"spec\\xff.json: valid" in text.stdout
    assert b"Web\\ud800" in text.stdout
    as_json = run_gmsa([*args, "--json"], env, tmp_path)
    assert as_json.returncode == 1, as_json.stderr
    assert as_json.stderr == b""
    document = json.loads(as_json.stdout)
    assert [f["source"] for f in document["files"]] == ["spec\\xff.json", "bad.json"]


def test_a_real_process_in_the_c_locale_prints_sarif_and_errors_whole(tmp_path: Path) -> None:
    _byte_name(tmp_path)
    env = ENCODINGS["C locale, ASCII"]
    sarif = run_gmsa(["spec", "validate", f"spec{BYTE}.json", "--format", "sarif"], env, tmp_path)
    assert sarif.returncode == 0, sarif.stderr
    assert "spec%FF.json" in json.dumps(json.loads(sarif.stdout))
    error = run_gmsa(["ref", "check", f"credentialspec:file://a{BYTE}.json"], env, tmp_path)
    assert error.returncode == 1
    assert b"Traceback" not in error.stderr + error.stdout
    assert b"it holds \\xff (a byte that is not UTF-8" in error.stdout + error.stderr
