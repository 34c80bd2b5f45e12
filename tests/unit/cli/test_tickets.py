"""``gmsa tickets``: the operator commands against a running service, and ``serve`` itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gmsa.cli.main import cli
from gmsa.tickets.client import TicketClient
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import TicketService
from tests.support.directory_double import DirectoryDouble
from tests.support.tickets import spec_for

REPO = Path(__file__).resolve().parents[3]


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "webapp01.json"
    path.write_text(spec_for("WebApp01"))
    return path


def test_lease_prints_the_lease_and_its_directories(
    server: TicketServer, spec_file: Path, krb_dir: Path
) -> None:
    code, out, _ = run("tickets", "lease", str(spec_file), "--socket", str(server.socket_path))
    assert code == 0
    lease_id = out.split()[1]
    assert f"lease {lease_id} created" in out
    assert str(krb_dir / lease_id / "WebApp01") in out


def test_lease_json_output(server: TicketServer, spec_file: Path) -> None:
    code, out, _ = run(
        "tickets", "lease", str(spec_file), "--socket", str(server.socket_path), "--json"
    )
    assert code == 0
    document = json.loads(out)
    assert len(document["lease_id"]) == 20
    assert document["paths"][0].endswith("/WebApp01")


def test_lease_reads_a_spec_from_stdin(server: TicketServer) -> None:
    code, out, _ = run(
        "tickets", "lease", "-", "--socket", str(server.socket_path), stdin=spec_for("WebApp02")
    )
    assert code == 0
    assert out.rstrip().endswith("/WebApp02")


def test_domainless_lease_takes_the_password_from_the_environment(
    server: TicketServer, spec_file: Path, service: TicketService
) -> None:
    code, out, _ = run(
        "tickets", "lease", str(spec_file), "--socket", str(server.socket_path),
        "--username", "svc-gmsa", "--domain", "example.com", "--json",
        env={"GMSA_DOMAINLESS_PASSWORD": "User-Passw0rd!"},
    )  # fmt: skip
    assert code == 0, out
    assert service.lease(json.loads(out)["lease_id"]).mode == "domainless"


@pytest.mark.parametrize(
    "user",
    [
        ("--user", "svc-gmsa@example.com"),
        ("--user", "svc-gmsa", "--domain", "example.com"),
        ("--username", "svc-gmsa", "--domain", "example.com"),  # deprecated alias
    ],
    ids=["user-at-domain", "user-and-domain", "username-alias"],
)
def test_domainless_user_is_named_by_user_or_its_deprecated_alias(
    server: TicketServer, spec_file: Path, service: TicketService, user: tuple[str, ...]
) -> None:
    code, out, _ = run(
        "tickets", "lease", str(spec_file), "--socket", str(server.socket_path), *user, "--json",
        env={"GMSA_DOMAINLESS_PASSWORD": "User-Passw0rd!"},
    )  # fmt: skip
    assert code == 0, out
    lease = service.lease(json.loads(out)["lease_id"])
    assert lease.domainless_user == ("svc-gmsa", "example.com")


@pytest.mark.parametrize(
    ("user", "message"),
    [
        (("--user", "svc-gmsa"), "needs a name and a domain"),
        (("--user", "svc-gmsa@example.com", "--domain", "other.com"), "--domain other.com"),
        (("--domain", "example.com"), "--domain needs --user"),
    ],
)
def test_domainless_user_needs_one_domain(
    server: TicketServer, spec_file: Path, user: tuple[str, ...], message: str
) -> None:
    code, _, err = run(
        "tickets", "lease", str(spec_file), "--socket", str(server.socket_path), *user,
        env={"GMSA_DOMAINLESS_PASSWORD": "User-Passw0rd!"},
    )  # fmt: skip
    assert code == 1
    assert message in err


@pytest.mark.parametrize("source", ["--password-file", "--password-env", "--password-stdin"])
def test_domainless_password_comes_from_the_same_sources_as_the_ad_commands(
    server: TicketServer, spec_file: Path, service: TicketService, tmp_path: Path, source: str
) -> None:
    secret = tmp_path / "pw"
    secret.write_text("User-Passw0rd!\n")
    given = {
        "--password-file": ("--password-file", str(secret)),
        "--password-env": ("--password-env", "SVC_PW"),
        "--password-stdin": ("--password-stdin",),
    }[source]
    code, out, err = run(
        "tickets", "lease", str(spec_file), "--socket", str(server.socket_path),
        "--user", "svc-gmsa@example.com", *given, "--json",
        env={"GMSA_DOMAINLESS_PASSWORD": "", "SVC_PW": "User-Passw0rd!"},
        stdin="User-Passw0rd!\n",
    )  # fmt: skip
    assert code == 0, err
    assert service.lease(json.loads(out)["lease_id"]).mode == "domainless"


def test_domainless_lease_without_a_password_is_refused(
    server: TicketServer, spec_file: Path
) -> None:
    code, _, err = run(
        "tickets", "lease", str(spec_file), "--socket", str(server.socket_path),
        "--username", "svc-gmsa", "--domain", "example.com",
        env={"GMSA_DOMAINLESS_PASSWORD": ""},
    )  # fmt: skip
    assert code == 1
    assert "no password" in err


def test_renew_reads_the_password_from_stdin(server: TicketServer, spec_file: Path) -> None:
    run(
        "tickets", "lease", str(spec_file), "--socket", str(server.socket_path),
        "--username", "svc-gmsa", "--domain", "example.com",
        env={"GMSA_DOMAINLESS_PASSWORD": "User-Passw0rd!"},
    )  # fmt: skip
    code, out, _ = run(
        "tickets", "renew", "--socket", str(server.socket_path), "--username", "svc-gmsa",
        "--domain", "example.com", "--password-stdin", stdin="User-Passw0rd!\n",
    )  # fmt: skip
    assert code == 0
    assert "renewed 1 ticket cache\n" in out


def test_delete_removes_the_lease(server: TicketServer, spec_file: Path, krb_dir: Path) -> None:
    _, out, _ = run(
        "tickets", "lease", str(spec_file), "--socket", str(server.socket_path), "--json"
    )
    lease_id = json.loads(out)["lease_id"]
    code, out, _ = run("tickets", "delete", lease_id, "--socket", str(server.socket_path))
    assert code == 0
    assert f"lease {lease_id} deleted" in out
    assert not (krb_dir / lease_id).exists()


def test_delete_of_a_bad_lease_id_exits_1_with_the_reason(server: TicketServer) -> None:
    code, _, err = run("tickets", "delete", "../etc", "--socket", str(server.socket_path))
    assert code == 1
    assert "not a lease id" in err
    assert "fix:" in err


def test_a_refused_lease_exits_with_the_services_diagnostics(
    server: TicketServer, spec_file: Path, double: DirectoryDouble
) -> None:
    double.down = True
    code, _, err = run("tickets", "lease", str(spec_file), "--socket", str(server.socket_path))
    assert code == 3
    assert "does not answer" in err
    assert "where: dc1.example.com:636" in err


def test_status_exits_0_when_healthy_and_lists_leases(
    server: TicketServer, spec_file: Path
) -> None:
    run("tickets", "lease", str(spec_file), "--socket", str(server.socket_path))
    code, out, _ = run("tickets", "status", "--socket", str(server.socket_path))
    assert code == 0
    assert "status: OK" in out
    assert "WebApp01$@EXAMPLE.COM: ends" in out


def test_status_exits_1_and_shows_the_last_error_when_renewal_fails(
    server: TicketServer, spec_file: Path, service: TicketService, double: DirectoryDouble
) -> None:
    run("tickets", "lease", str(spec_file), "--socket", str(server.socket_path))
    double.down = True
    service.run_due(force=True)
    code, out, _ = run("tickets", "status", "--socket", str(server.socket_path))
    assert code == 1
    assert "FAILING" in out
    assert "last error (1 failure): the domain controller does not answer" in out


def test_status_json_has_every_ticket_field(server: TicketServer, spec_file: Path) -> None:
    run("tickets", "lease", str(spec_file), "--socket", str(server.socket_path))
    code, out, _ = run("tickets", "status", "--socket", str(server.socket_path), "--json")
    assert code == 0
    ticket = json.loads(out)["leases"][0]["tickets"][0]
    assert set(ticket) >= {"gmsa", "end_time", "last_renewal", "next_renewal", "last_error", "path"}


def test_commands_without_a_service_exit_3(tmp_path: Path) -> None:
    code, _, err = run("tickets", "status", "--socket", str(tmp_path / "none.sock"))
    assert code == 3
    assert "cannot reach the ticket service" in err


def test_a_malformed_owner_is_refused(server: TicketServer, spec_file: Path) -> None:
    code, _, err = run(
        "tickets", "lease", str(spec_file), "--socket", str(server.socket_path), "--owner", "bob"
    )
    assert code == 1
    assert "UID:GID" in err


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_lease_with_an_owner_gives_the_cache_to_it(server: TicketServer, spec_file: Path) -> None:
    code, out, _ = run(
        "tickets",
        "lease",
        str(spec_file),
        "--socket",
        str(server.socket_path),
        "--owner",
        "1500:1600",
        "--json",
    )
    assert code == 0
    info = (Path(json.loads(out)["paths"][0]) / "krb5cc").stat()
    assert (info.st_uid, info.st_gid) == (1500, 1600)


def test_serve_with_an_unknown_provider_exits_1(tmp_path: Path) -> None:
    code, _, err = run(
        "tickets", "serve", "--socket", str(tmp_path / "s.sock"),
        "--krb-dir", str(tmp_path / "krb"), "--provider", "nope",
    )  # fmt: skip
    assert code == 1
    assert "no credential provider is named 'nope'" in err


def test_serve_with_an_invalid_config_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"lease_ttl_seconds": "soon"}')
    code, _, err = run(
        "tickets", "serve", "--socket", str(tmp_path / "s.sock"),
        "--krb-dir", str(tmp_path / "krb"), "--config", str(config),
    )  # fmt: skip
    assert code == 1
    assert "$.lease_ttl_seconds" in err


# --------------------------------------------------------------------------- serve as a process

SERVE = """
import sys
sys.path.insert(0, {repo!r})
from tests.support.directory_double import register_double
register_double()
from gmsa.cli.main import main
sys.argv = ["gmsa", "tickets", "serve", "--socket", {sock!r}, "--krb-dir", {krb!r},
            "--provider", "double"]
main()
"""


def start_serve(sock: Path, krb: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE.format(repo=str(REPO), sock=str(sock), krb=str(krb))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {process.stderr.read() if process.stderr else ''}")
        if sock.exists():
            with TicketClient(sock, timeout=5) as client:
                try:
                    client.health()
                    return process
                except Exception:
                    pass
        time.sleep(0.05)
    process.kill()
    raise AssertionError("serve did not start")


def stop_serve(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    return process.returncode, err


def test_serve_runs_until_sigterm_and_recovers_leases_after_a_restart(
    tmp_path: Path, spec_file: Path
) -> None:
    sock_dir = tmp_path / "s"
    sock_dir.mkdir(mode=0o750)
    sock, krb = sock_dir / "cf.sock", tmp_path / "krb"
    process = start_serve(sock, krb)
    try:
        code, out, _ = run("tickets", "lease", str(spec_file), "--socket", str(sock), "--json")
        assert code == 0
        lease_id = json.loads(out)["lease_id"]
        first = (krb / lease_id / "WebApp01" / "krb5cc").read_bytes()
    finally:
        returncode, err = stop_serve(process)
    assert returncode == 0, err
    assert "stopped" in err
    assert not sock.exists()
    assert (krb / lease_id / "WebApp01" / "krb5cc").exists()

    process = start_serve(sock, krb)
    try:
        deadline = time.monotonic() + 10
        while (krb / lease_id / "WebApp01" / "krb5cc").read_bytes() == first:
            assert time.monotonic() < deadline, "the recovered lease was not renewed"
            time.sleep(0.05)
        code, out, _ = run("tickets", "status", "--socket", str(sock), "--json")
        assert code == 0
        assert [lease["lease_id"] for lease in json.loads(out)["leases"]] == [lease_id]
    finally:
        stop_serve(process)
