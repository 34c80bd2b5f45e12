"""A client of the ticket service for operators and tests (``gmsa tickets ...``).

It speaks the same credentials-fetcher API as the ECS agent, plus the JSON
operator service for status and owners. A refused call becomes a
:class:`~gmsa.tickets.errors.RemoteError` carrying the service's what, where
and fix; a service that cannot be reached, a ServiceUnreachableError.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import grpc

from gmsa.printable import has_surrogates, printable
from gmsa.tickets.errors import (
    LeaseRequestError,
    RemoteError,
    ServiceTimeoutError,
    ServiceUnreachableError,
)
from gmsa.tickets.proto import credentialsfetcher_pb2 as pb
from gmsa.tickets.proto import credentialsfetcher_pb2_grpc as pb_grpc
from gmsa.tickets.server import ADMIN_SERVICE, ERROR_METADATA, LEASE_ID_METADATA

T = TypeVar("T")


@dataclass(frozen=True)
class LeaseReply:
    """A lease id and its ticket directories, as the service answered."""

    lease_id: str
    """The lease."""
    paths: tuple[str, ...]
    """``<krb dir>/<lease id>/<gMSA name>`` per gMSA (created or deleted)."""


class TicketClient:
    """Calls a running ticket service on its unix socket."""

    def __init__(self, socket_path: Path, *, timeout: float = 60.0) -> None:
        self.socket_path = Path(socket_path).absolute()
        self.timeout = timeout
        self._channel = grpc.insecure_channel(f"unix:{self.socket_path}")
        self._stub = pb_grpc.CredentialsFetcherServiceStub(self._channel)

    def __enter__(self) -> TicketClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    # ----------------------------------------------------------------- the agent's API

    def add_lease(self, credspecs: Sequence[str], *, lease_id: str | None = None) -> LeaseReply:
        """AddKerberosLease: a lease for a domain-joined host; ``lease_id`` asks gmsa's
        service for that id (:data:`~gmsa.tickets.server.LEASE_ID_METADATA`)."""
        _texts(credspec_contents=credspecs, lease_id=lease_id)
        reply = self._call(
            lambda: self._stub.AddKerberosLease(
                pb.CreateKerberosLeaseRequest(credspec_contents=list(credspecs)),
                timeout=self.timeout,
                metadata=_chosen(lease_id),
            )
        )
        return LeaseReply(reply.lease_id, tuple(reply.created_kerberos_file_paths))

    def add_domainless_lease(
        self,
        credspecs: Sequence[str],
        *,
        username: str,
        password: str,
        domain: str,
        lease_id: str | None = None,
    ) -> LeaseReply:
        """AddNonDomainJoinedKerberosLease: the password is read as a domain user;
        ``lease_id`` as for :meth:`add_lease`."""
        _texts(
            credspec_contents=credspecs,
            username=username,
            password=password,
            domain=domain,
            lease_id=lease_id,
        )
        request = pb.CreateNonDomainJoinedKerberosLeaseRequest(
            credspec_contents=list(credspecs), username=username, password=password, domain=domain
        )
        reply = self._call(
            lambda: self._stub.AddNonDomainJoinedKerberosLease(
                request, timeout=self.timeout, metadata=_chosen(lease_id)
            )
        )
        return LeaseReply(reply.lease_id, tuple(reply.created_kerberos_file_paths))

    def renew_domainless(
        self,
        *,
        username: str,
        password: str,
        domain: str,
        lease_ids: Sequence[str] = (),
    ) -> tuple[str, ...]:
        """RenewNonDomainJoinedKerberosLease: fresh tickets for this user's leases, or, with
        ``lease_ids`` (sent as ``gmsa-lease-id`` metadata, which the ECS agent never sends),
        for those leases whoever they were made with."""
        _texts(username=username, password=password, domain=domain, lease_ids=list(lease_ids))
        request = pb.RenewNonDomainJoinedKerberosLeaseRequest(
            username=username, password=password, domain=domain
        )
        metadata = tuple((LEASE_ID_METADATA, lease_id) for lease_id in lease_ids)
        reply = self._call(
            lambda: self._stub.RenewNonDomainJoinedKerberosLease(
                request, timeout=self.timeout, metadata=metadata or None
            )
        )
        return tuple(reply.renewed_kerberos_file_paths)

    def delete_lease(self, lease_id: str) -> LeaseReply:
        """DeleteKerberosLease."""
        _texts(lease_id=lease_id)
        reply = self._call(
            lambda: self._stub.DeleteKerberosLease(
                pb.DeleteKerberosLeaseRequest(lease_id=lease_id), timeout=self.timeout
            )
        )
        return LeaseReply(reply.lease_id, tuple(reply.deleted_kerberos_file_paths))

    def health(self, service: str = "gmsa") -> str:
        """HealthCheck: ``OK`` or what is wrong."""
        _texts(service=service)
        reply = self._call(
            lambda: self._stub.HealthCheck(
                pb.HealthCheckRequest(service=service), timeout=self.timeout
            )
        )
        return reply.status

    # ----------------------------------------------------------------- operator API

    def status(self, lease_ids: Sequence[str] | None = None) -> dict[str, Any]:
        """Every lease (or only those of ``lease_ids`` the service holds) with its tickets'
        end times, last renewals and last errors."""
        return self._admin("Status", {} if lease_ids is None else {"lease_ids": list(lease_ids)})

    def set_owner(self, lease_id: str, uid: int, gid: int) -> dict[str, Any]:
        """Give a lease's ticket caches to ``uid:gid``."""
        return self._admin("SetOwner", {"lease_id": lease_id, "uid": uid, "gid": gid})

    def _admin(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        call: grpc.UnaryUnaryMultiCallable[bytes, bytes] = self._channel.unary_unary(
            f"/{ADMIN_SERVICE}/{method}"
        )
        raw = self._call(lambda: call(json.dumps(body).encode(), timeout=self.timeout))
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise RemoteError(
                f"{method} answered something other than an object", status="INTERNAL"
            )
        return value

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except grpc.RpcError as exc:
            raise _translate(exc, self.socket_path) from None


_SECRET_FIELDS = frozenset({"password"})


def _texts(**fields: str | Sequence[str] | None) -> None:
    """Refuse text the wire cannot carry before anything is sent: the API's strings are
    UTF-8, and an argument or environment variable with bytes that are not UTF-8 reaches
    Python as lone surrogates. The error names the field (and shows it escaped, unless it
    is a secret); before, the message encoder raised UnicodeEncodeError."""
    for name, value in fields.items():
        values = [value] if isinstance(value, str) else list(value or ())
        for index, text in enumerate(values):
            if not has_surrogates(text):
                continue
            where = name if isinstance(value, str) else f"{name}[{index}]"
            shown = "" if name in _SECRET_FIELDS else f": {printable(text)[:80]!r}"
            raise LeaseRequestError(
                f"the {name.replace('_', ' ')} holds bytes that are not UTF-8{shown}",
                where=where,
                fix="give it as UTF-8 text (the ticket service's API carries UTF-8 only); "
                "an environment variable or file name in another encoding must be converted",
            )


def _chosen(lease_id: str | None) -> tuple[tuple[str, str], ...] | None:
    return ((LEASE_ID_METADATA, lease_id),) if lease_id is not None else None


def _translate(exc: grpc.RpcError, socket_path: Path) -> Exception:
    code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (exc.details() if isinstance(exc, grpc.Call) else None) or ""
    if code is grpc.StatusCode.UNAVAILABLE and not _remote_error(exc):
        return ServiceUnreachableError(
            f"cannot reach the ticket service: {details or 'no answer'}",
            where=str(socket_path),
            fix="start it (gmsa tickets serve) or pass the right --socket",
        )
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return ServiceTimeoutError(
            "the ticket service did not answer in time",
            where=str(socket_path),
            fix="check the service's log; the domain controller may be slow or unreachable",
        )
    remote = _remote_error(exc)
    if remote:
        return RemoteError(
            str(remote.get("message") or details),
            status=code.name,
            where=remote.get("where") if isinstance(remote.get("where"), str) else None,
            fix=remote.get("fix") if isinstance(remote.get("fix"), str) else None,
            remote_code=remote.get("code") if isinstance(remote.get("code"), str) else None,
        )
    return RemoteError(details or code.name, status=code.name, where=str(socket_path))


def _remote_error(exc: grpc.RpcError) -> dict[str, Any] | None:
    if not isinstance(exc, grpc.Call):
        return None
    for key, value in exc.trailing_metadata() or ():
        if key == ERROR_METADATA and isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                return None
            return parsed if isinstance(parsed, dict) else None
    return None


__all__ = [
    "LeaseReply",
    "T",
    "TicketClient",
]
