"""One output contract: every --json document follows `gmsa schema output`, every
--format sarif log is SARIF 2.1.0, and every command that prints JSON takes
--format and --quiet."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
from click.testing import CliRunner, Result

from gmsa.cli.main import cli
from gmsa.findings import Finding, Severity
from gmsa.report import envelope, output_schema, sarif_log
from tests.conftest import EXAMPLE_SPEC
from tests.support.cli import assert_envelope, assert_sarif, check_output

DATA = Path(__file__).parents[2] / "data" / "taskdefs"
S3_REF = "credentialspec:arn:aws:s3:::my-bucket/gmsa/webapp01.json"


def run(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin)


def commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def options_of(path: tuple[str, ...]) -> set[str]:
    return {o for p in command_at(path).params for o in p.opts}


JSON_COMMANDS = [path for path in commands() if "--json" in options_of(path)]


@pytest.fixture
def lab(tmp_path: Path) -> dict[str, Path]:
    spec = tmp_path / "webapp01.json"
    spec.write_text(json.dumps(EXAMPLE_SPEC, indent=4))
    specdir = tmp_path / "CredentialSpecs"
    specdir.mkdir()
    (specdir / "webapp01.json").write_text(json.dumps(EXAMPLE_SPEC))
    return {"spec": spec, "specdir": specdir, "tmp": tmp_path}


def offline_args(path: tuple[str, ...], lab: dict[str, Path]) -> list[str | Path]:
    """Arguments that run the command without any server: a real result where one is
    possible offline, else the error it stops with (which has the same envelope)."""
    no_server = ["--ccache", "a", "--keytab", "b"]  # refused before any connection
    socket = ["--socket", lab["tmp"] / "no.sock"]
    docker = ["--docker-host", f"unix://{lab['tmp'] / 'no-docker.sock'}"]
    cases: dict[tuple[str, ...], list[str | Path]] = {
        # A profile that does not exist: refused before any connection.
        ("audit",): ["--region", "us-east-1", "--profile", "gmsa-test-no-such-profile"],
        ("doctor",): ["--account", "WebApp01", *no_server],
        ("iam", "check"): [S3_REF, "--policy", DATA / "policies" / "s3-read.json"],
        ("iam", "policy"): [S3_REF],
        ("ref", "check"): [S3_REF, "credentialspec:nope"],
        ("spec", "new"): ["WebApp01", *no_server],
        ("spec", "publish"): [lab["spec"], f"dir:{lab['tmp'] / 'published'}"],
        ("spec", "show"): [lab["spec"]],
        ("spec", "validate"): [lab["spec"], lab["tmp"] / "missing.json"],
        ("spec", "verify"): [lab["spec"], *no_server],
        ("task", "check"): [DATA / "file.json", "--spec-dir", lab["specdir"]],
        ("task", "cleanup"): ["--task-id", "t1", "--credspec-dir", lab["specdir"]],
        ("task", "patch"): [DATA / "file.json", "--container", "webapp", "--reference", S3_REF],
        ("export", "docker"): [lab["spec"]],
        ("export", "kubernetes"): [lab["spec"], "--name", "webapp01"],
        ("task", "renew"): [DATA / "file.json", "--task-id", "t1", "--krb-dir", lab["tmp"] / "k"],
        ("task", "prepare"): [
            DATA / "file.json",
            "--task-id",
            "t1",
            "--credspec-dir",
            lab["specdir"],
            "--platform",
            "windows",
        ],
        ("task", "run"): [DATA / "file.json", *docker],
        ("task", "stop"): ["--task-id", "t1", *docker],
        ("tickets", "delete"): ["0123", *socket],
        ("tickets", "lease"): [lab["spec"], *socket],
        ("tickets", "renew"): ["--username", "u", "--domain", "d", *socket],
        ("tickets", "status"): socket,
    }
    assert path in cases, f"add an offline case for gmsa {' '.join(path)}"
    return cases[path]


def test_the_schema_command_prints_the_output_schema() -> None:
    result = run("schema", "output")
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == output_schema()
    jsonschema.Draft202012Validator.check_schema(printed)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", JSON_COMMANDS, ids=" ".join)
def test_every_json_command_takes_format_and_quiet(path: tuple[str, ...]) -> None:
    assert {"--format", "--quiet"} <= options_of(path)


@pytest.mark.parametrize("path", JSON_COMMANDS, ids=" ".join)
def test_every_json_command_prints_the_envelope(
    path: tuple[str, ...], lab: dict[str, Path]
) -> None:
    result = run(*path, *offline_args(path, lab), "--json", stdin="")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    document = json.loads(result.stdout)
    assert_envelope(document)
    assert document["ok"] is (result.exit_code == 0)
    if result.exit_code not in (0, 1):
        assert document["error"]["exit_code"] == result.exit_code


@pytest.mark.parametrize("path", JSON_COMMANDS, ids=" ".join)
def test_format_json_is_json_and_sarif_is_sarif(
    path: tuple[str, ...], lab: dict[str, Path]
) -> None:
    args = offline_args(path, lab)
    as_json = run(*path, *args, "--json", stdin="")
    as_format = run(*path, *args, "--format", "json", stdin="")
    assert as_format.exit_code == as_json.exit_code
    first, second = json.loads(as_json.stdout), json.loads(as_format.stdout)
    assert [f["code"] for f in first["findings"]] == [f["code"] for f in second["findings"]]
    sarif = run(*path, *args, "--format", "sarif", stdin="")
    assert sarif.exit_code == as_json.exit_code
    log = json.loads(sarif.stdout)
    assert_sarif(log)
    codes = [r["ruleId"] for r in log["runs"][0]["results"]]
    assert codes == [f["code"] for f in first["findings"]]


def test_json_and_another_format_together_is_a_usage_error(lab: dict[str, Path]) -> None:
    result = run("spec", "validate", lab["spec"], "--json", "--format", "sarif")
    assert result.exit_code == 2


def test_a_document_that_is_not_the_envelope_fails_the_check() -> None:
    with pytest.raises(AssertionError, match="envelope"):
        check_output(["--json"], json.dumps({"valid": True}))
    with pytest.raises(AssertionError, match="envelope"):
        bad_path = Finding(Severity.ERROR, "x", "", "m", source="s").to_json()
        bad_path["path"] = "containerDefinitions[0].credentialSpecs[0] -> DomainJoinConfig.Sid"
        check_output(["--json"], json.dumps({"ok": False, "findings": [bad_path]}))
    with pytest.raises(AssertionError, match="SARIF"):
        check_output(["--format", "sarif"], json.dumps({"version": "2.1.0"}))


def test_findings_items_have_every_field() -> None:
    finding = Finding(Severity.WARNING, "some-code", "A.B[0]", "message")
    document = envelope([finding], source="t.json", results={"extra": 1})
    assert document == {
        "ok": True,
        "findings": [
            {
                "severity": "warning",
                "code": "some-code",
                "message": "message",
                "fix": None,
                "path": "A.B[0]",
                "source": "t.json",
            }
        ],
        "extra": 1,
    }


def _bad_hostname_taskdef(tmp_path: Path) -> tuple[Path, int]:
    doc: dict[str, Any] = json.loads((DATA / "file.json").read_text())
    doc["containerDefinitions"][0]["dockerSecurityOptions"] = ["credentialspec:nope"]
    path = tmp_path / "taskdef.json"
    text = json.dumps(doc, indent=4)
    path.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "credentialspec:nope" in row)
    return path, line


def test_sarif_points_at_the_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, line = _bad_hostname_taskdef(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run("task", "check", "taskdef.json", "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    run_ = log["runs"][0]
    (error,) = [r for r in run_["results"] if r["level"] == "error"]
    assert error["ruleId"] == "invalid-reference"
    assert run_["tool"]["driver"]["rules"][error["ruleIndex"]]["id"] == "invalid-reference"
    physical = error["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "taskdef.json"
    assert physical["region"]["startLine"] == line
    note = [r for r in run_["results"] if r["level"] == "note"]
    assert [r["ruleId"] for r in note] == ["credential-specs-preferred"]


def test_sarif_of_a_spec_in_a_task_definition_points_at_the_reference(tmp_path: Path) -> None:
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    broken = json.loads(json.dumps(EXAMPLE_SPEC))
    broken["DomainJoinConfig"]["Sid"] = "S-1-5-21-1-2-3-1104"
    (spec_dir / "webapp01.json").write_text(json.dumps(broken))
    doc = json.loads((DATA / "file.json").read_text())
    path = tmp_path / "taskdef.json"
    path.write_text(json.dumps(doc, indent=4))
    result = run("task", "check", path, "--spec-dir", spec_dir, "--json")
    items = [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"]
    assert items, result.stdout
    for item in items:
        assert item["path"] is None or " -> " not in item["path"]
        assert item["referenced_at"] == "containerDefinitions[0].dockerSecurityOptions[0]"
        assert item["source"] != str(path)
    log = sarif_log(
        [
            Finding(
                Severity.ERROR,
                i["code"],
                i["path"] or "",
                i["message"],
                i["fix"],
                source=i["source"],
                referenced_at=i["referenced_at"],
            )
            for i in items
        ],
        source=str(path),
    )
    assert_sarif(log)
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    text = path.read_text().splitlines()
    assert "credentialspec:file://webapp01.json" in text[region["startLine"] - 1]


def test_no_color_turns_colour_off_even_when_asked_for(lab: dict[str, Path]) -> None:
    coloured = CliRunner().invoke(cli, ["spec", "validate", str(lab["spec"])], color=True)
    assert "\x1b[" in coloured.stdout
    plain = CliRunner().invoke(
        cli, ["spec", "validate", str(lab["spec"])], color=True, env={"NO_COLOR": "1"}
    )
    assert plain.exit_code == 0
    assert "\x1b[" not in plain.stdout
    assert "valid" in plain.stdout


def test_colour_only_on_a_terminal(lab: dict[str, Path]) -> None:
    result = CliRunner().invoke(cli, ["spec", "validate", str(lab["spec"])])
    assert "\x1b[" not in result.stdout


def test_quiet_prints_only_problems(lab: dict[str, Path]) -> None:
    good = run("spec", "validate", lab["spec"], "--quiet")
    assert good.exit_code == 0
    # The example spec lacks the NetBIOS scope: a warning, so a problem; nothing else.
    assert good.stdout.startswith("  warning: ")
    assert "✓" not in good.stdout
    bad = run("spec", "validate", lab["spec"], lab["tmp"] / "missing.json", "--quiet")
    assert bad.exit_code == 1
    assert bad.stdout.startswith("  error: ")
    assert "valid" not in bad.stdout


# --json never carries less than the text, and the text never less than --json.


def test_task_check_json_carries_the_hint_the_text_shows(lab: dict[str, Path]) -> None:
    text = run("task", "check", DATA / "file.json", "--spec-dir", lab["specdir"])
    assert "hint: containerDefinitions[0].dockerSecurityOptions[0]" in text.stdout
    document = json.loads(
        run("task", "check", DATA / "file.json", "--spec-dir", lab["specdir"], "--json").stdout
    )
    (note,) = [f for f in document["findings"] if f["severity"] == "info"]
    assert note["code"] == "credential-specs-preferred"
    assert note["path"] == "containerDefinitions[0].dockerSecurityOptions[0]"
    assert note["message"] in text.stdout
    assert document["hints"] and document["hints"][0] in text.stdout


def test_spec_publish_json_carries_the_spec_warnings(lab: dict[str, Path]) -> None:
    target = f"dir:{lab['tmp'] / 'published'}"
    text = run("spec", "publish", lab["spec"], target)
    assert text.exit_code == 0
    assert "warnings (the spec was stored" in text.stdout
    document = json.loads(run("spec", "publish", lab["spec"], target, "--json").stdout)
    assert document["unchanged"] is True
    codes = [f["code"] for f in document["findings"]]
    assert codes
    assert [w["code"] for w in document["warnings"]] == codes
    for finding in document["findings"]:
        assert finding["message"] in text.stdout


def test_an_invalid_spec_stops_a_command_with_every_problem_in_text_too(
    lab: dict[str, Path],
) -> None:
    broken = dict(EXAMPLE_SPEC, DomainJoinConfig=dict(EXAMPLE_SPEC["DomainJoinConfig"]))
    broken["DomainJoinConfig"]["Sid"] = "S-1-5-21-2554468230-2647958158-2204241789-1105"
    broken["DomainJoinConfig"]["MachineAccountName"] = "WebApp01$"
    spec = lab["tmp"] / "broken.json"
    spec.write_text(json.dumps(broken))
    for args in (
        ("spec", "publish", spec, f"dir:{lab['specdir']}"),
        ("spec", "show", spec, "--canonical"),
        ("export", "docker", spec),
    ):
        text = run(*args)
        document = json.loads(run(*args, "--json").stdout)
        assert text.exit_code == 1, text.output
        assert len(document["findings"]) >= 2
        for finding in document["findings"]:
            assert finding["message"] in text.stderr, (args, finding["message"])


def test_task_run_text_shows_the_warnings_json_has(capsys: pytest.CaptureFixture[str]) -> None:
    from gmsa.cli.task_run import _print_result
    from gmsa.hostagent.docker_run import ContainerOutcome, RunResult
    from gmsa.hostagent.interface import PreparedTask

    user = Finding(
        Severity.WARNING,
        "container-user-not-numeric",
        "containerDefinitions[0].user",
        "the container runs as 'app', a name the host cannot resolve",
        "give the numeric uid[:gid]",
        source="task.json",
    )
    result = RunResult(
        "t1",
        (ContainerOutcome("app", "c" * 64, True, 0),),
        prepared=PreparedTask("t1", (), (user,)),
    )
    _print_result(result)
    shown = capsys.readouterr().err
    assert "task.json: containerDefinitions[0].user: the container runs as 'app'" in shown
    assert "fix: give the numeric uid[:gid]" in shown
    assert result.to_dict()["prepared"]["warnings"][0]["code"] == "container-user-not-numeric"
