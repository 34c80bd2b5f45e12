"""An in-process stand-in for a domain controller, for the ticket service's tests.

It is a test double, not a provider to ship: it answers ``read_password`` with a
real MSDS-MANAGEDPASSWORD_BLOB (decoded by the production decoder) and checks,
like a KDC would, that ``get_tgt`` is called with the keys derived from the
current password and AD's salt. Tickets are deterministic DER ``Ticket``
structures so MIT klist can read the caches. Counters, latency and failure
switches let tests prove single flight, rotation and error paths.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gmsa.ad.managed_password import (
    ManagedPassword,
    decode_managed_password,
    encode_managed_password,
)
from gmsa.domainless import DomainlessUser
from gmsa.kerberos.keys import AES256, GmsaKeys, Key, derive_keys
from gmsa.kerberos.principal import Principal
from gmsa.kerberos.ticket import (
    FLAG_FORWARDABLE,
    FLAG_INITIAL,
    FLAG_PRE_AUTHENT,
    FLAG_RENEWABLE,
    Ticket,
)
from gmsa.tickets.interface import (
    AccountNotFoundError,
    CredentialProvider,
    CredentialProviderError,
    DomainlessUserError,
    GmsaAccount,
    HostKeytab,
    Identity,
    PasswordAccessDeniedError,
)
from gmsa.tickets.logformat import note

HOST = "host"
"""The identity name a HostKeytab reads as."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def password_for(name: str, version: int = 0) -> bytes:
    """A deterministic 256-byte UTF-16LE password with unpaired surrogates, like AD's."""
    units = bytearray()
    seed = f"{name.lower()}:{version}".encode()
    counter = 0
    while len(units) < 256:
        units += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    data = bytes(units[:256])
    # Never a NUL code unit inside the password.
    fixed = bytearray(data)
    for i in range(0, len(fixed), 2):
        if fixed[i] == 0 and fixed[i + 1] == 0:
            fixed[i] = 1
    return bytes(fixed)


def der(tag: int, content: bytes) -> bytes:
    """One DER TLV."""
    if len(content) < 0x80:
        length = bytes([len(content)])
    else:
        size = (len(content).bit_length() + 7) // 8
        length = bytes([0x80 | size]) + len(content).to_bytes(size, "big")
    return bytes([tag]) + length + content


def der_int(value: int) -> bytes:
    return der(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def der_ticket(realm: str, service: Principal, etype: int, kvno: int, cipher: bytes) -> bytes:
    """A Kerberos ``Ticket`` (RFC 4120 5.3) in DER."""
    sname = der(
        0x30,
        der(0xA0, der_int(service.name_type))
        + der(0xA1, der(0x30, b"".join(der(0x1B, c.encode()) for c in service.components))),
    )
    enc_part = der(
        0x30,
        der(0xA0, der_int(etype)) + der(0xA1, der_int(kvno)) + der(0xA2, der(0x04, cipher)),
    )
    body = (
        der(0xA0, der_int(5))
        + der(0xA1, der(0x1B, realm.encode()))
        + der(0xA2, sname)
        + der(0xA3, enc_part)
    )
    return der(0x61, der(0x30, body))


@dataclass
class _Gmsa:
    account: GmsaAccount
    password: bytes
    previous: bytes | None = None
    version: int = 0
    readers: set[str] = field(default_factory=lambda: {HOST})


class DirectoryDouble(CredentialProvider):
    """Holds gMSAs and who may read them; counts and optionally slows every call."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime.datetime] = _now,
        lifetime: datetime.timedelta = datetime.timedelta(hours=10),
        latency: float = 0.0,
    ) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.latency = latency
        self.users: dict[str, str] = {}
        """Domainless users: lower-case username -> password."""
        self.down = False
        """When True every call fails as an unreachable DC would."""
        self.crash = False
        """When True read_password raises a non-gmsa exception (a provider bug)."""
        self.password_reads = 0
        self.tgt_requests = 0
        self.max_concurrent = 0
        self._active = 0
        self._lock = threading.Lock()
        self._gmsas: dict[tuple[str, str], _Gmsa] = {}
        self._issued = 0

    # ----------------------------------------------------------------- setup

    def add_gmsa(
        self, name: str, domain: str = "example.com", *, readers: set[str] | None = None
    ) -> None:
        account = GmsaAccount(name, domain)
        self._gmsas[account.key] = _Gmsa(account, password_for(name), readers=readers or {HOST})

    def add_user(self, username: str, password: str, *, may_read: tuple[str, ...] = ()) -> None:
        self.users[username.lower()] = password
        for name in may_read:
            for gmsa in self._gmsas.values():
                if gmsa.account.name.lower() == name.lower():
                    gmsa.readers.add(username.lower())

    def rotate(self, name: str, domain: str = "example.com") -> None:
        gmsa = self._gmsas[GmsaAccount(name, domain).key]
        gmsa.previous = gmsa.password
        gmsa.version += 1
        gmsa.password = password_for(name, gmsa.version)

    def current_password(self, name: str, domain: str = "example.com") -> bytes:
        return self._gmsas[GmsaAccount(name, domain).key].password

    # ----------------------------------------------------------------- the provider

    def read_password(self, account: GmsaAccount, identity: Identity) -> ManagedPassword:
        with self._lock:
            self.password_reads += 1
            self._active += 1
            self.max_concurrent = max(self.max_concurrent, self._active)
        try:
            if self.latency:
                time.sleep(self.latency)
            if self.crash:
                raise RuntimeError("secret-bearing internal detail")
            if self.down:
                raise CredentialProviderError(
                    "the domain controller does not answer",
                    where="dc1.example.com:636",
                    fix="check that the DC is up",
                )
            note(dc=f"dc1.{account.domain}")  # as the real provider names the DC it reached
            reader = self._reader(identity)
            gmsa = self._gmsas.get(account.key)
            if gmsa is None:
                raise AccountNotFoundError(
                    f"no gMSA {account.name}$ in {account.domain}",
                    where=f"dc1.{account.domain}",
                    fix="check the spec's MachineAccountName",
                )
            if reader not in gmsa.readers:
                raise PasswordAccessDeniedError(
                    f"{reader} may not retrieve the password of {account}",
                    where=f"{account}: msDS-GroupMSAMembership",
                    fix="add the host to the group allowed to retrieve the password",
                )
            blob = encode_managed_password(gmsa.password, gmsa.previous)
            return decode_managed_password(blob)
        finally:
            with self._lock:
                self._active -= 1

    def get_tgt(self, account: GmsaAccount, keys: GmsaKeys) -> Ticket:
        with self._lock:
            self.tgt_requests += 1
            self._issued += 1
            serial = self._issued
        if self.down:
            raise CredentialProviderError("the KDC does not answer", where="dc1.example.com:88")
        gmsa = self._gmsas[account.key]
        expected = derive_keys(gmsa.password, account=account.name, realm=account.realm)
        if keys.aes256.value != expected.aes256.value or keys.principal != expected.principal:
            raise CredentialProviderError(
                "the KDC refused the key (pre-authentication failed)",
                where=str(account),
                fix="derive the keys from the current password",
            )
        now = self.clock()
        server = Principal.krbtgt(account.realm)
        # The process id keeps tickets of a restarted service distinct from the first one's.
        material = hashlib.sha256(f"{account}:{os.getpid()}:{serial}".encode()).digest()
        return Ticket(
            client=keys.principal,
            server=server,
            key=Key(AES256, material),
            auth_time=now,
            start_time=now,
            end_time=now + self.lifetime,
            renew_till=now + datetime.timedelta(days=7),
            flags=FLAG_FORWARDABLE | FLAG_RENEWABLE | FLAG_INITIAL | FLAG_PRE_AUTHENT,
            ticket=der_ticket(account.realm, server, AES256, 2, material * 4),
        )

    def _reader(self, identity: Identity) -> str:
        if isinstance(identity, HostKeytab):
            return HOST
        assert isinstance(identity, DomainlessUser)
        known = self.users.get(identity.username.lower())
        if known is None or known != identity.password:
            raise DomainlessUserError(
                f"the KDC refused the domain user {identity.username}",
                where=f"{identity.username}@{identity.domain}",
                fix="check the domainless user's secret",
            )
        return identity.username.lower()


def register_double() -> None:
    """Register a double as provider ``double`` (for ``gmsa tickets serve`` in a subprocess)."""
    from gmsa.tickets.providers import register_provider

    def factory(_settings: object) -> DirectoryDouble:
        double = DirectoryDouble()
        double.add_gmsa("WebApp01")
        double.add_gmsa("WebApp02")
        double.add_user("svc-gmsa", "User-Passw0rd!", may_read=("WebApp01",))
        return double

    register_provider("double", factory)
