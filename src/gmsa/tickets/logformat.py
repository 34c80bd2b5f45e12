"""The ticket service's log lines: readable text, or one JSON object per line for shippers.

Every RPC ends in one event line with its method, outcome, duration and, where
there is one, the lease id and the gMSAs; the fields ride on the log record
(``extra=``) so both formats carry them. Nothing secret is ever a field: the
service logs names, ids, paths and error messages, which never hold passwords,
keys or tickets.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import sys
from pathlib import Path
from typing import TextIO

from gmsa.errors import ExternalError, InvalidInputError

FORMATS = ("text", "json")
"""What ``--log-format`` accepts."""
EVENT_FIELDS = ("method", "outcome", "duration_ms", "lease_id", "gmsa", "code")
"""Fields an event line may carry, in the order JSON lines show them."""


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
    "JsonFormatter",
    "configure",
]
