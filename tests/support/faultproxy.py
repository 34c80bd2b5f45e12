"""A failing AWS endpoint: an HTTP proxy in front of the moto server that answers chosen
calls with an AWS error (throttling, a refusal) or holds them, and forwards the rest.

Clients are pointed at :attr:`FaultProxy.endpoint` instead of the moto server;
requests are forwarded byte for byte with their ``Host`` header, so signatures
still verify when the server enforces IAM. Each request is named by its API
(``ecs:DescribeTaskDefinition``, ``iam:GetRolePolicy``, ``s3:GetObject``) from
its ``X-Amz-Target`` header, its query ``Action`` or, for S3, its method, and
counted in :attr:`FaultProxy.requests` whatever happens to it.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_SCOPE_RE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_S3_OPERATIONS = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject"}


def region_of(headers: Any) -> str | None:
    """The region a signed AWS request is signed for."""
    scope = _SCOPE_RE.search(headers.get("Authorization", ""))
    return scope.group(1) if scope else None


def api_of(method: str, headers: Any, body: bytes) -> str:
    """``service:Operation`` of a signed AWS request."""
    scope = _SCOPE_RE.search(headers.get("Authorization", ""))
    service = scope.group(2) if scope else "?"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        return f"{service}:{action[0]}"
    return f"{service}:{_S3_OPERATIONS.get(method, method)}"


@dataclass(frozen=True)
class Fault:
    """An AWS error answer in the JSON protocol (ECS, SSM, Secrets Manager)."""

    status: int
    code: str
    message: str

    def body(self) -> bytes:
        return json.dumps({"__type": self.code, "message": self.message}).encode()


THROTTLED = Fault(400, "ThrottlingException", "Rate exceeded")
DENIED = Fault(400, "AccessDeniedException", "User is not authorized to perform this action")


@dataclass
class Rule:
    """Answer requests of ``api`` whose body contains ``needle`` with ``fault`` (the first
    ``times`` of them; every one when ``None``), or hold them until released."""

    api: str
    fault: Fault | None = None
    needle: str = ""
    times: int | None = None
    region: str | None = None
    """Only requests signed for this region."""
    hold_after: int | None = None
    """Hold every request of ``api`` after this many have been forwarded, until
    :attr:`FaultProxy.released` is set; then forward it."""
    used: int = 0

    def matches(self, api: str, region: str | None, body: bytes) -> bool:
        return (
            api == self.api
            and self.needle.encode() in body
            and (self.region is None or region == self.region)
        )


class FaultProxy:
    """The proxy; start it with :meth:`start`, stop it with :meth:`stop`."""

    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self._upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.rules: list[Rule] = []
        self.requests: Counter[str] = Counter()
        """Requests seen, by API (faults and held ones included)."""
        self.faults: Counter[str] = Counter()
        """Requests answered with a fault, by API."""
        self.holding = threading.Event()
        """Set once a request is held."""
        self.released = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def add(self, rule: Rule) -> Rule:
        self.rules.append(rule)
        return rule

    def _decide(self, api: str, region: str | None, body: bytes) -> Fault | str | None:
        with self._lock:
            self.requests[api] += 1
            for rule in self.rules:
                if not rule.matches(api, region, body):
                    continue
                if rule.hold_after is not None:
                    if rule.used >= rule.hold_after:
                        return "hold"
                    rule.used += 1
                    return None
                if rule.times is not None and rule.used >= rule.times:
                    continue
                rule.used += 1
                assert rule.fault is not None
                self.faults[api] += 1
                return rule.fault
        return None

    def _forward(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any, bytes]:
        connection = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for key, value in headers.items():
                connection.putheader(key, value)
            connection.endheaders(body or None)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                api = api_of(self.command, self.headers, body)
                decision = proxy._decide(api, region_of(self.headers), body)
                if decision == "hold":
                    proxy.holding.set()
                    proxy.released.wait()
                    decision = None
                if isinstance(decision, Fault):
                    payload = decision.body()
                    self.send_response(decision.status)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("x-amzn-RequestId", "fault-proxy")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                status, headers, payload = proxy._forward(
                    self.command, self.path, self.headers, body
                )
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _serve

        return Handler


__all__ = [
    "DENIED",
    "THROTTLED",
    "Fault",
    "FaultProxy",
    "Rule",
    "api_of",
    "region_of",
]
