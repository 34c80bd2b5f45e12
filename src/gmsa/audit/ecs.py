"""Naming and reading an account's task definitions with the fewest ECS calls.

No ECS list call returns a task definition's content, so every task definition
audited costs one ``DescribeTaskDefinition``; what the listing can save is the
calls that name them:

- the latest ACTIVE revision of each family (the default): one
  ``ListTaskDefinitionFamilies`` page per 100 families (``status=ACTIVE``, the
  prefix filtered by ECS), then ``DescribeTaskDefinition`` of the *family name*,
  which ECS answers with its latest ACTIVE revision. Listing every revision
  instead (``ListTaskDefinitions``) would cost a page per 100 *revisions*;
- every revision (``--all-revisions``): one ``ListTaskDefinitions`` page per 100
  revisions of that status, then one describe per ARN;
- the latest INACTIVE revision: ``ListTaskDefinitions`` with ``status=INACTIVE``
  (ECS cannot describe "the latest inactive revision" of a family by name) and
  the highest revision per family kept.

``ListTaskDefinitions`` filters only on a whole family name, so with a prefix
those listings are filtered here. A family whose described revision is not
ACTIVE (a revision deregistered between the listing and the describe, or an
endpoint that answers with the family's newest revision whatever its status) is
asked for its ACTIVE revisions and the newest of them described: two more calls,
only then.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gmsa.aws import AWS_FAILURES, aws_error

PAGE_SIZE = 100
"""Items per ECS list call (ECS's maximum)."""

ACTION_LIST_FAMILIES = "ecs:ListTaskDefinitionFamilies"
ACTION_LIST = "ecs:ListTaskDefinitions"
ACTION_DESCRIBE = "ecs:DescribeTaskDefinition"


class Status(StrEnum):
    """Which task definitions an audit reads, by their registration status."""

    ACTIVE = "ACTIVE"
    """Registered: new tasks and services can use them."""
    INACTIVE = "INACTIVE"
    """Deregistered: running tasks and services may still use them."""


@dataclass(frozen=True)
class Selection:
    """Which task definitions of a region an audit reads."""

    status: Status = Status.ACTIVE
    """Their status."""
    all_revisions: bool = False
    """Every revision of that status, not only each family's latest."""
    family_prefix: str | None = None
    """Only families whose name starts with it."""

    @property
    def by_family(self) -> bool:
        """Whether each family's latest ACTIVE revision is described by the family name."""
        return self.status is Status.ACTIVE and not self.all_revisions

    def to_dict(self) -> dict[str, Any]:
        """The selection as JSON."""
        return {
            "status": self.status.value,
            "all_revisions": self.all_revisions,
            "family_prefix": self.family_prefix,
        }


def family_and_revision(name: str) -> tuple[str, int | None]:
    """The family and revision a task definition ARN (or ``family:revision``, or a bare
    family name) names."""
    tail = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
    family, _, revision = tail.partition(":")
    return family, int(revision) if revision.isdigit() else None


def latest_per_family(arns: Iterator[str] | list[str]) -> list[str]:
    """The ARN of each family's highest revision, in the order families first appear."""
    best: dict[str, tuple[int, str]] = {}
    for arn in arns:
        family, revision = family_and_revision(arn)
        number = revision or 0
        if family not in best or number > best[family][0]:
            best[family] = (number, arn)
    return [arn for _, arn in best.values()]


def _pages(client: Any, operation: str, action: str, resource: str, **kwargs: Any) -> Iterator[Any]:
    paginator = client.get_paginator(operation)
    pages = paginator.paginate(**kwargs, PaginationConfig={"PageSize": PAGE_SIZE})
    try:
        yield from pages
    except AWS_FAILURES as exc:
        raise aws_error(exc, action=action, resource=resource) from exc


def names_to_describe(client: Any, selection: Selection) -> Iterator[str]:
    """What to describe in the client's region, page by page as ECS answers: family
    names (their latest ACTIVE revision) or task definition ARNs (see the module
    docstring for which calls). A failure raises :class:`~gmsa.aws.AwsError`."""
    prefix = selection.family_prefix
    if selection.by_family:
        kwargs: dict[str, Any] = {"status": Status.ACTIVE.value}
        if prefix:
            kwargs["familyPrefix"] = prefix
        for page in _pages(
            client, "list_task_definition_families", ACTION_LIST_FAMILIES, "*", **kwargs
        ):
            for family in page.get("families", []):
                if not prefix or family.startswith(prefix):
                    yield family
        return
    arns = (
        arn
        for page in _pages(
            client, "list_task_definitions", ACTION_LIST, "*", status=selection.status.value
        )
        for arn in page.get("taskDefinitionArns", [])
        if not prefix or family_and_revision(arn)[0].startswith(prefix)
    )
    if selection.all_revisions:
        yield from arns
    else:
        yield from latest_per_family(arns)


def describe(
    client: Any, name: str, selection: Selection, *, resource: str | None = None
) -> dict[str, Any] | None:
    """The task definition ``name`` names, as ``DescribeTaskDefinition`` returns it
    (the ``taskDefinition`` object); ``None`` when a family asked for by name has no
    ACTIVE revision (any more). A failure raises :class:`~gmsa.aws.AwsError` naming
    ``resource`` (the task definition's ARN; default ``name``)."""
    document = _describe(client, name, resource or name)
    if not selection.by_family or document.get("status", Status.ACTIVE.value) == "ACTIVE":
        return document
    family, _ = family_and_revision(name)
    active = [
        arn
        for page in _pages(
            client,
            "list_task_definitions",
            ACTION_LIST,
            resource or family,
            familyPrefix=family,
            status=Status.ACTIVE.value,
        )
        for arn in page.get("taskDefinitionArns", [])
        if family_and_revision(arn)[0] == family
    ]
    latest = latest_per_family(active)
    return _describe(client, latest[0], latest[0]) if latest else None


def _describe(client: Any, name: str, resource: str) -> dict[str, Any]:
    try:
        answer = client.describe_task_definition(taskDefinition=name)
    except AWS_FAILURES as exc:
        raise aws_error(exc, action=ACTION_DESCRIBE, resource=resource) from exc
    document = answer.get("taskDefinition")
    if not isinstance(document, dict):
        raise aws_error(
            ValueError("no taskDefinition in the answer"), action=ACTION_DESCRIBE, resource=resource
        )
    return document


__all__ = [
    "ACTION_DESCRIBE",
    "ACTION_LIST",
    "ACTION_LIST_FAMILIES",
    "PAGE_SIZE",
    "Selection",
    "Status",
    "describe",
    "family_and_revision",
    "latest_per_family",
    "names_to_describe",
]
