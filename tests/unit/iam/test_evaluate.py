"""Policy evaluation as IAM does it: deny wins, wildcards, Not*, case rules, conditions."""

from __future__ import annotations

from typing import Any

import pytest

from gmsa.findings import Severity
from gmsa.iam.evaluate import (
    action_matches,
    decisions_to_findings,
    evaluate,
    resource_matches,
)
from gmsa.iam.policy import PolicyDocument, parse_policy
from gmsa.iam.requirements import Permission, required_permissions
from gmsa.reference import parse

BUCKET = "example-gmsa-specs"
OBJECT = f"arn:aws:s3:::{BUCKET}/specs/webapp01.json"
PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/webapp01-credspec"
GET = Permission("s3:GetObject", OBJECT, "read the credential spec object")
GET_PARAMETERS = Permission("ssm:GetParameters", PARAMETER, "read the credential spec parameter")

# The two inline policies of the Amazon ECS documentation, with its placeholders filled in.
EXAMPLE_S3_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "VisualEditor",
            "Effect": "Allow",
            "Action": ["s3:Get*", "s3:List*"],
            "Resource": [f"arn:aws:s3:::{BUCKET}", OBJECT],
        }
    ],
}
EXAMPLE_SSM_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": [PARAMETER]}],
}


def policy(*statements: dict[str, Any], name: str = "p") -> PolicyDocument:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, name=name)


def allow(action: Any = "s3:GetObject", resource: Any = OBJECT, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "s3:GetObject", resource: Any = OBJECT, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(*policies: PolicyDocument, permission: Permission = GET) -> Any:
    (decision,) = evaluate(policies, [permission])
    return decision


# --- the Amazon ECS documentation's policies ------------------------------------------------


def test_ecs_example_s3_policy_allows_the_ecs_example_s3_reference() -> None:
    ref = parse(f"credentialspec:{OBJECT}")
    decisions = evaluate([parse_policy(EXAMPLE_S3_POLICY, name="s3")], required_permissions(ref))
    assert [(d.allowed, d.statement) for d in decisions] == [(True, "VisualEditor")]


def test_ecs_example_ssm_policy_allows_the_ecs_example_ssm_reference() -> None:
    ref = parse(f"credentialspec:{PARAMETER}")
    decisions = evaluate([parse_policy(EXAMPLE_SSM_POLICY, name="ssm")], required_permissions(ref))
    assert [(d.allowed, d.statement) for d in decisions] == [(True, "Statement[0]")]


def test_ecs_example_s3_policy_does_not_allow_another_bucket() -> None:
    other = Permission("s3:GetObject", "arn:aws:s3:::other-bucket/specs/webapp01.json", "r")
    decision = decide(parse_policy(EXAMPLE_S3_POLICY, name="s3"), permission=other)
    assert decision.outcome == "implicit-deny"


def test_ecs_example_ssm_policy_does_not_allow_another_parameter() -> None:
    other = Permission("ssm:GetParameters", PARAMETER + "-old", "r")
    assert not decide(parse_policy(EXAMPLE_SSM_POLICY, name="ssm"), permission=other).allowed


def test_ecs_example_s3_policy_does_not_allow_ssm() -> None:
    assert not decide(parse_policy(EXAMPLE_S3_POLICY, name="s3"), permission=GET_PARAMETERS).allowed


# --- allow, implicit deny, explicit deny ---------------------------------------------------


def test_no_policy_is_an_implicit_deny() -> None:
    decision = decide()
    assert (decision.allowed, decision.outcome, decision.policy) == (False, "implicit-deny", None)


def test_matching_allow_allows_and_names_the_statement() -> None:
    decision = decide(policy(allow(Sid="Read"), name="role.json"))
    assert (decision.allowed, decision.outcome) == (True, "allowed")
    assert (decision.policy, decision.statement) == ("role.json", "Read")


def test_policy_missing_the_action_denies() -> None:
    assert not decide(policy(allow("s3:ListBucket"))).allowed


def test_explicit_deny_wins_over_allow_in_the_same_policy() -> None:
    decision = decide(policy(allow("s3:*", "*"), deny(Sid="NoSpecs")))
    assert (decision.allowed, decision.outcome, decision.statement) == (
        False,
        "explicit-deny",
        "NoSpecs",
    )


def test_explicit_deny_in_another_policy_wins_whatever_the_order() -> None:
    assert not decide(policy(deny(), name="a"), policy(allow(), name="b")).allowed
    assert not decide(policy(allow(), name="b"), policy(deny(), name="a")).allowed


def test_deny_of_another_resource_does_not_block() -> None:
    assert decide(policy(allow(), deny(resource="arn:aws:s3:::other/*"))).allowed


def test_first_allowing_statement_is_named() -> None:
    decision = decide(policy(allow(Sid="First"), allow(Sid="Second")))
    assert decision.statement == "First"


# --- NotAction / NotResource -------------------------------------------------------------


def test_not_action_allow_covers_every_other_action() -> None:
    assert decide(policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})).allowed


def test_not_action_allow_excludes_the_listed_action() -> None:
    statement = {"Effect": "Allow", "NotAction": "s3:GetObject", "Resource": "*"}
    assert not decide(policy(statement)).allowed


def test_not_action_deny_denies_everything_else() -> None:
    statement = {"Effect": "Deny", "NotAction": "ssm:*", "Resource": "*"}
    assert not decide(policy(allow(), statement)).allowed
    assert decide(policy(allow("ssm:*", "*"), statement), permission=GET_PARAMETERS).allowed


def test_not_resource_allow_covers_other_resources_only() -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": OBJECT}
    assert not decide(policy(statement)).allowed
    other = Permission("s3:GetObject", "arn:aws:s3:::other/x", "r")
    assert decide(policy(statement), permission=other).allowed


def test_not_resource_deny_protects_everything_but_the_listed() -> None:
    statement = {"Effect": "Deny", "Action": "s3:*", "NotResource": f"arn:aws:s3:::{BUCKET}/*"}
    assert decide(policy(allow(), statement)).allowed
    other = Permission("s3:GetObject", "arn:aws:s3:::other/x", "r")
    assert not decide(policy(allow(resource="*"), statement), permission=other).allowed


# --- wildcards and case ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:GetObject", "s3:GetObject", True),
        ("s3:getobject", "s3:GetObject", True),
        ("S3:GETOBJECT", "s3:GetObject", True),
        ("s3:Get*", "s3:GetObject", True),
        ("s3:*Object", "s3:GetObject", True),
        ("*", "s3:GetObject", True),
        ("s3:GetObjec?", "s3:GetObject", True),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:GetObject?", "s3:GetObject", False),
        ("s3:Put*", "s3:GetObject", False),
        ("s3:GetObjectVersion", "s3:GetObject", False),
        ("ssm:GetParameter", "ssm:GetParameters", False),
        ("ssm:GetParameter*", "ssm:GetParameters", True),
        ("ssm:*", "s3:GetObject", False),
    ],
)
def test_action_matching(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        (OBJECT, OBJECT, True),
        ("*", OBJECT, True),
        (f"arn:aws:s3:::{BUCKET}/*", OBJECT, True),
        (f"arn:aws:s3:::{BUCKET}/specs/*.json", OBJECT, True),
        (f"arn:aws:s3:::{BUCKET}/specs/webapp0?.json", OBJECT, True),
        (f"arn:aws:s3:::{BUCKET}/specs/webapp?.json", OBJECT, False),
        ("arn:aws:s3:::example-*/specs/webapp01.json", OBJECT, True),
        (f"arn:aws:s3:::{BUCKET}", OBJECT, False),
        (f"arn:aws:s3:::{BUCKET.upper()}/specs/webapp01.json", OBJECT, False),
        (f"arn:aws:s3:::{BUCKET}/Specs/webapp01.json", OBJECT, False),
        ("arn:aws:s3:::*", OBJECT, True),
        ("arn:aws:ssm:*:*:parameter/*", PARAMETER, True),
        ("arn:aws:ssm:us-east-?:123456789012:parameter/webapp01-credspec", PARAMETER, True),
        ("arn:aws:ssm:us-*-1:123456789012:parameter/webapp01-credspec", PARAMETER, True),
        ("arn:aws:ssm:*", PARAMETER, True),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/webapp01", PARAMETER, False),
        ("arn:aws-cn:ssm:*:*:parameter/*", PARAMETER, False),
        # A * inside a segment does not reach across ':' ...
        ("arn:aws:s*m:us-east-1", "arn:aws:ssm:us-east-1", True),
        ("arn:aws:s*1", "arn:aws:ssm:us-east-1", False),
        # ... but a * that ends a segment does.
        ("arn:aws:s3:*", OBJECT, True),
    ],
)
def test_resource_matching(pattern: str, resource: str, expected: bool) -> None:
    assert resource_matches(pattern, resource) is expected


def test_wildcards_inside_the_resource_part_cross_colons() -> None:
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gmsa:user-AbCdEf"
    pattern = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gmsa*"
    assert resource_matches(pattern, secret)


def test_regex_characters_in_patterns_are_literal() -> None:
    assert not resource_matches("arn:aws:s3:::b/a.json", "arn:aws:s3:::b/aXjson")
    assert not action_matches("s3:Get.*", "s3:GetObject")


def test_escaped_variables_stand_for_their_characters() -> None:
    assert resource_matches("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", variables=True)
    assert not resource_matches("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", variables=True)


def test_actions_of_a_statement_in_mixed_case_still_allow() -> None:
    assert decide(policy(allow("S3:getObject"))).allowed


# --- conditions --------------------------------------------------------------------------


def test_allow_only_through_a_condition_is_allowed_but_flagged() -> None:
    statement = allow(Sid="Vpc", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})
    decision = decide(policy(statement))
    assert decision.allowed
    assert decision.conditions_not_evaluated
    assert decision.conditions == ("StringEquals aws:SourceVpc",)


def test_unconditional_allow_is_preferred_over_a_conditional_one() -> None:
    conditional = allow(Sid="Vpc", Condition={"Bool": {"aws:SecureTransport": "true"}})
    decision = decide(policy(conditional, allow(Sid="Plain")))
    assert (decision.statement, decision.conditions_not_evaluated) == ("Plain", False)


def test_conditional_deny_is_not_counted_as_deny_but_flagged() -> None:
    conditional = deny(Sid="NotFromVpc", Condition={"StringNotEquals": {"aws:SourceVpc": "v"}})
    decision = decide(policy(allow(), conditional, name="role"))
    assert decision.allowed
    assert decision.conditions_not_evaluated
    assert decision.conditional_denies == ("role: NotFromVpc",)


def test_allow_through_a_policy_variable_is_flagged() -> None:
    statement = allow(resource=f"arn:aws:s3:::{BUCKET}/${{aws:PrincipalTag/team}}/*")
    permission = Permission("s3:GetObject", f"arn:aws:s3:::{BUCKET}/web/spec.json", "r")
    decision = decide(policy(statement), permission=permission)
    assert decision.allowed and decision.conditions_not_evaluated


# --- findings ----------------------------------------------------------------------------


def test_implicit_deny_finding_names_what_is_missing_and_the_statement_to_add() -> None:
    (finding,) = decisions_to_findings(evaluate([], [GET]), path="containers[0]")
    assert finding.severity is Severity.ERROR
    assert finding.code == "iam-permission-missing"
    assert finding.path == "containers[0]"
    assert "s3:GetObject" in finding.message and OBJECT in finding.message
    assert "read the credential spec object" in finding.message
    assert finding.fix is not None
    assert f'{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "{OBJECT}"}}' in (
        finding.fix
    )


def test_explicit_deny_finding_names_the_deny_statement() -> None:
    decisions = evaluate([policy(allow(), deny(Sid="Block"), name="role.json")], [GET])
    (finding,) = decisions_to_findings(decisions)
    assert finding.code == "iam-explicit-deny"
    assert "role.json" in finding.message and "Block" in finding.message


def test_conditional_allow_gives_a_warning() -> None:
    statement = allow(Condition={"Bool": {"aws:SecureTransport": "true"}})
    (finding,) = decisions_to_findings(evaluate([policy(statement)], [GET]))
    assert finding.severity is Severity.WARNING
    assert finding.code == "iam-condition-not-evaluated"
    assert "aws:SecureTransport" in finding.message


def test_conditional_deny_gives_a_warning_naming_the_deny() -> None:
    conditional = deny(Sid="Maybe", Condition={"Bool": {"aws:SecureTransport": "false"}})
    (finding,) = decisions_to_findings(evaluate([policy(allow(), conditional)], [GET]))
    assert finding.severity is Severity.WARNING
    assert "Maybe" in finding.message


def test_plain_allow_gives_no_finding() -> None:
    assert decisions_to_findings(evaluate([policy(allow())], [GET])) == []


def test_decision_json_has_the_contract_fields() -> None:
    (decision,) = evaluate([policy(allow())], [GET])
    assert decision.to_dict() == {
        "action": "s3:GetObject",
        "resource": OBJECT,
        "allowed": True,
        "outcome": "allowed",
        "policy": "p",
        "statement": "Statement[0]",
        "conditions_not_evaluated": False,
        "reason": "read the credential spec object",
    }
