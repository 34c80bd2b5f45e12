"""Decide, the way IAM does, whether identity policies allow the permissions a host needs.

The rules (IAM's policy evaluation logic for one account's identity policies):
an explicit ``Deny`` that applies wins over everything; otherwise an ``Allow``
that applies allows; otherwise the request is implicitly denied. A statement
applies when its ``Action`` (or everything but its ``NotAction``) matches the
action and its ``Resource`` (or everything but its ``NotResource``) matches the
ARN. Actions match case-insensitively, resources case-sensitively; ``*`` and
``?`` are wildcards, and within an ARN a ``*`` stays inside its ``:`` segment
unless it ends the segment.

``Condition`` blocks and policy variables depend on the request and are *not*
evaluated: an Allow that holds only through them is reported as such (a
warning), and a conditional Deny that could apply is named, never ignored.
Permissions boundaries, session policies, SCPs and resource policies are out of
scope: they can only take permissions away, which this check then misses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gmsa.findings import Finding, error, warning
from gmsa.iam.policy import PolicyDocument, Statement
from gmsa.iam.requirements import Permission
from gmsa.iam.wildcard import action_pattern, resource_pattern

OUTCOME_ALLOWED = "allowed"
OUTCOME_EXPLICIT_DENY = "explicit-deny"
OUTCOME_IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True)
class Decision:
    """Whether one permission is allowed, and which statement decided it."""

    permission: Permission
    """The action and resource asked about."""
    allowed: bool
    """Whether the policies allow it (an Allow that depends on Conditions counts, with
    ``conditions_not_evaluated`` set)."""
    outcome: str
    """``allowed``, ``explicit-deny`` or ``implicit-deny``."""
    policy: str | None
    """Name of the policy whose statement decided (None for an implicit deny)."""
    statement: str | None
    """That statement's Sid or position, e.g. ``Statement[0]``."""
    conditions_not_evaluated: bool
    """Whether the answer depends on Conditions (or policy variables) gmsa did not evaluate:
    the Allow matched only through such statements, or a conditional Deny may apply."""
    conditions: tuple[str, ...] = ()
    """The unevaluated conditions of the deciding Allow (``Operator key``)."""
    conditional_denies: tuple[str, ...] = ()
    """Deny statements that match but carry Conditions (``policy: statement``)."""

    def to_dict(self) -> dict[str, Any]:
        """The decision as JSON (the ``decisions`` entries of ``gmsa iam check --json``)."""
        return {
            "action": self.permission.action,
            "resource": self.permission.resource,
            "allowed": self.allowed,
            "outcome": self.outcome,
            "policy": self.policy,
            "statement": self.statement,
            "conditions_not_evaluated": self.conditions_not_evaluated,
            "reason": self.permission.reason,
        }


def evaluate(
    policies: Sequence[PolicyDocument], permissions: Sequence[Permission]
) -> tuple[Decision, ...]:
    """Decide every permission against all ``policies`` together (one principal's set)."""
    return tuple(_decide(policies, p) for p in permissions)


def _decide(policies: Sequence[PolicyDocument], permission: Permission) -> Decision:
    allow: tuple[PolicyDocument, Statement] | None = None
    conditional_allow: tuple[PolicyDocument, Statement] | None = None
    conditional_denies: list[str] = []
    for policy in policies:
        for statement in policy.statements:
            if not statement_applies(statement, permission.action, permission.resource):
                continue
            if statement.effect == "Deny":
                if statement.depends_on_request:
                    conditional_denies.append(f"{policy.name}: {statement.label}")
                    continue
                return Decision(
                    permission=permission,
                    allowed=False,
                    outcome=OUTCOME_EXPLICIT_DENY,
                    policy=policy.name,
                    statement=statement.label,
                    conditions_not_evaluated=False,
                )
            if not statement.depends_on_request:
                allow = allow or (policy, statement)
            else:
                conditional_allow = conditional_allow or (policy, statement)
    deciding = allow or conditional_allow
    if deciding is None:
        return Decision(
            permission=permission,
            allowed=False,
            outcome=OUTCOME_IMPLICIT_DENY,
            policy=None,
            statement=None,
            conditions_not_evaluated=False,
            conditional_denies=tuple(conditional_denies),
        )
    policy, statement = deciding
    return Decision(
        permission=permission,
        allowed=True,
        outcome=OUTCOME_ALLOWED,
        policy=policy.name,
        statement=statement.label,
        conditions_not_evaluated=allow is None or bool(conditional_denies),
        conditions=statement.conditions if allow is None else (),
        conditional_denies=tuple(conditional_denies),
    )


def statement_applies(statement: Statement, action: str, resource: str) -> bool:
    """Whether ``statement`` covers ``action`` on ``resource`` (Conditions aside)."""
    action_hit = any(action_matches(p, action) for p in statement.actions)
    if action_hit == statement.not_action:
        return False
    resource_hit = any(
        resource_matches(p, resource, variables=statement.variables) for p in statement.resources
    )
    return resource_hit != statement.not_resource


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, ``*`` any run of characters, ``?`` one;
    linear in the action's length (:mod:`gmsa.iam.wildcard`)."""
    return action_pattern(pattern).matches(action)


def resource_matches(pattern: str, resource: str, *, variables: bool = False) -> bool:
    """IAM resource matching: case-sensitive, ``*``/``?`` wildcards within ARN segments.

    With ``variables`` (a 2012-10-17 policy), ``${*}``, ``${?}`` and ``${$}`` stand for
    those characters and any other ``${...}`` matches like a wildcard, since its value
    depends on the request.
    """
    return resource_pattern(pattern, variables).matches(resource)


def grant_statement(permission: Permission) -> str:
    """The statement that would allow ``permission``, as one line of JSON."""
    return json.dumps(
        {"Effect": "Allow", "Action": permission.action, "Resource": permission.resource}
    )


def decisions_to_findings(decisions: Sequence[Decision], *, path: str = "") -> list[Finding]:
    """An error per denied permission (what is missing and the statement that fixes it),
    a warning per Allow that depends on unevaluated Conditions."""
    out: list[Finding] = []
    for decision in decisions:
        p = decision.permission
        what = f"{p.action} on {p.resource}"
        if decision.outcome == OUTCOME_EXPLICIT_DENY:
            out.append(
                error(
                    "iam-explicit-deny",
                    path,
                    f"{decision.policy} denies {what} in {decision.statement}; the host needs "
                    f"it to {p.reason}, and an explicit Deny wins over every Allow",
                    f"take {p.action} or {p.resource} out of that Deny statement",
                )
            )
        elif decision.outcome == OUTCOME_IMPLICIT_DENY:
            out.append(
                error(
                    "iam-permission-missing",
                    path,
                    f"no policy allows {what}, which the host needs to {p.reason}",
                    f"add this statement to the task execution role's policy: "
                    f"{grant_statement(p)} (gmsa iam policy prints the whole policy)",
                )
            )
        elif decision.conditions_not_evaluated:
            out.append(_condition_warning(decision, path, what))
    return out


def _condition_warning(decision: Decision, path: str, what: str) -> Finding:
    if decision.conditional_denies:
        denies = ", ".join(decision.conditional_denies)
        return warning(
            "iam-condition-not-evaluated",
            path,
            f"{what} is allowed by {decision.policy}: {decision.statement}, but the Deny "
            f"in {denies} also matches and has Conditions that were not evaluated",
            "make sure that Deny's Condition never holds for the ECS agent's requests",
        )
    conditions = ", ".join(decision.conditions) or "policy variables"
    return warning(
        "iam-condition-not-evaluated",
        path,
        f"{what} is allowed only by {decision.policy}: {decision.statement}, whose "
        f"conditions ({conditions}) were not evaluated",
        "make sure the condition holds for the ECS agent's requests, or grant the "
        "permission without a Condition",
    )


__all__ = [
    "OUTCOME_ALLOWED",
    "OUTCOME_EXPLICIT_DENY",
    "OUTCOME_IMPLICIT_DENY",
    "Decision",
    "action_matches",
    "decisions_to_findings",
    "evaluate",
    "grant_statement",
    "resource_matches",
    "statement_applies",
]
