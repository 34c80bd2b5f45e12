"""The gRPC service on its unix socket: the agent's wire format, errors, concurrency, safety."""

from __future__ import annotations

import datetime
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest

from gmsa.tickets.client import TicketClient
from gmsa.tickets.errors import (
    LeaseRequestError,
    RemoteError,
    ServiceUnreachableError,
    SocketError,
)
from gmsa.tickets.server import TicketServer, prepare_socket_path
from gmsa.tickets.service import HEALTHY, TicketService
from tests.support.agent_rpc import generate_stubs
from tests.support.directory_double import DirectoryDouble
from tests.support.tickets import AwsDouble, domainless_spec_for, spec_for

HERE = Path(__file__).resolve().parent
METHOD = "/credentialsfetcher.CredentialsFetcherService/"


# --------------------------------------------------------------------------- the wire, by hand


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, text: str) -> bytes:
    data = text.encode()
    return varint(number << 3 | 2) + varint(len(data)) + data


def parse(message: bytes) -> list[tuple[int, str]]:
    """(field number, string) pairs of a message whose fields are all strings."""
    fields, pos = [], 0
    while pos < len(message):
        key, shift = 0, 0
        while True:
            byte = message[pos]
            pos += 1
            key |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        assert key & 7 == 2, "every field of this API is a length-delimited string"
        length, shift = 0, 0
        while True:
            byte = message[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        fields.append((key >> 3, message[pos : pos + length].decode()))
        pos += length
    return fields


def raw_call(socket_path: Path, method: str, request: bytes) -> bytes:
    with grpc.insecure_channel(f"unix:{socket_path}") as channel:
        call = channel.unary_unary(METHOD + method)
        response: bytes = call(request, timeout=20)
        return response


def test_add_kerberos_lease_on_the_wire(server: TicketServer, krb_dir: Path) -> None:
    request = field(1, spec_for("WebApp01")) + field(1, spec_for("WebApp02"))
    fields = parse(raw_call(server.socket_path, "AddKerberosLease", request))
    assert [number for number, _ in fields] == [1, 2, 2]
    lease_id = fields[0][1]
    assert len(lease_id) == 20 and int(lease_id, 16) >= 0
    assert [text for _, text in fields[1:]] == [
        str(krb_dir / lease_id / "WebApp01"),
        str(krb_dir / lease_id / "WebApp02"),
    ]


def test_arn_lease_and_renewal_on_the_wire(server: TicketServer, krb_dir: Path) -> None:
    aws = AwsDouble()
    server.service.arn_reader = aws
    secret = aws.put_secret("user", "svc-gmsa", "User-Passw0rd!")
    web = aws.put_spec("web.json", domainless_spec_for("WebApp01", secret))
    worker = aws.put_spec("worker.json", domainless_spec_for("WebApp02", secret))
    keys = field(2, "AKIAFIRST") + field(3, "secret") + field(4, "token") + field(5, "us-east-1")
    request = field(1, f"{web}#task-01/web") + field(1, f"{worker}#task-01/worker") + keys
    fields = parse(raw_call(server.socket_path, "AddKerberosArnLease", request))
    assert [number for number, _ in fields] == [1, 2, 2]
    assert fields[0] == (1, "task-01")
    assert [parse(text.encode()) for _, text in fields[1:]] == [
        [(1, web), (2, str(krb_dir / "task-01" / "web"))],
        [(1, worker), (2, str(krb_dir / "task-01" / "worker"))],
    ]
    renew = field(1, "AKIAFIRST") + field(2, "secret") + field(3, "token") + field(4, "us-east-1")
    assert parse(raw_call(server.socket_path, "RenewKerberosArnLease", renew)) == [
        (1, "successful")
    ]
    aws.secrets[secret]["password"] = "Wrong-Passw0rd!"
    assert parse(raw_call(server.socket_path, "RenewKerberosArnLease", renew)) == [(1, "failed")]
    assert (krb_dir / "task-01" / "web" / "krb5cc").exists()


def test_a_failed_arn_renew_sends_its_reason_as_metadata(server: TicketServer) -> None:
    aws = AwsDouble()
    server.service.arn_reader = aws
    secret = aws.put_secret("user", "svc-gmsa", "User-Passw0rd!")
    web = aws.put_spec("web.json", domainless_spec_for("WebApp01", secret))
    keys = field(2, "AKIAFIRST") + field(3, "secret") + field(4, "token") + field(5, "us-east-1")
    raw_call(server.socket_path, "AddKerberosArnLease", field(1, f"{web}#t/web") + keys)
    aws.secrets[secret]["password"] = "Leaky-Wrong-1"
    renew = field(1, "AKIAFIRST") + field(2, "secret") + field(3, "token") + field(4, "us-east-1")
    with grpc.insecure_channel(f"unix:{server.socket_path}") as channel:
        call = channel.unary_unary(METHOD + "RenewKerberosArnLease")
        response, outcome = call.with_call(renew, timeout=20)
    assert parse(response) == [(1, "failed")]
    metadata = dict(outcome.trailing_metadata())
    error = json.loads(metadata["gmsa-error"])
    assert error["code"] == "domainless-user-refused"
    assert "Leaky-Wrong-1" not in metadata["gmsa-error"]


def test_health_check_on_the_wire(server: TicketServer) -> None:
    assert parse(raw_call(server.socket_path, "HealthCheck", field(1, "credentials-fetcher"))) == [
        (1, HEALTHY)
    ]


def test_delete_kerberos_lease_on_the_wire(server: TicketServer, krb_dir: Path) -> None:
    created = parse(
        raw_call(server.socket_path, "AddKerberosLease", field(1, spec_for("WebApp01")))
    )
    lease_id = created[0][1]
    deleted = parse(raw_call(server.socket_path, "DeleteKerberosLease", field(1, lease_id)))
    assert deleted == [(1, lease_id), (2, str(krb_dir / lease_id / "WebApp01"))]


def test_domainless_lease_and_renewal_on_the_wire(server: TicketServer, krb_dir: Path) -> None:
    request = (
        field(1, spec_for("WebApp01"))
        + field(2, "svc-gmsa")
        + field(3, "User-Passw0rd!")
        + field(4, "example.com")
    )
    created = parse(raw_call(server.socket_path, "AddNonDomainJoinedKerberosLease", request))
    lease_id = created[0][1]
    renew = field(1, "svc-gmsa") + field(2, "User-Passw0rd!") + field(3, "example.com")
    renewed = parse(raw_call(server.socket_path, "RenewNonDomainJoinedKerberosLease", renew))
    assert renewed == [(1, str(krb_dir / lease_id / "WebApp01"))]


def test_a_renew_naming_a_lease_in_metadata_moves_it_to_the_requests_user(
    client: TicketClient, double: DirectoryDouble, service: TicketService
) -> None:
    """gmsa's host agent names its task's lease (gmsa-lease-id); the ECS agent never does."""
    lease = client.add_domainless_lease(
        [spec_for("WebApp01")], username="svc-gmsa", password="User-Passw0rd!", domain="example.com"
    )
    double.add_user("svc-blue", "Blue-Passw0rd!", may_read=("WebApp01",))
    blue = {"username": "svc-blue", "password": "Blue-Passw0rd!", "domain": "example.com"}
    assert client.renew_domainless(**blue) == ()
    assert client.renew_domainless(**blue, lease_ids=[lease.lease_id]) == lease.paths
    assert service.lease(lease.lease_id).domainless_user == ("svc-blue", "example.com")


# --------------------------------------------------------------------------- the agent's client


@pytest.fixture(scope="module")
def agent_stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_stubs(tmp_path_factory.mktemp("agent"))


def test_a_client_generated_from_the_proto_works_unchanged(
    server: TicketServer, agent_stubs: Path, krb_dir: Path
) -> None:
    aws = AwsDouble()
    server.service.arn_reader = aws
    secret = aws.put_secret("user", "svc-gmsa", "User-Passw0rd!")
    arn = aws.put_spec("web.json", domainless_spec_for("WebApp01", secret))
    aws.valid.add("AKIASECOND")
    scenario = {
        "specs": [spec_for("WebApp01"), spec_for("WebApp02")],
        "username": "svc-gmsa",
        "password": "User-Passw0rd!",
        "domain": "example.com",
        "arn_entries": [f"{arn}#task-01/web"],
        "aws_keys": {
            "access_key_id": "AKIAFIRST",
            "secret_access_key": "secret",
            "session_token": "token",
            "region": "us-east-1",
        },
        "renew_keys": {
            "access_key_id": "AKIASECOND",
            "secret_access_key": "secret2",
            "session_token": "token2",
            "region": "us-east-1",
        },
    }
    result = subprocess.run(
        [
            sys.executable,
            str(HERE / "agent_client.py"),
            str(agent_stubs),
            str(server.socket_path),
            json.dumps(scenario),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    lease = out["lease_id"]
    assert out["health"] == "OK"
    assert out["paths"] == [str(krb_dir / lease / "WebApp01"), str(krb_dir / lease / "WebApp02")]
    for name in ("webapp01", "webapp02"):  # the agent matches paths to accounts this way
        assert any(name in p.lower() for p in out["paths"])
    assert out["domainless_paths"] == [str(krb_dir / out["domainless_lease_id"] / "WebApp01")]
    assert out["renewed"] == out["domainless_paths"]
    assert out["deleted_lease_id"] == lease
    assert out["deleted"] == out["paths"]
    assert not (krb_dir / lease).exists()
    assert out["empty_error"][0] == "INVALID_ARGUMENT"
    assert "credspec_contents is empty" in out["empty_error"][1]
    assert out["arn_lease_id"] == "task-01"
    assert out["arn_tickets"] == [[arn, str(krb_dir / "task-01" / "web")]]
    assert out["arn_renew_status"] == "successful"
    assert out["arn_missing_token_error"][0] == "INVALID_ARGUMENT"
    assert "session_token must not be empty" in out["arn_missing_token_error"][1]


# --------------------------------------------------------------------------- errors


def status_of(exc: RemoteError) -> str:
    return exc.grpc_status


def test_an_invalid_spec_is_invalid_argument_naming_the_field(client: TicketClient) -> None:
    document = json.loads(spec_for("WebApp01"))
    document["DomainJoinConfig"]["Guid"] = "not-a-guid"
    with pytest.raises(RemoteError) as caught:
        client.add_lease([json.dumps(document)])
    assert status_of(caught.value) == "INVALID_ARGUMENT"
    assert "credspec_contents[0]" in str(caught.value.where)
    assert "Guid" in str(caught.value.where)
    assert int(caught.value.exit_code) == 1


def test_a_missing_gmsa_is_not_found(client: TicketClient, krb_dir: Path) -> None:
    with pytest.raises(RemoteError) as caught:
        client.add_lease([spec_for("Missing01")])
    assert status_of(caught.value) == "NOT_FOUND"
    assert "Missing01" in caught.value.what
    assert caught.value.code == "gmsa-not-found"
    assert list(krb_dir.iterdir()) == []


def test_a_denied_host_is_permission_denied(client: TicketClient, double: DirectoryDouble) -> None:
    double.add_gmsa("Private01", readers={"nobody"})
    with pytest.raises(RemoteError) as caught:
        client.add_lease([spec_for("Private01")])
    assert status_of(caught.value) == "PERMISSION_DENIED"
    assert "msDS-GroupMSAMembership" in str(caught.value.where)


def test_an_unreachable_dc_is_unavailable(client: TicketClient, double: DirectoryDouble) -> None:
    double.down = True
    with pytest.raises(RemoteError) as caught:
        client.add_lease([spec_for("WebApp01")])
    assert status_of(caught.value) == "UNAVAILABLE"
    assert "dc1.example.com" in str(caught.value.where)
    assert int(caught.value.exit_code) == 3


def test_the_status_message_alone_says_what_where_and_how_to_fix(
    server: TicketServer, double: DirectoryDouble
) -> None:
    double.down = True
    with pytest.raises(grpc.RpcError) as caught:
        raw_call(server.socket_path, "AddKerberosLease", field(1, spec_for("WebApp01")))
    details = caught.value.details()  # type: ignore[attr-defined]
    assert "does not answer" in details
    assert "where: dc1.example.com:636" in details
    assert "fix: check that the DC is up" in details


def test_a_wrong_domain_user_password_is_not_echoed(client: TicketClient) -> None:
    with pytest.raises(RemoteError) as caught:
        client.add_domainless_lease(
            [spec_for("WebApp01")],
            username="svc-gmsa",
            password="Leaky-Secret-1",
            domain="example.com",
        )
    # UNAUTHENTICATED, which the ECS agent does not retry (the same secret fails again).
    assert status_of(caught.value) == "UNAUTHENTICATED"
    assert caught.value.code == "domainless-user-refused"
    assert "Leaky-Secret-1" not in caught.value.diagnostics()


def test_deleting_an_unknown_lease_is_not_found(client: TicketClient) -> None:
    with pytest.raises(RemoteError) as caught:
        client.delete_lease("0123456789abcdef0123")
    assert status_of(caught.value) == "NOT_FOUND"


def test_a_path_as_lease_id_is_invalid_argument(client: TicketClient, krb_dir: Path) -> None:
    with pytest.raises(RemoteError) as caught:
        client.delete_lease("../../etc")
    assert status_of(caught.value) == "INVALID_ARGUMENT"
    assert krb_dir.exists()


def test_a_provider_bug_is_answered_without_its_details(
    client: TicketClient, double: DirectoryDouble
) -> None:
    double.crash = True
    with pytest.raises(RemoteError) as caught:
        client.add_lease([spec_for("WebApp01")])
    assert "secret-bearing" not in caught.value.diagnostics()


def test_health_check_reports_failing_renewals(
    client: TicketClient, service: TicketService, double: DirectoryDouble
) -> None:
    client.add_lease([spec_for("WebApp01")])
    double.down = True
    service.run_due(force=True)
    health = client.health()
    assert health.startswith("FAILING")
    assert "does not answer" in health


def test_status_lists_leases_with_their_tickets(client: TicketClient) -> None:
    reply = client.add_lease([spec_for("WebApp01")])
    report = client.status()
    assert report["status"] == "OK"
    [lease] = report["leases"]
    assert lease["lease_id"] == reply.lease_id
    assert lease["tickets"][0]["gmsa"] == "WebApp01$@EXAMPLE.COM"
    assert lease["tickets"][0]["end_time"].endswith("Z")


def test_status_of_some_leases_lists_only_those_the_service_holds(
    client: TicketClient, server: TicketServer
) -> None:
    first = client.add_lease([spec_for("WebApp01")])
    client.add_lease([spec_for("WebApp02")])
    report = client.status(lease_ids=[first.lease_id, "0123456789abcdef0123"])
    assert [lease["lease_id"] for lease in report["leases"]] == [first.lease_id]
    assert len(client.status()["leases"]) == 2
    call = grpc.insecure_channel(f"unix:{server.socket_path}").unary_unary(
        "/gmsa.tickets.Admin/Status"
    )
    with pytest.raises(grpc.RpcError) as caught:
        call(json.dumps({"lease_ids": "all"}).encode(), timeout=10)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]


def test_set_owner_with_a_bad_request_is_invalid_argument(client: TicketClient) -> None:
    reply = client.add_lease([spec_for("WebApp01")])
    with pytest.raises(RemoteError) as caught:
        client.set_owner(reply.lease_id, -1, 0)
    assert status_of(caught.value) == "INVALID_ARGUMENT"


# --------------------------------------------------------------------------- concurrency


def test_rpcs_are_served_concurrently(client: TicketClient, double: DirectoryDouble) -> None:
    double.latency = 0.5
    started = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        replies = list(
            pool.map(
                lambda n: client.add_lease([spec_for(n)]), ["WebApp01", "WebApp02", "WebApp03"]
            )
        )
    assert len({r.lease_id for r in replies}) == 3
    assert time.monotonic() - started < 1.2


# --------------------------------------------------------------------------- the socket


def test_the_socket_is_not_world_accessible(server: TicketServer) -> None:
    info = server.socket_path.stat()
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o660


def test_stopping_removes_the_socket(service: TicketService, socket_path: Path) -> None:
    server = TicketServer(service, socket_path)
    server.start()
    server.stop(grace=0)
    assert not socket_path.exists()


def test_refuses_a_path_that_is_not_a_socket(socket_path: Path) -> None:
    socket_path.write_text("precious")
    with pytest.raises(SocketError, match="not a socket"):
        prepare_socket_path(socket_path)
    assert socket_path.read_text() == "precious"


def test_refuses_a_socket_another_service_listens_on(server: TicketServer) -> None:
    with pytest.raises(SocketError, match="already listening"):
        prepare_socket_path(server.socket_path)


def test_replaces_a_stale_socket(service: TicketService, socket_path: Path) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(socket_path))
    stale.close()
    server = TicketServer(service, socket_path)
    server.start()
    try:
        with TicketClient(socket_path) as client:
            assert client.health() == HEALTHY
    finally:
        server.stop(grace=0)


def test_refuses_a_world_writable_directory(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(SocketError, match="writable by every user"):
        prepare_socket_path(shared / "cf.sock")


def test_refuses_a_path_too_long_for_a_unix_socket(tmp_path: Path) -> None:
    with pytest.raises(SocketError, match="longer than"):
        prepare_socket_path(tmp_path / ("x" * 120) / "cf.sock")


def test_creates_a_missing_socket_directory_private(tmp_path: Path) -> None:
    path = prepare_socket_path(tmp_path / "new" / "cf.sock")
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o007 == 0


def test_a_client_without_a_service_says_how_to_start_one(socket_path: Path) -> None:
    with (
        TicketClient(socket_path, timeout=2) as client,
        pytest.raises(ServiceUnreachableError) as caught,
    ):
        client.health()
    assert "gmsa tickets serve" in str(caught.value.fix)
    assert int(caught.value.exit_code) == 3


def test_the_server_process_umask_is_restored(service: TicketService, socket_path: Path) -> None:
    before = os.umask(0o022)
    os.umask(before)
    server = TicketServer(service, socket_path)
    server.start()
    after = os.umask(before)
    os.umask(after)
    server.stop(grace=0)
    assert after == before


# --------------------------------------------------------------------------- event lines


def events(caplog: pytest.LogCaptureFixture, method: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "method", None) == method]


def test_each_rpc_line_names_its_lease_gmsas_and_dc(
    client: TicketClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gmsa.tickets")
    lease = client.add_lease([spec_for("WebApp01"), spec_for("WebApp02")])
    (line,) = events(caplog, "AddKerberosLease")
    assert line.__dict__["lease_id"] == lease.lease_id
    assert line.__dict__["gmsa"] == ["WebApp01", "WebApp02"]
    assert line.__dict__["dc"] == ["dc1.example.com"]
    assert line.__dict__["outcome"] == "success"
    assert line.getMessage().endswith(
        f"(lease {lease.lease_id}, gMSA WebApp01, WebApp02, DC dc1.example.com)"
    )


def test_a_failed_rpc_line_names_the_gmsa_and_the_dc_that_refused(
    client: TicketClient, double: DirectoryDouble, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gmsa.tickets")
    double.add_gmsa("Private01", readers={"nobody"})
    with pytest.raises(RemoteError):
        client.add_lease([spec_for("Private01")])
    (line,) = events(caplog, "AddKerberosLease")
    assert (line.__dict__["outcome"], line.__dict__["code"]) == ("failure", "PERMISSION_DENIED")
    assert line.__dict__["gmsa"] == ["Private01"]
    assert line.__dict__["dc"] == ["dc1.example.com"]
    assert "lease_id" not in line.__dict__


def test_a_renewal_rpc_names_the_dc_its_worker_threads_reached(
    client: TicketClient, caplog: pytest.LogCaptureFixture
) -> None:
    """RenewNonDomainJoinedKerberosLease acquires in the renewal pool's threads; what they
    reach still lands on the call's line."""
    caplog.set_level(logging.INFO, logger="gmsa.tickets")
    user = {"username": "svc-gmsa", "password": "User-Passw0rd!", "domain": "example.com"}
    client.add_domainless_lease([spec_for("WebApp01")], **user)
    client.renew_domainless(**user)
    (line,) = events(caplog, "RenewNonDomainJoinedKerberosLease")
    assert line.__dict__["gmsa"] == ["WebApp01"]
    assert line.__dict__["dc"] == ["dc1.example.com"]


def test_a_lease_served_from_a_kept_ticket_names_the_dc_that_issued_it(
    service: TicketService,
    socket_path: Path,
    double: DirectoryDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gmsa.tickets")
    service.acquirer.reuse_for = datetime.timedelta(minutes=1)
    srv = TicketServer(service, socket_path, workers=2)
    srv.start()
    try:
        with TicketClient(srv.socket_path, timeout=20) as c:
            c.add_lease([spec_for("WebApp01")])
            reads = double.password_reads
            c.add_lease([spec_for("WebApp01")])
    finally:
        srv.stop(grace=0)
    assert double.password_reads == reads  # the second lease reached no DC
    second = events(caplog, "AddKerberosLease")[1]
    assert second.__dict__["dc"] == ["dc1.example.com"]


# --------------------------------------------------------------------------- a chosen lease id


def test_a_lease_id_chosen_by_the_caller_is_the_lease_id(
    client: TicketClient, service: TicketService, krb_dir: Path
) -> None:
    """gmsa's host agent records the id before asking, so it can find the lease even if
    the answer never arrives."""
    reply = client.add_lease([spec_for("WebApp01")], lease_id="00000000000000000abc")
    assert reply.lease_id == "00000000000000000abc"
    assert reply.paths == (str(krb_dir / "00000000000000000abc" / "WebApp01"),)
    assert service.lease("00000000000000000abc").tickets[0].account.name == "WebApp01"
    user = {"username": "svc-gmsa", "password": "User-Passw0rd!", "domain": "example.com"}
    domainless = client.add_domainless_lease(
        [spec_for("WebApp02")], lease_id="00000000000000000def", **user
    )
    assert domainless.lease_id == "00000000000000000def"


def test_a_chosen_lease_id_in_use_is_refused_and_the_lease_kept(
    client: TicketClient, service: TicketService
) -> None:
    first = client.add_lease([spec_for("WebApp01")]).lease_id
    with pytest.raises(RemoteError) as caught:
        client.add_lease([spec_for("WebApp02")], lease_id=first)
    assert status_of(caught.value) == "ALREADY_EXISTS"
    assert [t.account.name for t in service.lease(first).tickets] == ["WebApp01"]


@pytest.mark.parametrize("chosen", ["../../etc", "ABCDEF0123456789ABCD", "short", ""])
def test_a_chosen_lease_id_of_another_form_is_invalid_argument(
    client: TicketClient, service: TicketService, krb_dir: Path, chosen: str
) -> None:
    with pytest.raises(RemoteError) as caught:
        client.add_lease([spec_for("WebApp01")], lease_id=chosen)
    assert status_of(caught.value) == "INVALID_ARGUMENT"
    assert service.snapshot() == ((), 0)


# ------------------------------------------------------------ text the wire cannot carry


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.delete_lease("0123\udcff"), "lease_id"),
        (lambda c: c.add_lease(["{\udc80}"]), "credspec_contents[0]"),
        (
            lambda c: c.add_domainless_lease(
                [spec_for("WebApp01")], username="svc\udcff", password="p", domain="example.com"
            ),
            "username",
        ),
        (
            lambda c: c.renew_domainless(
                username="svc-gmsa", password="secret\udcff", domain="example.com"
            ),
            "password",
        ),
    ],
)
def test_text_that_is_not_utf8_is_refused_before_anything_is_sent(
    client: TicketClient, service: TicketService, call: Any, field: str
) -> None:
    """An argument or environment variable with bytes that are not UTF-8 reaches Python as
    lone surrogates; before, the message encoder raised UnicodeEncodeError (a traceback)."""
    with pytest.raises(LeaseRequestError) as caught:
        call(client)
    assert caught.value.where == field
    assert caught.value.exit_code == 1
    assert "not UTF-8" in caught.value.what
    assert "secret" not in caught.value.diagnostics()
    assert service.snapshot() == ((), 0)
