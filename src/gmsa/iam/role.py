"""Read a role's identity policies from IAM: its inline policies and attached managed ones.

This reads with the *base* credentials (the operator's), not the role itself:
a task execution role is rarely allowed to read IAM. The caller needs
``iam:ListRolePolicies``, ``iam:GetRolePolicy``, ``iam:ListAttachedRolePolicies``,
``iam:GetPolicy`` and ``iam:GetPolicyVersion``; a refusal names the one missing.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from gmsa import jsondoc
from gmsa.aws import AwsConfig, aws_error
from gmsa.errors import ExternalError, InvalidInputError
from gmsa.iam.policy import PolicyDocument, parse_policy

T = TypeVar("T")

_ROLE_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/"
    r"(?P<path>(?:[\w+=,.@-]+/)*)(?P<name>[\w+=,.@-]{1,64})$"
)
PAGE_SIZE = 100
"""Items per IAM list call (IAM's own maximum default); every page is read."""
_BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "UnrecognizedClientException",
}
_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403"}


class RoleReadError(ExternalError):
    """IAM refused or failed to give a role's policies (exit 3)."""

    code = "role-read-failed"


class InvalidRoleArnError(InvalidInputError):
    """The role ARN is malformed."""

    code = "invalid-role-arn"


def role_name(role_arn: str) -> str:
    """The role's name (the last part of its ARN; a role path comes before it)."""
    match = _ROLE_ARN_RE.match(role_arn)
    if match is None:
        raise InvalidRoleArnError(
            "not a role ARN",
            where=role_arn,
            fix="write arn:aws:iam::ACCOUNT:role/NAME (the task definition's executionRoleArn)",
        )
    return match.group("name")


def role_policies(aws: AwsConfig, role_arn: str) -> tuple[PolicyDocument, ...]:
    """Every identity policy of the role: inline ones (named ``role/<role>/inline/<policy>``)
    then attached managed ones (named by their ARN, default version)."""
    name = role_name(role_arn)
    client = _iam_client(aws, role_arn)
    out: list[PolicyDocument] = []
    pages = _call(
        role_arn,
        "iam:ListRolePolicies",
        partial(_all_pages, client, "list_role_policies", RoleName=name),
    )
    inline_names = [n for page in pages for n in page.get("PolicyNames", [])]
    for policy_name in inline_names:
        response = _call(
            role_arn,
            "iam:GetRolePolicy",
            partial(client.get_role_policy, RoleName=name, PolicyName=policy_name),
            missing=f"inline policy {policy_name!r}",
        )
        label = f"role/{name}/inline/{policy_name}"
        out.append(parse_policy(decode_document(response["PolicyDocument"], label), name=label))
    pages = _call(
        role_arn,
        "iam:ListAttachedRolePolicies",
        partial(_all_pages, client, "list_attached_role_policies", RoleName=name),
    )
    attached = [p["PolicyArn"] for page in pages for p in page.get("AttachedPolicies", [])]
    for policy_arn in attached:
        policy = _call(
            role_arn,
            "iam:GetPolicy",
            partial(client.get_policy, PolicyArn=policy_arn),
            missing=f"managed policy {policy_arn}",
        )
        version = _call(
            role_arn,
            "iam:GetPolicyVersion",
            partial(
                client.get_policy_version,
                PolicyArn=policy_arn,
                VersionId=policy["Policy"]["DefaultVersionId"],
            ),
            missing=f"the default version of {policy_arn}",
        )
        document = decode_document(version["PolicyVersion"]["Document"], policy_arn)
        out.append(parse_policy(document, name=policy_arn))
    return tuple(out)


def decode_document(raw: Any, source: str) -> Any:
    """A policy document as IAM returns it: already decoded by botocore, or a
    URL-encoded JSON string (IAM's wire form)."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if text.startswith("%") or (not text.startswith("{") and "%7B" in text.upper()):
        text = urllib.parse.unquote(text)
    return jsondoc.loads(text, source=source)


_IAM_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
"""Where each partition's (global) IAM service is signed for, when no region is set."""


def _iam_client(aws: AwsConfig, role_arn: str) -> Any:
    match = _ROLE_ARN_RE.match(role_arn)
    partition = match.group("partition") if match else "aws"
    try:
        region = aws.region or aws.base_session().region_name
        return aws.base_client("iam", region=region or _IAM_REGIONS.get(partition, "us-east-1"))
    except BotoCoreError as exc:
        raise RoleReadError(
            f"cannot make an IAM client: {exc}",
            where=role_arn,
            fix="check --profile and --region",
        ) from exc


def _all_pages(client: Any, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
    paginator = client.get_paginator(operation)
    return list(paginator.paginate(**kwargs, PaginationConfig={"PageSize": PAGE_SIZE}))


def _call(role_arn: str, action: str, fn: Callable[[], T], *, missing: str = "the role") -> T:
    try:
        return fn()
    except ClientError as exc:
        info = exc.response.get("Error", {})
        code = str(info.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchEntity" or status == 404:
            raise RoleReadError(
                f"{missing} does not exist",
                where=role_arn,
                fix="check the role ARN (and the account the credentials belong to)",
            ) from exc
        if code in _BAD_CREDENTIALS:
            raise RoleReadError(
                f"AWS refused the credentials ({code})",
                where=role_arn,
                fix="check the access key, the profile, or renew the session",
            ) from exc
        if code in _ACCESS_DENIED or status == 403:
            raise RoleReadError(
                f"the credentials in use may not call {action} on the role",
                where=role_arn,
                fix=f"allow {action} for the caller, or check with --policy FILE offline",
            ) from exc
        raise RoleReadError(
            f"IAM answered {code or status} to {action}",
            where=role_arn,
            fix="retry; check the endpoint and the credentials",
        ) from exc
    except NoCredentialsError as exc:
        raise RoleReadError(
            f"no AWS credentials to call {action} with",
            where=role_arn,
            fix="give --profile, or set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        ) from exc
    except EndpointConnectionError as exc:
        raise RoleReadError(
            f"cannot connect to IAM for {action}",
            where=exc.kwargs.get("endpoint_url") or role_arn,
            fix="check the network and --endpoint-url",
        ) from exc
    except BotoCoreError as exc:
        said = aws_error(exc, action=action, resource=role_arn)
        raise RoleReadError(
            f"cannot read the role's policies from IAM ({action}): {said.what}",
            where=role_arn,
            fix=said.fix or "check the network, --endpoint-url and the credentials",
        ) from exc


__all__ = [
    "PAGE_SIZE",
    "InvalidRoleArnError",
    "RoleReadError",
    "T",
    "decode_document",
    "role_name",
    "role_policies",
]
