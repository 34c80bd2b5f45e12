"""Finding domain controllers: DNS SRV records and host addresses.

Windows clients locate DCs through ``_ldap._tcp.dc._msdcs.<domain>`` SRV
records; credentials-fetcher does the same. A user may point gmsa at a
specific DNS server (``--dns-server HOST[:PORT]``), e.g. the DC's own when the
machine's resolver does not serve the AD zone; host names are then resolved
through that server too, falling back to the system resolver.
"""

from __future__ import annotations

import ipaddress
import random
import socket
from dataclasses import dataclass

import dns.exception
import dns.rdatatype
import dns.resolver

from gmsa.ad.errors import DnsLookupError
from gmsa.errors import InvalidInputError
from gmsa.printable import printable

DEFAULT_TIMEOUT = 3.0


@dataclass(frozen=True)
class DnsConfig:
    """Which DNS server to ask, and how long to wait."""

    server: str | None = None
    """A DNS server's address; ``None`` for the system's resolvers (/etc/resolv.conf)."""
    port: int = 53
    """Its port."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds before a lookup gives up."""

    @classmethod
    def parse(cls, text: str | None, *, timeout: float = DEFAULT_TIMEOUT) -> DnsConfig:
        """``HOST``, ``HOST:PORT``, ``[V6]:PORT`` or ``None``."""
        if not text:
            return cls(None, 53, timeout)
        host, port = split_host_port(text, 53, what="--dns-server")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise InvalidInputError(
                f"the DNS server must be an IP address, not {host!r}",
                where="--dns-server",
                fix="give the address, e.g. 10.0.0.10 or 10.0.0.10:53",
            ) from None
        return cls(host, port, timeout)

    def describe(self) -> str:
        """The server for messages."""
        if self.server is None:
            return "the system resolver"
        return f"{self.server}:{self.port}"


def split_host_port(text: str, default_port: int, *, what: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    value = text.strip()
    host, port_text = value, ""
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise InvalidInputError(f"unclosed [ in {value!r}", where=what)
        host, rest = value[1:end], value[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise InvalidInputError(f"unexpected text after ] in {value!r}", where=what)
            port_text = rest[1:]
    elif value.count(":") == 1:
        host, port_text = value.split(":")
    if not host:
        raise InvalidInputError(f"no host in {value!r}", where=what)
    if not port_text:
        return host, default_port
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise InvalidInputError(f"bad port {port_text!r}", where=what, fix="a port is 1-65535")
    return host, int(port_text)


@dataclass(frozen=True)
class ServiceRecord:
    """One SRV record: a DC offering a service."""

    target: str
    """The DC's host name, without the trailing dot."""
    port: int
    """Port of the service."""
    priority: int
    """Lower is preferred."""
    weight: int
    """Share among records of one priority."""


def _resolver(config: DnsConfig) -> dns.resolver.Resolver:
    if config.server is None:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise DnsLookupError(
                "this machine has no DNS resolver configured",
                where="/etc/resolv.conf",
                fix="give --dns-server with the address of a DNS server of the domain",
            ) from None
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [config.server]
        resolver.port = config.port
    resolver.lifetime = config.timeout
    resolver.timeout = config.timeout
    return resolver


def find_domain_controllers(domain: str, config: DnsConfig) -> tuple[ServiceRecord, ...]:
    """The domain's DCs from ``_ldap._tcp.dc._msdcs.<domain>``, in the order to try them
    (priority, then weighted random as RFC 2782 says)."""
    return lookup_srv(f"_ldap._tcp.dc._msdcs.{domain}", config)


def lookup_srv(name: str, config: DnsConfig) -> tuple[ServiceRecord, ...]:
    """SRV records for ``name``, ordered for use."""
    try:
        answer = _resolver(config).resolve(name, dns.rdatatype.SRV)
    except dns.resolver.NXDOMAIN:
        raise DnsLookupError(
            f"no SRV records for {name} (the name does not exist)",
            where=config.describe(),
            fix="check the domain name, and that this DNS server serves the AD zone "
            "(or pass --server with a DC's host name, or --dns-server)",
        ) from None
    except dns.resolver.NoAnswer:
        raise DnsLookupError(
            f"no SRV records for {name}",
            where=config.describe(),
            fix="check that the DCs registered their records (netlogon's DNS registration)",
        ) from None
    except dns.exception.Timeout:
        raise DnsLookupError(
            f"the DNS server did not answer for {name} within {config.timeout:g} s",
            where=config.describe(),
            fix="check --dns-server and that UDP/TCP port 53 is open",
        ) from None
    except dns.exception.DNSException as exc:
        raise DnsLookupError(
            f"DNS lookup of {name} failed: {exc}",
            where=config.describe(),
            fix="check the DNS server",
        ) from None
    records = [
        ServiceRecord(
            str(r.target).rstrip(".").lower(), int(r.port), int(r.priority), int(r.weight)
        )
        for r in answer
        if str(r.target) != "."
    ]
    if not records:
        raise DnsLookupError(
            f"the SRV records for {name} say the service is not offered",
            where=config.describe(),
        )
    return _order(records)


def _order(records: list[ServiceRecord]) -> tuple[ServiceRecord, ...]:
    ordered: list[ServiceRecord] = []
    rng = random.Random()  # noqa: S311 (load spreading, not security)
    for priority in sorted({r.priority for r in records}):
        group = [r for r in records if r.priority == priority]
        while group:
            total = sum(r.weight for r in group)
            if total == 0:
                ordered.extend(group)
                break
            pick = rng.uniform(0, total)
            running = 0
            for record in group:
                running += record.weight
                if running >= pick:
                    ordered.append(record)
                    group.remove(record)
                    break
    return tuple(ordered)


def resolve_address(host: str, config: DnsConfig) -> tuple[str, ...]:
    """Addresses of a host: itself if it is an address, else DNS (the configured server
    first, then the system resolver)."""
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    if config.server is not None:
        found: list[str] = []
        resolver = _resolver(config)
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            try:
                found.extend(str(r) for r in resolver.resolve(host, rdtype))
            except dns.exception.DNSException:
                continue
        if found:
            return tuple(found)
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DnsLookupError(
            f"cannot resolve the host name {host}: {exc.strerror}",
            where=config.describe(),
            fix="check the name, or give --dns-server with a DNS server of the domain",
        ) from None
    except UnicodeError:
        # The IDNA codec refuses it: an empty or over-long label, or bytes not UTF-8.
        raise InvalidInputError(
            f"'{printable(host)}' is not a host name: a DNS name has labels of 1 to 63 "
            "letters, digits and '-' between dots",
            where=config.describe(),
            fix="give a host name such as dc1.example.com, or an IP address",
        ) from None
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


__all__ = [
    "DEFAULT_TIMEOUT",
    "DnsConfig",
    "ServiceRecord",
    "find_domain_controllers",
    "lookup_srv",
    "resolve_address",
    "split_host_port",
]
