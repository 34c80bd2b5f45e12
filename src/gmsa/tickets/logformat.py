"""The ticket service's log lines: readable text, or one JSON object per line for shippers.

Every RPC ends in one event line with its method, outcome, duration and, where
there are some, the lease id, the gMSAs and the domain controllers that served
them; the fields ride on the log record (``extra=``) so both formats carry them.
The layers below the RPC tell the event what they touched through :func:`note`
(the acquirer names each gMSA, the provider each DC it reached) while the call's
:func:`event` is open, in its thread or in a worker started with a copy of its
context. Nothing secret is ever a field: the service logs names, ids, paths and
error messages, which never hold passwords, keys or tickets.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from gmsa.errors import ExternalError, InvalidInputError

FORMATS = ("text", "json")
"""What ``--log-format`` accepts."""
EVENT_FIELDS = ("method", "outcome", "duration_ms", "lease_id", "gmsa", "dc", "code")
"""Fields an event line may carry, in the order JSON lines show them."""


class Event:
    """What one RPC touched, gathered for its event line: gMSAs and domain controllers,
    each once, in the order they were first noted. Safe to note from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, list[str]] = {"gmsa": [], "dc": []}

    def note(self, field: str, value: str) -> None:
        """Add ``value`` to ``field`` (``gmsa`` or ``dc``) unless it is there already."""
        with self._lock:
            values = self._seen[field]
            if value not in values:
                values.append(value)

    @property
    def gmsas(self) -> list[str]:
        """The gMSAs noted (names without ``$``)."""
        with self._lock:
            return list(self._seen["gmsa"])

    @property
    def dcs(self) -> list[str]:
        """The domain controllers noted (host names)."""
        with self._lock:
            return list(self._seen["dc"])


_CURRENT: contextvars.ContextVar[Event | None] = contextvars.ContextVar(
    "gmsa_tickets_event", default=None
)


@contextlib.contextmanager
def event() -> Iterator[Event]:
    """Gather what the code run inside touches (:func:`note`) into a new :class:`Event`."""
    current = Event()
    token = _CURRENT.set(current)
    try:
        yield current
    finally:
        _CURRENT.reset(token)


def note(*, gmsa: str | None = None, dc: str | None = None) -> None:
    """Tell the open event (if any) that a gMSA or a domain controller took part."""
    current = _CURRENT.get()
    if current is None:
        return
    if gmsa:
        current.note("gmsa", gmsa)
    if dc:
        current.note("dc", dc)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
        document: dict[str, object] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EVENT_FIELDS:
            if name in record.__dict__:
                document[name] = record.__dict__[name]
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=True, default=str)


LOG_FILE = "gmsa-tickets.log"
"""The log file's name in the logging directory (``CF_LOGGING_DIR``)."""


def configure(
    log_format: str, stream: TextIO | None = None, *, directory: Path | None = None
) -> list[logging.Handler]:
    """Send the service's logs to ``stream`` (stderr) and, with ``directory``, to
    :data:`LOG_FILE` in it (created 0600), in ``log_format``; return the handlers."""
    if log_format not in FORMATS:
        raise InvalidInputError(
            f"unknown log format {log_format!r}", where="--log-format", fix="use text or json"
        )
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if directory is not None:
        handlers.append(_file_handler(directory / LOG_FILE))
    formatter = (
        JsonFormatter()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handlers


def _file_handler(path: Path) -> logging.Handler:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise ExternalError(
            f"cannot open the log file: {exc.strerror}",
            where=str(path),
            fix="check the logging directory (CF_LOGGING_DIR) and its permissions",
        ) from None
    return logging.StreamHandler(os.fdopen(descriptor, "a", encoding="utf-8"))


__all__ = [
    "EVENT_FIELDS",
    "FORMATS",
    "LOG_FILE",
    "Event",
    "JsonFormatter",
    "configure",
    "event",
    "note",
]
