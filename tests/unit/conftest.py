"""Fixtures for the unit tests of the ticket service and its CLI: a fake clock, the directory
double, a service, a server."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from gmsa.tickets.client import TicketClient
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.leases import LeaseStore
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import TicketService
from tests.support.directory_double import DirectoryDouble
from tests.support.tickets import FakeClock


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
