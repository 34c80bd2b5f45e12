"""IAM identity policy documents: read them strictly, and write the least-privilege one.

A policy that IAM would refuse, or that means something other than it seems
(``Principal`` in a role's own policy, ``Action`` and ``NotAction`` together,
``"Effect": "allow"``), is refused here with the JSON path of the wrong value,
so ``gmsa iam check`` never evaluates a document IAM would not store.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gmsa import jsondoc
from gmsa.errors import InvalidInputError
from gmsa.findings import json_path
from gmsa.iam.requirements import ACTION_ORDER, Permission
from gmsa.jsondoc import type_name

POLICY_VERSION = "2012-10-17"
"""The policy language version gmsa writes (the one with policy variables)."""
VERSIONS = ("2012-10-17", "2008-10-17")
"""Every version IAM accepts."""
EFFECTS = ("Allow", "Deny")
MAX_POLICY_FILE_BYTES = 128 * 1024
"""Policy files larger than this are not policies (IAM's own limit is 10 KiB per role)."""

_DOCUMENT_KEYS = ("Version", "Id", "Statement")
_STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")
_TRUST_KEYS = ("Principal", "NotPrincipal")


class PolicyError(InvalidInputError):
    """A policy document is malformed; ``path`` is the JSON path inside it."""

    code = "invalid-policy"

    def __init__(self, what: str, *, policy: str, path: str, fix: str | None = None) -> None:
        super().__init__(what, where=f"{policy}: {path}" if path else policy, fix=fix)
        self.policy = policy
        """The document's name (file path, role policy name or managed policy ARN)."""
        self.path = path
        """JSON path of the wrong value, e.g. ``Statement[0].Effect``."""


@dataclass(frozen=True)
class Statement:
    """One statement of an identity policy, checked and normalized."""

    label: str
    """How reports name it: its Sid, or its position (``Statement[0]``)."""
    effect: str
    """``Allow`` or ``Deny``."""
    actions: tuple[str, ...]
    """Action patterns (of ``Action``, or of ``NotAction`` when ``not_action``)."""
    not_action: bool
    """Whether the patterns are a ``NotAction``: the statement covers every other action."""
    resources: tuple[str, ...]
    """Resource patterns (of ``Resource``, or of ``NotResource`` when ``not_resource``)."""
    not_resource: bool
    """Whether the patterns are a ``NotResource``."""
    conditions: tuple[str, ...] = ()
    """Each condition as ``Operator key``; gmsa does not evaluate them."""
    variables: bool = False
    """Whether a resource pattern holds a policy variable (``${aws:username}``), which
    depends on the request and so is not evaluated either."""
    sid: str | None = None
    """The ``Sid``, when it has one."""

    @property
    def depends_on_request(self) -> bool:
        """Whether whether it applies depends on things gmsa does not evaluate."""
        return bool(self.conditions) or self.variables


@dataclass(frozen=True)
class PolicyDocument:
    """A parsed identity policy."""

    name: str
    """Where it came from: a file path, ``role/<role>/inline/<policy>`` or a managed
    policy's ARN."""
    statements: tuple[Statement, ...]
    """Its statements, in document order."""
    version: str | None = None
    """Its ``Version`` (None: not given, which IAM reads as 2008-10-17)."""


def parse_policy(document: Any, *, name: str) -> PolicyDocument:
    """Check and parse an identity policy document; raise :class:`PolicyError` when wrong."""
    if not isinstance(document, dict):
        raise PolicyError(
            f"a policy is a JSON object, not {type_name(document)}",
            policy=name,
            path="",
            fix='write {"Version": "2012-10-17", "Statement": [...]}',
        )
    _check_keys(document, _DOCUMENT_KEYS, name, ())
    version = document.get("Version")
    if version is not None and version not in VERSIONS:
        raise PolicyError(
            f"unknown policy version {version!r}",
            policy=name,
            path="Version",
            fix=f'write "Version": "{POLICY_VERSION}"',
        )
    if "Statement" not in document:
        raise PolicyError(
            "the policy has no Statement",
            policy=name,
            path="Statement",
            fix='add "Statement": [{"Effect": "Allow", "Action": ..., "Resource": ...}]',
        )
    raw = document["Statement"]
    if isinstance(raw, dict):
        items: list[tuple[tuple[str | int, ...], Any]] = [(("Statement",), raw)]
    elif isinstance(raw, list):
        items = [(("Statement", i), s) for i, s in enumerate(raw)]
    else:
        raise PolicyError(
            f"Statement must be an object or a list of objects, not {type_name(raw)}",
            policy=name,
            path="Statement",
            fix="write the statements as a JSON list",
        )
    statements = []
    sids: dict[str, str] = {}
    for where, item in items:
        statement = _parse_statement(item, name, where, variables=version == POLICY_VERSION)
        if statement.sid:
            if statement.sid in sids:
                raise PolicyError(
                    f"Sid {statement.sid!r} is used twice (also at {sids[statement.sid]})",
                    policy=name,
                    path=json_path(*where, "Sid"),
                    fix="give each statement its own Sid",
                )
            sids[statement.sid] = json_path(*where)
        statements.append(statement)
    return PolicyDocument(name=name, statements=tuple(statements), version=version)


def load_policy_file(path: Path) -> PolicyDocument:
    """Read a policy file strictly (BOMs, UTF-16, duplicate keys refused) and parse it."""
    document = jsondoc.load_file(path, max_bytes=MAX_POLICY_FILE_BYTES, what="policy file")
    return parse_policy(document, name=str(path))


def _check_keys(
    obj: dict[str, Any], allowed: Sequence[str], name: str, where: tuple[str | int, ...]
) -> None:
    for key in obj:
        if key in allowed:
            continue
        if key in _TRUST_KEYS:
            raise PolicyError(
                f"{key} has no place in an identity policy: this looks like a trust policy "
                "or a resource policy",
                policy=name,
                path=json_path(*where, key),
                fix="give the role's permissions policy, or remove the Principal",
            )
        close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
        if not close:
            close = [k for k in allowed if k.lower() == key.lower()]
        raise PolicyError(
            f"unknown key {key!r}",
            policy=name,
            path=json_path(*where, key),
            fix=f"did you mean {close[0]!r}?" if close else f"use only {', '.join(allowed)}",
        )


def _parse_statement(
    item: Any, name: str, where: tuple[str | int, ...], *, variables: bool
) -> Statement:
    if not isinstance(item, dict):
        raise PolicyError(
            f"a statement is a JSON object, not {type_name(item)}",
            policy=name,
            path=json_path(*where),
            fix='write {"Effect": "Allow", "Action": ..., "Resource": ...}',
        )
    _check_keys(item, _STATEMENT_KEYS, name, where)
    sid = item.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(
            f"Sid must be a string, not {type_name(sid)}",
            policy=name,
            path=json_path(*where, "Sid"),
            fix="write the Sid as a string of letters and digits",
        )
    effect = _effect(item, name, where)
    actions, not_action = _either(item, "Action", "NotAction", name, where)
    for i, action in enumerate(actions):
        _check_action(
            action, name, _value_path(item, where, "NotAction" if not_action else "Action", i)
        )
    resources, not_resource = _either(item, "Resource", "NotResource", name, where)
    for i, resource in enumerate(resources):
        _check_resource(
            resource,
            name,
            _value_path(item, where, "NotResource" if not_resource else "Resource", i),
        )
    conditions = _conditions(item.get("Condition"), name, (*where, "Condition"))
    uses_variables = variables and any("${" in r for r in resources)
    label = sid if sid else json_path(*where)
    return Statement(
        label=label,
        effect=effect,
        actions=tuple(actions),
        not_action=not_action,
        resources=tuple(resources),
        not_resource=not_resource,
        conditions=conditions,
        variables=uses_variables,
        sid=sid or None,
    )


def _value_path(item: dict[str, Any], where: tuple[str | int, ...], key: str, i: int) -> str:
    if isinstance(item.get(key), list):
        return json_path(*where, key, i)
    return json_path(*where, key)


def _effect(item: dict[str, Any], name: str, where: tuple[str | int, ...]) -> str:
    path = json_path(*where, "Effect")
    if "Effect" not in item:
        raise PolicyError(
            "the statement has no Effect",
            policy=name,
            path=path,
            fix='add "Effect": "Allow" (or "Deny")',
        )
    effect = item["Effect"]
    if effect in EFFECTS:
        return str(effect)
    if isinstance(effect, str) and effect.capitalize() in EFFECTS:
        fix = f'write "{effect.capitalize()}" (IAM is case-sensitive here)'
    else:
        fix = 'write "Allow" or "Deny"'
    raise PolicyError(
        f'Effect must be "Allow" or "Deny", not {json.dumps(effect)}',
        policy=name,
        path=path,
        fix=fix,
    )


def _either(
    item: dict[str, Any], key: str, not_key: str, name: str, where: tuple[str | int, ...]
) -> tuple[list[str], bool]:
    if key in item and not_key in item:
        raise PolicyError(
            f"a statement has {key} or {not_key}, not both",
            policy=name,
            path=json_path(*where, not_key),
            fix="keep one of them; split the statement in two if both are meant",
        )
    if key not in item and not_key not in item:
        raise PolicyError(
            f"the statement has no {key} (nor {not_key})",
            policy=name,
            path=json_path(*where, key),
            fix=f'add "{key}": [...]',
        )
    used = key if key in item else not_key
    return _strings(item[used], name, (*where, used)), used == not_key


def _strings(value: Any, name: str, where: tuple[str | int, ...]) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        if not value:
            raise PolicyError(
                "the list is empty, so the statement applies to nothing",
                policy=name,
                path=json_path(*where),
                fix="list at least one value, or remove the statement",
            )
        for i, element in enumerate(value):
            if not isinstance(element, str):
                raise PolicyError(
                    f"each value must be a string, not {type_name(element)}",
                    policy=name,
                    path=json_path(*where, i),
                    fix="quote the value",
                )
        return list(value)
    raise PolicyError(
        f"must be a string or a list of strings, not {type_name(value)}",
        policy=name,
        path=json_path(*where),
        fix='write "service:Action" or ["service:Action", ...]',
    )


def _check_action(action: str, name: str, path: str) -> None:
    if action == "*":
        return
    service, sep, operation = action.partition(":")
    if not sep or not service or not operation or ":" in operation or " " in action:
        raise PolicyError(
            f"{action!r} is not an action",
            policy=name,
            path=path,
            fix="write service:Action, e.g. s3:GetObject (wildcards * and ? allowed)",
        )


def _check_resource(resource: str, name: str, path: str) -> None:
    if resource == "*" or resource.startswith("arn:"):
        return
    fix = (
        f"write arn:{resource[4:]}"
        if resource.lower().startswith("arn:")
        else "write the resource's ARN (arn:aws:...), or * for every resource"
    )
    raise PolicyError(f"{resource!r} is not an ARN", policy=name, path=path, fix=fix)


def _conditions(value: Any, name: str, where: tuple[str | int, ...]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise PolicyError(
            f"Condition must be an object, not {type_name(value)}",
            policy=name,
            path=json_path(*where),
            fix='write {"Operator": {"key": "value"}}',
        )
    out: list[str] = []
    for operator, block in value.items():
        if not isinstance(block, dict) or not block:
            raise PolicyError(
                f"condition {operator!r} must map context keys to values",
                policy=name,
                path=json_path(*where, operator),
                fix='write {"aws:SourceVpc": "vpc-..."}',
            )
        for key, expected in block.items():
            values = expected if isinstance(expected, list) else [expected]
            for element in values:
                if not isinstance(element, str | bool | int | float) or element is None:
                    raise PolicyError(
                        "condition values are strings, numbers or booleans, "
                        f"not {type_name(element)}",
                        policy=name,
                        path=json_path(*where, operator, key),
                        fix="write the value as a string",
                    )
            out.append(f"{operator} {key}")
    return tuple(out)


def statement_sid(action: str) -> str:
    """The Sid gmsa gives the statement of one action: ``GmsaS3GetObject``."""
    words = action.replace("-", ":").split(":")
    return "Gmsa" + "".join(w[:1].upper() + w[1:] for w in words)


def least_privilege_policy(permissions: Sequence[Permission]) -> dict[str, Any]:
    """The smallest identity policy that allows ``permissions``: one statement per action
    (in :data:`ACTION_ORDER`, then alphabetical), each listing its exact resources sorted."""
    by_action: dict[str, set[str]] = {}
    for permission in permissions:
        by_action.setdefault(permission.action, set()).add(permission.resource)
    rank = {action: i for i, action in enumerate(ACTION_ORDER)}
    ordered = sorted(by_action, key=lambda a: (rank.get(a, len(rank)), a))
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": statement_sid(action),
                "Effect": "Allow",
                "Action": action,
                "Resource": sorted(by_action[action]),
            }
            for action in ordered
        ],
    }


__all__ = [
    "EFFECTS",
    "MAX_POLICY_FILE_BYTES",
    "POLICY_VERSION",
    "VERSIONS",
    "PolicyDocument",
    "PolicyError",
    "Statement",
    "least_privilege_policy",
    "load_policy_file",
    "parse_policy",
    "statement_sid",
]
