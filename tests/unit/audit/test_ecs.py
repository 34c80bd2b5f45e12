"""Naming task definitions from ECS listings."""

from __future__ import annotations

import pytest

from gmsa.audit.ecs import Selection, Status, family_and_revision, latest_per_family

ARN = "arn:aws:ecs:us-east-1:111122223333:task-definition/"


@pytest.mark.parametrize(
    ("name", "family", "revision"),
    [
        (f"{ARN}web:12", "web", 12),
        ("web:3", "web", 3),
        ("web", "web", None),
        (f"{ARN}my-app_2", "my-app_2", None),
    ],
)
def test_family_and_revision(name: str, family: str, revision: int | None) -> None:
    assert family_and_revision(name) == (family, revision)


def test_latest_per_family_keeps_the_highest_revision_whatever_the_order() -> None:
    arns = [f"{ARN}b:2", f"{ARN}a:10", f"{ARN}a:9", f"{ARN}b:11", f"{ARN}a:2"]
    assert latest_per_family(arns) == [f"{ARN}b:11", f"{ARN}a:10"]


def test_only_the_default_selection_describes_by_family_name() -> None:
    assert Selection().by_family
    assert not Selection(all_revisions=True).by_family
    assert not Selection(status=Status.INACTIVE).by_family
    assert Selection(family_prefix="web-").to_dict() == {
        "status": "ACTIVE",
        "all_revisions": False,
        "family_prefix": "web-",
    }
