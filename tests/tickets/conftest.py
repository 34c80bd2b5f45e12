"""Fixtures for the ticket service: a fake clock, the directory double, a service, a server."""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gmsa.tickets.client import TicketClient
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.leases import LeaseStore
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import TicketService
from tests.conftest import EXAMPLE_SPEC
from tests.tickets.directory_double import DirectoryDouble

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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def double(clock: FakeClock) -> DirectoryDouble:
    d = DirectoryDouble(clock=clock)
    for name in ("WebApp01", "WebApp02", "WebApp03"):
        d.add_gmsa(name)
    d.add_user("svc-gmsa", "User-Passw0rd!", may_read=("WebApp01", "WebApp02"))
    return d


@pytest.fixture
def krb_dir(tmp_path: Path) -> Path:
    return tmp_path / "krb"


@pytest.fixture
def settings() -> ServiceSettings:
    return ServiceSettings(ticket_reuse=datetime.timedelta(0))


@pytest.fixture
def service(
    krb_dir: Path, double: DirectoryDouble, settings: ServiceSettings, clock: FakeClock
) -> Iterator[TicketService]:
    svc = TicketService(LeaseStore(krb_dir), double, settings, clock=clock)
    svc.start(scheduler=False)
    yield svc
    svc.stop()


@pytest.fixture
def socket_path(tmp_path: Path) -> Path:
    directory = tmp_path / "s"
    directory.mkdir(mode=0o750)
    return directory / "cf.sock"


@pytest.fixture
def server(service: TicketService, socket_path: Path) -> Iterator[TicketServer]:
    srv = TicketServer(service, socket_path, workers=8)
    srv.start()
    yield srv
    srv.stop(grace=0)


@pytest.fixture
def client(server: TicketServer) -> Iterator[TicketClient]:
    with TicketClient(server.socket_path, timeout=20) as c:
        yield c
