"""A real Active Directory for the tests: a Samba 4.22 AD DC on loopback.

:class:`SambaDC` provisions a domain into a temporary directory, fills it
(``tests/integration/samba/dc_populate.py``) with the accounts the tests need, starts
``samba -i -M single`` in its own process group bound to 127.0.0.1 only, and
stops it. Nothing under /etc is touched.

Samba's LDAP and Kerberos ports (389/636/88) are fixed, so one DC serves the
whole machine: :func:`running_dc` starts it for the first pytest worker (or
session) that asks, later ones attach to it, and the last one to leave stops
it. A lock file guards the shared state; the AD tests only read the domain,
so they may run in several workers at once. (They also carry
``xdist_group("samba")`` for ``--dist loadgroup``, which pytest-xdist 3.8
does not honour under pytest 9: the sharing is what makes it safe.)

The domain, as the tests see it, is described by the constants below.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import shared_state

REALM = "EXAMPLE.COM"
DOMAIN = "example.com"
NETBIOS = "EXAMPLE"
DC_NAME = "dc1.example.com"
STALE_DC_NAME = "dc2.example.com"
"""A DC registered in DNS (at 127.0.0.2) where nothing answers."""
PASSWORD = "Gmsa-Lab-Passw0rd!"
"""Administrator's and every test account's password."""
ADMIN = "Administrator"

HOST_DIRECT = "HOST01"
"""Allowed on WebApp01 by its own SID."""
HOST_NESTED = "HOST02"
"""Allowed on WebApp01 through WebHostsEast, a member of WebHosts."""
HOST_DENIED = "HOST03"
"""Allowed nowhere."""
HOST_PRIMARY = "HOST04"
"""Allowed on WebApp02 only through its primary group, Domain Computers."""

GMSA = "WebApp01"
GMSA_DOMAIN_COMPUTERS = "WebApp02"
GMSA_DISABLED = "Disabled01"
GMSA_USER_CONFLICT = "Conflict01"
"""A user account ``Conflict01`` exists next to the gMSA ``Conflict01$``."""
GMSA_GROUP_CONFLICT = "Conflict02"
"""A group with sAMAccountName ``Conflict02`` exists next to the gMSA ``Conflict02$``
(Samba, like AD, refuses a computer account without the ``$``)."""
GMSA_NO_TRUST = "NoTrust01"
"""userAccountControl has SERVER_TRUST_ACCOUNT instead of WORKSTATION_TRUST_ACCOUNT (Samba
refuses a gMSA with no account-type flag or a user's NORMAL_ACCOUNT)."""
GMSA_NO_READERS = "NoReaders01"
"""Its msDS-GroupMSAMembership has an empty DACL: no one may retrieve the password."""
GMSA_WITH_SPNS = "Spn01"
SPNS = ("HTTP/spn01.example.com", "HTTP/spn01")
PLAIN_USER = "SvcUser01"
"""A user account, not a gMSA."""

SAMBA = "samba"
SAMBA_TOOL = "samba-tool"
SYSTEM_PYTHON = "/usr/bin/python3"
LOCK_FILE = Path(tempfile.gettempdir()) / "gmsa-test-samba-dc.lock"
FIXED_PORTS = (88, 389, 636)
POPULATE = Path(__file__).resolve().parents[1] / "integration" / "samba" / "dc_populate.py"


def plan(directory: Path) -> dict[str, object]:
    """What dc_populate.py creates."""
    return {
        "password": PASSWORD,
        "dc_spns": [
            f"ldap/{DC_NAME}",
            f"ldap/{DC_NAME}/{DOMAIN}",
            f"ldap/{DC_NAME}/{NETBIOS}",
            "ldap/DC1",
            f"GC/{DC_NAME}/{DOMAIN}",
        ],
        "dns": [
            {"name": "dc1", "address": "127.0.0.1"},
            {"name": "dc2", "address": "127.0.0.2"},
        ],
        "computers": [{"name": n} for n in (HOST_DIRECT, HOST_NESTED, HOST_DENIED, HOST_PRIMARY)],
        "users": [{"name": PLAIN_USER}, {"name": GMSA_USER_CONFLICT}],
        "groups": [
            {"name": "WebHostsEast", "members": [f"{HOST_NESTED}$"]},
            {"name": "WebHosts", "members": ["WebHostsEast"]},
            {"name": GMSA_GROUP_CONFLICT},
        ],
        "gmsas": [
            {"name": GMSA, "allowed": [f"{HOST_DIRECT}$", "WebHosts"]},
            {"name": GMSA_DOMAIN_COMPUTERS, "allowed": ["Domain Computers"]},
            {"name": GMSA_DISABLED, "allowed": [f"{HOST_DIRECT}$"], "uac": 4096 | 2},
            {"name": GMSA_USER_CONFLICT, "allowed": [f"{HOST_DIRECT}$"]},
            {"name": GMSA_GROUP_CONFLICT, "allowed": [f"{HOST_DIRECT}$"]},
            {"name": GMSA_NO_TRUST, "allowed": [f"{HOST_DIRECT}$"], "uac": 0x2000},
            {"name": GMSA_WITH_SPNS, "allowed": [f"{HOST_DIRECT}$"], "spns": list(SPNS)},
            {"name": GMSA_NO_READERS, "allowed": []},
        ],
        "facts": str(directory / "facts.json"),
        "keytabs": [
            {"principal": f"{HOST_DIRECT}$", "path": str(directory / "host01.keytab")},
            {"principal": f"{HOST_DENIED}$", "path": str(directory / "host03.keytab")},
        ],
    }


class SambaUnavailableError(RuntimeError):
    """Samba 4.22 is not installed, or the DC did not come up."""


@dataclass(frozen=True)
class DomainLab:
    """A running test domain."""

    directory: Path
    """Where everything lives (smb.conf, databases, keytabs, logs)."""
    dns_port: int
    """Samba's own DNS server listens on 127.0.0.1 at this port (SRV and A records)."""

    @property
    def dns_server(self) -> str:
        """The ``--dns-server`` value that reaches the DC's DNS."""
        return f"127.0.0.1:{self.dns_port}"

    @property
    def ca_file(self) -> Path:
        """The CA that signed the DC's LDAPS certificate."""
        return self.directory / "tls" / "ca.pem"

    @property
    def krb5_conf(self) -> Path:
        """A krb5.conf for MIT tools (kinit) that points at the DC."""
        return self.directory / "krb5.conf"

    @property
    def host_keytab(self) -> Path:
        """HOST01$'s keys, as a domain-joined host holds them in /etc/krb5.keytab."""
        return self.directory / "host01.keytab"

    @property
    def denied_host_keytab(self) -> Path:
        """HOST03$'s keys: a host allowed on no gMSA."""
        return self.directory / "host03.keytab"

    @property
    def facts(self) -> dict[str, Any]:
        """What Samba itself says the domain is: ``domain_sid``, ``domain_guid`` and
        ``accounts[sAMAccountName] = {sid, guid}``, written while filling the DC."""
        loaded: dict[str, Any] = json.loads((self.directory / "facts.json").read_text())
        return loaded

    def connection_args(self, *, user: str = ADMIN) -> list[str]:
        """CLI options that reach this domain as ``user`` with the lab password from the
        environment variable GMSA_TEST_PASSWORD (set it with :meth:`env`)."""
        return [
            "--domain",
            DOMAIN,
            "--dns-server",
            self.dns_server,
            "--user",
            user,
            "--password-env",
            "GMSA_TEST_PASSWORD",
            "--ca-file",
            str(self.ca_file),
        ]

    def env(self) -> dict[str, str]:
        """Environment for commands started with :meth:`connection_args`."""
        return {"GMSA_TEST_PASSWORD": PASSWORD}

    def set_computer_password(self, name: str, password: str) -> None:
        """Create the computer account ``NAME$`` if it is missing and set its password
        (a change AD would make), in the running DC. Like every computer, it is in Domain
        Computers, so it may read WebApp02's password. Tests give their own names: the DC
        is shared."""
        subprocess.run(
            [SYSTEM_PYTHON, "-c", _SET_COMPUTER_PASSWORD, str(self.directory / "etc" / "smb.conf")],
            input=json.dumps({"name": name, "password": password}),
            text=True,
            check=True,
            capture_output=True,
            timeout=120,
        )


_SET_COMPUTER_PASSWORD = r"""
import json, sys
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

request = json.load(sys.stdin)
lp = LoadParm()
lp.load(sys.argv[1])
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
sam = request["name"] + "$"
if not db.search(str(db.domain_dn()), expression=f"(sAMAccountName={sam})", attrs=["dn"]):
    db.newcomputer(request["name"])
db.setpassword(f"(sAMAccountName={sam})", request["password"])
"""


class SambaDC:
    """Provision, fill, start and stop one Samba AD DC in a temporary directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None
        self.dns_port = _free_port()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> DomainLab:
        """Provision, fill and start the DC (the caller holds the machine-wide lock)."""
        _check_installed()
        try:
            busy = [p for p in FIXED_PORTS if _port_open("127.0.0.1", p)]
            if busy:
                raise SambaUnavailableError(
                    f"ports {busy} on 127.0.0.1 are in use by something else; "
                    "the test DC needs 88, 389 and 636"
                )
            self._write_tls()
            self._provision()
            self._populate()
            self._write_krb5_conf()
            self._run()
        except BaseException:
            self.stop()
            raise
        return DomainLab(self.directory, self.dns_port)

    def stop(self) -> None:
        """SIGTERM the DC's process group and wait for it."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    # ------------------------------------------------------------------ steps

    def _write_tls(self) -> None:
        """A CA and a DC certificate with the DC's names, made here in milliseconds (Samba
        would spend seconds generating RSA keys at first start, without a SAN)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        tls = self.directory / "tls"
        tls.mkdir(parents=True)
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gmsa test CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DC_NAME)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName(DC_NAME),
                        x509.DNSName(DOMAIN),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        (tls / "ca.pem").write_bytes(ca.public_bytes(pem))
        (tls / "cert.pem").write_bytes(cert.public_bytes(pem))
        key_path = tls / "key.pem"
        key_path.write_bytes(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        key_path.chmod(0o600)

    def _provision(self) -> None:
        d = self.directory
        options = {
            "interfaces": "127.0.0.1",
            "bind interfaces only": "yes",
            "dns forwarder": "127.0.0.1",
            "dns port": str(self.dns_port),
            "server services": "ldap kdc dns",
            "disable netbios": "yes",
            "log file": f"{d}/log.%m",
            "pid directory": f"{d}/run",
            "ncalrpc dir": f"{d}/ncalrpc",
            "winbindd socket directory": f"{d}/winbindd",
            "ntp signd socket directory": f"{d}/ntp_signd",
            "tls enabled": "yes",
            "tls keyfile": f"{d}/tls/key.pem",
            "tls certfile": f"{d}/tls/cert.pem",
            "tls cafile": f"{d}/tls/ca.pem",
        }
        command = [
            SAMBA_TOOL,
            "domain",
            "provision",
            f"--realm={REALM}",
            f"--domain={NETBIOS}",
            "--server-role=dc",
            "--dns-backend=SAMBA_INTERNAL",
            f"--adminpass={PASSWORD}",
            f"--targetdir={d}",
            "--host-name=dc1",
            "--host-ip=127.0.0.1",
            *(f"--option={k}={v}" for k, v in options.items()),
        ]
        _run_quietly(command, self.directory / "provision.log", what="provisioning")

    def _populate(self) -> None:
        log = self.directory / "populate.log"
        with log.open("wb") as out:
            result = subprocess.run(
                [SYSTEM_PYTHON, str(POPULATE), str(self.directory / "etc" / "smb.conf")],
                input=json.dumps(plan(self.directory)).encode(),
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=120,
            )
        if result.returncode != 0:
            raise SambaUnavailableError(f"filling the DC failed:\n{log.read_text()[-3000:]}")

    def _write_krb5_conf(self) -> None:
        self.directory.joinpath("krb5.conf").write_text(
            "[libdefaults]\n"
            f" default_realm = {REALM}\n"
            " dns_lookup_kdc = false\n dns_lookup_realm = false\n rdns = false\n"
            f"[realms]\n {REALM} = {{\n  kdc = 127.0.0.1:88\n }}\n"
        )

    def _run(self) -> None:
        log = (self.directory / "samba.out").open("wb")
        self.process = subprocess.Popen(
            [SAMBA, "-i", "-M", "single", "-s", str(self.directory / "etc" / "smb.conf")],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        wanted = [*FIXED_PORTS, self.dns_port]
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SambaUnavailableError(
                    "samba exited at start:\n" + (self.directory / "samba.out").read_text()[-3000:]
                )
            if all(_port_open("127.0.0.1", p) for p in wanted):
                return
            time.sleep(0.05)
        raise SambaUnavailableError("samba did not open 88, 389, 636 and DNS within 60 s")


STATE_FILE = Path(tempfile.gettempdir()) / "gmsa-test-samba-dc.json"
_STARTED: dict[int, SambaDC] = {}


@contextlib.contextmanager
def running_dc(*, lock_timeout: float = 600.0) -> Iterator[DomainLab]:
    """The machine's test DC for the duration of the block: started if none runs,
    shared otherwise; stopped (and its directory removed) by the last user."""
    me = os.getpid()
    with _locked(lock_timeout):
        state = _read_state()
        if state is not None and _dc_alive(state):
            state["users"] = [u for u in state["users"] if _pid_alive(u)] + [me]
        else:
            if state is not None:
                _discard(state)
            state = _start_new(me)
        _write_state(state)
        lab = DomainLab(Path(state["directory"]), int(state["dns_port"]))
    try:
        yield lab
    finally:
        with _locked(lock_timeout):
            state = _read_state()
            if state is not None:
                state["users"] = [u for u in state["users"] if u != me and _pid_alive(u)]
                if state["users"]:
                    _write_state(state)
                else:
                    _discard(state)
                    STATE_FILE.unlink(missing_ok=True)


def _start_new(user: int) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="gmsa-dc-"))
    dc = SambaDC(directory)
    try:
        lab = dc.start()
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    assert dc.process is not None
    _STARTED[dc.process.pid] = dc
    return {
        "pid": dc.process.pid,
        "started": _start_time(dc.process.pid),
        "directory": str(directory),
        "dns_port": lab.dns_port,
        "users": [user],
    }


@contextlib.contextmanager
def _locked(timeout: float) -> Iterator[None]:
    with shared_state.locked(LOCK_FILE, timeout, SambaUnavailableError):
        yield


def _read_state() -> dict[str, Any] | None:
    return shared_state.read_state(STATE_FILE)


def _write_state(state: dict[str, Any]) -> None:
    shared_state.write_state(STATE_FILE, state)


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state is the first)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()


def _pid_alive(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def _start_time(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[19] if fields else None  # field 22 of stat: start time in clock ticks


def _is_our_samba(state: dict[str, Any]) -> bool:
    """The recorded samba still runs: same PID and same start time (samba rewrites its
    command line, so the PID alone could be a recycled one)."""
    pid = int(state["pid"])
    return _pid_alive(pid) and _start_time(pid) == state.get("started")


def _dc_alive(state: dict[str, Any]) -> bool:
    return _is_our_samba(state) and all(_port_open("127.0.0.1", p) for p in FIXED_PORTS)


def _discard(state: dict[str, Any]) -> None:
    """Stop a DC recorded in the state (whoever started it) and remove its directory."""
    pid = int(state["pid"])
    started = _STARTED.pop(pid, None)
    if started is not None:
        started.stop()
    elif _is_our_samba(state):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_port_open("127.0.0.1", p) for p in FIXED_PORTS) and time.monotonic() < deadline:
        time.sleep(0.05)
    shutil.rmtree(state["directory"], ignore_errors=True)


def _check_installed() -> None:
    for tool in (SAMBA, SAMBA_TOOL, SYSTEM_PYTHON):
        if shutil.which(tool) is None:
            raise SambaUnavailableError(
                f"{tool} is not installed: run scripts/test, which installs Samba 4.22"
            )
    version = subprocess.run([SAMBA, "--version"], capture_output=True, text=True, check=False)
    text = version.stdout.strip().removeprefix("Version ")
    major_minor = tuple(int(p) for p in text.split("-")[0].split(".")[:2] if p.isdigit())
    if major_minor < (4, 22):
        raise SambaUnavailableError(
            f"Samba {text} cannot compute gMSA passwords; the tests need 4.22 or newer"
        )


def _run_quietly(command: list[str], log: Path, *, what: str) -> None:
    with log.open("wb") as out:
        result = subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, check=False, timeout=300
        )
    if result.returncode != 0:
        raise SambaUnavailableError(f"{what} failed:\n{log.read_text()[-3000:]}")


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def _free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (Samba's DNS listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise SambaUnavailableError("no free port for the DC's DNS server")
