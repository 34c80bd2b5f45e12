"""SARIF locations find each finding's line in its JSON file, reading the file once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gmsa import jsondoc, report
from gmsa.findings import Finding, Severity


def test_each_file_is_read_once_for_all_its_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"A": 1, "B": {"C": 2}}, indent=2))
    reads: list[Path] = []
    read = jsondoc.read_bytes

    def counted(file: Path, **kwargs: object) -> bytes:
        reads.append(file)
        return read(file, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jsondoc, "read_bytes", counted)
    findings = [
        Finding(Severity.ERROR, "x", "A", "a"),
        Finding(Severity.ERROR, "y", "B.C", "c"),
        Finding(Severity.WARNING, "z", "B", "b"),
    ]
    log = report.sarif_log(findings, source=str(path))
    lines = [
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in log["runs"][0]["results"]
    ]
    assert lines == [2, 4, 3]
    assert reads == [path]
