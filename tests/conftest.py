"""Fixtures every test may use: the Amazon ECS documentation's gMSA example (no server)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.support.cli import install_output_check

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

# Property tests bound their inputs, not their wall time: on a loaded 2-core CI machine a
# single example may take a second, which is not a failure. Tests that must finish in
# time assert their own bounds.
settings.register_profile("gmsa", deadline=None)
settings.load_profile("gmsa")


@pytest.fixture
def example_spec() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE_SPEC)


@pytest.fixture
def example_spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "webapp01.json"
    path.write_text(json.dumps(EXAMPLE_SPEC, indent=4))
    return path


@pytest.fixture
def specdir(tmp_path: Path) -> Path:
    path = tmp_path / "CredentialSpecs"
    path.mkdir()
    return path


@pytest.fixture(autouse=True, scope="session")
def _output_follows_its_schema() -> Any:
    """Every --json run follows the output schema, every --format sarif run SARIF 2.1.0."""
    undo = install_output_check()
    yield
    undo()
