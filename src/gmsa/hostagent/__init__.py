"""Host agents: prepare a task's gMSA credentials on a container host, and clean up.

:mod:`gmsa.hostagent.interface` says what every host agent does;
:mod:`gmsa.hostagent.windows` is the Windows one (CredentialSpecs directory and
``credentialspec=file://`` security options). A Linux one (Kerberos lease and
bind mount) implements the same interface.
"""

from __future__ import annotations

from gmsa.hostagent.interface import (
    CleanupResult,
    HostAgent,
    HostAgentError,
    HostStateError,
    InvalidTaskIdError,
    KeptFile,
    PreparedContainer,
    PreparedTask,
    TaskInputError,
    check_task_id,
)

__all__ = [
    "CleanupResult",
    "HostAgent",
    "HostAgentError",
    "HostStateError",
    "InvalidTaskIdError",
    "KeptFile",
    "PreparedContainer",
    "PreparedTask",
    "TaskInputError",
    "check_task_id",
]
