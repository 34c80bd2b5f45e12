"""The ticket service with the ``active-directory`` provider against the real (Samba) DC.

Each test runs the gRPC service on a private unix socket with the host identity
of the lab (HOST01$'s keytab, or HOST03$'s where the host must be refused) and
checks what the ECS agent and the container would see: a ticket cache that is a
working identity for the gMSA, and clear gRPC errors with no lease left behind.
"""

from __future__ import annotations

import datetime
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from gmsa.ad.connection import CacheCredentials, ConnectOptions, connected
from gmsa.ad.discovery import DnsConfig
from gmsa.kerberos.ccache import parse_ccache, read_ccache
from gmsa.kerberos.kdc import KdcClient, KdcEndpoint
from gmsa.kerberos.keys import derive_keys
from gmsa.kerberos.keytab import KeytabEntry, encode_keytab
from gmsa.kerberos.principal import Principal
from gmsa.kerberos.ticket import FLAG_FORWARDABLE, FLAG_INITIAL, FLAG_PRE_AUTHENT, FLAG_RENEWABLE
from gmsa.tickets.activedirectory import ActiveDirectoryProvider, DirectorySettings
from gmsa.tickets.client import TicketClient
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.errors import RemoteError
from gmsa.tickets.interface import GmsaAccount, HostKeytab
from gmsa.tickets.leases import LeaseStore
from gmsa.tickets.providers import create_provider
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import TicketService
from tests.support.mit import needs_mit
from tests.support.samba import (
    DC_NAME,
    DOMAIN,
    GMSA,
    GMSA_DOMAIN_COMPUTERS,
    GMSA_NO_READERS,
    HOST_DENIED,
    HOST_DIRECT,
    PASSWORD,
    REALM,
    DomainLab,
)
from tests.support.tickets import spec_for

pytestmark = pytest.mark.xdist_group("samba")

LEASE_ID = re.compile(r"[0-9a-f]{20}")


class Running:
    """A started service, its server and a client, sharing one krb directory."""

    def __init__(self, service: TicketService, server: TicketServer, client: TicketClient):
        self.service = service
        self.server = server
        self.client = client

    @property
    def krb_dir(self) -> Path:
        return self.service.store.root


Serve = Callable[..., AbstractContextManager[Running]]


@pytest.fixture
def serve(lab: DomainLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Serve:
    """Start the service (provider built by name, as ``gmsa tickets serve`` does)."""
    monkeypatch.setenv("GMSA_DNS_SERVER", lab.dns_server)
    for name in ("DOMAIN_CONTROLLER_GMSA", "GMSA_KDC", "GMSA_LDAP_PROTECTION"):
        monkeypatch.delenv(name, raising=False)
    counter = iter(range(100))

    @contextmanager
    def run(
        keytab: Path | None = None, *, dc: str | None = None, krb_dir: Path | None = None
    ) -> Iterator[Running]:
        if dc is not None:
            monkeypatch.setenv("DOMAIN_CONTROLLER_GMSA", dc)
        settings = ServiceSettings(
            host_identity=HostKeytab(keytab or lab.host_keytab),
            ticket_reuse=datetime.timedelta(0),
        )
        provider = create_provider("active-directory", settings)
        service = TicketService(LeaseStore(krb_dir or tmp_path / "krb"), provider, settings)
        service.start(scheduler=False)
        sockets = tmp_path / f"s{next(counter)}"
        sockets.mkdir(mode=0o750)
        server = TicketServer(service, sockets / "cf.sock", workers=4)
        server.start()
        try:
            with TicketClient(server.socket_path, timeout=30) as client:
                yield Running(service, server, client)
        finally:
            server.stop(grace=0)
            service.stop()

    return run


def lease_dirs(krb_dir: Path) -> list[Path]:
    """Everything in the krb directory (a failed call must leave nothing)."""
    return sorted(krb_dir.iterdir()) if krb_dir.exists() else []


def mit_env(lab: DomainLab, cache: Path) -> dict[str, str]:
    return {**os.environ, "KRB5_CONFIG": str(lab.krb5_conf), "KRB5CCNAME": f"FILE:{cache}"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- a working identity


def test_lease_cache_gets_a_service_ticket_as_the_gmsa(serve: Serve) -> None:
    with serve() as running:
        reply = running.client.add_lease([spec_for(GMSA)])
    cache = read_ccache(Path(reply.paths[0]) / "krb5cc")
    tgt = cache.tgt(REALM)
    assert tgt is not None
    kdc = KdcClient([KdcEndpoint(DC_NAME, "127.0.0.1")])
    ticket = kdc.service_ticket(tgt, Principal.service("ldap", DC_NAME, REALM))
    assert str(ticket.client) == f"{GMSA}$@{REALM}"
    assert str(ticket.server) == f"ldap/{DC_NAME}@{REALM}"


def test_lease_cache_binds_to_ldap_as_the_gmsa(serve: Serve, lab: DomainLab) -> None:
    with serve() as running:
        reply = running.client.add_lease([spec_for(GMSA)])
    options = ConnectOptions(domain=DOMAIN, dns=DnsConfig.parse(lab.dns_server))
    with connected(options, CacheCredentials(Path(reply.paths[0]) / "krb5cc")) as directory:
        root = directory.read("", ["defaultNamingContext"])
        assert directory.identity == f"{GMSA}$@{REALM}"
    assert root is not None and root.text("defaultNamingContext") == "DC=example,DC=com"


@needs_mit
def test_mit_kvno_uses_the_lease_cache(serve: Serve, lab: DomainLab) -> None:
    with serve() as running:
        reply = running.client.add_lease([spec_for(GMSA)])
    cache = Path(reply.paths[0]) / "krb5cc"
    result = subprocess.run(
        ["kvno", f"ldap/{DC_NAME}"],
        env=mit_env(lab, cache),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    listed = subprocess.run(
        ["klist"], env=mit_env(lab, cache), capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert f"Default principal: {GMSA}$@{REALM}" in listed
    assert f"ldap/{DC_NAME}@{REALM}" in listed


def test_tgt_times_and_flags_come_from_the_kdc(lab: DomainLab) -> None:
    provider = ActiveDirectoryProvider(DirectorySettings(dns=DnsConfig.parse(lab.dns_server)))
    account = GmsaAccount(GMSA, DOMAIN)
    password = provider.read_password(account, HostKeytab(lab.host_keytab))
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    ticket = provider.get_tgt(
        account, derive_keys(password.current, account=account.name, realm=account.realm)
    )
    assert before - datetime.timedelta(minutes=5) <= ticket.auth_time <= ticket.start_time
    assert datetime.timedelta(hours=1) <= ticket.lifetime <= datetime.timedelta(hours=10)
    assert ticket.renew_till is not None and ticket.renew_till > ticket.end_time
    wanted = FLAG_FORWARDABLE | FLAG_RENEWABLE | FLAG_INITIAL | FLAG_PRE_AUTHENT
    assert ticket.flags & wanted == wanted
    assert str(ticket.server) == f"krbtgt/{REALM}@{REALM}"


@needs_mit
def test_mit_klist_shows_the_kdc_flags_and_renew_time(serve: Serve, lab: DomainLab) -> None:
    with serve() as running:
        reply = running.client.add_lease([spec_for(GMSA)])
    listed = subprocess.run(
        ["klist", "-f"],
        env=mit_env(lab, Path(reply.paths[0]) / "krb5cc"),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "renew until" in listed
    flags = re.search(r"Flags: (\S+)", listed)
    assert flags is not None and set("FRIA") <= set(flags.group(1))


def test_domainless_user_reads_the_password(serve: Serve) -> None:
    # HOST01$ is allowed on WebApp01; its password is the lab's, so it can act as the
    # "domainless user" of the agent's AddNonDomainJoinedKerberosLease.
    with serve() as running:
        reply = running.client.add_domainless_lease(
            [spec_for(GMSA)], username=f"{HOST_DIRECT}$", password=PASSWORD, domain=DOMAIN
        )
    cache = read_ccache(Path(reply.paths[0]) / "krb5cc")
    assert str(cache.principal) == f"{GMSA}$@{REALM}"


# --------------------------------------------------------------------------- clear errors


def test_host_not_allowed_gets_permission_denied(serve: Serve, lab: DomainLab) -> None:
    with serve(lab.denied_host_keytab) as running:
        with pytest.raises(RemoteError) as caught:
            running.client.add_lease([spec_for(GMSA)])
        leftovers = lease_dirs(running.krb_dir)
    error = caught.value
    assert error.grpc_status == "PERMISSION_DENIED"
    assert f"{HOST_DENIED}$@{REALM}" in error.what and f"{GMSA}$" in error.what
    assert error.fix is not None and "PrincipalsAllowedToRetrieveManagedPassword" in error.fix
    assert leftovers == []


def test_gmsa_nobody_may_read_gets_permission_denied(serve: Serve) -> None:
    with serve() as running, pytest.raises(RemoteError) as caught:
        running.client.add_lease([spec_for(GMSA_NO_READERS)])
    assert caught.value.grpc_status == "PERMISSION_DENIED"
    assert f"{GMSA_NO_READERS}$" in caught.value.what


def test_missing_gmsa_is_not_found(serve: Serve) -> None:
    with serve() as running:
        with pytest.raises(RemoteError) as caught:
            running.client.add_lease([spec_for("Missing01")])
        leftovers = lease_dirs(running.krb_dir)
    assert caught.value.grpc_status == "NOT_FOUND"
    assert "Missing01$" in caught.value.what and DOMAIN in caught.value.what
    assert leftovers == []


def test_second_spec_failing_leaves_no_lease(serve: Serve) -> None:
    with serve() as running:
        with pytest.raises(RemoteError):
            running.client.add_lease([spec_for(GMSA), spec_for("Missing01")])
        leftovers = lease_dirs(running.krb_dir)
    assert leftovers == []


def test_wrong_domain_names_the_domain_and_the_spec_field(serve: Serve) -> None:
    with serve() as running:
        with pytest.raises(RemoteError) as caught:
            running.client.add_lease([spec_for(GMSA, "wrong.test")])
        leftovers = lease_dirs(running.krb_dir)
    error = caught.value
    assert error.grpc_status == "UNAVAILABLE"
    assert "wrong.test" in error.what and "DnsName" in error.what
    assert leftovers == []


def test_unreachable_dc_is_unavailable_naming_server_and_port(serve: Serve) -> None:
    port = closed_port()
    with serve(dc=f"{DC_NAME}:{port}") as running:
        with pytest.raises(RemoteError) as caught:
            running.client.add_lease([spec_for(GMSA)])
        leftovers = lease_dirs(running.krb_dir)
        health = running.client.health()
    error = caught.value
    assert error.grpc_status == "UNAVAILABLE"
    assert DC_NAME in error.what and str(port) in error.what
    assert error.fix is not None and "389" in error.fix
    assert leftovers == []
    assert health == "OK"  # a refused request is not a failing lease


# --------------------------------------------------------------------------- keys, restart


@needs_mit
def test_derived_keys_work_with_mit_kinit(lab: DomainLab, tmp_path: Path) -> None:
    provider = ActiveDirectoryProvider(DirectorySettings(dns=DnsConfig.parse(lab.dns_server)))
    account = GmsaAccount(GMSA, DOMAIN)
    password = provider.read_password(account, HostKeytab(lab.host_keytab))
    keys = derive_keys(password.current, account=account.name, realm=account.realm)
    keytab = tmp_path / "gmsa.keytab"
    keytab.write_bytes(
        encode_keytab([KeytabEntry(keys.principal, k) for k in (keys.aes256, keys.aes128)])
    )
    cache = tmp_path / "cc"
    result = subprocess.run(
        ["kinit", "-k", "-t", str(keytab), f"{GMSA}$@{REALM}"],
        env=mit_env(lab, cache),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert str(read_ccache(cache).principal) == f"{GMSA}$@{REALM}"


def test_restart_recovers_and_renews_the_lease(serve: Serve, tmp_path: Path) -> None:
    krb_dir = tmp_path / "krb-restart"
    with serve(krb_dir=krb_dir) as first:
        reply = first.client.add_lease([spec_for(GMSA)])
    cache = Path(reply.paths[0]) / "krb5cc"
    before = cache.read_bytes()
    with serve(krb_dir=krb_dir) as second:
        recovered = second.service.lease(reply.lease_id)
        report = second.service.run_due()
        status = second.client.status()
        health = second.client.health()
    assert recovered.lease_id == reply.lease_id
    assert Path(reply.paths[0]) in report.renewed
    assert report.failed == ()
    assert status["counters"]["password_reads"] == 1
    assert status["leases"][0]["tickets"][0]["last_error"] is None
    assert health == "OK"
    after = cache.read_bytes()
    assert after != before  # a new ticket and session key from the DC
    assert str(parse_ccache(after).principal) == f"{GMSA}$@{REALM}"


# --------------------------------------------------------------------------- kept connections


def provider_for(lab: DomainLab, **settings: float) -> ActiveDirectoryProvider:
    return ActiveDirectoryProvider(
        DirectorySettings(dns=DnsConfig.parse(lab.dns_server), **settings)  # type: ignore[arg-type]
    )


def test_reads_by_one_identity_share_a_connection(lab: DomainLab) -> None:
    provider = provider_for(lab)
    identity = HostKeytab(lab.host_keytab)
    first = provider.read_password(GmsaAccount(GMSA, DOMAIN), identity)
    again = provider.read_password(GmsaAccount(GMSA, DOMAIN), identity)
    provider.close()
    assert provider.connections_opened == 1
    assert first.current == again.current


def test_concurrent_first_reads_open_one_connection(lab: DomainLab) -> None:
    """Leases for several gMSAs starting at once on a fresh service share one attempt
    to connect, instead of each making (and all but one dropping) a connection."""
    provider = provider_for(lab)
    identity = HostKeytab(lab.host_keytab)
    start = threading.Barrier(6)

    def read(name: str) -> bytes:
        start.wait()
        return provider.read_password(GmsaAccount(name, DOMAIN), identity).current

    with ThreadPoolExecutor(6) as pool:
        passwords = list(pool.map(read, [GMSA, GMSA_DOMAIN_COMPUTERS] * 3))
    provider.close()
    assert provider.connections_opened == 1
    assert len(set(passwords)) == 2


def test_a_dead_kept_connection_is_replaced(lab: DomainLab) -> None:
    provider = provider_for(lab)
    identity = HostKeytab(lab.host_keytab)
    provider.read_password(GmsaAccount(GMSA, DOMAIN), identity)
    for session in provider._sessions.values():
        session.ldap.close()  # the DC dropped it (idle time-out, restart)
    password = provider.read_password(GmsaAccount(GMSA, DOMAIN), identity)
    provider.close()
    assert provider.connections_opened == 2
    assert password.current


def test_max_age_zero_connects_for_every_read(lab: DomainLab) -> None:
    provider = provider_for(lab, connection_max_age=0)
    identity = HostKeytab(lab.host_keytab)
    for _ in range(2):
        provider.read_password(GmsaAccount(GMSA, DOMAIN), identity)
    assert provider.connections_opened == 2
    assert provider._sessions == {}


def test_expired_connections_of_other_identities_are_closed(lab: DomainLab) -> None:
    provider = provider_for(lab, connection_max_age=0.5)
    provider.read_password(GmsaAccount(GMSA, DOMAIN), HostKeytab(lab.host_keytab))
    old = next(iter(provider._sessions))
    time.sleep(0.6)
    provider.read_password(
        GmsaAccount(GMSA, DOMAIN),
        HostKeytab(lab.host_keytab, f"{HOST_DIRECT}$@{REALM}"),
    )
    assert old not in provider._sessions and len(provider._sessions) == 1
    provider.close()
