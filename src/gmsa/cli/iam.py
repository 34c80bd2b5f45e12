"""``gmsa iam``: the least-privilege policy for a reference, and whether policies allow it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from gmsa import jsondoc
from gmsa.cli._aws import aws_base_options, aws_config_from
from gmsa.cli._common import (
    GmsaGroup,
    current_output,
    echo_findings,
    emit_report,
    exit_for,
    json_option,
    listing,
)
from gmsa.cli._options import check_role_option, policy_option
from gmsa.errors import ExitCode
from gmsa.findings import Finding, has_errors, warning
from gmsa.iam.evaluate import Decision, decisions_to_findings, evaluate
from gmsa.iam.policy import PolicyDocument, least_privilege_policy, load_policy_file
from gmsa.iam.requirements import (
    Permission,
    merge_permissions,
    required_permissions,
    requirement_findings,
)
from gmsa.iam.role import role_policies
from gmsa.reference import Mode, Reference, parse

_secret_option = click.option(
    "--secret-arn",
    "secret_arns",
    multiple=True,
    metavar="ARN",
    help="Domainless user secret (the credentialArn of the spec's PluginInput): "
    "adds secretsmanager:GetSecretValue on it. Repeatable.",
)
_kms_option = click.option(
    "--kms-key-arn",
    "kms_key_arns",
    multiple=True,
    metavar="ARN",
    help="Customer-managed KMS key encrypting the spec or the secret: adds kms:Decrypt "
    "on it. Repeatable.",
)

_references_argument = click.argument("references", nargs=-1, required=True, metavar="REF...")


@dataclass(frozen=True)
class _Needs:
    """What a set of references needs, and what could not be known."""

    permissions: tuple[Permission, ...]
    owners: dict[tuple[str, str], str]
    findings: tuple[Finding, ...]


def _needs(
    references: tuple[str, ...], secret_arns: tuple[str, ...], kms_key_arns: tuple[str, ...]
) -> _Needs:
    refs: list[Reference] = [parse(value, require_prefix=False) for value in references]
    groups: list[tuple[Permission, ...]] = []
    owners: dict[tuple[str, str], str] = {}
    findings: list[Finding] = []
    for ref in refs:
        secrets: tuple[str | None, ...] = secret_arns or (None,)
        keys: tuple[str | None, ...] = kms_key_arns or (None,)
        for secret in secrets:
            for key in keys:
                group = required_permissions(ref, secret_arn=secret, kms_key_arn=key)
                groups.append(group)
                for p in group:
                    owners.setdefault((p.action, p.resource), str(ref))
        findings.extend(
            requirement_findings(
                ref, secret_arn=secret_arns[0] if secret_arns else None, path=str(ref)
            )
        )
    if secret_arns and not any(r.mode is Mode.DOMAINLESS for r in refs):
        findings.append(
            warning(
                "secret-arn-unused",
                "--secret-arn",
                "only domainless (credentialspecdomainless:) references read a user secret; "
                "the given secret was left out",
                "drop --secret-arn, or use the credentialspecdomainless: reference",
            )
        )
    return _Needs(merge_permissions(groups), owners, tuple(findings))


def _about_references(findings: Iterable[Finding]) -> list[Finding]:
    """Findings whose path names a reference (or an option), as findings about it."""
    return [f if f.source or not f.path else replace(f, path="", source=f.path) for f in findings]


@click.group(cls=GmsaGroup, short_help="IAM permissions the task execution role needs.")
def iam() -> None:
    """IAM permissions of the task execution role for credential specs.

    \b
    In the order they are used:
      policy  print the least-privilege policy the role needs for references
      check   check that the role's policies (files or from IAM) allow them

    \b
    Examples:
      gmsa iam policy credentialspec:arn:aws:s3:::my-specs/webapp01.json
      gmsa iam check --policy policy.json credentialspec:arn:aws:s3:::my-specs/webapp01.json
    """


@iam.command("policy", short_help="Print the least-privilege policy for references.")
@_references_argument
@_secret_option
@_kms_option
@json_option
def policy(
    references: tuple[str, ...],
    secret_arns: tuple[str, ...],
    kms_key_arns: tuple[str, ...],
    json_output: bool,
) -> None:
    """Print the least-privilege inline policy the task execution role needs to
    read each REF (a credentialspec: value, or a bare ARN or file:// path).

    Exactly the calls the host makes: s3:GetObject on the object,
    ssm:GetParameters on the parameter, and for a domainless host
    secretsmanager:GetSecretValue on the user secret (--secret-arn), plus
    kms:Decrypt on a customer-managed key (--kms-key-arn). file:// specs need
    nothing. The output is ready for aws iam put-role-policy.

    \b
    Examples:
      gmsa iam policy credentialspec:arn:aws:s3:::my-specs/webapp01.json > policy.json
      gmsa iam policy credentialspecdomainless:arn:aws:s3:::my-specs/webapp01.json \\
          --secret-arn arn:aws:secretsmanager:eu-west-1:111122223333:secret:gmsa-user

    \b
    Exit codes:
      0  the policy was printed
      1  a reference or ARN is invalid
      2  command-line usage error
    """
    needs = _needs(references, secret_arns, kms_key_arns)
    document = least_privilege_policy(needs.permissions) if needs.permissions else None

    def text() -> None:
        if document is None:
            click.echo(
                "no IAM permission needed: file:// specs are read from the host's "
                "CredentialSpecs directory",
                err=True,
            )
        else:
            click.echo(jsondoc.dumps(document), nl=False)
        if needs.findings:
            click.echo(err=True)
            echo_findings(needs.findings, indent="", err=True)

    if current_output().quiet and document is not None:
        click.echo(jsondoc.dumps(document), nl=False)
    emit_report(
        _about_references(needs.findings),
        ok=not has_errors(needs.findings),
        results={
            "policy": document,
            "permissions": [p.to_dict() for p in needs.permissions],
            "findings": [f.to_dict() for f in needs.findings],
        },
        text=text,
        err=True,
    )


@iam.command("check", short_help="Check that a role's policies allow reading each reference.")
@_references_argument
@policy_option
@check_role_option(name="role_arn", deprecated=("--role",))
@_secret_option
@_kms_option
@aws_base_options
@json_option
def check(
    references: tuple[str, ...],
    policy_files: tuple[Path, ...],
    role_arn: str | None,
    secret_arns: tuple[str, ...],
    kms_key_arns: tuple[str, ...],
    json_output: bool,
    **aws: Any,
) -> None:
    """Tell whether the task execution role's policies allow what each REF needs,
    evaluated the way IAM does (explicit Deny wins, then Allow, else denied).

    Give the policies as --policy files, or --check-role ARN to read them from
    IAM (both may be combined). Conditions are not evaluated: an Allow that
    relies on one is a warning.

    \b
    Examples:
      gmsa iam check --policy policy.json credentialspec:arn:aws:s3:::my-specs/webapp01.json
      gmsa iam check --check-role arn:aws:iam::111122223333:role/ecsTaskExecutionRole \\
          credentialspec:arn:aws:ssm:eu-west-1:111122223333:parameter/gmsa/webapp01 --json

    \b
    Exit codes:
      0  everything is allowed
      1  something is denied, or the input is invalid
      2  command-line usage error
      3  the role's policies cannot be read from IAM
    """
    if not policy_files and not role_arn:
        raise click.UsageError(
            "give the policies: --policy FILE (repeatable) and/or --check-role ARN"
        )
    needs = _needs(references, secret_arns, kms_key_arns)
    policies: list[PolicyDocument] = [load_policy_file(p) for p in policy_files]
    if role_arn:
        policies.extend(role_policies(aws_config_from(aws), role_arn))
    decisions = evaluate(policies, needs.permissions)
    findings = list(needs.findings)
    for decision in decisions:
        key = (decision.permission.action, decision.permission.resource)
        findings.extend(decisions_to_findings([decision], path=needs.owners.get(key, "")))
    allowed = all(d.allowed for d in decisions)
    code = ExitCode.OK if allowed and exit_for(findings) == 0 else ExitCode.INVALID
    emit_report(
        _about_references(findings),
        ok=code is ExitCode.OK,
        results={
            "allowed": allowed,
            "policies": [p.name for p in policies],
            "decisions": [d.to_dict() for d in decisions],
            "findings": [f.to_dict() for f in findings],
        },
        text=lambda: _echo_check(policies, decisions, findings, allowed),
    )
    click.get_current_context().exit(int(code))


def _echo_check(
    policies: list[PolicyDocument],
    decisions: tuple[Decision, ...],
    findings: list[Finding],
    allowed: bool,
) -> None:
    click.echo("policies: " + listing((p.name for p in policies), empty="(none)"))
    if not decisions:
        click.echo("nothing to check: file:// specs need no IAM permission")
    for d in decisions:
        p = d.permission
        if d.allowed:
            mark = click.style("allowed", fg="yellow" if d.conditions_not_evaluated else "green")
            by = f"{d.policy}: {d.statement}"
        else:
            mark = click.style("DENIED ", fg="red")
            by = f"{d.policy}: {d.statement}" if d.policy else "no statement allows it"
        click.echo(f"  {mark} {p.action} on {p.resource} ({by})")
    if findings:
        echo_findings(findings)
    click.echo("all allowed" if allowed else "the role cannot read everything it needs")


__all__ = [
    "check",
    "iam",
    "policy",
]
