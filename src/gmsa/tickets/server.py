"""The gRPC face of the ticket service, on a unix socket the ECS agent can reach.

The credentials-fetcher service (package ``credentialsfetcher``) is served
exactly as the agent's generated client expects. Operator commands that the
agent does not know (``gmsa tickets status``, setting a lease's owner) are a
second service, ``gmsa.tickets.Admin``, whose messages are JSON documents, so
they never touch the agent's contract.

Errors become a gRPC status whose message says what, where and how to fix it;
the same error travels as JSON in the ``gmsa-error`` trailing metadata so the
operator client can show it whole. Unexpected failures are logged and answered
with a generic INTERNAL status: no traceback or secret leaves the process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import grpc

from gmsa import jsondoc
from gmsa.domainless import DomainlessUser
from gmsa.errors import GmsaError
from gmsa.findings import count
from gmsa.tickets.arn import AwsKeys
from gmsa.tickets.errors import LeaseRequestError, SocketError, grpc_status_of
from gmsa.tickets.leases import Owner
from gmsa.tickets.logformat import Event, event
from gmsa.tickets.proto import credentialsfetcher_pb2 as pb
from gmsa.tickets.proto import credentialsfetcher_pb2_grpc as pb_grpc
from gmsa.tickets.service import ArnLeaseResult, LeaseResult, TicketService

log = logging.getLogger("gmsa.tickets")

ADMIN_SERVICE = "gmsa.tickets.Admin"
"""The operator service next to the agent's: JSON in, JSON out."""
ERROR_METADATA = "gmsa-error"
"""Trailing metadata key carrying the error as JSON."""
LEASE_ID_METADATA = "gmsa-lease-id"
"""Request metadata naming a lease, which the ECS agent never sends (its messages are
unchanged). On AddKerberosLease and AddNonDomainJoinedKerberosLease: the lease id the
caller chose (gmsa's host agent records it before asking, so a lease whose answer never
arrived can still be found and deleted); without it the service picks the id, as
credentials-fetcher does. On RenewNonDomainJoinedKerberosLease (once per lease): a lease
to renew as the request's user, whoever it was made with, so a secret naming a new user
moves its task's lease to it; without it every lease of the request's user is renewed,
as credentials-fetcher does."""
_SOCKET_PATH_MAX = 107

T = TypeVar("T")


def _abort(context: grpc.ServicerContext, exc: BaseException) -> NoReturn:
    if isinstance(exc, GmsaError):
        status = getattr(grpc.StatusCode, grpc_status_of(exc), grpc.StatusCode.INTERNAL)
        message = exc.what
        if exc.where:
            message += f"; where: {exc.where}"
        if exc.fix:
            message += f"; fix: {exc.fix}"
        context.set_trailing_metadata(
            ((ERROR_METADATA, json.dumps(exc.to_dict(), ensure_ascii=True)),)
        )
        context.abort(status, message)
    log.error("unexpected failure serving a call", exc_info=exc)
    context.abort(grpc.StatusCode.INTERNAL, "internal error in the ticket service; see its log")


def _call(context: grpc.ServicerContext, what: str, action: Callable[[], T]) -> T:
    """Run one RPC's work and log it as one event line: method, outcome, duration, and the
    lease id, gMSAs and domain controllers it involved."""
    started = time.perf_counter()
    with event() as touched:
        try:
            result = action()
        except Exception as exc:
            code = grpc_status_of(exc) if isinstance(exc, GmsaError) else "INTERNAL"
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            fields = _event_fields(touched, None)
            log.info(
                "%s failed with %s in %.1f ms%s: %s",
                what,
                code,
                elapsed,
                _shown(fields),
                exc,
                extra={
                    "method": what,
                    "outcome": "failure",
                    "code": code,
                    "duration_ms": elapsed,
                    **fields,
                },
            )
            _abort(context, exc)
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    fields = _event_fields(touched, result)
    log.info(
        "%s succeeded in %.1f ms%s",
        what,
        elapsed,
        _shown(fields),
        extra={"method": what, "outcome": "success", "duration_ms": elapsed, **fields},
    )
    return result


def _event_fields(touched: Event, result: object) -> dict[str, object]:
    """The lease id (of a lease result), gMSAs and domain controllers of an event line."""
    fields: dict[str, object] = {}
    if isinstance(result, LeaseResult | ArnLeaseResult):
        fields["lease_id"] = result.lease_id
    if touched.gmsas:
        fields["gmsa"] = touched.gmsas
    elif isinstance(result, LeaseResult) and result.paths:  # a deletion reaches no DC
        fields["gmsa"] = [path.name for path in result.paths]
    if touched.dcs:
        fields["dc"] = touched.dcs
    return fields


def _shown(fields: dict[str, object]) -> str:
    """`` (lease ID, gMSA A, B, DC X)`` for a text line; empty when there is nothing."""
    parts = []
    if "lease_id" in fields:
        parts.append(f"lease {fields['lease_id']}")
    for key, label in (("gmsa", "gMSA"), ("dc", "DC")):
        values = fields.get(key)
        if isinstance(values, list):
            parts.append(f"{label} {', '.join(str(v) for v in values)}")
    return f" ({', '.join(parts)})" if parts else ""


def _metadata(context: grpc.ServicerContext, key: str) -> str | None:
    """The request metadata value of ``key`` (text), or None."""
    for name, value in context.invocation_metadata() or ():
        if name == key and isinstance(value, str):
            return value
    return None


def _keys(request: pb.KerberosArnLeaseRequest | pb.RenewKerberosArnLeaseRequest) -> AwsKeys:
    return AwsKeys(
        request.access_key_id, request.secret_access_key, request.session_token, request.region
    )


class CredentialsFetcherServicer(pb_grpc.CredentialsFetcherServiceServicer):
    """The seven credentials-fetcher RPCs, each a thin call into :class:`TicketService`."""

    def __init__(self, service: TicketService) -> None:
        self.service = service

    def AddKerberosLease(
        self, request: pb.CreateKerberosLeaseRequest, context: grpc.ServicerContext
    ) -> pb.CreateKerberosLeaseResponse:
        lease_id, paths = self._add_lease(
            context, "AddKerberosLease", request.credspec_contents, None
        )
        return pb.CreateKerberosLeaseResponse(lease_id=lease_id, created_kerberos_file_paths=paths)

    def AddNonDomainJoinedKerberosLease(
        self,
        request: pb.CreateNonDomainJoinedKerberosLeaseRequest,
        context: grpc.ServicerContext,
    ) -> pb.CreateNonDomainJoinedKerberosLeaseResponse:
        user = DomainlessUser(request.username, request.domain, request.password)
        lease_id, paths = self._add_lease(
            context, "AddNonDomainJoinedKerberosLease", request.credspec_contents, user
        )
        return pb.CreateNonDomainJoinedKerberosLeaseResponse(
            lease_id=lease_id, created_kerberos_file_paths=paths
        )

    def _add_lease(
        self,
        context: grpc.ServicerContext,
        rpc: str,
        credspecs: Iterable[str],
        user: DomainlessUser | None,
    ) -> tuple[str, list[str]]:
        """Make the lease an Add*KerberosLease call asks for: its id and ticket directories."""
        chosen = _metadata(context, LEASE_ID_METADATA)
        result = _call(
            context, rpc, lambda: self.service.add_lease(list(credspecs), user, lease_id=chosen)
        )
        return result.lease_id, [str(p) for p in result.paths]

    def RenewNonDomainJoinedKerberosLease(
        self,
        request: pb.RenewNonDomainJoinedKerberosLeaseRequest,
        context: grpc.ServicerContext,
    ) -> pb.RenewNonDomainJoinedKerberosLeaseResponse:
        user = DomainlessUser(request.username, request.domain, request.password)
        named = [
            str(value)
            for key, value in context.invocation_metadata() or ()
            if key == LEASE_ID_METADATA
        ]
        paths = _call(
            context,
            "RenewNonDomainJoinedKerberosLease",
            lambda: self.service.renew_domainless(user, named or None),
        )
        return pb.RenewNonDomainJoinedKerberosLeaseResponse(
            renewed_kerberos_file_paths=[str(p) for p in paths]
        )

    def DeleteKerberosLease(
        self, request: pb.DeleteKerberosLeaseRequest, context: grpc.ServicerContext
    ) -> pb.DeleteKerberosLeaseResponse:
        result = _call(
            context, "DeleteKerberosLease", lambda: self.service.delete_lease(request.lease_id)
        )
        return pb.DeleteKerberosLeaseResponse(
            lease_id=result.lease_id, deleted_kerberos_file_paths=[str(p) for p in result.paths]
        )

    def HealthCheck(
        self, request: pb.HealthCheckRequest, context: grpc.ServicerContext
    ) -> pb.HealthCheckResponse:
        return pb.HealthCheckResponse(status=_call(context, "HealthCheck", self.service.health))

    def AddKerberosArnLease(
        self, request: pb.KerberosArnLeaseRequest, context: grpc.ServicerContext
    ) -> pb.CreateKerberosArnLeaseResponse:
        keys = _keys(request)
        result = _call(
            context,
            "AddKerberosArnLease",
            lambda: self.service.add_arn_lease(list(request.credspec_arns), keys),
        )
        return pb.CreateKerberosArnLeaseResponse(
            lease_id=result.lease_id,
            krb_ticket_response_map=[
                pb.KerberosTicketArnResponse(
                    credspec_arns=arn, created_kerberos_file_paths=str(path)
                )
                for arn, path in result.tickets
            ],
        )

    def RenewKerberosArnLease(
        self, request: pb.RenewKerberosArnLeaseRequest, context: grpc.ServicerContext
    ) -> pb.RenewKerberosArnLeaseResponse:
        """``successful`` or ``failed``, as credentials-fetcher answers; a failure also sends
        its first error as trailing metadata (and every one is in the log and the status)."""
        keys = _keys(request)
        renewal = _call(
            context, "RenewKerberosArnLease", lambda: self.service.renew_arn_leases(keys)
        )
        if renewal.failed:
            lease_id, error = renewal.failed[0]
            log.warning(
                "RenewKerberosArnLease: %s, first lease %s: %s",
                count(len(renewal.failed), "failure"),
                lease_id,
                error,
            )
            context.set_trailing_metadata(
                ((ERROR_METADATA, json.dumps(error.to_dict(), ensure_ascii=True)),)
            )
        return pb.RenewKerberosArnLeaseResponse(status=renewal.status)


def _admin_handler(service: TicketService) -> grpc.GenericRpcHandler:
    def status(request: bytes, context: grpc.ServicerContext) -> bytes:
        def run() -> dict[str, Any]:
            document = jsondoc.loads(request or b"{}", source="Status request", max_bytes=1 << 16)
            wanted = document.get("lease_ids") if isinstance(document, dict) else None
            if wanted is not None and (
                not isinstance(wanted, list) or not all(isinstance(i, str) for i in wanted)
            ):
                raise LeaseRequestError("lease_ids must be a list of lease ids", where="Status")
            return service.status(wanted)

        return json.dumps(_call(context, "Status", run)).encode()

    def set_owner(request: bytes, context: grpc.ServicerContext) -> bytes:
        def run() -> dict[str, Any]:
            document = jsondoc.loads(request, source="SetOwner request", max_bytes=4096)
            if not isinstance(document, dict):
                raise LeaseRequestError("the request must be a JSON object", where="SetOwner")
            lease_id, uid, gid = document.get("lease_id"), document.get("uid"), document.get("gid")
            if not isinstance(uid, int) or not isinstance(gid, int) or uid < 0 or gid < 0:
                raise LeaseRequestError("uid and gid must be numeric ids", where="SetOwner")
            service.set_owner(str(lease_id), Owner(uid, gid))
            return {"lease_id": lease_id, "uid": uid, "gid": gid}

        return json.dumps(_call(context, "SetOwner", run)).encode()

    return grpc.method_handlers_generic_handler(
        ADMIN_SERVICE,
        {
            "Status": grpc.unary_unary_rpc_method_handler(status),
            "SetOwner": grpc.unary_unary_rpc_method_handler(set_owner),
        },
    )


def prepare_socket_path(path: Path) -> Path:
    """Make ``path`` ready to listen on, or refuse with the reason.

    The directory must not be writable by everyone (anyone could replace the
    socket); an existing path must be a socket nobody listens on any more.
    """
    path = Path(path).absolute()
    if len(os.fsencode(path)) > _SOCKET_PATH_MAX:
        raise SocketError(
            f"the socket path is longer than {_SOCKET_PATH_MAX} bytes (a unix socket limit)",
            where=str(path),
            fix="choose a shorter --socket path",
        )
    try:
        path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        parent = path.parent.stat()
    except OSError as exc:
        raise SocketError(
            f"cannot create the socket's directory: {exc.strerror}",
            where=str(path.parent),
            fix="create it, or run the service as a user who may",
        ) from None
    if parent.st_mode & stat.S_IWOTH:
        raise SocketError(
            "the socket's directory is writable by every user, so anyone could replace the socket",
            where=str(path.parent),
            fix=f"chmod o-w {path.parent}, or put the socket in a directory of its own",
        )
    try:
        info = path.lstat()
    except FileNotFoundError:
        return path
    if not stat.S_ISSOCK(info.st_mode):
        raise SocketError(
            "the socket path exists and is not a socket",
            where=str(path),
            fix="remove it or choose another --socket path",
        )
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return path
    except OSError as exc:
        raise SocketError(
            f"cannot tell whether the socket is in use: {exc.strerror or exc}",
            where=str(path),
            fix="remove it if no service uses it",
        ) from None
    finally:
        probe.close()
    raise SocketError(
        "another service is already listening on the socket",
        where=str(path),
        fix="stop it first, or choose another --socket path",
    )


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


class TicketServer:
    """Serves a :class:`TicketService` on a unix socket, RPCs concurrently."""

    def __init__(
        self,
        service: TicketService,
        socket_path: Path,
        *,
        workers: int | None = None,
        mode: int = 0o660,
        interceptors: Sequence[grpc.ServerInterceptor] = (),
    ) -> None:
        self.service = service
        self.interceptors = tuple(interceptors)
        """Run around every call (metrics)."""
        self.socket_path = Path(socket_path).absolute()
        self.workers = workers or service.settings.rpc_workers
        self.mode = mode
        self._server: grpc.Server | None = None
        self._inode: int | None = None

    @property
    def target(self) -> str:
        """The gRPC target clients dial."""
        return f"unix:{self.socket_path}"

    def start(self) -> None:
        """Listen; the socket never exists with looser permissions than ``mode``."""
        prepare_socket_path(self.socket_path)
        server = grpc.server(
            ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="gmsa-rpc"),
            options=(("grpc.so_reuseport", 0),),
            interceptors=list(self.interceptors),
        )
        pb_grpc.add_CredentialsFetcherServiceServicer_to_server(
            CredentialsFetcherServicer(self.service), server
        )
        server.add_generic_rpc_handlers((_admin_handler(self.service),))
        with _umask(0o177):
            try:
                bound = server.add_insecure_port(self.target)
            except RuntimeError:
                bound = 0
            if bound == 0:
                raise SocketError(
                    "cannot listen on the socket",
                    where=str(self.socket_path),
                    fix="check that the directory is writable by the service",
                )
            server.start()
        self.socket_path.chmod(self.mode)
        self._inode = self.socket_path.stat().st_ino
        self._server = server
        log.info("serving credentials-fetcher API on %s", self.socket_path)

    def stop(self, grace: float = 5.0) -> None:
        """Finish calls in progress (up to ``grace`` seconds) and remove the socket."""
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None
        with contextlib.suppress(OSError):
            if self._inode is not None and self.socket_path.stat().st_ino == self._inode:
                self.socket_path.unlink()

    def wait(self) -> None:
        """Block until the server stops."""
        if self._server is not None:
            self._server.wait_for_termination()


__all__ = [
    "ADMIN_SERVICE",
    "ERROR_METADATA",
    "LEASE_ID_METADATA",
    "CredentialsFetcherServicer",
    "T",
    "TicketServer",
    "prepare_socket_path",
]
