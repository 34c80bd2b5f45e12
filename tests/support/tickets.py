"""Ticket-service test helpers: a clock tests move by hand, the example spec for any gMSA."""

from __future__ import annotations

import datetime
import json
import threading
from typing import Any

from tests.conftest import EXAMPLE_SPEC

START = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime.datetime = START) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime.datetime:
        with self._lock:
            return self.now

    def advance(self, delta: datetime.timedelta) -> datetime.datetime:
        with self._lock:
            self.now += delta
            return self.now


def spec_for(name: str, domain: str = "example.com") -> str:
    """The example credential spec for another gMSA, as the ECS agent sends it (a JSON string)."""
    doc: dict[str, Any] = json.loads(json.dumps(EXAMPLE_SPEC))
    doc["DomainJoinConfig"]["MachineAccountName"] = name
    doc["DomainJoinConfig"]["DnsName"] = domain
    doc["DomainJoinConfig"]["DnsTreeName"] = domain
    doc["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"] = [
        {"Name": name, "Scope": domain},
        {"Name": name, "Scope": domain.split(".")[0].upper()},
    ]
    return json.dumps(doc)
