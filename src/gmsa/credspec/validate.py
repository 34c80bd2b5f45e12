"""Parse and check credential specs: every problem as a finding with a JSON path and a fix.

CCG (Windows) and credentials-fetcher (Linux) fail late and opaquely on a wrong
spec: a domain SID copied from the account, a GUID in braces, a name with ``$``.
This module reads the document the way :mod:`gmsa.jsondoc` reads every JSON
input (BOMs, UTF-16, duplicate keys refused, size cap), then walks it once and
reports *all* problems at once, errors for what will fail and warnings for
what works but looks wrong. Unknown keys are kept (and warned about) so a spec
with vendor additions survives a round trip.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gmsa import jsondoc
from gmsa.credspec.model import (
    AZURE_KEYVAULT_PLUGIN_GUID,
    ECS_CCG_PLUGIN_GUID,
    CredentialSpec,
    DomainJoinConfig,
    GroupManagedServiceAccount,
    HostAccountConfig,
)
from gmsa.errors import InvalidInputError
from gmsa.findings import (
    Finding,
    error,
    errors_of,
    has_errors,
    json_path,
    warning,
    warnings_of,
)
from gmsa.jsondoc import type_name
from gmsa.reference import (
    PARTITIONS,
    SECRET_NAME_RE,
    InvalidReferenceError,
    SsmLocation,
    parse_location,
)

MAX_SPEC_BYTES: int = 64 * 1024
"""Largest spec accepted (the cap Kubernetes puts on an inline spec)."""

CREDENTIALS_FETCHER_MAX_BYTES = 4000
"""credentials-fetcher refuses S3 objects larger than this."""

MAX_ACCOUNT_NAME = 15
"""gMSA names follow the NetBIOS computer-name limit."""

KNOWN_CMS_PLUGINS = ("ActiveDirectory",)
"""The only CmsPlugins value CCG knows."""

KNOWN_PLUGINS: dict[str, str] = {
    ECS_CCG_PLUGIN_GUID.upper(): "AWS ECS CCG plugin",
    AZURE_KEYVAULT_PLUGIN_GUID.upper(): "Azure Key Vault CCG plugin",
}
"""CCG plugins by braced, uppercase CLSID, with a name for people."""

_TOP_KEYS = ("CmsPlugins", "DomainJoinConfig", "ActiveDirectoryConfig")
_DJC_KEYS = ("Sid", "MachineAccountName", "Guid", "DnsTreeName", "DnsName", "NetBiosName")
_ADC_KEYS = ("GroupManagedServiceAccounts", "HostAccountConfig")
_GMSA_KEYS = ("Name", "Scope")
_HAC_KEYS = ("PortableCcgVersion", "PluginGUID", "PluginInput")

_DOMAIN_SID_RE = re.compile(r"^S-1-5-21-(\d+)-(\d+)-(\d+)$", re.IGNORECASE)
_SID_RE = re.compile(r"^S-1-\d+(-\d+)*$", re.IGNORECASE)
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_HEX32_RE = re.compile(r"^[0-9a-fA-F]{32}$")
_DNS_LABEL_RE = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_REGION_RE = re.compile(r"^[a-z]{2,5}(-[a-z]+)+-\d{1,2}$")
_ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
_ACCOUNT_ILLEGAL = set('"/\\[]:;|=,+*?<>@$')
_NETBIOS_ILLEGAL = set('\\/:*?"<>|')
_SECRET_KEYS = ("password", "secretkey", "secretaccesskey")

_WHERE_DOMAIN = "Get-ADDomain | Select DomainSID, ObjectGUID, Forest, DNSRoot, NetBIOSName"

_PathPart = str | int


class CredentialSpecError(InvalidInputError):
    """A credential spec is not valid; :attr:`findings` holds every problem found.

    ``what``/``where``/``fix`` summarise the first error so the one-line
    diagnostics are useful on their own; ``to_dict`` carries all findings.
    """

    code = "invalid-credential-spec"

    def __init__(self, findings: Sequence[Finding], *, source: str) -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        self.source = source
        errors = errors_of(self.findings) or list(self.findings)
        if errors:
            first = errors[0]
            more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
            what = f"the credential spec is not valid: {first.message}{more}"
            where = f"{source}: {first.path}" if first.path else source
            fix = first.fix
        else:
            what, where, fix = "the credential spec is not valid", source, None
        super().__init__(what, where=where, fix=fix or "run: gmsa spec validate FILE")

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON, with every finding."""
        out = super().to_dict()
        out["findings"] = [f.to_dict() for f in self.findings]
        return out


@dataclass(frozen=True)
class SpecReport:
    """The outcome of checking one credential spec."""

    source: str
    """What was checked: a file path, an ARN, or ``<stdin>``."""
    spec: CredentialSpec | None
    """The typed spec; ``None`` when missing or mistyped fields prevent building it."""
    findings: tuple[Finding, ...]
    """Every error and warning, in document order."""

    @property
    def valid(self) -> bool:
        """Whether no finding is an error (warnings do not make a spec invalid)."""
        return not has_errors(self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Only the errors."""
        return tuple(errors_of(self.findings))

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Only the warnings."""
        return tuple(warnings_of(self.findings))

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON: source, valid, errors and warnings."""
        return {
            "source": self.source,
            "valid": self.valid,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
        }


# --------------------------------------------------------------------------- entry points


def check_bytes(data: bytes, *, source: str) -> SpecReport:
    """Check a spec as stored. Never raises for content: every problem is a finding."""
    if len(data) > MAX_SPEC_BYTES:
        return SpecReport(source, None, (_too_large(len(data)),))
    try:
        document = jsondoc.loads(data, source=source, max_bytes=MAX_SPEC_BYTES)
    except InvalidInputError as exc:
        return SpecReport(source, None, (_json_finding(exc, source),))
    report = check_document(document, source=source)
    if len(data) > CREDENTIALS_FETCHER_MAX_BYTES:
        size = warning(
            "larger-than-credentials-fetcher-limit",
            "",
            f"the spec is {len(data)} bytes; credentials-fetcher (Linux hosts) refuses specs "
            f"in S3 over {CREDENTIALS_FETCHER_MAX_BYTES} bytes",
            "remove unused keys and white space if Linux hosts will read it from S3",
        )
        report = SpecReport(report.source, report.spec, (*report.findings, size))
    return report


def check_document(document: Any, *, source: str) -> SpecReport:
    """Check an already parsed JSON value. Never raises: every problem is a finding."""
    checker = _Checker()
    spec = checker.run(document)
    return SpecReport(source, spec, tuple(checker.findings))


def load_spec(data: bytes, *, source: str) -> CredentialSpec:
    """Parse a spec that must be valid; raise :class:`CredentialSpecError` otherwise."""
    report = check_bytes(data, source=source)
    if not report.valid or report.spec is None:
        raise CredentialSpecError(report.findings, source=source)
    return report.spec


def check_path(path: Path) -> SpecReport:
    """Read and check a spec file; a missing, oversized or wrong file is an error finding.

    Only a file that exists but cannot be read (permissions, I/O) raises, as
    :class:`~gmsa.errors.ExternalError`: that is the file system's failure, not the spec's.
    """
    source = str(path)
    try:
        data = jsondoc.read_bytes(path, max_bytes=MAX_SPEC_BYTES, what="credential spec")
    except jsondoc.JsonDocumentError:
        try:
            size = path.stat().st_size
        except OSError:
            size = MAX_SPEC_BYTES + 1
        return SpecReport(source, None, (_too_large(size),))
    except InvalidInputError as exc:
        code = "not-a-file" if path.is_dir() else "file-not-found"
        return SpecReport(source, None, (error(code, "", exc.what, exc.fix),))
    return check_bytes(data, source=source)


def _too_large(size: int) -> Finding:
    return error(
        "spec-too-large",
        "",
        f"the document is larger than the {MAX_SPEC_BYTES}-byte limit of a credential spec "
        f"({size} bytes read)",
        "a credential spec is a few hundred bytes: check that this is the right file",
    )


def _json_finding(exc: InvalidInputError, source: str) -> Finding:
    """Turn a strict-JSON error into a finding whose message carries line and column."""
    message = exc.what
    where = exc.where or ""
    if where.startswith(source + ":"):
        line_col = where[len(source) + 1 :]
        line, _, col = line_col.partition(":")
        if line.isdigit() and col.isdigit():
            message = f"{message} (line {line}, column {col})"
    return error(exc.code, "", message, exc.fix)


# --------------------------------------------------------------------------- helpers


def normalize_guid(text: str) -> str | None:
    """The canonical form of a GUID written any common way, or None when it is not one.

    Accepts braces, upper case and the 32-hex form without dashes; returns
    lowercase, dashed, no braces (the form of ``DomainJoinConfig.Guid``).
    """
    inner = text.strip()
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1]
    if _HEX32_RE.match(inner):
        inner = f"{inner[:8]}-{inner[8:12]}-{inner[12:16]}-{inner[16:20]}-{inner[20:]}"
    return inner.lower() if _GUID_RE.match(inner) else None


def suggest_account_name(text: str) -> str:
    """What a user most likely meant: the bare name without domain, ``$`` or spaces."""
    name = text.strip()
    if "\\" in name:
        name = name.rsplit("\\", 1)[1]
    if "@" in name:
        name = name.split("@", 1)[0]
    return name.strip().rstrip("$").strip()


def _fits_u32(digits: str) -> bool:
    """Whether a SID part fits its 32 bits (checked on length first: no huge int parsing)."""
    return len(digits) <= 10 and int(digits) <= 0xFFFFFFFF


def _is_dns_name(text: str) -> bool:
    name = text[:-1] if text.endswith(".") else text
    if not name or len(name) > 253:
        return False
    return all(_DNS_LABEL_RE.match(label) for label in name.split("."))


# --------------------------------------------------------------------------- the checker


class _Checker:
    """One pass over a document; collects findings and unknown keys, builds the model."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.extra: dict[str, Any] = {}

    # -- reporting

    def err(
        self, code: str, parts: Sequence[_PathPart], message: str, fix: str | None = None
    ) -> None:
        self.findings.append(error(code, json_path(*parts), message, fix))

    def warn(
        self, code: str, parts: Sequence[_PathPart], message: str, fix: str | None = None
    ) -> None:
        self.findings.append(warning(code, json_path(*parts), message, fix))

    # -- field access

    def get(
        self,
        obj: dict[str, Any],
        key: str,
        parent: tuple[_PathPart, ...],
        known: Sequence[str],
        *,
        required: bool = True,
        missing_fix: str | None = None,
    ) -> tuple[bool, Any]:
        """Find ``key`` in ``obj``; a different spelling of its case is an error."""
        if key in obj:
            return True, obj[key]
        for name, value in obj.items():
            if name.lower() == key.lower():
                self.err(
                    "key-case",
                    (*parent, name),
                    f"{_q(name)} must be spelled {_q(key)}: spec readers match keys exactly",
                    f"rename {_q(name)} to {_q(key)}",
                )
                return True, value
        if required:
            strangers = [k for k in obj if k.lower() not in {n.lower() for n in known}]
            close = difflib.get_close_matches(key, strangers, n=1, cutoff=0.75)
            fix = (
                f"rename {_q(close[0])} to {_q(key)}" if close else missing_fix or f"add {_q(key)}"
            )
            self.err("missing-field", (*parent, key), f"{key} is missing", fix)
        return False, None

    def unknown_keys(
        self, obj: dict[str, Any], known: Sequence[str], parent: tuple[_PathPart, ...]
    ) -> None:
        lowered = {k.lower() for k in known}
        for name, value in obj.items():
            if name.lower() in lowered:
                continue
            path = (*parent, name)
            self.extra[json_path(*path)] = copy.deepcopy(value)
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
            self.warn(
                "unknown-key",
                path,
                f"unknown key {_q(name)}: it is kept, but CCG and credentials-fetcher ignore it",
                f"did you mean {_q(close[0])}?"
                if close
                else "remove it unless a tool of yours reads it",
            )

    def obj(self, value: Any, parts: tuple[_PathPart, ...], fix: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.err("wrong-type", parts, f"must be an object, not {type_name(value)}", fix)
        return None

    def string(self, value: Any, parts: tuple[_PathPart, ...], fix: str) -> str | None:
        """A non-empty string without surrounding white space, else an error and None."""
        if not isinstance(value, str):
            self.err("wrong-type", parts, f"must be a string, not {type_name(value)}", fix)
            return None
        if not value.strip():
            self.err("empty-field", parts, "is empty", fix)
            return None
        if value != value.strip():
            self.err(
                "surrounding-whitespace",
                parts,
                "has leading or trailing white space, which is kept as part of the value",
                f"write {_q(value.strip())}",
            )
        return value

    # -- the document

    def run(self, document: Any) -> CredentialSpec | None:
        if not isinstance(document, dict):
            self.err(
                "wrong-type",
                (),
                f"a credential spec is a JSON object, not {type_name(document)}",
                'give the spec file itself (it starts with {"CmsPlugins": ...})',
            )
            return None
        found, value = self.get(
            document,
            "CmsPlugins",
            (),
            _TOP_KEYS,
            missing_fix='add "CmsPlugins": ["ActiveDirectory"]',
        )
        plugins = self.cms_plugins(value) if found else None
        found, value = self.get(
            document,
            "DomainJoinConfig",
            (),
            _TOP_KEYS,
            missing_fix=f"add the domain's identity ({_WHERE_DOMAIN})",
        )
        djc = self.domain_join_config(value) if found else None
        found, value = self.get(
            document,
            "ActiveDirectoryConfig",
            (),
            _TOP_KEYS,
            missing_fix='add "ActiveDirectoryConfig": {"GroupManagedServiceAccounts": [...]}',
        )
        adc = self.active_directory_config(value, djc) if found else None
        self.unknown_keys(document, _TOP_KEYS, ())
        if plugins is None or djc is None or adc is None:
            return None
        accounts, host = adc
        return CredentialSpec(
            cms_plugins=plugins,
            domain_join_config=djc,
            group_managed_service_accounts=accounts,
            host_account_config=host,
            extra=dict(self.extra),
            raw=copy.deepcopy(document),
        )

    def cms_plugins(self, value: Any) -> tuple[str, ...] | None:
        parts: tuple[_PathPart, ...] = ("CmsPlugins",)
        fix = 'write "CmsPlugins": ["ActiveDirectory"]'
        if not isinstance(value, list):
            self.err(
                "wrong-type",
                parts,
                f"must be an array of strings, not {type_name(value)}",
                fix,
            )
            return None
        ok = True
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.err(
                    "wrong-type",
                    (*parts, index),
                    f"must be a string, not {type_name(item)}",
                    fix,
                )
                ok = False
        if not ok:
            return None
        plugins = tuple(value)
        if "ActiveDirectory" not in plugins:
            near = [p for p in plugins if p.strip().lower() == "activedirectory"]
            self.err(
                "cms-plugins-no-active-directory",
                parts,
                'CmsPlugins does not contain "ActiveDirectory"'
                + (f" (found {_q(near[0])}: the name is case-sensitive)" if near else "")
                + ": CCG then does nothing for the container",
                fix,
            )
        for index, item in enumerate(plugins):
            if item not in KNOWN_CMS_PLUGINS and item.strip().lower() != "activedirectory":
                self.warn(
                    "unknown-cms-plugin",
                    (*parts, index),
                    f"unknown CMS plugin {_q(item)}",
                    'CCG knows only "ActiveDirectory"',
                )
        if len({p.lower() for p in plugins}) != len(plugins):
            self.warn("duplicate-cms-plugin", parts, "a plugin is listed twice", fix)
        return plugins

    # -- DomainJoinConfig

    def domain_join_config(self, value: Any) -> DomainJoinConfig | None:
        base: tuple[_PathPart, ...] = ("DomainJoinConfig",)
        obj = self.obj(value, base, f"write the domain's identity ({_WHERE_DOMAIN})")
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
        for key in _DJC_KEYS:
            found, raw = self.get(
                obj, key, base, _DJC_KEYS, missing_fix=f"add {_q(key)}: {hints[key]}"
            )
            fields[key] = (
                self.string(raw, (*base, key), f"set it to {hints[key]}") if found else None
            )
        self.unknown_keys(obj, _DJC_KEYS, base)
        sid, name, guid = fields["Sid"], fields["MachineAccountName"], fields["Guid"]
        tree, dns, netbios = fields["DnsTreeName"], fields["DnsName"], fields["NetBiosName"]
        if sid is not None:
            self.check_sid(sid.strip(), (*base, "Sid"))
        if name is not None:
            self.check_account_name(name, (*base, "MachineAccountName"))
        if guid is not None:
            self.check_guid(guid.strip(), (*base, "Guid"))
        for key, text in (("DnsTreeName", tree), ("DnsName", dns)):
            if text is not None:
                self.check_dns_name(text.strip(), (*base, key))
        if netbios is not None:
            self.check_netbios(netbios.strip(), (*base, "NetBiosName"), dns)
        if (
            tree is not None
            and dns is not None
            and _is_dns_name(tree.strip())
            and _is_dns_name(dns.strip())
        ):
            t, d = tree.strip().rstrip(".").lower(), dns.strip().rstrip(".").lower()
            if d != t and not d.endswith("." + t):
                self.warn(
                    "domain-outside-tree",
                    (*base, "DnsTreeName"),
                    f"the domain {_q(dns)} is not inside the forest root {_q(tree)}",
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

    def check_sid(self, sid: str, parts: tuple[_PathPart, ...]) -> None:
        match = _DOMAIN_SID_RE.match(sid)
        if match:
            if not all(_fits_u32(g) for g in match.groups()):
                self.err(
                    "invalid-sid",
                    parts,
                    f"{_q(sid)} has a part larger than 32 bits",
                    f"copy the domain's SID again: {_WHERE_DOMAIN}",
                )
            elif not sid.startswith("S-"):
                self.warn(
                    "sid-lowercase",
                    parts,
                    "the SID starts with a lowercase 's'",
                    f"write {_q('S' + sid[1:])}",
                )
            return
        pieces = sid.split("-")
        if (
            _SID_RE.match(sid)
            and len(pieces) > 7
            and pieces[2] == "5"
            and pieces[3] == "21"
            and all(_fits_u32(p) for p in pieces[3:])
        ):
            domain_sid = "S-" + "-".join(pieces[1:7])
            rids = "-".join(pieces[7:])
            self.err(
                "sid-not-domain-sid",
                parts,
                f"{_q(sid)} is an account's SID (domain SID plus RID {rids}), not the "
                "domain's: CCG then fails with netlogon errors",
                f"use the domain SID {_q(domain_sid)}",
            )
            return
        if _SID_RE.match(sid):
            self.err(
                "sid-not-domain-sid",
                parts,
                f"{_q(sid)} is not a domain SID (domain SIDs look like S-1-5-21-a-b-c)",
                f"use the domain's SID: {_WHERE_DOMAIN}",
            )
            return
        self.err(
            "invalid-sid",
            parts,
            f"{_q(sid)} is not a SID (domain SIDs look like S-1-5-21-a-b-c)",
            f"use the domain's SID: {_WHERE_DOMAIN}",
        )

    def check_guid(self, guid: str, parts: tuple[_PathPart, ...]) -> None:
        canonical = normalize_guid(guid)
        if canonical is None:
            self.err(
                "invalid-guid",
                parts,
                f"{_q(guid)} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                f"use the domain's objectGUID: {_WHERE_DOMAIN}",
            )
        elif guid.startswith("{") or guid.endswith("}"):
            self.err(
                "guid-braces",
                parts,
                "the domain GUID is written without braces",
                f"write {_q(canonical)}",
            )
        elif not _GUID_RE.match(guid):
            self.err("invalid-guid", parts, "the GUID lacks its dashes", f"write {_q(canonical)}")
        elif guid != canonical:
            self.warn(
                "guid-uppercase",
                parts,
                "New-CredentialSpec writes the GUID in lowercase",
                f"write {_q(canonical)}",
            )
        if canonical is not None and canonical.replace("-", "").strip("0") == "":
            self.err(
                "invalid-guid",
                parts,
                "the GUID is all zeros",
                f"use the domain's objectGUID: {_WHERE_DOMAIN}",
            )

    def check_dns_name(self, text: str, parts: tuple[_PathPart, ...]) -> None:
        if not _is_dns_name(text):
            self.err(
                "invalid-dns-name",
                parts,
                f"{_q(text)} is not a DNS name (labels of letters, digits and '-', "
                "separated by dots)",
                f"use the domain's DNS name, e.g. example.com ({_WHERE_DOMAIN})",
            )
        elif text.endswith("."):
            self.warn(
                "dns-name-trailing-dot",
                parts,
                "the DNS name ends with a dot",
                f"write {_q(text[:-1])}",
            )

    def check_netbios(self, text: str, parts: tuple[_PathPart, ...], dns: str | None) -> None:
        if "." in text:
            first = text.split(".", 1)[0].upper() or "EXAMPLE"
            looks_dns = dns is not None and text.lower() == dns.strip().lower()
            self.err(
                "netbios-name-has-dot",
                parts,
                f"{_q(text)} holds a dot: that is a DNS name, not a NetBIOS name"
                if looks_dns
                else f"NetBIOS names cannot hold dots ({_q(text)})",
                f"use the domain's NetBIOS name (often {_q(first)}): (Get-ADDomain).NetBIOSName",
            )
        bad = sorted({ch for ch in text if ch in _NETBIOS_ILLEGAL or ord(ch) < 0x20})
        if bad:
            self.err(
                "netbios-name-illegal-character",
                parts,
                f"NetBIOS names cannot hold {' '.join(repr(c) for c in bad)}",
                "use the domain's NetBIOS name: (Get-ADDomain).NetBIOSName",
            )
        if len(text) > MAX_ACCOUNT_NAME:
            self.err(
                "netbios-name-too-long",
                parts,
                f"NetBIOS names are at most {MAX_ACCOUNT_NAME} characters, not {len(text)}",
                "use the domain's NetBIOS name: (Get-ADDomain).NetBIOSName",
            )

    def check_account_name(self, text: str, parts: tuple[_PathPart, ...]) -> None:
        """Rules shared by MachineAccountName and every account Name."""
        name = text.strip()
        suggestion = suggest_account_name(name)
        hint = f"write {_q(suggestion)}" if suggestion else "write the gMSA's name without $"
        if "\\" in name or "@" in name:
            self.err(
                "account-name-has-domain",
                parts,
                f"{_q(name)} includes a domain; the name is the sAMAccountName alone "
                "(the domain is in Scope and DomainJoinConfig)",
                hint,
            )
            return
        if name.endswith("$"):
            self.err(
                "account-name-dollar",
                parts,
                f"{_q(name)} ends with '$': write the gMSA's name without it "
                "(its sAMAccountName is the name plus $)",
                hint,
            )
            name = name.rstrip("$")
        bad = sorted(
            {ch for ch in name if ch in _ACCOUNT_ILLEGAL or ord(ch) < 0x20 or ch.isspace()}
        )
        if bad:
            self.err(
                "account-name-illegal-character",
                parts,
                f"{_q(name)} holds characters a gMSA name cannot: {' '.join(repr(c) for c in bad)}",
                "use the gMSA's name as shown by Get-ADServiceAccount (Name)",
            )
        if len(name) > MAX_ACCOUNT_NAME:
            self.err(
                "account-name-too-long",
                parts,
                f"{_q(name)} is {len(name)} characters; gMSA names are at most "
                f"{MAX_ACCOUNT_NAME} (the NetBIOS computer-name limit)",
                "use the gMSA's sAMAccountName without $ (Get-ADServiceAccount NAME)",
            )
        if name.startswith(".") or name.endswith("."):
            self.err(
                "account-name-illegal-character",
                parts,
                f"{_q(name)} starts or ends with a dot",
                "remove the dot",
            )
        elif "." in name:
            self.warn(
                "account-name-dot",
                parts,
                f"{_q(name)} holds a dot, which computer-style names avoid",
                "check the name against Get-ADServiceAccount",
            )
        if name.isdigit():
            self.err(
                "account-name-illegal-character",
                parts,
                f"{_q(name)} is all digits, which Windows does not allow for this kind of name",
                "use the gMSA's name as shown by Get-ADServiceAccount",
            )

    # -- ActiveDirectoryConfig

    def active_directory_config(
        self, value: Any, djc: DomainJoinConfig | None
    ) -> tuple[tuple[GroupManagedServiceAccount, ...], HostAccountConfig | None] | None:
        base: tuple[_PathPart, ...] = ("ActiveDirectoryConfig",)
        obj = self.obj(
            value, base, 'write {"GroupManagedServiceAccounts": [{"Name": ..., "Scope": ...}]}'
        )
        if obj is None:
            return None
        found, raw = self.get(
            obj,
            "GroupManagedServiceAccounts",
            base,
            _ADC_KEYS,
            missing_fix='add "GroupManagedServiceAccounts": '
            '[{"Name": "<gMSA>", "Scope": "<domain DNS name>"}]',
        )
        accounts = self.accounts(raw, djc) if found else None
        host: HostAccountConfig | None = None
        host_ok = True
        found, raw = self.get(obj, "HostAccountConfig", base, _ADC_KEYS, required=False)
        if found:
            host = self.host_account_config(raw)
            host_ok = host is not None
        self.unknown_keys(obj, _ADC_KEYS, base)
        if accounts is None or not host_ok:
            return None
        return accounts, host

    def accounts(
        self, value: Any, djc: DomainJoinConfig | None
    ) -> tuple[GroupManagedServiceAccount, ...] | None:
        base: tuple[_PathPart, ...] = ("ActiveDirectoryConfig", "GroupManagedServiceAccounts")
        example = '[{"Name": "WebApp01", "Scope": "example.com"}]'
        if isinstance(value, dict):
            self.err(
                "wrong-type",
                base,
                "must be an array of accounts, not a single object",
                "wrap the object in [ ]",
            )
            return None
        if not isinstance(value, list):
            self.err(
                "wrong-type",
                base,
                f"must be an array of accounts, not {type_name(value)}",
                f"write {example}",
            )
            return None
        if not value:
            self.err("no-accounts", base, "lists no account", f"add the gMSA, e.g. {example}")
            return None
        accounts: list[GroupManagedServiceAccount] = []
        ok = True
        seen: set[tuple[str, str]] = set()
        for index, item in enumerate(value):
            parts = (*base, index)
            entry = self.obj(item, parts, 'write {"Name": "<gMSA>", "Scope": "<domain>"}')
            if entry is None:
                ok = False
                continue
            found_n, raw_n = self.get(
                entry, "Name", parts, _GMSA_KEYS, missing_fix='add "Name": the gMSA name without $'
            )
            found_s, raw_s = self.get(
                entry, "Scope", parts, _GMSA_KEYS, missing_fix='add "Scope": the domain\'s DNS name'
            )
            name = (
                self.string(raw_n, (*parts, "Name"), "set it to the gMSA's name without $")
                if found_n
                else None
            )
            scope = (
                self.string(raw_s, (*parts, "Scope"), "set it to the domain's DNS or NetBIOS name")
                if found_s
                else None
            )
            self.unknown_keys(entry, _GMSA_KEYS, parts)
            if name is not None:
                self.check_account_name(name, (*parts, "Name"))
            if scope is not None:
                self.check_scope(scope.strip(), (*parts, "Scope"), djc)
            if name is None or scope is None:
                ok = False
                continue
            key = (name.strip().lower(), scope.strip().rstrip(".").lower())
            if key in seen:
                self.warn(
                    "duplicate-account",
                    parts,
                    f"{_q(name)} with scope {_q(scope)} is listed twice",
                    "remove the copy",
                )
            seen.add(key)
            accounts.append(GroupManagedServiceAccount(name=name, scope=scope))
        if ok and djc is not None:
            self.check_main_account(tuple(accounts), djc)
        return tuple(accounts) if ok else None

    def check_scope(
        self, scope: str, parts: tuple[_PathPart, ...], djc: DomainJoinConfig | None
    ) -> None:
        if "\\" in scope or "@" in scope or "/" in scope:
            self.err(
                "invalid-scope",
                parts,
                f"{_q(scope)} is not a domain name; Scope is the account's domain "
                "(DNS or NetBIOS name)",
                f"write {_q(djc.dns_name)}" if djc else "write the domain's DNS name",
            )
            return
        if djc is None:
            return
        known = {djc.dns_name.strip().rstrip(".").lower(), djc.netbios_name.strip().lower()}
        if scope.rstrip(".").lower() not in known:
            self.warn(
                "scope-unknown-domain",
                parts,
                f"scope {_q(scope)} matches neither DnsName {_q(djc.dns_name)} nor "
                f"NetBiosName {_q(djc.netbios_name)}",
                "fine for an account of another trusted domain; otherwise write "
                f"{_q(djc.dns_name)} or {_q(djc.netbios_name)}",
            )

    def check_main_account(
        self, accounts: tuple[GroupManagedServiceAccount, ...], djc: DomainJoinConfig
    ) -> None:
        # Compare the names as meant, so a "$" or a domain reported on its own field does
        # not also make the main account look unlisted.
        main = suggest_account_name(djc.machine_account_name) or djc.machine_account_name
        mine = [a for a in accounts if suggest_account_name(a.name).lower() == main.lower()]
        dns_entry = {"Name": main, "Scope": djc.dns_name}
        netbios_entry = {"Name": main, "Scope": djc.netbios_name}
        base = ("ActiveDirectoryConfig", "GroupManagedServiceAccounts")
        if not mine:
            listed = ", ".join(repr(a.name) for a in accounts)
            self.err(
                "main-account-not-listed",
                ("DomainJoinConfig", "MachineAccountName"),
                f"MachineAccountName {_q(main)} is not among GroupManagedServiceAccounts "
                f"({listed})",
                f"add {_compact(dns_entry)} and {_compact(netbios_entry)}, or set "
                "MachineAccountName to the main gMSA",
            )
            return
        scopes = {a.scope.strip().rstrip(".").lower() for a in mine}
        if djc.dns_name.strip().rstrip(".").lower() not in scopes:
            self.err(
                "main-account-no-dns-scope",
                base,
                f"the main account {_q(main)} has no entry with Scope {_q(djc.dns_name)} "
                "(the domain's DNS name)",
                f"add {_compact(dns_entry)}",
            )
        if djc.netbios_name.strip().lower() not in scopes:
            self.warn(
                "main-account-no-netbios-scope",
                base,
                f"the main account {_q(main)} has no entry with Scope "
                f"{_q(djc.netbios_name)} (the NetBIOS name); New-CredentialSpec writes one",
                f"add {_compact(netbios_entry)}",
            )

    # -- HostAccountConfig

    def host_account_config(self, value: Any) -> HostAccountConfig | None:
        base: tuple[_PathPart, ...] = ("ActiveDirectoryConfig", "HostAccountConfig")
        obj = self.obj(
            value,
            base,
            '{"PortableCcgVersion": "1", "PluginGUID": '
            f'"{ECS_CCG_PLUGIN_GUID}", "PluginInput": ...}}',
        )
        if obj is None:
            return None
        found_v, raw_v = self.get(
            obj, "PortableCcgVersion", base, _HAC_KEYS, missing_fix='add "PortableCcgVersion": "1"'
        )
        found_g, raw_g = self.get(
            obj,
            "PluginGUID",
            base,
            _HAC_KEYS,
            missing_fix=f'add "PluginGUID": "{ECS_CCG_PLUGIN_GUID}" (the ECS CCG plugin)',
        )
        found_i, raw_i = self.get(
            obj,
            "PluginInput",
            base,
            _HAC_KEYS,
            missing_fix='add "PluginInput", e.g. {"credentialArn": '
            '"arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME"}',
        )
        self.unknown_keys(obj, _HAC_KEYS, base)
        version: str | None = None
        if found_v:
            version = self.portable_ccg_version(raw_v, (*base, "PortableCcgVersion"))
        plugin: str | None = None
        if found_g:
            plugin = self.string(
                raw_g,
                (*base, "PluginGUID"),
                f'set it to the plugin\'s CLSID, e.g. "{ECS_CCG_PLUGIN_GUID}"',
            )
            if plugin is not None:
                self.check_plugin_guid(plugin.strip(), (*base, "PluginGUID"))
        plugin_input: dict[str, Any] | str | None = None
        if found_i:
            plugin_input = self.plugin_input(raw_i, (*base, "PluginInput"), plugin)
        if version is None or plugin is None or plugin_input is None:
            return None
        return HostAccountConfig(
            portable_ccg_version=version,
            plugin_guid=plugin,
            plugin_input=copy.deepcopy(plugin_input),
            plugin_input_is_string=isinstance(plugin_input, str),
        )

    def portable_ccg_version(self, value: Any, parts: tuple[_PathPart, ...]) -> str | None:
        if isinstance(value, int | float) and not isinstance(value, bool) and value == 1:
            self.err(
                "wrong-type",
                parts,
                'must be the string "1", not a number',
                'write "PortableCcgVersion": "1"',
            )
            return None
        text = self.string(value, parts, 'write "PortableCcgVersion": "1"')
        if text is not None and text.strip() != "1":
            self.err(
                "unsupported-portable-ccg-version",
                parts,
                f'PortableCcgVersion {_q(text)} is unknown; CCG supports only "1"',
                'write "PortableCcgVersion": "1"',
            )
        return text

    def check_plugin_guid(self, text: str, parts: tuple[_PathPart, ...]) -> None:
        canonical = normalize_guid(text)
        if canonical is None:
            self.err(
                "invalid-plugin-guid",
                parts,
                f"{_q(text)} is not a CLSID",
                f"use the plugin's CLSID in braces, e.g. {ECS_CCG_PLUGIN_GUID} "
                "(the ECS CCG plugin)",
            )
            return
        braced = "{" + canonical.upper() + "}"
        name = KNOWN_PLUGINS.get(braced)
        if not (text.startswith("{") and text.endswith("}")):
            self.err(
                "plugin-guid-no-braces",
                parts,
                "PluginGUID is a CLSID and is written in braces",
                f"write {_q(braced)}"
                if name or canonical == text.lower()
                else f"write {_q('{' + text.strip('{}') + '}')}",
            )
        elif not _GUID_RE.match(text[1:-1]):
            self.err(
                "invalid-plugin-guid", parts, "the CLSID lacks its dashes", f"write {_q(braced)}"
            )
        if name is None:
            self.warn(
                "unknown-plugin",
                parts,
                f"{braced} is not a CCG plugin gmsa knows (ECS: {ECS_CCG_PLUGIN_GUID}, "
                f"Azure Key Vault: {AZURE_KEYVAULT_PLUGIN_GUID})",
                "check the CLSID the plugin registered on the host",
            )

    def plugin_input(
        self, value: Any, parts: tuple[_PathPart, ...], plugin: str | None
    ) -> dict[str, Any] | str | None:
        if not isinstance(value, str | dict):
            self.err(
                "wrong-type",
                parts,
                f"must be a JSON string or an object, not {type_name(value)}",
                'write {"credentialArn": "arn:aws:secretsmanager:..."} (or the same '
                "as a JSON string)",
            )
            return None
        canonical = normalize_guid(plugin.strip()) if plugin else None
        is_ecs = (
            canonical is not None and "{" + canonical.upper() + "}" == ECS_CCG_PLUGIN_GUID.upper()
        )
        obj = value if isinstance(value, dict) else self.plugin_input_string(value, parts, is_ecs)
        if obj is not None:
            self.no_secrets(obj, parts)
            if is_ecs:
                self.ecs_plugin_input(obj, parts, string_shaped=isinstance(value, str))
        return value

    def plugin_input_string(
        self, text: str, parts: tuple[_PathPart, ...], is_ecs: bool
    ) -> dict[str, Any] | None:
        """The object inside a string-shaped PluginInput; an error when the ECS plugin's is not."""
        if not text.strip():
            if is_ecs:
                self.err(
                    "empty-field",
                    parts,
                    "PluginInput is empty",
                    'write "{\\"credentialArn\\": \\"arn:aws:secretsmanager:...\\"}"',
                )
            return None
        try:
            inner = jsondoc.loads(text, source=json_path(*parts))
        except InvalidInputError as exc:
            if is_ecs:
                self.err(
                    "plugin-input-not-json",
                    parts,
                    f"PluginInput is a string but not JSON: {exc.what}",
                    'write it as "{\\"credentialArn\\": \\"arn:aws:secretsmanager:...\\"}" '
                    "or as an object",
                )
            return None
        if not isinstance(inner, dict):
            if is_ecs:
                self.err(
                    "plugin-input-not-json",
                    parts,
                    f"PluginInput holds JSON {type_name(inner)}, not an object",
                    'write "{\\"credentialArn\\": \\"arn:aws:secretsmanager:...\\"}"',
                )
            return None
        return inner

    def no_secrets(self, obj: dict[str, Any], parts: tuple[_PathPart, ...]) -> None:
        for key in obj:
            if key.lower().replace("_", "") in _SECRET_KEYS:
                self.err(
                    "secret-in-spec",
                    (*parts, key),
                    f"PluginInput holds {_q(key)}: a credential spec is not secret storage "
                    "and is readable by whoever may read the task",
                    "store the credentials in Secrets Manager and give its ARN as credentialArn",
                )

    def ecs_plugin_input(
        self, obj: dict[str, Any], parts: tuple[_PathPart, ...], *, string_shaped: bool
    ) -> None:
        keys = [k for k in obj if k.lower() == "credentialarn"]
        spelled = "credentialArn" if string_shaped else "CredentialArn"
        if not keys:
            self.err(
                "plugin-input-no-credential-arn",
                parts,
                "the ECS CCG plugin needs credentialArn: the ARN of the secret holding "
                "the domain user's username, password and domainName",
                f'add "{spelled}": "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME"',
            )
            return
        if len(keys) > 1:
            self.err(
                "plugin-input-ambiguous-credential-arn",
                (*parts, keys[1]),
                f"PluginInput holds {', '.join(repr(k) for k in keys)}; readers differ "
                "on which one counts",
                f"keep only {_q(keys[0])}",
            )
        key = keys[0]
        path = (*parts, key)
        arn = obj[key]
        if not isinstance(arn, str):
            self.err(
                "wrong-type",
                path,
                f"must be a string, not {type_name(arn)}",
                "write the secret's ARN",
            )
            return
        service = self.check_credential_arn(arn, path)
        if service == "ssm" and not string_shaped:
            self.warn(
                "ssm-credential-on-linux",
                path,
                "an object-shaped PluginInput is the Linux form, and credentials-fetcher "
                "reads the domain user from Secrets Manager only (SSM works on Windows)",
                "store the user in Secrets Manager and give that ARN",
            )

    def check_credential_arn(self, arn: str, parts: tuple[_PathPart, ...]) -> str | None:
        """Check a Secrets Manager secret or SSM parameter ARN; return its service when valid."""
        example = "arn:aws:secretsmanager:us-east-1:111122223333:secret:gmsa-user-AbCdEf"
        fields = arn.split(":", 6)
        if len(fields) < 6 or fields[0] != "arn":
            self.err(
                "invalid-credential-arn",
                parts,
                f"{_q(arn)} is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)",
                f"use the secret's ARN, e.g. {example}",
            )
            return None
        partition, service, region, account = fields[1:5]
        if service == "ssm":
            try:
                location = parse_location(arn)
            except InvalidReferenceError as exc:
                self.err("invalid-credential-arn", parts, f"{exc.part}: {exc.what}", exc.fix)
                return None
            return "ssm" if isinstance(location, SsmLocation) else None
        if service != "secretsmanager":
            self.err(
                "invalid-credential-arn",
                parts,
                f"service {_q(service)}: the ECS plugin reads the domain user from a Secrets "
                "Manager secret or an SSM parameter",
                f"use the secret's ARN, e.g. {example}",
            )
            return None
        ok = True
        if partition not in PARTITIONS:
            close = difflib.get_close_matches(partition, list(PARTITIONS), n=1)
            self.err(
                "invalid-credential-arn",
                parts,
                f"unknown partition {_q(partition)}",
                f"did you mean {_q(close[0])}?" if close else f"use one of {', '.join(PARTITIONS)}",
            )
            ok = False
        if not _REGION_RE.match(region):
            self.err(
                "invalid-credential-arn",
                parts,
                f"{_q(region)} is not a region",
                "use the secret's region, e.g. us-east-1",
            )
            ok = False
        elif partition in PARTITIONS:
            prefix = PARTITIONS[partition]
            wrong = (
                (not region.startswith(prefix))
                if prefix
                else any(region.startswith(p) for p in PARTITIONS.values() if p)
            )
            if wrong:
                self.err(
                    "invalid-credential-arn",
                    parts,
                    f"region {_q(region)} is not in partition {_q(partition)}",
                    "make the partition and region agree (aws-cn: cn-*, aws-us-gov: us-gov-*)",
                )
                ok = False
        if not _ACCOUNT_ID_RE.match(account):
            self.err(
                "invalid-credential-arn",
                parts,
                f"the account id {_q(account)} is not 12 digits",
                "copy the secret's ARN from Secrets Manager",
            )
            ok = False
        resource = ":".join(fields[5:])
        kind, _, name = resource.partition(":")
        if kind != "secret" or not SECRET_NAME_RE.match(name):
            self.err(
                "invalid-credential-arn",
                parts,
                "a Secrets Manager ARN ends in secret:NAME",
                f"copy the secret's ARN, e.g. {example}",
            )
            ok = False
        return "secretsmanager" if ok else None


def _compact(entry: dict[str, str]) -> str:
    return json.dumps(entry, ensure_ascii=False)


def _q(value: Any) -> str:
    """Quote a value the way it appears in the JSON file, so it can be found and pasted."""
    return json.dumps(value, ensure_ascii=False)
