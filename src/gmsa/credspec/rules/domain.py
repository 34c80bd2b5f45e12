"""DomainJoinConfig: the domain's SID, GUID, DNS and NetBIOS names, and the main account's name.

The classic mistakes are caught here with the value to write instead: the
gMSA's SID where the domain's belongs, a GUID in braces, a DNS name as the
NetBIOS name, a name with ``$`` or a domain.
"""

from __future__ import annotations

from typing import Any

from gmsa.credspec.model import DOMAIN_JOIN_CONFIG_KEYS, DomainJoinConfig
from gmsa.credspec.rules.walker import PathPart, Walker, quote
from gmsa.identifiers import (
    ACCOUNT_NAME_ILLEGAL,
    DOMAIN_SID_RE,
    MAX_ACCOUNT_NAME,
    MAX_NETBIOS_NAME,
    NETBIOS_NAME_ILLEGAL,
    SID_RE,
    fits_u32,
    is_dns_name,
    suggest_account_name,
)

WHERE_DOMAIN = "Get-ADDomain | Select DomainSID, ObjectGUID, Forest, DNSRoot, NetBIOSName"
"""Where a domain's identity is read, for the fixes that ask for it."""

_ACCOUNT_ILLEGAL = frozenset(ACCOUNT_NAME_ILLEGAL + "$")
_NETBIOS_ILLEGAL = frozenset(NETBIOS_NAME_ILLEGAL)


def domain_join_config(w: Walker, value: Any) -> DomainJoinConfig | None:
    """Check DomainJoinConfig; its typed form, or None when a field is missing or mistyped."""
    base: tuple[PathPart, ...] = ("DomainJoinConfig",)
    obj = w.obj(value, base, f"write the domain's identity ({WHERE_DOMAIN})")
    if obj is None:
        return None
    fields: dict[str, str | None] = {}
    hints = {
        "Sid": "the domain's SID: (Get-ADDomain).DomainSID",
        "MachineAccountName": "the gMSA's name without $",
        "Guid": "the domain's objectGUID: (Get-ADDomain).ObjectGUID",
        "DnsTreeName": "the forest root's DNS name: (Get-ADDomain).Forest",
        "DnsName": "the domain's DNS name: (Get-ADDomain).DNSRoot",
        "NetBiosName": "the domain's NetBIOS name: (Get-ADDomain).NetBIOSName",
    }
    for key in DOMAIN_JOIN_CONFIG_KEYS:
        found, raw = w.get(
            obj, key, base, DOMAIN_JOIN_CONFIG_KEYS, missing_fix=f"add {quote(key)}: {hints[key]}"
        )
        fields[key] = w.string(raw, (*base, key), f"set it to {hints[key]}") if found else None
    w.unknown_keys(obj, DOMAIN_JOIN_CONFIG_KEYS, base)
    sid, name, guid = fields["Sid"], fields["MachineAccountName"], fields["Guid"]
    tree, dns, netbios = fields["DnsTreeName"], fields["DnsName"], fields["NetBiosName"]
    if sid is not None:
        _check_sid(w, sid.strip(), (*base, "Sid"))
    if name is not None:
        check_account_name(w, name, (*base, "MachineAccountName"))
    if guid is not None:
        _check_guid(w, guid.strip(), (*base, "Guid"))
    for key, text in (("DnsTreeName", tree), ("DnsName", dns)):
        if text is not None:
            _check_dns_name(w, text.strip(), (*base, key))
    if netbios is not None:
        _check_netbios(w, netbios.strip(), (*base, "NetBiosName"), dns)
    if (
        tree is not None
        and dns is not None
        and is_dns_name(tree.strip())
        and is_dns_name(dns.strip())
    ):
        t, d = tree.strip().rstrip(".").lower(), dns.strip().rstrip(".").lower()
        if d != t and not d.endswith("." + t):
            w.warn(
                "domain-outside-tree",
                (*base, "DnsTreeName"),
                f"the domain {quote(dns)} is not inside the forest root {quote(tree)}",
                "DnsTreeName is the forest root domain's DNS name; check it unless "
                "the domain is a separate tree of the forest",
            )
    if (
        sid is None
        or name is None
        or guid is None
        or tree is None
        or dns is None
        or netbios is None
    ):
        return None
    return DomainJoinConfig(
        sid=sid,
        machine_account_name=name,
        guid=guid,
        dns_tree_name=tree,
        dns_name=dns,
        netbios_name=netbios,
    )


def _check_sid(w: Walker, sid: str, parts: tuple[PathPart, ...]) -> None:
    match = DOMAIN_SID_RE.match(sid)
    if match:
        if not all(fits_u32(g) for g in match.groups()):
            w.err(
                "invalid-sid",
                parts,
                f"{quote(sid)} has a part larger than 32 bits",
                f"copy the domain's SID again: {WHERE_DOMAIN}",
            )
        elif not sid.startswith("S-"):
            w.warn(
                "sid-lowercase",
                parts,
                "the SID starts with a lowercase 's'",
                f"write {quote('S' + sid[1:])}",
            )
        return
    pieces = sid.split("-")
    if (
        SID_RE.match(sid)
        and len(pieces) > 7
        and pieces[2] == "5"
        and pieces[3] == "21"
        and all(fits_u32(p) for p in pieces[3:])
    ):
        domain_sid = "S-" + "-".join(pieces[1:7])
        rids = "-".join(pieces[7:])
        w.err(
            "sid-not-domain-sid",
            parts,
            f"{quote(sid)} is an account's SID (domain SID plus RID {rids}), not the "
            "domain's: CCG then fails with netlogon errors",
            f"use the domain SID {quote(domain_sid)}",
        )
        return
    if SID_RE.match(sid):
        w.err(
            "sid-not-domain-sid",
            parts,
            f"{quote(sid)} is not a domain SID (domain SIDs look like S-1-5-21-a-b-c)",
            f"use the domain's SID: {WHERE_DOMAIN}",
        )
        return
    w.err(
        "invalid-sid",
        parts,
        f"{quote(sid)} is not a SID (domain SIDs look like S-1-5-21-a-b-c)",
        f"use the domain's SID: {WHERE_DOMAIN}",
    )


def _check_guid(w: Walker, guid: str, parts: tuple[PathPart, ...]) -> None:
    form = w.guid(
        guid,
        parts,
        "invalid-guid",
        f"{quote(guid)} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
        f"use the domain's objectGUID: {WHERE_DOMAIN}",
    )
    if form is None:
        return
    if form.braced:
        w.err(
            "guid-braces",
            parts,
            f"{quote(guid)} has braces; the domain GUID is written without them",
            f"write {quote(form.canonical)}",
        )
    elif not form.dashed:
        w.err("invalid-guid", parts, "the GUID lacks its dashes", f"write {quote(form.canonical)}")
    elif guid != form.canonical:
        w.warn(
            "guid-uppercase",
            parts,
            "New-CredentialSpec writes the GUID in lowercase",
            f"write {quote(form.canonical)}",
        )
    if form.canonical.replace("-", "").strip("0") == "":
        w.err(
            "invalid-guid",
            parts,
            "the GUID is all zeros",
            f"use the domain's objectGUID: {WHERE_DOMAIN}",
        )


def _check_dns_name(w: Walker, text: str, parts: tuple[PathPart, ...]) -> None:
    if not is_dns_name(text):
        w.err(
            "invalid-dns-name",
            parts,
            f"{quote(text)} is not a DNS name (labels of letters, digits and '-', "
            "separated by dots)",
            f"use the domain's DNS name, e.g. example.com ({WHERE_DOMAIN})",
        )
    elif text.endswith("."):
        w.warn(
            "dns-name-trailing-dot",
            parts,
            "the DNS name ends with a dot",
            f"write {quote(text[:-1])}",
        )


def _check_netbios(w: Walker, text: str, parts: tuple[PathPart, ...], dns: str | None) -> None:
    if "." in text:
        first = text.split(".", 1)[0].upper() or "EXAMPLE"
        looks_dns = dns is not None and text.lower() == dns.strip().lower()
        w.err(
            "netbios-name-has-dot",
            parts,
            f"{quote(text)} holds a dot: that is a DNS name, not a NetBIOS name"
            if looks_dns
            else f"NetBIOS names cannot hold dots ({quote(text)})",
            f"use the domain's NetBIOS name (often {quote(first)}): (Get-ADDomain).NetBIOSName",
        )
    bad = sorted({ch for ch in text if ch in _NETBIOS_ILLEGAL or ord(ch) < 0x20})
    if bad:
        w.err(
            "netbios-name-illegal-character",
            parts,
            f"NetBIOS names cannot hold {' '.join(repr(c) for c in bad)}",
            "use the domain's NetBIOS name: (Get-ADDomain).NetBIOSName",
        )
    if len(text) > MAX_NETBIOS_NAME:
        w.err(
            "netbios-name-too-long",
            parts,
            f"NetBIOS names are at most {MAX_NETBIOS_NAME} characters, not {len(text)}",
            "use the domain's NetBIOS name: (Get-ADDomain).NetBIOSName",
        )


def check_account_name(w: Walker, text: str, parts: tuple[PathPart, ...]) -> None:
    """Rules shared by MachineAccountName and every account Name."""
    name = text.strip()
    suggestion = suggest_account_name(name)
    hint = f"write {quote(suggestion)}" if suggestion else "write the gMSA's name without $"
    if "\\" in name or "@" in name:
        w.err(
            "account-name-has-domain",
            parts,
            f"{quote(name)} includes a domain; the name is the sAMAccountName alone "
            "(the domain is in Scope and DomainJoinConfig)",
            hint,
        )
        return
    if name.endswith("$"):
        w.err(
            "account-name-dollar",
            parts,
            f"{quote(name)} ends with '$': write the gMSA's name without it "
            "(its sAMAccountName is the name plus $)",
            hint,
        )
        name = name.rstrip("$")
    bad = sorted({ch for ch in name if ch in _ACCOUNT_ILLEGAL or ord(ch) < 0x20 or ch.isspace()})
    if bad:
        w.err(
            "account-name-illegal-character",
            parts,
            f"{quote(name)} holds characters a gMSA name cannot: {' '.join(repr(c) for c in bad)}",
            "use the gMSA's name as shown by Get-ADServiceAccount (Name)",
        )
    if len(name) > MAX_ACCOUNT_NAME:
        w.err(
            "account-name-too-long",
            parts,
            f"{quote(name)} is {len(name)} characters; gMSA names are at most "
            f"{MAX_ACCOUNT_NAME} (the NetBIOS computer-name limit)",
            "use the gMSA's sAMAccountName without $ (Get-ADServiceAccount NAME)",
        )
    if name.startswith(".") or name.endswith("."):
        w.err(
            "account-name-illegal-character",
            parts,
            f"{quote(name)} starts or ends with a dot",
            "remove the dot",
        )
    elif "." in name:
        w.warn(
            "account-name-dot",
            parts,
            f"{quote(name)} holds a dot, which computer-style names avoid",
            "check the name against Get-ADServiceAccount",
        )
    if name.isdigit():
        w.err(
            "account-name-illegal-character",
            parts,
            f"{quote(name)} is all digits, which Windows does not allow for this kind of name",
            "use the gMSA's name as shown by Get-ADServiceAccount",
        )


__all__ = [
    "WHERE_DOMAIN",
    "check_account_name",
    "domain_join_config",
]
