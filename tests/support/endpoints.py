"""Endpoints that are not AWS, on real loopback sockets: one that answers every request
with a fixed reply (an HTML page of a proxy, garbage), one that accepts connections and
never answers, and a port where nothing listens."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from tests.support.moto import free_port

PROXY_PAGE = (
    b"<!DOCTYPE html><html><head><title>Proxy login</title></head><body>Sign in</body></html>"
)
"""What a captive portal or a proxy's login answers, with status 200."""


@contextmanager
def answering(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> Iterator[str]:
    """An endpoint URL whose server answers every request with ``status`` and ``body``
    (``Content-Type: text/html`` unless ``headers`` say otherwise)."""
    sent = {"Content-Type": "text/html", **(headers or {})}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(status)
            for name, value in sent.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_PUT = do_HEAD = do_DELETE = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class SilentServer:
    """Accepts every connection and never answers; counts the connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.endpoint = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


@contextmanager
def silent() -> Iterator[SilentServer]:
    """A server that accepts connections and never answers."""
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


def closed_port() -> str:
    """An endpoint URL where nothing listens (connections are refused)."""
    return f"http://127.0.0.1:{free_port()}"
