"""``gmsa tickets serve`` as a real process with the ``active-directory`` provider against
the test DC: killed without a chance to clean up (SIGKILL) and started again on the same
krb directory and socket path, its leases are recovered and renewed from the DC.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gmsa.ad.connection import Protection
from gmsa.ad.discovery import DnsConfig
from gmsa.kerberos.ccache import parse_ccache, read_ccache
from gmsa.kerberos.keys import derive_keys
from gmsa.tickets.activedirectory import ActiveDirectoryProvider, DirectorySettings
from gmsa.tickets.client import TicketClient
from gmsa.tickets.errors import RemoteError
from gmsa.tickets.interface import CredentialProviderError, GmsaAccount, HostKeytab
from tests.support.moto import AwsLab
from tests.support.samba import (
    DC_NAME,
    DOMAIN,
    GMSA,
    GMSA_NO_READERS,
    HOST_NESTED,
    PASSWORD,
    REALM,
    DomainLab,
)
from tests.support.tickets import serve_env, spec_for, start_serve

pytestmark = pytest.mark.xdist_group("samba")

REPO = Path(__file__).resolve().parents[3]


def self_signed_ca() -> bytes:
    """A CA certificate (PEM) that signed nothing the DC presents."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Another CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Every service process a test starts is killed at the end, whatever happens."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def status_json(sock: Path, env: dict[str, str]) -> tuple[int, dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "gmsa", "tickets", "status", "--socket", str(sock), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report: dict[str, object] = json.loads(result.stdout)
    return result.returncode, report


def wait_for_new_cache(cache: Path, before: bytes, timeout: float = 30.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        current = cache.read_bytes() if cache.exists() else before
        if current != before:
            return current
        assert time.monotonic() < deadline, "the recovered lease was not renewed"
        time.sleep(0.1)


def test_sigkilled_service_recovers_and_renews_its_lease_from_the_dc(
    lab: DomainLab, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    sock_dir = tmp_path / "run"
    sock_dir.mkdir(mode=0o750)
    sock, krb, log = sock_dir / "credentials_fetcher.sock", tmp_path / "krb", tmp_path / "log"
    config = tmp_path / "tickets.json"
    config.write_text(json.dumps({"keytab": str(lab.host_keytab), "ticket_reuse_seconds": 0}))
    env = serve_env(lab.dns_server)

    processes.append(start_serve(sock, krb, config, env, log))
    with TicketClient(sock, timeout=60) as client:
        reply = client.add_lease([spec_for(GMSA)])
    cache = Path(reply.paths[0]) / "krb5cc"
    before = cache.read_bytes()
    assert str(parse_ccache(before).principal) == f"{GMSA}$@{REALM}"

    processes[0].send_signal(signal.SIGKILL)
    processes[0].wait(10)
    assert sock.exists()  # no clean shutdown: the dead service's socket is left behind

    processes.append(start_serve(sock, krb, config, env, log))
    after = wait_for_new_cache(cache, before)
    renewed = parse_ccache(after)
    assert str(renewed.principal) == f"{GMSA}$@{REALM}"
    assert renewed.tickets[0].key != parse_ccache(before).tickets[0].key
    code, report = status_json(sock, env)
    assert code == 0, report
    leases = report["leases"]
    assert isinstance(leases, list) and [item["lease_id"] for item in leases] == [reply.lease_id]
    assert [t["last_error"] for t in leases[0]["tickets"]] == [None]
    with TicketClient(sock, timeout=60) as client:
        assert client.health() == "OK"
        deleted = client.delete_lease(reply.lease_id)
    assert deleted.lease_id == reply.lease_id
    assert not (krb / reply.lease_id).exists()


def test_each_call_logs_one_json_line_naming_lease_gmsa_and_dc(
    lab: DomainLab, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    """The DC is the one found through the domain's DNS (SRV records), as the service
    reached it; a refused call names the DC that refused and the gMSA asked for."""
    sock_dir = tmp_path / "run"
    sock_dir.mkdir(mode=0o750)
    sock, krb, log = sock_dir / "cf.sock", tmp_path / "krb", tmp_path / "log"
    config = tmp_path / "tickets.json"
    config.write_text(json.dumps({"keytab": str(lab.host_keytab)}))
    env = serve_env(lab.dns_server)

    processes.append(start_serve(sock, krb, config, env, log, "--log-format", "json"))
    with TicketClient(sock, timeout=60) as client:
        first = client.add_lease([spec_for(GMSA)])
        second = client.add_lease([spec_for(GMSA)])  # the ticket kept from the first
        with pytest.raises(RemoteError):
            client.add_lease([spec_for(GMSA_NO_READERS)])
    processes[0].send_signal(signal.SIGTERM)
    processes[0].wait(30)
    events = [
        json.loads(line)
        for line in log.read_text().splitlines()
        if line.startswith("{") and '"method"' in line
    ]
    added = [e for e in events if e["method"] == "AddKerberosLease"]
    assert [e["outcome"] for e in added] == ["success", "success", "failure"]
    for event, lease in zip(added, (first, second), strict=False):
        assert event["lease_id"] == lease.lease_id
        assert event["gmsa"] == [GMSA]
        assert event["dc"] == [DC_NAME]
        assert isinstance(event["duration_ms"], float)
    refused = added[2]
    assert (refused["code"], refused["gmsa"], refused["dc"]) == (
        "PERMISSION_DENIED",
        [GMSA_NO_READERS],
        [DC_NAME],
    )
    assert "lease_id" not in refused


def test_a_host_outside_the_domain_reads_passwords_as_the_user_its_secret_names(
    lab: DomainLab, aws: AwsLab, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    """No keytab anywhere: CREDENTIALS_FETCHER_SECRET_NAME_FOR_DOMAINLESS_GMSA names the
    secret whose user (HOST02$, allowed on WebApp01 through nested groups) reads the
    passwords for the agent's AddKerberosLease; the secret is read at start with the
    host's AWS credentials (the environment, here the moto server)."""
    aws.put_secret(
        "gmsa/host-user",
        {"username": f"{HOST_NESTED}$", "password": PASSWORD, "domainName": DOMAIN},
    )
    sock_dir = tmp_path / "run"
    sock_dir.mkdir(mode=0o750)
    sock, krb, log = sock_dir / "cf.sock", tmp_path / "krb", tmp_path / "log"
    config = tmp_path / "tickets.json"
    config.write_text(json.dumps({"keytab": str(tmp_path / "no.keytab")}))
    env = serve_env(
        lab.dns_server,
        CREDENTIALS_FETCHER_SECRET_NAME_FOR_DOMAINLESS_GMSA="gmsa/host-user",
        AWS_ACCESS_KEY_ID=aws.access_key,
        AWS_SECRET_ACCESS_KEY=aws.secret_key,
        AWS_DEFAULT_REGION=aws.region,
        AWS_ENDPOINT_URL=aws.endpoint,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    env.pop("AWS_PROFILE", None)
    processes.append(start_serve(sock, krb, config, env, log))
    with TicketClient(sock, timeout=60) as client:
        reply = client.add_lease([spec_for(GMSA)])
    cache = read_ccache(Path(reply.paths[0]) / "krb5cc")
    assert str(cache.principal) == f"{GMSA}$@{REALM}"
    assert PASSWORD not in log.read_text()


def test_lease_with_the_password_read_over_ldaps(
    lab: DomainLab, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    sock_dir = tmp_path / "run"
    sock_dir.mkdir(mode=0o750)
    sock, krb, log = sock_dir / "cf.sock", tmp_path / "krb", tmp_path / "log"
    config = tmp_path / "tickets.json"
    config.write_text(json.dumps({"keytab": str(lab.host_keytab), "ticket_reuse_seconds": 0}))
    env = serve_env(
        lab.dns_server, GMSA_LDAP_PROTECTION="ldaps", GMSA_LDAP_CA_FILE=str(lab.ca_file)
    )

    processes.append(start_serve(sock, krb, config, env, log))
    with TicketClient(sock, timeout=60) as client:
        reply = client.add_lease([spec_for(GMSA)])
        health = client.health()
    cache = read_ccache(Path(reply.paths[0]) / "krb5cc")
    assert str(cache.principal) == f"{GMSA}$@{REALM}"
    assert cache.tgt(REALM) is not None
    assert health == "OK"


def test_provider_reads_the_password_on_port_636_with_tls(lab: DomainLab) -> None:
    provider = ActiveDirectoryProvider(
        DirectorySettings.from_environment(
            {
                "GMSA_DNS_SERVER": lab.dns_server,
                "GMSA_LDAP_PROTECTION": "ldaps",
                "GMSA_LDAP_CA_FILE": str(lab.ca_file),
            }
        )
    )
    account = GmsaAccount(GMSA, DOMAIN)
    try:
        password = provider.read_password(account, HostKeytab(lab.host_keytab))
        [session] = provider._sessions.values()
        server, protection = session.ldap.server, session.ldap.protection
    finally:
        provider.close()
    assert (server.port, protection) == (636, Protection.LDAPS)
    keys = derive_keys(password.current, account=account.name, realm=account.realm)
    ticket = provider.get_tgt(account, keys)
    assert str(ticket.client) == f"{GMSA}$@{REALM}"


def test_ldaps_with_a_ca_that_did_not_sign_the_dc_is_refused(
    lab: DomainLab, tmp_path: Path
) -> None:
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(self_signed_ca())
    provider = ActiveDirectoryProvider(
        DirectorySettings(
            dns=DnsConfig.parse(lab.dns_server), protection=Protection.LDAPS, ca_file=other_ca
        )
    )
    with pytest.raises(CredentialProviderError) as caught:
        provider.read_password(GmsaAccount(GMSA, DOMAIN), HostKeytab(lab.host_keytab))
    assert provider._sessions == {}
    assert "636" in f"{caught.value.what} {caught.value.where}"
