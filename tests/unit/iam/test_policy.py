"""Reading identity policies strictly (errors carry the JSON path) and writing the least one."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmsa.errors import InvalidInputError
from gmsa.iam.evaluate import evaluate
from gmsa.iam.policy import (
    PolicyError,
    least_privilege_policy,
    load_policy_file,
    parse_policy,
    statement_sid,
)
from gmsa.iam.requirements import Permission, required_permissions
from gmsa.jsondoc import DuplicateKeyError
from gmsa.reference import parse

ALLOW = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def doc(*statements: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements), **top}


def path_of(document: Any) -> str:
    with pytest.raises(PolicyError) as info:
        parse_policy(document, name="p.json")
    return info.value.path


# --- accepted shapes --------------------------------------------------------------------


def test_single_statement_object_is_accepted() -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": ALLOW}, name="p")
    assert len(policy.statements) == 1
    assert policy.statements[0].label == "Statement"


def test_statement_list_labels_by_sid_or_position() -> None:
    policy = parse_policy(doc({**ALLOW, "Sid": "ReadSpecs"}, ALLOW), name="p")
    assert [s.label for s in policy.statements] == ["ReadSpecs", "Statement[1]"]


def test_string_and_list_values_are_both_accepted() -> None:
    policy = parse_policy(
        doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:List*"], "Resource": "*"}),
        name="p",
    )
    assert policy.statements[0].actions == ("s3:GetObject", "s3:List*")


def test_not_action_and_not_resource_are_recorded() -> None:
    policy = parse_policy(
        doc({"Effect": "Deny", "NotAction": "s3:*", "NotResource": "arn:aws:s3:::b/*"}),
        name="p",
    )
    statement = policy.statements[0]
    assert statement.not_action and statement.not_resource


def test_conditions_are_kept_as_operator_and_key() -> None:
    policy = parse_policy(
        doc({**ALLOW, "Condition": {"StringEquals": {"aws:SourceVpc": ["vpc-1", "vpc-2"]}}}),
        name="p",
    )
    assert policy.statements[0].conditions == ("StringEquals aws:SourceVpc",)
    assert policy.statements[0].depends_on_request


def test_policy_variable_in_resource_depends_on_the_request() -> None:
    policy = parse_policy(doc({**ALLOW, "Resource": "arn:aws:s3:::b/${aws:username}/*"}), name="p")
    assert policy.statements[0].depends_on_request


def test_policy_variable_is_literal_in_the_old_version() -> None:
    policy = parse_policy(
        {"Version": "2008-10-17", "Statement": {**ALLOW, "Resource": "arn:aws:s3:::b/${x}"}},
        name="p",
    )
    assert not policy.statements[0].depends_on_request


def test_missing_version_is_accepted() -> None:
    assert parse_policy({"Statement": [ALLOW]}, name="p").version is None


# --- refused documents: each names the JSON path -----------------------------------------


def test_non_object_document_is_refused() -> None:
    assert path_of([ALLOW]) == ""


def test_unknown_version_is_refused() -> None:
    assert path_of(doc(ALLOW, Version="2012-10-18")) == "Version"


def test_missing_statement_is_refused() -> None:
    assert path_of({"Version": "2012-10-17"}) == "Statement"


def test_misspelled_top_level_key_gets_did_you_mean() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy({"Version": "2012-10-17", "Statements": [ALLOW]}, name="p")
    assert info.value.path == "Statements"
    assert info.value.fix == "did you mean 'Statement'?"


def test_statement_of_wrong_type_is_refused() -> None:
    assert path_of({"Statement": "allow all"}) == "Statement"


def test_statement_entry_of_wrong_type_is_refused() -> None:
    assert path_of(doc(ALLOW, "s3:GetObject")) == "Statement[1]"


def test_missing_effect_is_refused() -> None:
    assert path_of(doc({"Action": "s3:GetObject", "Resource": "*"})) == "Statement[0].Effect"


def test_lowercase_effect_is_refused_with_the_right_spelling() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(doc({**ALLOW, "Effect": "allow"}), name="p")
    assert info.value.path == "Statement[0].Effect"
    assert info.value.fix is not None and '"Allow"' in info.value.fix


def test_bad_effect_value_is_refused() -> None:
    assert path_of(doc({**ALLOW, "Effect": "Permit"})) == "Statement[0].Effect"


def test_action_and_not_action_together_are_refused() -> None:
    assert path_of(doc({**ALLOW, "NotAction": "s3:PutObject"})) == "Statement[0].NotAction"


def test_missing_action_is_refused() -> None:
    assert path_of(doc({"Effect": "Allow", "Resource": "*"})) == "Statement[0].Action"


def test_resource_and_not_resource_together_are_refused() -> None:
    assert path_of(doc({**ALLOW, "NotResource": "*"})) == "Statement[0].NotResource"


def test_missing_resource_is_refused() -> None:
    assert path_of(doc({"Effect": "Allow", "Action": "s3:GetObject"})) == "Statement[0].Resource"


def test_principal_in_identity_policy_is_refused() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(doc({**ALLOW, "Principal": {"AWS": "*"}}), name="p")
    assert info.value.path == "Statement[0].Principal"
    assert "trust policy" in info.value.what


def test_not_principal_is_refused() -> None:
    assert path_of(doc({**ALLOW, "NotPrincipal": "*"})) == "Statement[0].NotPrincipal"


def test_unknown_statement_key_is_refused() -> None:
    assert path_of(doc({**ALLOW, "Actions": "x"})) == "Statement[0].Actions"


def test_action_of_wrong_type_is_refused() -> None:
    assert path_of(doc({**ALLOW, "Action": 3})) == "Statement[0].Action"


def test_non_string_in_action_list_is_refused() -> None:
    assert path_of(doc({**ALLOW, "Action": ["s3:GetObject", None]})) == "Statement[0].Action[1]"


def test_empty_action_list_is_refused() -> None:
    assert path_of(doc({**ALLOW, "Action": []})) == "Statement[0].Action"


def test_action_without_service_is_refused() -> None:
    assert path_of(doc(ALLOW, {**ALLOW, "Action": ["s3:GetObject", "GetObject"]})) == (
        "Statement[1].Action[1]"
    )


def test_resource_that_is_not_an_arn_is_refused() -> None:
    assert path_of(doc({**ALLOW, "Resource": "my-bucket/key"})) == "Statement[0].Resource"


def test_sid_of_wrong_type_is_refused() -> None:
    assert path_of(doc({**ALLOW, "Sid": 1})) == "Statement[0].Sid"


def test_duplicate_sid_is_refused() -> None:
    assert path_of(doc({**ALLOW, "Sid": "A"}, {**ALLOW, "Sid": "A"})) == "Statement[1].Sid"


def test_condition_of_wrong_type_is_refused() -> None:
    assert path_of(doc({**ALLOW, "Condition": ["x"]})) == "Statement[0].Condition"


def test_condition_block_of_wrong_type_is_refused() -> None:
    assert path_of(doc({**ALLOW, "Condition": {"Bool": "true"}})) == ("Statement[0].Condition.Bool")


def test_condition_value_of_wrong_type_is_refused() -> None:
    assert path_of(doc({**ALLOW, "Condition": {"StringEquals": {"k": {"x": 1}}}})) == (
        "Statement[0].Condition.StringEquals.k"
    )


def test_policy_error_names_the_document_and_path() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(doc({"Action": "s3:GetObject", "Resource": "*"}), name="role.json")
    assert info.value.where == "role.json: Statement[0].Effect"
    assert isinstance(info.value, InvalidInputError)


# --- files ------------------------------------------------------------------------------


def test_policy_file_is_read_and_named_by_its_path(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc(ALLOW)))
    assert load_policy_file(path).name == str(path)


def test_policy_file_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc(ALLOW)).encode())
    assert len(load_policy_file(path).statements) == 1


def test_policy_file_with_duplicate_keys_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"Statement": [], "Statement": []}')
    with pytest.raises(DuplicateKeyError):
        load_policy_file(path)


def test_missing_policy_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        load_policy_file(tmp_path / "none.json")


# --- property: any JSON value parses or raises PolicyError --------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
statement_keys = st.sampled_from(
    ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal"]
)
statement_values = (
    st.sampled_from(["Allow", "Deny", "*", "s3:Get*", "arn:aws:s3:::b/*", "x", ""]) | json_values
)
statements = st.dictionaries(statement_keys, statement_values, max_size=5)


@given(json_values)
@settings(max_examples=200, deadline=None)
def test_any_json_value_parses_or_raises_policy_error(value: Any) -> None:
    with contextlib.suppress(PolicyError):
        parse_policy(value, name="p")


@given(st.lists(statements, max_size=3))
@settings(max_examples=300, deadline=None)
def test_near_policies_parse_or_raise_policy_error(items: list[dict[str, Any]]) -> None:
    try:
        policy = parse_policy({"Version": "2012-10-17", "Statement": items}, name="p")
    except PolicyError:
        return
    evaluate([policy], [Permission("s3:GetObject", "arn:aws:s3:::b/k", "r")])


# --- the least-privilege policy ---------------------------------------------------------


def test_least_privilege_policy_groups_by_action_in_stable_order() -> None:
    perms = (
        Permission("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/k", "r"),
        Permission("s3:GetObject", "arn:aws:s3:::b/z.json", "r"),
        Permission("ssm:GetParameters", "arn:aws:ssm:us-east-1:123456789012:parameter/p", "r"),
        Permission("s3:GetObject", "arn:aws:s3:::b/a.json", "r"),
    )
    policy = least_privilege_policy(perms)
    assert policy["Version"] == "2012-10-17"
    assert [(s["Sid"], s["Action"], s["Resource"]) for s in policy["Statement"]] == [
        ("GmsaS3GetObject", "s3:GetObject", ["arn:aws:s3:::b/a.json", "arn:aws:s3:::b/z.json"]),
        (
            "GmsaSsmGetParameters",
            "ssm:GetParameters",
            ["arn:aws:ssm:us-east-1:123456789012:parameter/p"],
        ),
        ("GmsaKmsDecrypt", "kms:Decrypt", ["arn:aws:kms:us-east-1:123456789012:key/k"]),
    ]


def test_least_privilege_policy_is_the_same_whatever_the_input_order() -> None:
    perms = [Permission("s3:GetObject", f"arn:aws:s3:::b/{n}.json", "r") for n in ("c", "a", "b")]
    assert least_privilege_policy(perms) == least_privilege_policy(list(reversed(perms)))


def test_sids_are_alphanumeric() -> None:
    assert statement_sid("secretsmanager:GetSecretValue") == "GmsaSecretsmanagerGetSecretValue"
    assert statement_sid("s3:GetObject").isalnum()


def test_least_privilege_policy_parses_and_allows_what_it_was_made_from() -> None:
    perms = required_permissions(
        parse("credentialspecdomainless:arn:aws:s3:::b-1/spec.json"),
        secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:u-AbCdEf",
    )
    policy = parse_policy(least_privilege_policy(perms), name="generated")
    assert all(d.allowed and not d.conditions_not_evaluated for d in evaluate([policy], perms))
