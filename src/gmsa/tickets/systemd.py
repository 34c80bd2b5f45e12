"""Running ``gmsa tickets serve`` as a systemd service: readiness, status, watchdog, the unit.

systemd's notify protocol is one datagram per message on the unix socket named by
``NOTIFY_SOCKET`` (a path, or ``@name`` in the abstract namespace), each a few
``KEY=VALUE`` lines. The established libraries either need libsystemd and a
compiler (systemd-python) or have not been maintained for years (sdnotify), so
the sender is written here (decision 0012). Without ``NOTIFY_SOCKET`` every call
is a no-op, so the same code runs under systemd, in a container or by hand.

The service sends ``READY=1`` once its socket is bound and every lease on disk has
been recovered, ``STATUS=`` with lease and failure counts, ``WATCHDOG=1`` at half
of ``WATCHDOG_USEC`` only while its renewal loop is healthy (so systemd restarts a
service whose loop is stuck), ``RELOADING=1`` / ``READY=1`` around a SIGHUP, and
``STOPPING=1`` on SIGTERM.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

from gmsa.errors import InvalidInputError
from gmsa.tickets.layout import DEFAULT_KRB_DIR, DEFAULT_SOCKET

NOTIFY_SOCKET = "NOTIFY_SOCKET"
"""The environment variable systemd sets for a ``Type=notify`` service."""
WATCHDOG_USEC = "WATCHDOG_USEC"
"""The watchdog interval systemd expects pings within, in microseconds."""
WATCHDOG_PID = "WATCHDOG_PID"
"""The process the watchdog is meant for (absent: this one)."""


class Notifier:
    """Sends notify messages to systemd; does nothing when not run by systemd."""

    def __init__(self, address: str | None) -> None:
        self.address = address or None
        """The socket address: a path, or ``@name`` (abstract); None when not under systemd."""
        self.sent: list[str] = []
        """Every message sent, for status commands and tests."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """The notifier for this process's ``NOTIFY_SOCKET``."""
        env = os.environ if environ is None else environ
        return cls(env.get(NOTIFY_SOCKET))

    @property
    def enabled(self) -> bool:
        """Whether messages go anywhere."""
        return self.address is not None

    def notify(self, **fields: str | int) -> bool:
        """Send ``KEY=VALUE`` lines (``notify(READY=1, STATUS="...")``); False if not sent.

        A failure to send is not an error of the service: systemd may be gone while
        the service shuts down.
        """
        if self.address is None or not fields:
            return False
        message = "\n".join(f"{key}={value}" for key, value in fields.items())
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            try:
                sock.connect(target)
                sock.sendall(message.encode("utf-8", "replace"))
            except OSError:
                return False
        self.sent.append(message)
        return True


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between ``WATCHDOG=1`` pings (half systemd's interval), or None when off."""
    env = os.environ if environ is None else environ
    usec = env.get(WATCHDOG_USEC)
    if not usec:
        return None
    pid = env.get(WATCHDOG_PID)
    if pid and pid.strip() != str(os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 2_000_000 if value > 0 else None


def unit_file(
    *,
    executable: Path | None = None,
    socket_path: Path = DEFAULT_SOCKET,
    krb_dir: Path = DEFAULT_KRB_DIR,
    config: Path | None = None,
    metrics_listen: str | None = None,
    watchdog_seconds: int = 60,
) -> str:
    """A systemd unit running ``gmsa tickets serve`` with ``executable`` (default: this
    installation's ``gmsa``), hardened but still able to do its work: bind its socket,
    write leases under the krb dir, give caches to container users, reach the DCs."""
    if watchdog_seconds < 2:
        raise InvalidInputError(
            f"a watchdog of {watchdog_seconds} s leaves no time to ping",
            where="--watchdog",
            fix="give 2 seconds or more (60 is the default)",
        )
    program = executable or Path(sys.executable).with_name("gmsa")
    for what, path in (("executable", program), ("socket", socket_path), ("krb dir", krb_dir)):
        if not path.is_absolute() or any(c in str(path) for c in "\n\r\t \"'\\%$"):
            raise InvalidInputError(
                f"the {what} path {str(path)!r} cannot go into a unit file as it is",
                where=str(path),
                fix="give an absolute path without spaces, quotes, '%' or '$'",
            )
    command = [str(program), "tickets", "serve", "--socket", str(socket_path)]
    command += ["--krb-dir", str(krb_dir)]
    writable = sorted({str(socket_path.parent), str(krb_dir)})
    if config is not None:
        command += ["--config", str(config)]
    if metrics_listen is not None:
        command += ["--metrics-listen", metrics_listen]
    lines = [
        "[Unit]",
        "Description=gmsa ticket service (credentials-fetcher compatible gMSA Kerberos leases)",
        "Documentation=https://docs.aws.amazon.com/AmazonECS/latest/developerguide/linux-gmsa.html",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=notify",
        "NotifyAccess=main",
        f"ExecStart={' '.join(command)}",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "RestartSec=2s",
        f"WatchdogSec={watchdog_seconds}s",
        "TimeoutStopSec=30s",
        "# Leases and sockets live only where the ECS agent expects them.",
        f"ReadWritePaths={' '.join(writable)}",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "NoNewPrivileges=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "RestrictNamespaces=yes",
        "LockPersonality=yes",
        "SystemCallArchitectures=native",
        "# Unix sockets for the agent and systemd, IP for the DCs and AWS.",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "# Ticket caches are given to the container's user; the host keytab is root's.",
        "CapabilityBoundingSet=CAP_CHOWN CAP_FOWNER CAP_DAC_READ_SEARCH",
        "UMask=0077",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ]
    return "\n".join(lines)


__all__ = [
    "NOTIFY_SOCKET",
    "WATCHDOG_PID",
    "WATCHDOG_USEC",
    "Notifier",
    "unit_file",
    "watchdog_interval",
]
