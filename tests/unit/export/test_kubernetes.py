"""``gmsa.export.kubernetes``: the GMSACredentialSpec, its ClusterRole and RoleBinding.

No API server runs here, so the GMSACredentialSpec is checked against the CRD's
schema as docs/background.md#kubernetes records it (kubernetes-sigs/windows-gmsa,
``deploy/gmsa-crd.yml``), made strict: an extra property fails, because the API
server would silently drop it. The RBAC objects are compared field by field.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from gmsa.credspec.model import CredentialSpec
from gmsa.credspec.validate import check_document
from gmsa.export.kubernetes import (
    KubernetesNameError,
    ServiceAccount,
    check_label,
    check_subdomain,
    export,
)
from tests.unit.credspec.test_examples import SECRET_ARN, fresh


def _strings(*names: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {n: {"type": "string"} for n in names},
        "additionalProperties": False,
    }


CRD_CREDSPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ActiveDirectoryConfig": {
            "type": "object",
            "properties": {
                "GroupManagedServiceAccounts": {
                    "type": "array",
                    "items": _strings("Name", "Scope"),
                },
                "HostAccountConfig": _strings("PluginGUID", "PluginInput", "PortableCcgVersion"),
            },
            "additionalProperties": False,
        },
        "CmsPlugins": {"type": "array", "items": {"type": "string"}},
        "DomainJoinConfig": _strings(
            "DnsName", "DnsTreeName", "Guid", "MachineAccountName", "NetBiosName", "Sid"
        ),
    },
    "additionalProperties": False,
}
"""The CRD's ``credspec`` property, every object closed (nothing would be pruned)."""

CRD_OBJECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "credspec"],
    "properties": {
        "apiVersion": {"const": "windows.k8s.io/v1"},
        "kind": {"const": "GMSACredentialSpec"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "maxLength": 253},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "additionalProperties": False,
            "not": {"required": ["namespace"]},
        },
        "credspec": CRD_CREDSPEC_SCHEMA,
    },
    "additionalProperties": False,
}
"""A whole GMSACredentialSpec as the API server accepts it: cluster-scoped, so no namespace."""


def spec_of(document: dict[str, Any]) -> CredentialSpec:
    report = check_document(document, source="test.json")
    assert report.valid and report.spec is not None
    return report.spec


def validate_crd(obj: dict[str, Any]) -> None:
    jsonschema.validate(obj, CRD_OBJECT_SCHEMA, cls=jsonschema.Draft202012Validator)


def test_the_strict_crd_schema_rejects_what_the_api_server_would_drop() -> None:
    obj = export(spec_of(fresh("full")), "webapp01").credential_spec
    obj["credspec"]["DomainJoinConfig"]["Extra"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        validate_crd(obj)


@pytest.mark.parametrize(
    "name", ["full", "domainless-windows", "domainless-linux", "azure-keyvault", "ecs-example"]
)
def test_credential_spec_object_fits_the_crd_schema(name: str) -> None:
    validate_crd(export(spec_of(fresh(name)), "webapp01").credential_spec)


def test_credential_spec_object_holds_the_spec_under_credspec() -> None:
    document = fresh("full")
    obj = export(spec_of(document), "webapp01").credential_spec
    assert obj["apiVersion"] == "windows.k8s.io/v1"
    assert obj["kind"] == "GMSACredentialSpec"
    assert obj["metadata"] == {
        "name": "webapp01",
        "labels": {"app.kubernetes.io/managed-by": "gmsa"},
    }
    assert obj["credspec"] == document


def test_cluster_role_grants_use_on_exactly_that_spec() -> None:
    role = export(spec_of(fresh("full")), "webapp01").cluster_role
    assert role == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": "gmsa-use-webapp01",
            "labels": {"app.kubernetes.io/managed-by": "gmsa"},
        },
        "rules": [
            {
                "apiGroups": ["windows.k8s.io"],
                "resources": ["gmsacredentialspecs"],
                "verbs": ["use"],
                "resourceNames": ["webapp01"],
            }
        ],
    }


def test_role_binding_gives_the_role_to_the_service_account_in_its_namespace() -> None:
    result = export(spec_of(fresh("full")), "webapp01", ServiceAccount.parse("shop/frontend"))
    assert result.role_binding == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {
            "name": "gmsa-use-webapp01-frontend",
            "namespace": "shop",
            "labels": {"app.kubernetes.io/managed-by": "gmsa"},
        },
        "subjects": [{"kind": "ServiceAccount", "name": "frontend", "namespace": "shop"}],
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "gmsa-use-webapp01",
        },
    }
    assert [o["kind"] for o in result.objects] == [
        "GMSACredentialSpec",
        "ClusterRole",
        "RoleBinding",
    ]


def test_without_a_service_account_there_is_no_role_binding() -> None:
    result = export(spec_of(fresh("full")), "webapp01")
    assert result.role_binding is None
    assert [o["kind"] for o in result.objects] == ["GMSACredentialSpec", "ClusterRole"]


@pytest.mark.parametrize("name", sorted(["full", "domainless-windows", "azure-keyvault"]))
def test_yaml_stream_reads_back_as_the_same_objects(name: str) -> None:
    result = export(spec_of(fresh(name)), "webapp01", ServiceAccount.parse("default/webapp"))
    text = result.to_yaml()
    assert text.startswith("---\n")
    assert list(yaml.safe_load_all(text)) == result.objects


def test_yaml_keeps_strings_that_look_like_other_types_strings() -> None:
    document = fresh("domainless-windows")  # PortableCcgVersion "1"
    document["DomainJoinConfig"]["NetBiosName"] = "ON"
    document["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"][1]["Scope"] = "ON"
    result = export(spec_of(document), "webapp01")
    loaded = next(yaml.safe_load_all(result.to_yaml()))
    host = loaded["credspec"]["ActiveDirectoryConfig"]["HostAccountConfig"]
    assert host["PortableCcgVersion"] == "1"
    assert loaded["credspec"]["DomainJoinConfig"]["NetBiosName"] == "ON"


def test_list_holds_the_objects() -> None:
    result = export(spec_of(fresh("full")), "webapp01", ServiceAccount.parse("default/webapp"))
    assert result.to_list() == {"apiVersion": "v1", "kind": "List", "items": result.objects}


def test_clean_spec_exports_without_findings() -> None:
    assert export(spec_of(fresh("domainless-windows")), "webapp01").findings == ()


def test_unknown_keys_are_left_out_with_a_warning() -> None:
    document = fresh("full")
    document["Vendor"] = {"note": "kept by gmsa, dropped by Kubernetes"}
    document["DomainJoinConfig"]["Site"] = "Default-First-Site"
    result = export(spec_of(document), "webapp01")
    validate_crd(result.credential_spec)
    assert "Vendor" not in result.credential_spec["credspec"]
    assert "Site" not in result.credential_spec["credspec"]["DomainJoinConfig"]
    (finding,) = result.findings
    assert finding.code == "dropped-by-kubernetes"
    assert "DomainJoinConfig.Site" in finding.message
    assert "Vendor" in finding.message


def test_object_plugin_input_becomes_a_json_string_with_a_warning() -> None:
    result = export(spec_of(fresh("domainless-linux")), "webapp01")
    host = result.credential_spec["credspec"]["ActiveDirectoryConfig"]["HostAccountConfig"]
    assert json.loads(host["PluginInput"]) == {"CredentialArn": SECRET_ARN}
    assert [(f.code, f.path) for f in result.findings] == [
        ("plugin-input-as-string", "ActiveDirectoryConfig.HostAccountConfig.PluginInput")
    ]


def test_string_plugin_input_is_kept_as_written() -> None:
    document = fresh("domainless-windows")
    result = export(spec_of(document), "webapp01")
    host = result.credential_spec["credspec"]["ActiveDirectoryConfig"]["HostAccountConfig"]
    assert (
        host["PluginInput"] == document["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginInput"]
    )


@pytest.mark.parametrize("name", ["webapp01", "a", "web-app.example.com", "0abc", "a" * 253])
def test_dns_subdomains_are_names(name: str) -> None:
    assert check_subdomain(name, where="--name") == name


@pytest.mark.parametrize(
    "name",
    ["", "WebApp01", "web_app", "-web", "web-", "web..app", ".web", "web.", "a" * 254, "wéb"],
)
def test_other_names_are_refused_with_a_suggestion(name: str) -> None:
    with pytest.raises(KubernetesNameError) as caught:
        check_subdomain(name, where="--name")
    assert caught.value.where == "--name"
    assert caught.value.fix is not None and caught.value.fix.startswith("use e.g. ")


def test_a_bad_name_is_refused_before_anything_is_built() -> None:
    with pytest.raises(KubernetesNameError, match="WebApp01"):
        export(spec_of(fresh("full")), "WebApp01")


def test_a_name_too_long_for_the_cluster_role_is_refused() -> None:
    with pytest.raises(KubernetesNameError) as caught:
        export(spec_of(fresh("full")), "a" * 250)
    assert caught.value.where == "ClusterRole name from --name"


@pytest.mark.parametrize("namespace", ["default", "kube-system", "a" * 63])
def test_namespaces_are_dns_labels(namespace: str) -> None:
    assert check_label(namespace, where="ns") == namespace


@pytest.mark.parametrize("namespace", ["my.ns", "Default", "a" * 64, "-ns"])
def test_other_namespaces_are_refused(namespace: str) -> None:
    with pytest.raises(KubernetesNameError):
        check_label(namespace, where="ns")


def test_service_account_reads_namespace_and_name() -> None:
    account = ServiceAccount.parse("shop/frontend.v2")
    assert (account.namespace, account.name) == ("shop", "frontend.v2")
    assert str(account) == "shop/frontend.v2"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("frontend", "--service-account"),
        ("/frontend", "--service-account"),
        ("shop/", "--service-account"),
        ("shop/front/end", "--service-account"),
        ("Shop/frontend", "--service-account namespace"),
        ("shop/Front_End", "--service-account name"),
    ],
)
def test_bad_service_accounts_are_refused_saying_which_part(text: str, where: str) -> None:
    with pytest.raises(KubernetesNameError) as caught:
        ServiceAccount.parse(text)
    assert caught.value.where == where
