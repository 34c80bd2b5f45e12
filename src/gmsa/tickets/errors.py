"""The ticket service's error family: each error knows its exit code and its gRPC status.

Errors travel two ways: to a person through the CLI (what, where, fix and an exit
code) and to the ECS agent through gRPC (a status code and a message). Each class
names the gRPC status that fits it, so the server never has to guess, and no
message carries a password, key or ticket.
"""

from __future__ import annotations

from gmsa.ad.errors import ManagedPasswordBlobError
from gmsa.aws import AwsCredentialsError
from gmsa.errors import (
    AccessDeniedError,
    ExitCode,
    ExternalError,
    GmsaError,
    InvalidInputError,
    NotFoundError,
)


class TicketError(GmsaError):
    """Base of the ticket service's errors. Concrete errors pick exit code and gRPC status."""

    code = "ticket-service"
    grpc_status: str = "INTERNAL"
    """Name of the ``grpc.StatusCode`` member the server answers with."""


class LeaseRequestError(TicketError):
    """A request is invalid: empty or broken credential specs, missing user fields."""

    code = "invalid-lease-request"
    exit_code = ExitCode.INVALID
    grpc_status = "INVALID_ARGUMENT"


class LeaseIdError(LeaseRequestError):
    """A lease id is not one this service could have issued (20 lowercase hex digits)."""

    code = "invalid-lease-id"


class LeaseExistsError(TicketError):
    """A caller-chosen lease id (an ARN lease's) names a lease that exists already."""

    code = "lease-exists"
    exit_code = ExitCode.INVALID
    grpc_status = "ALREADY_EXISTS"


class LeaseNotFoundError(TicketError):
    """No lease has this id (never created, deleted, or expired by its TTL)."""

    code = "lease-not-found"
    exit_code = ExitCode.INVALID
    grpc_status = "NOT_FOUND"


class LeaseStoreError(TicketError):
    """The lease directory cannot be read or written (permissions, disk full)."""

    code = "lease-store-failed"
    exit_code = ExitCode.EXTERNAL
    grpc_status = "INTERNAL"


class TicketConfigError(TicketError):
    """The service's configuration file or options are wrong."""

    code = "invalid-ticket-config"
    exit_code = ExitCode.INVALID
    grpc_status = "FAILED_PRECONDITION"


class SocketError(TicketError):
    """The service cannot listen on its unix socket (path in use, unsafe directory)."""

    code = "socket-unusable"
    exit_code = ExitCode.EXTERNAL
    grpc_status = "UNAVAILABLE"


class ServiceUnreachableError(TicketError):
    """An operator command could not reach a running ticket service."""

    code = "ticket-service-unreachable"
    exit_code = ExitCode.EXTERNAL
    grpc_status = "UNAVAILABLE"


class ServiceTimeoutError(ServiceUnreachableError):
    """The ticket service did not answer in time: what was asked may have been done
    (the error code stays ``ticket-service-unreachable``)."""


class RemoteError(TicketError):
    """The ticket service answered a call with an error (seen from the client side)."""

    code = "ticket-service-refused"
    exit_code = ExitCode.EXTERNAL

    def __init__(
        self,
        what: str,
        *,
        status: str,
        where: str | None = None,
        fix: str | None = None,
        remote_code: str | None = None,
    ) -> None:
        super().__init__(what, where=where, fix=fix)
        self.grpc_status = status
        if status in _CALLER_MISTAKES:
            self.exit_code = ExitCode.INVALID
        if remote_code:
            self.code = remote_code


_CALLER_MISTAKES = frozenset({"INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS"})


def grpc_status_of(exc: BaseException) -> str:
    """The gRPC status name for any error: the family's own, else by exit code."""
    if isinstance(exc, TicketError):
        return exc.grpc_status
    if isinstance(exc, ManagedPasswordBlobError):
        return "INTERNAL"  # the DC's answer is corrupt: not the caller's doing, nor a retry's
    status = getattr(exc, "grpc_status", None)
    if isinstance(status, str):
        return status
    if isinstance(exc, AwsCredentialsError):
        return "UNAUTHENTICATED"  # keys AWS refuses: the same call fails again (no retry)
    if isinstance(exc, AccessDeniedError):
        return "PERMISSION_DENIED"
    if isinstance(exc, NotFoundError):
        return "NOT_FOUND"
    if isinstance(exc, InvalidInputError):
        return "INVALID_ARGUMENT"
    if isinstance(exc, ExternalError):
        return "UNAVAILABLE"
    return "INTERNAL"


__all__ = [
    "LeaseExistsError",
    "LeaseIdError",
    "LeaseNotFoundError",
    "LeaseRequestError",
    "LeaseStoreError",
    "RemoteError",
    "ServiceTimeoutError",
    "ServiceUnreachableError",
    "SocketError",
    "TicketConfigError",
    "TicketError",
    "grpc_status_of",
]
