"""One error hierarchy for everything a user can get wrong or an outside system can refuse.

Every error explains itself: *what* went wrong, *where* (a file and JSON path, an
ARN part, a server) and *how to fix it*. The CLI prints :meth:`GmsaError.diagnostics`
and exits with :attr:`GmsaError.exit_code`; scripts rely on those codes.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Exit codes shared by every command."""

    OK = 0
    """Success: nothing wrong was found."""
    INVALID = 1
    """The input is invalid, or a check found problems."""
    USAGE = 2
    """The command line itself is wrong (unknown option, missing argument)."""
    EXTERNAL = 3
    """An outside system (AWS, AD, Docker, the file system) failed or refused."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C or SIGTERM (the shell's 128 + SIGINT); what a command prints
    then is its own help's to say (``task run``: everything was removed; ``audit``:
    what was found so far)."""


class GmsaError(Exception):
    """Base of every error gmsa raises on purpose.

    Subclasses pick the exit code; instances carry the three things a person needs.
    Messages never contain secrets: callers pass only names, paths and ARNs.
    """

    exit_code: ExitCode = ExitCode.INVALID
    code: str = "error"

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.where = where
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.where}: {self.what}" if self.where else self.what

    def diagnostics(self) -> str:
        """A few lines for a person: what, where, and how to fix it."""
        lines = [f"error: {self.what}"]
        if self.where:
            lines.append(f"  where: {self.where}")
        if self.fix:
            lines.append(f"  fix:   {self.fix}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON for ``--json`` output."""
        return {
            "code": self.code,
            "message": self.what,
            "where": self.where,
            "fix": self.fix,
            "exit_code": int(self.exit_code),
        }


class InvalidInputError(GmsaError):
    """The user's input (a file, an ARN, a task definition) is wrong."""

    exit_code = ExitCode.INVALID
    code = "invalid-input"


class ExternalError(GmsaError):
    """An outside system failed or refused: AWS, AD, Docker, the file system."""

    exit_code = ExitCode.EXTERNAL
    code = "external-failure"


class AccessDeniedError(ExternalError):
    """An outside system refused the identity in use: it may not read or write the thing.

    Spec sources and AWS raise it (or a subclass); callers that only need to know
    "refused" catch this one.
    """

    code = "access-denied"


class NotFoundError(ExternalError):
    """An outside store holds no such thing: an object, parameter, file or entity.

    Subclasses name what was missing in their ``code``; callers that only need to
    know "missing" catch this one.
    """

    code = "not-found"


__all__ = [
    "AccessDeniedError",
    "ExitCode",
    "ExternalError",
    "GmsaError",
    "InvalidInputError",
    "NotFoundError",
]
