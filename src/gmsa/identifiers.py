"""Identifiers written as text: Active Directory account names, SIDs, GUIDs, DNS and
NetBIOS names; AWS region names.

The credential spec checks, its JSON Schema and the directory commands all
read these; the rules live here once so that a name ``gmsa spec validate``
accepts is one ``gmsa spec new`` and ``gmsa doctor`` accept too. Nothing here
talks to a directory or knows about credential specs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_NETBIOS_NAME = 15
"""NetBIOS names, of a domain or of a computer, have at most 15 characters."""

MAX_ACCOUNT_NAME = MAX_NETBIOS_NAME
"""A gMSA's name without ``$`` follows the NetBIOS computer-name limit."""

ACCOUNT_NAME_ILLEGAL = '"/\\[]:;|=,+*?<>@'
"""Characters a sAMAccountName may not hold (besides control characters)."""

NETBIOS_NAME_ILLEGAL = '\\/:*?"<>|'
"""Characters a NetBIOS name may not hold (besides dots and control characters)."""

GUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
"""A GUID in its dashed form, without braces (regular expression, unanchored)."""

DNS_LABEL_PATTERN = "[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
"""One label of a DNS name as AD accepts it (underscores included; unanchored)."""

DOMAIN_SID_RE = re.compile(r"^S-1-5-21-(\d+)-(\d+)-(\d+)$", re.IGNORECASE)
"""A domain SID: ``S-1-5-21`` and three sub-authorities (their sizes are checked apart)."""

SID_RE = re.compile(r"^S-1-\d+(-\d+)*$", re.IGNORECASE)
"""Any SID in its text form."""

REGION_RE = re.compile(r"^[a-z]{2,5}(-[a-z]+)+-\d{1,2}$")
"""An AWS region name such as ``us-east-1`` or ``us-gov-west-1``: the pattern every
region follows, not a list (a new region needs no new gmsa)."""

_GUID_RE = re.compile(f"^{GUID_PATTERN}$")
_HEX32_RE = re.compile(r"^[0-9a-fA-F]{32}$")
_DNS_LABEL_RE = re.compile(f"^{DNS_LABEL_PATTERN}$")


@dataclass(frozen=True)
class GuidForm:
    """How a GUID is written: what it is, and whether its braces and dashes are there."""

    canonical: str
    """Lowercase, dashed, no braces (the form of ``DomainJoinConfig.Guid``)."""
    braced: bool
    """Written in braces (the form of a CLSID)."""
    dashed: bool
    """Written with its dashes."""

    @property
    def clsid(self) -> str:
        """The CLSID form: uppercase, dashed, in braces (the form of ``PluginGUID``)."""
        return "{" + self.canonical.upper() + "}"


def guid_form(text: str) -> GuidForm | None:
    """The GUID written in ``text`` any common way, or None when it is not one.

    Accepts braces, upper case and the 32-hex form without dashes.
    """
    inner = text.strip()
    braced = inner.startswith("{") and inner.endswith("}")
    if braced:
        inner = inner[1:-1]
    dashed = True
    if _HEX32_RE.match(inner):
        inner = f"{inner[:8]}-{inner[8:12]}-{inner[12:16]}-{inner[16:20]}-{inner[20:]}"
        dashed = False
    return GuidForm(inner.lower(), braced, dashed) if _GUID_RE.match(inner) else None


def fits_u32(digits: str) -> bool:
    """Whether a SID part fits its 32 bits (checked on length first: no huge int parsing)."""
    return len(digits) <= 10 and int(digits) <= 0xFFFFFFFF


def is_dns_name(text: str) -> bool:
    """Whether ``text`` is a DNS name (a trailing dot allowed)."""
    name = text[:-1] if text.endswith(".") else text
    if not name or len(name) > 253:
        return False
    return all(_DNS_LABEL_RE.match(label) for label in name.split("."))


def without_domain(text: str) -> str:
    """An account name as typed, without ``DOMAIN\\\\`` before it or ``@domain`` after it."""
    name = text.strip()
    if "\\" in name:
        name = name.rsplit("\\", 1)[1]
    if "@" in name:
        name = name.split("@", 1)[0]
    return name


def normalize_name(text: str) -> str:
    """An account name as typed, without domain or trailing ``$``: ``EXAMPLE\\\\WebApp01$``,
    ``WebApp01$@example.com`` and ``WebApp01`` all give ``WebApp01``."""
    return without_domain(text).removesuffix("$")


def suggest_account_name(text: str) -> str:
    """What a user most likely meant: the bare name without domain, ``$`` or spaces."""
    return without_domain(text).strip().rstrip("$").strip()


def name_problem(name: str) -> str | None:
    """Why ``name`` (without ``$``) cannot be a gMSA name, or None."""
    if not name:
        return "the name is empty"
    if len(name) > MAX_ACCOUNT_NAME:
        return f"{name!r} has {len(name)} characters; a gMSA name has at most {MAX_ACCOUNT_NAME}"
    bad = next((ch for ch in name if ch in ACCOUNT_NAME_ILLEGAL), None)
    if bad is not None:
        return f"{name!r} contains {bad!r}, which account names may not"
    return None


__all__ = [
    "ACCOUNT_NAME_ILLEGAL",
    "DNS_LABEL_PATTERN",
    "DOMAIN_SID_RE",
    "GUID_PATTERN",
    "MAX_ACCOUNT_NAME",
    "MAX_NETBIOS_NAME",
    "NETBIOS_NAME_ILLEGAL",
    "REGION_RE",
    "SID_RE",
    "GuidForm",
    "fits_u32",
    "guid_form",
    "is_dns_name",
    "name_problem",
    "normalize_name",
    "suggest_account_name",
    "without_domain",
]
