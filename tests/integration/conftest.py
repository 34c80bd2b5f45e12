"""Fixtures of the integration tests: the moto server (tests/support/moto.py) and the
AWS labs on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.moto import AwsLab, IamLab, MotoServer, enforce_with_admin


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws(moto_server: MotoServer) -> Iterator[AwsLab]:
    """A clean AWS endpoint, IAM enforcement off."""
    moto_server.reset()
    yield AwsLab(moto_server)
    moto_server.reset()


@pytest.fixture
def iam_lab(aws: AwsLab) -> IamLab:
    """A clean AWS endpoint that enforces IAM, with an admin user."""
    return enforce_with_admin(aws)
