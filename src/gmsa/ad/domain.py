"""The domain as a credential spec names it: SID, GUID, DNS and NetBIOS names, forest.

New-CredentialSpec reads these from Get-ADDomain; the LDAP equivalents are the
rootDSE (naming contexts, the DC's clock), the domain object (objectSid,
objectGUID) and the crossRef objects under ``CN=Partitions`` (dnsRoot,
nETBIOSName), which also list every other domain of the forest. Three
searches, whatever the size of the directory.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from gmsa.ad.connection import LdapConnection
from gmsa.ad.errors import LdapOperationError
from gmsa.ad.security_descriptor import SecurityDescriptorError, guid_from_bytes, sid_from_bytes


@dataclass(frozen=True)
class ForestDomain:
    """A domain of the forest, from its crossRef."""

    dns_name: str
    """DNS name (dnsRoot)."""
    netbios_name: str
    """NetBIOS name (nETBIOSName)."""
    naming_context: str
    """Its naming context, e.g. ``DC=example,DC=com``."""


@dataclass(frozen=True)
class DomainInfo:
    """Everything about the connected domain that a credential spec or a check needs."""

    dns_name: str
    """The domain's DNS name (``DnsName``)."""
    netbios_name: str
    """NetBIOS name (``NetBiosName``)."""
    sid: str
    """The domain's objectSid (``Sid``)."""
    guid: str
    """The domain's objectGUID, lowercase and dashed (``Guid``)."""
    forest_dns_name: str
    """The forest root domain's DNS name (``DnsTreeName``)."""
    naming_context: str
    """The domain's DN, base of account searches."""
    configuration_context: str
    """The configuration naming context."""
    dc_host_name: str | None
    """The answering DC's dnsHostName."""
    dc_time: datetime.datetime | None
    """The DC's clock when it answered (rootDSE currentTime)."""
    forest_domains: tuple[ForestDomain, ...]
    """Every domain of the forest."""

    def find_forest_domain(self, name: str) -> ForestDomain | None:
        """A forest domain by DNS or NetBIOS name, case-insensitively."""
        wanted = name.lower().rstrip(".")
        for domain in self.forest_domains:
            if wanted in (domain.dns_name.lower(), domain.netbios_name.lower()):
                return domain
        return None


def read_domain(ldap: LdapConnection) -> DomainInfo:
    """Read the connected domain (three LDAP searches)."""
    where = str(ldap.server)
    root = ldap.read(
        "",
        [
            "defaultNamingContext",
            "rootDomainNamingContext",
            "configurationNamingContext",
            "dnsHostName",
            "currentTime",
        ],
    )
    if root is None:
        raise LdapOperationError("the DC returned no rootDSE", where=where)
    default_nc = root.text("defaultNamingContext")
    root_nc = root.text("rootDomainNamingContext")
    config_nc = root.text("configurationNamingContext")
    if not default_nc or not root_nc or not config_nc:
        raise LdapOperationError(
            "the DC's rootDSE lacks its naming contexts (is it an AD DC?)",
            where=where,
            fix="point --server at a domain controller",
        )
    domain_object = ldap.read(default_nc, ["objectSid", "objectGUID"])
    sid_raw = domain_object.first("objectSid") if domain_object else None
    guid_raw = domain_object.first("objectGUID") if domain_object else None
    if sid_raw is None or guid_raw is None:
        raise LdapOperationError(
            "cannot read the domain object's objectSid and objectGUID",
            where=f"{where}: {default_nc}",
            fix="authenticate as an account of the domain",
        )
    try:
        sid, guid = sid_from_bytes(sid_raw), guid_from_bytes(guid_raw)
    except SecurityDescriptorError as exc:
        raise LdapOperationError(
            f"the domain object's SID or GUID is malformed: {exc.what}", where=where
        ) from None
    refs = ldap.search(
        f"CN=Partitions,{config_nc}",
        "(&(objectClass=crossRef)(nETBIOSName=*))",
        ["nCName", "dnsRoot", "nETBIOSName"],
        scope="one",
    )
    domains = tuple(
        ForestDomain(
            (ref.text("dnsRoot") or "").lower(),
            ref.text("nETBIOSName") or "",
            ref.text("nCName") or "",
        )
        for ref in refs
    )
    own = _by_nc(domains, default_nc)
    forest = _by_nc(domains, root_nc)
    if own is None or forest is None:
        raise LdapOperationError(
            "the forest's partitions do not describe this domain",
            where=f"{where}: CN=Partitions,{config_nc}",
            fix="check replication of the configuration partition",
        )
    return DomainInfo(
        dns_name=own.dns_name,
        netbios_name=own.netbios_name,
        sid=sid,
        guid=guid,
        forest_dns_name=forest.dns_name,
        naming_context=default_nc,
        configuration_context=config_nc,
        dc_host_name=root.text("dnsHostName"),
        dc_time=_generalized_time(root.text("currentTime")),
        forest_domains=domains,
    )


def _by_nc(domains: tuple[ForestDomain, ...], nc: str) -> ForestDomain | None:
    for domain in domains:
        if domain.naming_context.lower() == nc.lower():
            return domain
    return None


def _generalized_time(text: str | None) -> datetime.datetime | None:
    """``20261123214512.0Z`` into an aware datetime."""
    if not text:
        return None
    try:
        return datetime.datetime.strptime(text.split(".")[0].rstrip("Z"), "%Y%m%d%H%M%S").replace(
            tzinfo=datetime.UTC
        )
    except ValueError:
        return None


__all__ = [
    "DomainInfo",
    "ForestDomain",
    "read_domain",
]
