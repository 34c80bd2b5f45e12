"""A local AWS endpoint (moto) that checks IAM the way AWS does, for the demo and the tests.

moto enforces IAM when asked, but authorizes SSM and Secrets Manager calls against
the resource ``*``: a policy naming the parameter's ARN, which is what the ECS
documentation and ``gmsa iam policy`` write, is then refused, and a policy
naming *another* parameter cannot be told apart from the right one. This module
teaches moto the resource of the calls gmsa makes (``ssm:GetParameters`` and
friends on the parameter ARN, ``secretsmanager:GetSecretValue`` on the secret
ARN), so permission tests mean what they say.

Run it as a server with ``python -m gmsa.localaws -H 127.0.0.1 -p PORT``, or
embed it with :func:`embedded_aws`. It binds to loopback unless told otherwise.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gmsa.errors import ExternalError

_installed = False


def _ssm_resource(self: Any) -> str:
    """The parameter ARN a single-parameter SSM call acts on; ``*`` otherwise."""
    names = self._get_param("Names")
    if names is None:
        name = self._get_param("Name")
        names = [name] if name else []
    if not isinstance(names, list) or len(names) != 1 or not isinstance(names[0], str):
        return "*"
    from moto.utilities.utils import get_partition

    name = names[0].lstrip("/")
    partition = get_partition(self.region)
    return f"arn:{partition}:ssm:{self.region}:{self.current_account}:parameter/{name}"


def _secret_resource(self: Any) -> str:
    """The full secret ARN (with its random suffix) a Secrets Manager call acts on."""
    secret_id = self._get_param("SecretId")
    if not isinstance(secret_id, str) or not secret_id:
        return "*"
    try:
        return str(self.backend.describe_secret(secret_id).arn)
    except Exception:
        return secret_id if secret_id.startswith("arn:") else "*"


def install_resource_level_iam() -> None:
    """Make moto authorize SSM and Secrets Manager calls on their resource ARNs."""
    global _installed
    if _installed:
        return
    from moto.secretsmanager.responses import SecretsManagerResponse
    from moto.ssm.responses import SimpleSystemManagerResponse

    SimpleSystemManagerResponse._determine_resource = _ssm_resource  # type: ignore[attr-defined]
    SecretsManagerResponse._determine_resource = _secret_resource  # type: ignore[attr-defined]
    _installed = True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, *, timeout: float = 20.0) -> None:
    """Wait until ``host:port`` accepts connections, or raise :class:`ExternalError`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise ExternalError(
                    "the local AWS endpoint did not start",
                    where=f"{host}:{port}",
                    fix="check that loopback networking works and the port is free",
                ) from None
            time.sleep(0.05)


@dataclass
class EmbeddedAws:
    """A running local endpoint."""

    endpoint: str
    """``http://127.0.0.1:PORT``."""
    _server: Any = field(repr=False)

    def set_auth(self, free_requests: str) -> None:
        """``inf``: IAM enforcement off; ``0``: every request is checked from now on."""
        request = urllib.request.Request(  # noqa: S310 - loopback endpoint we started
            f"{self.endpoint}/moto-api/reset-auth",
            data=free_requests.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()


@contextmanager
def embedded_aws() -> Iterator[EmbeddedAws]:
    """Start the endpoint in this process on a free loopback port; stop it afterwards."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:  # pragma: no cover - depends on the install
        raise ExternalError(
            "the local AWS endpoint needs moto, which is not installed",
            where="gmsa demo",
            fix="install the demo extra: pip install 'gmsa[demo]'",
        ) from None
    install_resource_level_iam()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        wait_for_port("127.0.0.1", port)
        aws = EmbeddedAws(endpoint=f"http://127.0.0.1:{port}", _server=server)
        aws.set_auth("inf")
        yield aws
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    """``python -m gmsa.localaws [moto server options]``: moto's server, with the patch."""
    install_resource_level_iam()
    from moto.server import main as moto_main

    args = list(sys.argv[1:] if argv is None else argv)
    if "-H" not in args and "--host" not in args:
        args = ["-H", "127.0.0.1", *args]
    moto_main(args)


if __name__ == "__main__":
    main()


__all__ = [
    "EmbeddedAws",
    "embedded_aws",
    "install_resource_level_iam",
    "main",
    "wait_for_port",
]
