"""What an audit found, summed up: outcomes, causes worst first, exit codes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gmsa.audit.ecs import Selection
from gmsa.audit.results import (
    NOT_CHECKED_CODE,
    AuditedTaskDefinition,
    AuditResult,
    NotRead,
    Outcome,
    Unchecked,
    about_task_definition,
    causes,
    not_checked_causes,
)
from gmsa.errors import AccessDeniedError
from gmsa.findings import Finding, Severity, error, info, warning

ARN = "arn:aws:ecs:us-east-1:111122223333:task-definition/web:3"
SPEC = "arn:aws:s3:::bucket/webapp01.json"
DENIED = Unchecked("access-denied", "AWS refused s3:GetObject", "s3:GetObject on x", "allow it")


def task(
    name: str, *findings: Finding, unchecked: tuple[Unchecked, ...] = ()
) -> AuditedTaskDefinition:
    arn = f"arn:aws:ecs:us-east-1:111122223333:task-definition/{name}:1"
    return AuditedTaskDefinition(
        arn=arn,
        region="us-east-1",
        family=name,
        revision=1,
        findings=tuple(replace(f, source=arn) for f in findings),
        unchecked=unchecked,
    )


def result(*audited: AuditedTaskDefinition, **kwargs: object) -> AuditResult:
    return AuditResult(
        account="111122223333",
        regions=("us-east-1",),
        selection=Selection(),
        listed=len(audited),
        read=len(audited),
        audited=audited,
        **kwargs,  # type: ignore[arg-type]
    )


def test_an_error_fails_even_when_something_could_not_be_read() -> None:
    assert task("a").outcome is Outcome.PASS
    assert task("a", warning("w", "p", "m")).outcome is Outcome.PASS
    assert task("a", unchecked=(DENIED,)).outcome is Outcome.NOT_CHECKED
    assert task("a", error("e", "p", "m"), unchecked=(DENIED,)).outcome is Outcome.FAIL


def test_causes_are_grouped_by_code_and_ordered_worst_first() -> None:
    audited = [
        task("a", warning("shared-hostname", "p", "w1"), error("spec-not-found", "p", "e1")),
        task("b", error("spec-not-found", "p", "e2"), error("spec-not-found", "q", "e3")),
        task("c", error("hostname-missing", "p", "e4"), info("spec-host-side", "p", "i")),
        task("d", warning("shared-hostname", "p", "w2"), warning("aaa-first", "p", "w3")),
    ]
    found = causes(audited)
    assert [(c.severity, c.code, c.task_definitions, c.findings) for c in found] == [
        (Severity.ERROR, "spec-not-found", 2, 3),
        (Severity.ERROR, "hostname-missing", 1, 1),
        (Severity.WARNING, "shared-hostname", 2, 2),
        (Severity.WARNING, "aaa-first", 1, 1),
        (Severity.INFO, "spec-host-side", 1, 1),
    ]
    assert found[0].example == "e1"


def test_not_checked_causes_count_only_what_has_no_verdict() -> None:
    role = Unchecked("role-read-failed", "may not call iam:GetRolePolicy", "role", None)
    audited = [
        task("a", unchecked=(DENIED,)),
        task("b", unchecked=(DENIED, role)),
        task("c", error("e", "p", "m"), unchecked=(role,)),  # fails anyway
    ]
    listing = NotRead("eu-west-1", "arn:aws:ecs:eu-west-1:1:task-definition/*", role)
    found = not_checked_causes(audited, [listing])
    assert [(c.code, c.task_definitions) for c in found] == [
        ("access-denied", 2),
        ("role-read-failed", 2),
    ]
    assert all(c.not_checked and c.severity is Severity.WARNING for c in found)
    assert found[0].example == "AWS refused s3:GetObject (s3:GetObject on x)"


@pytest.mark.parametrize(
    ("audited", "not_read", "interrupted", "code"),
    [
        ((), (), False, 0),  # nothing uses gMSA
        ((task("a"),), (), False, 0),
        ((task("a"), task("b", unchecked=(DENIED,))), (), False, 0),
        ((task("a", error("e", "p", "m")),), (), False, 1),
        ((task("a", error("e", "p", "m")), task("b", unchecked=(DENIED,))), (), False, 1),
        ((task("b", unchecked=(DENIED,)),), (), False, 3),
        ((), (NotRead("us-east-1", "x", DENIED),), False, 3),
        ((task("a", error("e", "p", "m")),), (), True, 130),
    ],
)
def test_exit_codes(
    audited: tuple[AuditedTaskDefinition, ...],
    not_read: tuple[NotRead, ...],
    interrupted: bool,
    code: int,
) -> None:
    assert result(*audited, not_read=not_read, interrupted=interrupted).exit_code() == code


def test_findings_add_a_warning_per_thing_not_checked() -> None:
    found = result(
        task("a", error("e", "p", "m"), unchecked=(DENIED,)),
        task("b", unchecked=(DENIED,)),
        not_read=(NotRead("us-east-1", "arn:x", DENIED),),
    ).findings()
    assert [(f.code, f.source) for f in found] == [
        ("e", task("a").arn),
        (NOT_CHECKED_CODE, task("b").arn),
        (NOT_CHECKED_CODE, "arn:x"),
    ]
    assert found[1].severity is Severity.WARNING
    assert found[1].message == "not checked: AWS refused s3:GetObject (s3:GetObject on x)"
    assert found[1].fix == "allow it"


def test_a_spec_finding_points_at_the_reference_and_names_the_spec() -> None:
    inside = error("sid-not-domain-sid", "DomainJoinConfig.Sid", "not a domain SID").about(
        SPEC, referenced_at="containerDefinitions[0].credentialSpecs[0]"
    )
    moved = about_task_definition(inside, ARN)
    assert moved.source == ARN
    assert moved.path == "containerDefinitions[0].credentialSpecs[0]"
    assert moved.referenced_at is None
    assert moved.message == f"in the spec {SPEC} DomainJoinConfig.Sid: not a domain SID"
    missing = error("spec-not-found", "", f"the spec does not exist ({SPEC})").about(
        SPEC, referenced_at="containerDefinitions[1].credentialSpecs[0]"
    )
    assert about_task_definition(missing, ARN).message == f"the spec does not exist ({SPEC})"
    own = error("hostname-missing", "containerDefinitions[0].hostname", "m")
    assert about_task_definition(own, ARN) == replace(own, source=ARN)


def test_unchecked_from_a_typed_error() -> None:
    exc = AccessDeniedError("refused", where="s3:GetObject on x", fix="allow it")
    assert Unchecked.of(exc) == Unchecked(
        "access-denied", "refused", "s3:GetObject on x", "allow it"
    )


def test_the_summary_counts() -> None:
    summary = result(
        task("a", error("e", "p", "m")),
        task("b"),
        task("c", unchecked=(DENIED,)),
        not_read=(NotRead("us-east-1", "arn:x", DENIED),),
    ).summary()
    assert {k: v for k, v in summary.items() if not k.endswith("causes")} == {
        "listed": 3,
        "read": 3,
        "using_gmsa": 3,
        "families_using_gmsa": 3,
        "checked": 2,
        "would_fail": 1,
        "pass": 1,
        "not_checked": 2,
    }
