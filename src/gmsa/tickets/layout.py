"""Where the ticket service, the host agent and the container find a lease's tickets.

These are the credentials-fetcher daemon's and the ECS agent's paths
(``docs/background.md#the-ecs-agent-on-linux``): the service writes
``<krb dir>/<lease id>/<gMSA name>/krb5cc``, the host agent bind-mounts
``<krb dir>/<lease id>/<gMSA name>`` read-only at :data:`CONTAINER_KRB_DIR`,
and the container's Kerberos library reads :data:`KRB5CCNAME`.
"""

from __future__ import annotations

import re
from pathlib import Path

DEFAULT_KRB_DIR = Path("/var/credentials-fetcher/krbdir")
"""Where the ticket service (like credentials-fetcher) keeps leases, and the host agent
mounts them from."""
DEFAULT_SOCKET = Path("/var/credentials-fetcher/socket/credentials_fetcher.sock")
"""Where the ECS agent looks for the ticket service by default
(``CREDENTIALS_FETCHER_HOST_DIR``)."""
CONTAINER_KRB_DIR = "/var/credentials-fetcher/krbdir"
"""Where a gMSA's ticket directory is mounted inside the container."""
CCACHE_NAME = "krb5cc"
"""The ticket cache's file name in a ticket directory."""
KRB5CCNAME = f"{CONTAINER_KRB_DIR}/{CCACHE_NAME}"
"""The ``KRB5CCNAME`` value that points a container's Kerberos library at its ticket."""
LEASE_ID_LENGTH = 20
"""Hex digits in a lease id, the name of the lease's directory."""
LEASE_ID_RE = re.compile(rf"[0-9a-f]{{{LEASE_ID_LENGTH}}}")
"""A lease id, to be matched whole (``fullmatch``): lowercase hex only, so it names no
path outside the krb directory."""


__all__ = [
    "CCACHE_NAME",
    "CONTAINER_KRB_DIR",
    "DEFAULT_KRB_DIR",
    "DEFAULT_SOCKET",
    "KRB5CCNAME",
    "LEASE_ID_LENGTH",
    "LEASE_ID_RE",
]
