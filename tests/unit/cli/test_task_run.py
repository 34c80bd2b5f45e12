"""``gmsa task run`` without an engine: an unreachable one is an outside failure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from gmsa.cli.main import cli
from tests.support.docker import IMAGE


def container_def(name: str, command: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": IMAGE, "command": command, "essential": True, **extra}


def task_doc(*containers: dict[str, Any], network: str = "none") -> dict[str, Any]:
    return {"family": "demo", "networkMode": network, "containerDefinitions": list(containers)}


def write_task(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "task.json"
    path.write_text(json.dumps(doc))
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_unreachable_engine_exits_3(tmp_path: Path) -> None:
    path = write_task(tmp_path, task_doc(container_def("app", ["true"])))
    url = f"unix://{tmp_path / 'no-such.sock'}"
    result = invoke("task", "run", str(path), "--docker-host", url)
    assert result.exit_code == 3
    assert "cannot reach the Docker engine" in result.output
