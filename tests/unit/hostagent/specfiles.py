"""A CredentialSpecs folder with domainless file:// specs: prepares with no server."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from gmsa.hostagent.windows import WindowsHostAgent
from gmsa.source.cache import SpecCache
from gmsa.source.fetcher import SpecFetcher
from gmsa.taskdef.model import TaskDefinition, parse_task_definition
from tests.conftest import EXAMPLE_SPEC

TASK_ID = "0123456789abcdef0123456789abcdef"
TASK_ARN = f"arn:aws:ecs:us-east-1:123456789012:task/default/{TASK_ID}"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gmsa-user-AbCdEf"


def domainless_spec(name: str) -> bytes:
    """A valid domainless spec for the gMSA ``name``."""
    spec: dict[str, Any] = copy.deepcopy(EXAMPLE_SPEC)
    spec["DomainJoinConfig"]["MachineAccountName"] = name
    spec["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"] = [
        {"Name": name, "Scope": "example.com"},
        {"Name": name, "Scope": "example"},
    ]
    spec["ActiveDirectoryConfig"]["HostAccountConfig"] = {
        "PortableCcgVersion": "1",
        "PluginGUID": "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
        "PluginInput": {"credentialArn": SECRET_ARN},
    }
    return json.dumps(spec).encode()


def user_files(specdir: Path, count: int) -> list[str]:
    """``count`` specs of the user's (``app<n>.json``) and a few other files; their
    file:// references."""
    for n in range(count):
        (specdir / f"app{n}.json").write_bytes(domainless_spec(f"App{n}"))
    (specdir / "notes.txt").write_text("the user's own file\n")
    (specdir / f"gmsa_{TASK_ID}_file_0000000000000000.json").write_text("looks like gmsa's\n")
    return [f"credentialspecdomainless:file://app{n}.json" for n in range(count)]


def task_document(references: list[str], containers: int, family: str = "webapp") -> dict[str, Any]:
    """A task of ``containers`` containers using ``references`` round robin."""
    return {
        "family": family,
        "containerDefinitions": [
            {"name": f"c{i}", "image": "app", "credentialSpecs": [references[i % len(references)]]}
            for i in range(containers)
        ],
    }


def task(references: list[str], containers: int, family: str = "webapp") -> TaskDefinition:
    return parse_task_definition(
        task_document(references, containers, family), source="taskdef.json"
    )


def agent(specdir: Path) -> WindowsHostAgent:
    return WindowsHostAgent(specdir, SpecFetcher(aws=None, spec_dir=specdir, cache=SpecCache()))


def snapshot(directory: Path) -> dict[str, tuple[str, bytes]]:
    """Every entry under ``directory``: regular files with their content, links with their
    target, other directories than gmsa's own empty state directories by name."""
    out: dict[str, tuple[str, bytes]] = {}
    for path in sorted(directory.rglob("*")):
        relative = str(path.relative_to(directory))
        if path.is_symlink():
            out[relative] = ("link", os.readlink(path).encode())
        elif path.is_file():
            out[relative] = ("file", path.read_bytes())
        elif path.is_dir():
            if relative in (".gmsa", ".gmsa/tasks") and not any(
                p.is_file() or p.is_symlink() for p in path.rglob("*")
            ):
                continue
            out[relative] = ("dir", b"")
        else:
            out[relative] = ("other", b"")
    return out
