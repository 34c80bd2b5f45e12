"""One task id, two processes: prepares from two task definitions and cleanups interleaved."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from gmsa.cli.main import cli
from tests.unit.hostagent.specfiles import TASK_ARN, TASK_ID, snapshot, task_document, user_files

ROUNDS = 15


def race(specdir: Path, taskdef: Path, log: Path) -> None:
    """Prepare and clean up the task ``ROUNDS`` times, logging each outcome."""
    runner = CliRunner()
    common = ["--task-id", TASK_ID, "--credspec-dir", str(specdir), "--json"]
    with log.open("w") as out:
        for _ in range(ROUNDS):
            for args in (
                ["task", "prepare", str(taskdef), "--task-arn", TASK_ARN, *common],
                ["task", "cleanup", *common],
            ):
                result = runner.invoke(cli, args)
                code = None
                if result.exit_code != 0:
                    code = json.loads(result.stdout or result.output)["error"]["code"]
                out.write(json.dumps([args[1], result.exit_code, code]) + "\n")


def test_two_processes_on_one_task_id_never_mix_and_leave_nothing(tmp_path: Path) -> None:
    specdir = tmp_path / "CredentialSpecs"
    specdir.mkdir()
    refs = user_files(specdir, 4)
    before = snapshot(specdir)
    jobs = []
    for n, family in enumerate(("webapp", "billing")):
        taskdef = tmp_path / f"{family}.json"
        taskdef.write_text(json.dumps(task_document(refs[2 * n : 2 * n + 2], 3, family)))
        jobs.append((taskdef, tmp_path / f"{family}.log"))
    pids = []
    for taskdef, log in jobs:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                race(specdir, taskdef, log)
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    outcomes = [json.loads(line) for _, log in jobs for line in log.read_text().splitlines()]
    assert len(outcomes) == 2 * 2 * ROUNDS
    assert all(
        exit == 0 or (op, exit, code) == ("prepare", 1, "task-id-in-use")
        for op, exit, code in outcomes
    ), outcomes
    assert all(exit == 0 for op, exit, _ in outcomes if op == "cleanup")
    for _, log in jobs:  # each definition got its task prepared at least once
        assert any(json.loads(line)[:2] == ["prepare", 0] for line in log.read_text().splitlines())
    assert snapshot(specdir) == before
