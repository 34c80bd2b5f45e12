"""A credential spec as Kubernetes objects, the way the windows-gmsa webhook reads them.

The kubernetes-sigs/windows-gmsa webhook defines the cluster-scoped CRD
``gmsacredentialspecs.windows.k8s.io``: kind ``GMSACredentialSpec``, served as
``windows.k8s.io/v1``, the spec under ``credspec``. A pod names the object in
``securityContext.windowsOptions.gmsaCredentialSpecName``; the webhook admits it
only when the pod's service account may ``use`` that object, and then inlines
the spec. So one export is three objects: the GMSACredentialSpec, a ClusterRole
granting ``use`` on exactly that name, and a RoleBinding that gives the role to
one service account.

The CRD's schema is structural and does not preserve unknown fields, and it types
``PluginInput`` as a string: the API server would silently drop unknown keys and
reject an object-shaped PluginInput. The export therefore writes only the keys the
CRD defines, PluginInput as a JSON string (what CCG on Windows reads), and says so
in a warning instead of letting the cluster change the spec behind the user's back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

import yaml

from gmsa.credspec.model import CredentialSpec
from gmsa.credspec.render import to_document
from gmsa.errors import InvalidInputError
from gmsa.findings import Finding, json_path, warning

GROUP = "windows.k8s.io"
"""The API group of the CRD."""
API_VERSION = f"{GROUP}/v1"
"""The served and stored version of GMSACredentialSpec."""
KIND = "GMSACredentialSpec"
"""The CRD's kind."""
RESOURCE = "gmsacredentialspecs"
"""The CRD's plural, the resource RBAC rules name."""
USE_VERB = "use"
"""The verb the webhook checks the pod's service account for."""
RBAC_API_VERSION = "rbac.authorization.k8s.io/v1"
"""apiVersion of ClusterRole and RoleBinding."""
MANAGED_BY = {"app.kubernetes.io/managed-by": "gmsa"}
"""The label every exported object carries, so they can be listed and pruned together."""
ROLE_PREFIX = "gmsa-use-"
"""ClusterRole ``gmsa-use-<name>``; RoleBinding ``gmsa-use-<name>-<service account>``."""

SUBDOMAIN_MAX = 253
"""Longest DNS-1123 subdomain (object names, service accounts)."""
LABEL_MAX = 63
"""Longest DNS-1123 label (namespaces)."""
_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_LABEL_RE = re.compile(_LABEL)


class KubernetesNameError(InvalidInputError):
    """A Kubernetes object name, namespace or service account is not valid."""

    code = "invalid-kubernetes-name"


def check_subdomain(value: str, *, where: str) -> str:
    """``value`` when it is a DNS-1123 subdomain (what most object names must be)."""
    return _check(value, _SUBDOMAIN_RE, SUBDOMAIN_MAX, "name", "'-' and '.'", where)


def check_label(value: str, *, where: str) -> str:
    """``value`` when it is a DNS-1123 label (what a namespace must be)."""
    return _check(value, _LABEL_RE, LABEL_MAX, "namespace", "'-'", where)


def _check(
    value: str, pattern: re.Pattern[str], limit: int, what: str, marks: str, where: str
) -> str:
    if len(value) <= limit and pattern.fullmatch(value):
        return value
    suggestion = value if pattern is _SUBDOMAIN_RE else value.replace(".", "-")
    raise KubernetesNameError(
        f"{value!r} is not a valid Kubernetes {what}: at most {limit} lower-case letters, "
        f"digits and {marks}, starting and ending with a letter or digit",
        where=where,
        fix=f"use e.g. {_suggest(suggestion, limit)!r}",
    )


def _suggest(value: str, limit: int) -> str:
    cleaned = re.sub(r"[^a-z0-9.-]+", "-", value.lower())[:limit].strip("-.")
    return cleaned or "webapp01"


@dataclass(frozen=True)
class ServiceAccount:
    """The service account whose pods may use the spec."""

    namespace: str
    """Its namespace (a DNS-1123 label)."""
    name: str
    """Its name (a DNS-1123 subdomain)."""

    @classmethod
    def parse(cls, text: str, *, where: str = "--service-account") -> ServiceAccount:
        """Read ``NAMESPACE/NAME``, both parts checked as Kubernetes validates them."""
        namespace, sep, name = text.partition("/")
        if not sep or not namespace or not name or "/" in name:
            raise KubernetesNameError(
                f"{text!r} is not NAMESPACE/NAME",
                where=where,
                fix="name the service account with its namespace, e.g. default/webapp",
            )
        return cls(
            check_label(namespace, where=f"{where} namespace"),
            check_subdomain(name, where=f"{where} name"),
        )

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class KubernetesExport:
    """The objects that make a credential spec usable by one service account's pods."""

    credential_spec: dict[str, Any]
    """The GMSACredentialSpec object."""
    cluster_role: dict[str, Any]
    """The ClusterRole granting ``use`` on exactly that object."""
    role_binding: dict[str, Any] | None
    """The RoleBinding for the service account; None when none was named."""
    findings: tuple[Finding, ...]
    """What the export changed so the API server keeps the spec as written."""

    @property
    def objects(self) -> list[dict[str, Any]]:
        """The objects in the order they are applied."""
        out = [self.credential_spec, self.cluster_role]
        if self.role_binding is not None:
            out.append(self.role_binding)
        return out

    def to_list(self) -> dict[str, Any]:
        """A Kubernetes ``List`` holding the objects (``kubectl apply -f`` reads it)."""
        return {"apiVersion": "v1", "kind": "List", "items": self.objects}

    def to_yaml(self) -> str:
        """The objects as one YAML stream, one document each."""
        return yaml.safe_dump_all(
            self.objects,
            explicit_start=True,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=1000,
        )


def credspec_for_crd(spec: CredentialSpec) -> tuple[dict[str, Any], tuple[Finding, ...]]:
    """The spec as the CRD stores it: only its known keys, PluginInput a string."""
    findings: list[Finding] = []
    if spec.extra:
        dropped = ", ".join(sorted(spec.extra))
        findings.append(
            warning(
                "dropped-by-kubernetes",
                "",
                f"the GMSACredentialSpec CRD has no place for {dropped}; the API server would "
                "drop it, so the export leaves it out",
                "remove those keys from the spec, or keep a copy elsewhere if a tool needs them",
            )
        )
    document = to_document(replace(spec, extra={}, raw=None))
    host = document["ActiveDirectoryConfig"].get("HostAccountConfig")
    if host is not None and not isinstance(host["PluginInput"], str):
        host["PluginInput"] = json.dumps(host["PluginInput"], separators=(",", ":"))
        findings.append(
            warning(
                "plugin-input-as-string",
                json_path("ActiveDirectoryConfig", "HostAccountConfig", "PluginInput"),
                "PluginInput is a JSON object (the Linux shape); the CRD holds a string, as "
                "CCG on Windows reads it, so the export writes the object as a JSON string",
                "check the CCG plugin on the Windows nodes reads the keys as written",
            )
        )
    return document, tuple(findings)


def export(
    spec: CredentialSpec, name: str, service_account: ServiceAccount | None = None
) -> KubernetesExport:
    """The GMSACredentialSpec ``name`` holding ``spec``, its ``use`` ClusterRole and, with
    a service account, the RoleBinding that lets that account's pods use it.

    Raises :class:`KubernetesNameError` when a name is not one Kubernetes accepts. The
    spec must already be valid (:func:`gmsa.credspec.validate.check_document`).
    """
    check_subdomain(name, where="--name")
    credspec, findings = credspec_for_crd(spec)
    role_name = check_subdomain(f"{ROLE_PREFIX}{name}", where="ClusterRole name from --name")
    credential_spec = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "labels": dict(MANAGED_BY)},
        "credspec": credspec,
    }
    cluster_role = {
        "apiVersion": RBAC_API_VERSION,
        "kind": "ClusterRole",
        "metadata": {"name": role_name, "labels": dict(MANAGED_BY)},
        "rules": [
            {
                "apiGroups": [GROUP],
                "resources": [RESOURCE],
                "verbs": [USE_VERB],
                "resourceNames": [name],
            }
        ],
    }
    binding = None
    if service_account is not None:
        binding_name = check_subdomain(
            f"{role_name}-{service_account.name}",
            where="RoleBinding name from --name and --service-account",
        )
        binding = {
            "apiVersion": RBAC_API_VERSION,
            "kind": "RoleBinding",
            "metadata": {
                "name": binding_name,
                "namespace": service_account.namespace,
                "labels": dict(MANAGED_BY),
            },
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": service_account.name,
                    "namespace": service_account.namespace,
                }
            ],
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role_name,
            },
        }
    return KubernetesExport(credential_spec, cluster_role, binding, findings)


__all__ = [
    "API_VERSION",
    "GROUP",
    "KIND",
    "LABEL_MAX",
    "MANAGED_BY",
    "RBAC_API_VERSION",
    "RESOURCE",
    "ROLE_PREFIX",
    "SUBDOMAIN_MAX",
    "USE_VERB",
    "KubernetesExport",
    "KubernetesNameError",
    "ServiceAccount",
    "check_label",
    "check_subdomain",
    "credspec_for_crd",
    "export",
]
