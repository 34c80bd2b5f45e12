"""Fixtures of the host agent tests: a directory outside the one gmsa is given."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory with a file of its own, where links planted by a test point."""
    path = tmp_path / "elsewhere"
    (path / "tasks").mkdir(parents=True)
    (path / "tasks" / "precious.json").write_text("{}")
    return path
