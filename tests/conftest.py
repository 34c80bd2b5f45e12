"""Fixtures: the real parts (a moto server) and the Amazon ECS documentation's gMSA example."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.moto import AwsLab, IamLab, MotoServer, enforce_with_admin

EXAMPLE_SPEC: dict[str, Any] = {
    "CmsPlugins": ["ActiveDirectory"],
    "DomainJoinConfig": {
        "Sid": "S-1-5-21-2554468230-2647958158-2204241789",
        "MachineAccountName": "WebApp01",
        "Guid": "8665abd4-e947-4dd0-9a51-f8254943c90b",
        "DnsTreeName": "example.com",
        "DnsName": "example.com",
        "NetBiosName": "example",
    },
    "ActiveDirectoryConfig": {
        "GroupManagedServiceAccounts": [{"Name": "WebApp01", "Scope": "example.com"}]
    },
}
"""The example credential spec of the Amazon ECS documentation, verbatim."""


@pytest.fixture
def example_spec() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE_SPEC)


@pytest.fixture
def example_spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "webapp01.json"
    path.write_text(json.dumps(EXAMPLE_SPEC, indent=4))
    return path


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
