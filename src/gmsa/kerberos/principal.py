"""Kerberos principal names: what a KDC request, a ticket, a ccache and a keytab name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gmsa.kerberos.errors import CredentialsInputError

NT_PRINCIPAL = 1
"""Users, hosts and gMSAs (``WebApp01$@EXAMPLE.COM``)."""
NT_SRV_INST = 2
"""Service instances such as ``krbtgt/EXAMPLE.COM``."""
NT_SRV_HST = 3
"""Host-based services such as ``ldap/dc1.example.com``."""


@dataclass(frozen=True)
class Principal:
    """A principal: name components, realm and name type."""

    components: tuple[str, ...]
    """Name components: ``("HOST01$",)`` or ``("ldap", "dc1.example.com")``."""
    realm: str
    """The realm, upper case by AD convention."""
    name_type: int = NT_PRINCIPAL
    """NT-PRINCIPAL for accounts, NT-SRV-INST for krbtgt, NT-SRV-HST for ``service/host``."""

    @classmethod
    def parse(cls, text: str, *, default_realm: str | None = None) -> Principal:
        """``name@REALM`` or ``service/host@REALM``; the realm may come from ``default_realm``."""
        name, _, realm = text.rpartition("@") if "@" in text else (text, "", "")
        realm = realm or (default_realm or "")
        parts = tuple(name.split("/"))
        if not realm or not all(parts):
            raise CredentialsInputError(
                f"not a Kerberos principal: {text!r}",
                fix="write it as NAME@REALM, e.g. HOST01$@EXAMPLE.COM",
            )
        return cls(parts, realm.upper(), NT_SRV_HST if len(parts) == 2 else NT_PRINCIPAL)

    @classmethod
    def service(cls, service: str, host: str, realm: str) -> Principal:
        """A host-based service principal such as ``ldap/dc1.example.com@EXAMPLE.COM``."""
        return cls((service, host.lower()), realm.upper(), NT_SRV_HST)

    @classmethod
    def for_account(cls, sam_account_name: str, realm: str) -> Principal:
        """A gMSA or computer account: ``NAME$@REALM`` (a missing ``$`` is added)."""
        name = sam_account_name if sam_account_name.endswith("$") else sam_account_name + "$"
        return cls((name,), realm.upper())

    @classmethod
    def krbtgt(cls, realm: str) -> Principal:
        """The ticket-granting service of ``realm``: ``krbtgt/REALM@REALM``."""
        return cls(("krbtgt", realm.upper()), realm.upper(), NT_SRV_INST)

    def __str__(self) -> str:
        return "/".join(self.components) + "@" + self.realm

    def to_asn1(self) -> dict[str, Any]:
        """The PrincipalName structure of RFC 4120."""
        return {"name-type": self.name_type, "name-string": list(self.components)}

    def same_as(self, other: Principal) -> bool:
        """Case-insensitive comparison (AD principals are case-insensitive)."""
        return str(self).lower() == str(other).lower()


__all__ = [
    "NT_PRINCIPAL",
    "NT_SRV_HST",
    "NT_SRV_INST",
    "Principal",
]
