"""Exit codes as the README gives them: 3 when the domain cannot be reached at all,
and a reader that closes stdout early does not turn success into failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gmsa.cli.main import cli
from tests.conftest import EXAMPLE_SPEC

# Nothing listens on port 1 of the loopback address: the connection is refused at once.
NO_DC = [
    "--server",
    "127.0.0.1:1",
    "--domain",
    "example.com",
    "--user",
    "admin",
    "--password-env",
    "GMSA_TEST_PASSWORD",
    "--protection",
    "plain",
    "--timeout",
    "2",
]
ENV = {"GMSA_TEST_PASSWORD": "x"}


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "webapp01.json"
    path.write_text(json.dumps(EXAMPLE_SPEC))
    return path


def test_doctor_exits_3_when_no_dc_can_be_reached() -> None:
    result = CliRunner().invoke(
        cli, ["doctor", "--account", "WebApp01", "--skip-network", *NO_DC, "--json"], env=ENV
    )
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["reached"] is False
    assert [f["code"] for f in document["findings"]] == ["ldap-bind"]


def test_spec_verify_exits_3_when_no_dc_can_be_reached(spec_file: Path) -> None:
    result = CliRunner().invoke(cli, ["spec", "verify", str(spec_file), *NO_DC], env=ENV)
    assert result.exit_code == 3
    assert "no domain controller could be reached" in result.stdout


def _gmsa() -> list[str]:
    found = shutil.which("gmsa", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "gmsa"]


@pytest.mark.parametrize(("spec", "code"), [(EXAMPLE_SPEC, 0), ({"a": 1}, 1)])
def test_a_closed_stdout_keeps_the_commands_exit_code(
    tmp_path: Path, spec: dict[str, object], code: int
) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    # Enough output to fill the pipe, so gmsa writes after the reader has gone.
    args = [*_gmsa(), "spec", "validate", *[str(path)] * 3000]
    reader = subprocess.Popen(["head", "-c", "0"], stdin=subprocess.PIPE)
    reader.wait()  # the reader is gone before gmsa writes anything
    assert reader.stdin is not None
    writer = subprocess.run(
        args, stdout=reader.stdin, stderr=subprocess.PIPE, env={**os.environ}, check=False
    )
    reader.stdin.close()
    assert writer.returncode == code, writer.stderr.decode()
    assert b"Traceback" not in writer.stderr
    assert b"BrokenPipe" not in writer.stderr
