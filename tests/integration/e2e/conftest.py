"""End-to-end tests: the Samba DC, the private Docker engine and moto together.

The DC (fixed ports) and dockerd are each shared between pytest workers through
lock files; every test here also carries ``xdist_group("e2e")`` so the end-to-end
runs happen one at a time in one worker.
"""

from __future__ import annotations

import pytest

from tests.integration.docker.conftest import engine
from tests.integration.samba.conftest import lab

__all__ = ["engine", "lab"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("e2e"))
