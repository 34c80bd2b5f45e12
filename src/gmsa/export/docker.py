"""A credential spec as Docker options: ``docker run --security-opt`` and Compose ``security_opt``.

Docker on Windows reads ``credentialspec=file://NAME`` relative to its
CredentialSpecs directory (``C:\\ProgramData\\docker\\CredentialSpecs``), so the
option names the file as it lies there, checked the way a ``file://`` reference
is (:func:`gmsa.reference.parse_location`). On Windows Server 2016 the
container's hostname must equal the gMSA's name, so the export sets it too: on
later versions it does no harm and keeps the name the domain sees consistent.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

import yaml

from gmsa.credspec.model import CredentialSpec
from gmsa.reference import FileLocation, parse_location

CREDENTIAL_SPECS_DIR = r"C:\ProgramData\docker\CredentialSpecs"
"""Where Docker on Windows resolves ``file://`` credential specs (default data root)."""
SECURITY_OPT_PREFIX = "credentialspec="
"""The ``--security-opt`` key Docker reads a credential spec from."""
_PLAIN = re.compile(r"[A-Za-z0-9._/:=@+-]+")


@dataclass(frozen=True)
class DockerExport:
    """How a container is told to use one credential spec file."""

    file: FileLocation
    """The spec's file, relative to the CredentialSpecs directory."""
    hostname: str
    """The gMSA's name: the hostname the Windows Server 2016 rule requires."""

    @property
    def security_opt(self) -> str:
        """``credentialspec=file://NAME``."""
        return f"{SECURITY_OPT_PREFIX}{self.file.uri}"

    @property
    def run_args(self) -> list[str]:
        """The ``docker run`` arguments, one list item per argument."""
        return ["--security-opt", self.security_opt, "--hostname", self.hostname]

    def run_command(self, image: str = "IMAGE") -> str:
        """A ``docker run`` line a POSIX shell and PowerShell both read the same way."""
        return " ".join(["docker", "run", *(_quote(arg) for arg in self.run_args), image])

    @property
    def compose_service(self) -> dict[str, Any]:
        """The keys of a Compose service that do the same."""
        return {"hostname": self.hostname, "security_opt": [self.security_opt]}

    def compose_yaml(self) -> str:
        """:attr:`compose_service` as YAML, to paste under a service."""
        return yaml.safe_dump(self.compose_service, sort_keys=False, default_flow_style=False)

    @property
    def host_path(self) -> str:
        """Where each Windows host needs the spec: the file in its CredentialSpecs
        directory."""
        return f"{CREDENTIAL_SPECS_DIR}\\{self.file.path}"

    def to_dict(self) -> dict[str, Any]:
        """The export as JSON."""
        return {
            "file_name": self.file.path,
            "host_path": self.host_path,
            "security_opt": self.security_opt,
            "hostname": self.hostname,
            "docker_run_args": self.run_args,
            "compose": self.compose_service,
        }


def _quote(arg: str) -> str:
    """Double quotes around an option value made of plain characters, as Docker's own
    documentation writes it; shell quoting for anything else."""
    if not _PLAIN.fullmatch(arg):
        return shlex.quote(arg)
    return f'"{arg}"' if "=" in arg else arg


def export(spec: CredentialSpec, file_name: str) -> DockerExport:
    """The Docker options for ``spec`` stored as ``file_name`` in the CredentialSpecs
    directory. Raises :class:`~gmsa.reference.InvalidReferenceError` for a file name
    Docker would refuse (absolute, ``..``, characters Windows file names cannot hold).
    """
    location = parse_location(f"file://{file_name}")
    assert isinstance(location, FileLocation)
    return DockerExport(location, spec.account_name)


__all__ = [
    "CREDENTIAL_SPECS_DIR",
    "SECURITY_OPT_PREFIX",
    "DockerExport",
    "export",
]
