"""The ticket service's settings and its optional JSON configuration file.

Every key is optional; unknown keys are refused (a typo must not silently leave a
default in force)::

    {
      "keytab": "/etc/krb5.keytab",
      "principal": "HOST01$@EXAMPLE.COM",
      "lease_ttl_seconds": 604800,
      "renew_fraction": 0.7,
      "renew_margin_seconds": 3600,
      "retry_base_seconds": 30,
      "retry_max_seconds": 600,
      "ticket_reuse_seconds": 60,
      "renewal_workers": 4,
      "rpc_workers": 16,
      "ccache_owner": {"uid": 1000, "gid": 1000},
      "account_owners": {"WebApp01": {"uid": 1001, "gid": 1001}}
    }
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gmsa import jsondoc
from gmsa.tickets.deployment import KEYS as DEPLOYMENT_KEYS
from gmsa.tickets.errors import TicketConfigError
from gmsa.tickets.interface import DEFAULT_KEYTAB, HostKeytab, Identity
from gmsa.tickets.leases import Owner
from gmsa.tickets.renewal import RenewalPolicy

_MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class ServiceSettings:
    """How the service behaves; defaults suit a domain-joined ECS container instance."""

    host_identity: Identity = field(default_factory=HostKeytab)
    """Who reads passwords for AddKerberosLease: the host's keytab, or on a host outside
    the domain the user of ``CREDENTIALS_FETCHER_SECRET_NAME_FOR_DOMAINLESS_GMSA``."""
    policy: RenewalPolicy = field(default_factory=RenewalPolicy)
    """When to renew and retry."""
    lease_ttl: datetime.timedelta | None = None
    """Leases not deleted (nor renewed by their owner) within this time are removed; None: never."""
    ticket_reuse: datetime.timedelta = datetime.timedelta(seconds=60)
    """New leases for a gMSA reuse a ticket obtained this recently (0 turns it off)."""
    renewal_workers: int = 4
    """gMSAs renewed in parallel in one round."""
    rpc_workers: int = 16
    """RPCs served at once."""
    ccache_owner: Owner | None = None
    """Owner of every lease's caches unless ``account_owners`` names the gMSA."""
    account_owners: dict[str, Owner] = field(default_factory=dict)
    """Owner per gMSA name (lower case)."""
    domain_controller: str | None = None
    """A DC (``HOST[:PORT]``) to use instead of DNS SRV discovery (the deployment's)."""
    gmsa_ou: str | None = None
    """Where gMSA accounts are searched: an OU under each domain, or a whole DN."""

    def owner_for(self, account_names: tuple[str, ...]) -> Owner | None:
        """The owner of a lease's caches: the first of its gMSAs with one, else the default."""
        for name in account_names:
            owner = self.account_owners.get(name.lower())
            if owner is not None:
                return owner
        return self.ccache_owner


_KEYS = {
    "keytab",
    "principal",
    "lease_ttl_seconds",
    "renew_fraction",
    "renew_margin_seconds",
    "retry_base_seconds",
    "retry_max_seconds",
    "ticket_reuse_seconds",
    "renewal_workers",
    "rpc_workers",
    "ccache_owner",
    "account_owners",
}


def load_settings(path: Path | None) -> ServiceSettings:
    """Settings from a JSON file, or the defaults when ``path`` is None."""
    return settings_from(load_document(path), source=str(path))


def load_document(path: Path | None) -> dict[str, Any]:
    """The configuration file as a JSON object ({} when ``path`` is None)."""
    if path is None:
        return {}
    document = jsondoc.load_file(path, max_bytes=_MAX_CONFIG_BYTES, what="ticket service config")
    if not isinstance(document, dict):
        raise TicketConfigError("the configuration must be a JSON object", where=str(path))
    return document


def settings_from(document: Any, *, source: str) -> ServiceSettings:
    """Validate a parsed configuration document; every mistake names its JSON path."""
    if not isinstance(document, dict):
        raise TicketConfigError("the configuration must be a JSON object", where=source)
    unknown = sorted(set(document) - _KEYS - DEPLOYMENT_KEYS)
    if unknown:
        raise TicketConfigError(
            f"unknown setting {unknown[0]!r}",
            where=f"{source}: $.{unknown[0]}",
            fix="known settings: " + ", ".join(sorted(_KEYS | DEPLOYMENT_KEYS)),
        )
    reader = _Reader(document, source)
    defaults = RenewalPolicy()
    fraction = reader.number("renew_fraction", defaults.fraction, low=0.05, high=0.95)
    policy = RenewalPolicy(
        fraction=fraction,
        margin=reader.seconds("renew_margin_seconds", defaults.margin),
        floor=min(defaults.floor, fraction),
        retry_base=reader.seconds("retry_base_seconds", defaults.retry_base, minimum=1),
        retry_max=reader.seconds("retry_max_seconds", defaults.retry_max, minimum=1),
    )
    ttl = reader.optional_seconds("lease_ttl_seconds", minimum=60)
    keytab = reader.string("keytab")
    return ServiceSettings(
        host_identity=HostKeytab(
            Path(keytab) if keytab else DEFAULT_KEYTAB, reader.string("principal")
        ),
        policy=policy,
        lease_ttl=ttl,
        ticket_reuse=reader.seconds("ticket_reuse_seconds", datetime.timedelta(seconds=60)),
        renewal_workers=reader.integer("renewal_workers", 4, low=1, high=64),
        rpc_workers=reader.integer("rpc_workers", 16, low=1, high=256),
        ccache_owner=reader.owner(document.get("ccache_owner"), "$.ccache_owner"),
        account_owners=reader.account_owners(),
    )


class _Reader:
    def __init__(self, document: dict[str, Any], source: str) -> None:
        self.document = document
        self.source = source

    def _bad(self, path: str, what: str, fix: str) -> TicketConfigError:
        return TicketConfigError(what, where=f"{self.source}: {path}", fix=fix)

    def string(self, key: str) -> str | None:
        value = self.document.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self._bad(f"$.{key}", f"{key} must be a non-empty string", "quote the value")
        return value

    def number(self, key: str, default: float, *, low: float, high: float) -> float:
        value = self.document.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self._bad(f"$.{key}", f"{key} must be a number from {low} to {high}", "fix it")
        return float(value)

    def integer(self, key: str, default: int, *, low: int, high: int) -> int:
        value = self.document.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._bad(
                f"$.{key}", f"{key} must be a whole number from {low} to {high}", "fix it"
            )
        return value

    def seconds(
        self, key: str, default: datetime.timedelta, *, minimum: int = 0
    ) -> datetime.timedelta:
        found = self.optional_seconds(key, minimum=minimum)
        return default if found is None else found

    def optional_seconds(self, key: str, *, minimum: int = 0) -> datetime.timedelta | None:
        if key not in self.document or self.document[key] is None:
            return None
        value = self.document[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._bad(
                f"$.{key}", f"{key} must be a whole number of seconds, at least {minimum}", "fix it"
            )
        return datetime.timedelta(seconds=value)

    def owner(self, node: Any, path: str) -> Owner | None:
        if node is None:
            return None
        fix = 'write it as {"uid": 1000, "gid": 1000}'
        if not isinstance(node, dict) or set(node) != {"uid", "gid"}:
            raise self._bad(path, "an owner needs exactly uid and gid", fix)
        uid, gid = node["uid"], node["gid"]
        for name, value in (("uid", uid), ("gid", gid)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32 - 1:
                raise self._bad(f"{path}.{name}", f"{name} must be a numeric id", fix)
        return Owner(uid, gid)

    def account_owners(self) -> dict[str, Owner]:
        node = self.document.get("account_owners", {})
        if not isinstance(node, dict):
            raise self._bad(
                "$.account_owners", "account_owners must be an object", "map gMSA names to owners"
            )
        owners: dict[str, Owner] = {}
        for name, value in node.items():
            owner = self.owner(value, f"$.account_owners.{name}")
            if owner is not None:
                owners[name.lower()] = owner
        return owners


__all__ = [
    "ServiceSettings",
    "load_document",
    "load_settings",
    "settings_from",
]
