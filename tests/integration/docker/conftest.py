"""The Docker tests' engine: one private dockerd for the whole session (tests/support/docker.py).

Every test here carries ``xdist_group("docker")``; the engine is shared between
pytest workers in any case, so the tests label their containers and look only at
their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.docker import DockerLab, running_engine


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/docker/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("docker"))


@pytest.fixture(scope="session")
def engine() -> Iterator[DockerLab]:
    with running_engine() as lab:
        yield lab
