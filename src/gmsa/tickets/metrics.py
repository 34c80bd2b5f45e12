"""Prometheus metrics of the ticket service (``gmsa tickets serve --metrics-listen``).

Opt-in: nothing listens unless asked. The client library is prometheus_client.
State (leases, the soonest expiry, failing tickets) is read from the service at
scrape time, so nothing can drift; events (password reads, TGT requests,
acquisitions, RPCs) are counted and timed as they happen. Labels carry gMSA names,
RPC methods and status codes: never a password, key, ticket or user name.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gmsa.errors import InvalidInputError
from gmsa.tickets.interface import GmsaAccount
from gmsa.tickets.service import TicketService

PREFIX = "gmsa_tickets"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """The service's metrics in their own registry, fed by the acquirer and the server."""

    def __init__(self, service: TicketService) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self.password_reads = self._latency(
            "password_read_seconds",
            "Reads of msDS-ManagedPassword (LDAP, connection included when one was opened)",
            ["gmsa", "outcome"],
        )
        self.tgt_requests = self._latency(
            "kdc_seconds", "AS exchanges for a gMSA's TGT with the KDC", ["gmsa", "outcome"]
        )
        self.acquisitions = Counter(
            f"{PREFIX}_acquisitions",
            "Tickets obtained (new leases and renewals) and failures, by gMSA",
            ["gmsa", "outcome"],
            registry=self.registry,
        )
        self.rpcs = self._latency(
            "rpc_seconds", "gRPC calls served, by method and status code", ["method", "code"]
        )
        self.registry.register(_StateCollector(service))
        service.acquirer.observers.append(self)

    def _latency(self, name: str, text: str, labels: list[str]) -> Histogram:
        """A latency histogram in this registry, with the buckets every one of them uses."""
        return Histogram(
            f"{PREFIX}_{name}", text, labels, buckets=_LATENCY_BUCKETS, registry=self.registry
        )

    # ----------------------------------------------------------------- acquirer observer

    def password_read(self, account: GmsaAccount, seconds: float, ok: bool) -> None:
        """Time one password read."""
        self.password_reads.labels(account.name.lower(), _outcome(ok)).observe(seconds)

    def tgt_request(self, account: GmsaAccount, seconds: float, ok: bool) -> None:
        """Time one TGT request."""
        self.tgt_requests.labels(account.name.lower(), _outcome(ok)).observe(seconds)

    def acquisition(self, account: GmsaAccount, ok: bool) -> None:
        """Count one acquisition."""
        self.acquisitions.labels(account.name.lower(), _outcome(ok)).inc()

    # ----------------------------------------------------------------- gRPC

    def interceptor(self) -> grpc.ServerInterceptor:
        """A server interceptor timing every call by method and status code."""
        return _RpcTimer(self.rpcs)


def _outcome(ok: bool) -> str:
    return "success" if ok else "failure"


class _StateCollector(Collector):
    """Leases, tickets and expiry as the service holds them at scrape time."""

    def __init__(self, service: TicketService) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        held, unreadable = self.service.snapshot()
        kinds: dict[str, int] = {"domain-joined": 0, "domainless": 0}
        failing_by: dict[str, int] = {}
        ends: list[datetime.datetime] = []
        for lease in held:
            kinds[lease.mode] = kinds.get(lease.mode, 0) + 1
            for record in lease.tickets:
                name = record.account.name.lower()
                failing_by[name] = failing_by.get(name, 0) + (1 if record.failures else 0)
                if record.end_time is not None:
                    ends.append(record.end_time)
        leases = GaugeMetricFamily(f"{PREFIX}_leases", "Leases held, by kind", labels=["kind"])
        for kind, number in sorted(kinds.items()):
            leases.add_metric([kind], number)
        yield leases
        failing = GaugeMetricFamily(
            f"{PREFIX}_failing_tickets",
            "Tickets whose last renewal failed, by gMSA",
            labels=["gmsa"],
        )
        for name, number in sorted(failing_by.items()):
            failing.add_metric([name], number)
        yield failing
        expiry = GaugeMetricFamily(
            f"{PREFIX}_soonest_expiry_timestamp_seconds",
            "When the first ticket of any lease expires (Unix time); absent with no tickets",
        )
        if ends:
            expiry.add_metric([], min(ends).timestamp())
        yield expiry
        counters = self.service.acquirer.counters
        for key, value, help_text in (
            ("password_reads", counters.password_reads, "Password reads started"),
            ("tgt_requests", counters.tgt_requests, "TGT requests started"),
            (
                "shared_acquisitions",
                counters.shared,
                "Callers served by another caller's acquisition",
            ),
        ):
            family = CounterMetricFamily(f"{PREFIX}_{key}", help_text)
            family.add_metric([], value)
            yield family
        yield GaugeMetricFamily(
            f"{PREFIX}_unreadable_leases",
            "Lease directories whose metadata cannot be read",
            value=unreadable,
        )


class _RpcTimer(grpc.ServerInterceptor):
    """Times unary calls and records the status code they ended with."""

    def __init__(self, histogram: Histogram) -> None:
        self.histogram = histogram

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = str(handler_call_details.method).rsplit("/", 1)[-1]
        behaviour = handler.unary_unary
        histogram = self.histogram

        def timed(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            code = "OK"
            try:
                return behaviour(request, context)
            except BaseException:
                status = getattr(context, "code", lambda: None)()
                code = status.name if isinstance(status, grpc.StatusCode) else "UNKNOWN"
                raise
            finally:
                histogram.labels(method, code).observe(time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            timed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9464`` for IPv6) for ``--metrics-listen``."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInputError(
            f"not an address to listen on: {text!r}",
            where="--metrics-listen",
            fix="give HOST:PORT, e.g. 127.0.0.1:9464",
        )
    return host, int(port)


__all__ = [
    "PREFIX",
    "ServiceMetrics",
    "parse_listen",
]
