"""Kerberos principal names as the ticket files (ccache, keytab) store them."""

from __future__ import annotations

from dataclasses import dataclass

NT_PRINCIPAL = 1
"""Users, hosts and gMSAs (``WebApp01$@EXAMPLE.COM``)."""
NT_SRV_INST = 2
"""Service instances such as ``krbtgt/EXAMPLE.COM``."""


@dataclass(frozen=True)
class PrincipalName:
    """A principal: name components, realm and name type."""

    components: tuple[str, ...]
    """``("WebApp01$",)`` or ``("krbtgt", "EXAMPLE.COM")``."""
    realm: str
    """The realm, upper case by AD convention."""
    name_type: int = NT_PRINCIPAL
    """NT-PRINCIPAL (1) for accounts, NT-SRV-INST (2) for krbtgt."""

    @classmethod
    def for_account(cls, sam_account_name: str, realm: str) -> PrincipalName:
        """A gMSA or computer account: ``NAME$@REALM`` (a missing ``$`` is added)."""
        name = sam_account_name if sam_account_name.endswith("$") else sam_account_name + "$"
        return cls((name,), realm.upper())

    @classmethod
    def krbtgt(cls, realm: str) -> PrincipalName:
        """The ticket-granting service of ``realm``: ``krbtgt/REALM@REALM``."""
        return cls(("krbtgt", realm.upper()), realm.upper(), NT_SRV_INST)

    def __str__(self) -> str:
        return "/".join(self.components) + "@" + self.realm
