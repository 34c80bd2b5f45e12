"""``gmsa ref``: check credential spec references before a task definition uses them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from gmsa.cli._common import GmsaGroup, echo_findings, emit_report, json_option
from gmsa.errors import ExitCode
from gmsa.findings import Finding, Severity
from gmsa.iam.requirements import Permission, required_permissions, requirement_findings
from gmsa.reference import InvalidReferenceError, Reference, parse


@dataclass(frozen=True)
class _Result:
    value: str
    reference: Reference | None = None
    error: InvalidReferenceError | None = None
    permissions: tuple[Permission, ...] = ()
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        if self.reference is None:
            assert self.error is not None
            return {"valid": False, "reference": self.value, "error": self.error.to_dict()}
        return {
            "valid": True,
            "reference": self.value,
            "normalized": str(self.reference),
            "mode": self.reference.mode.value,
            "kind": self.reference.kind,
            "parts": self.reference.location.parts(),
            "permissions": [p.to_dict() for p in self.permissions],
            "findings": [f.to_dict() for f in self.findings],
        }

    def problems(self) -> list[Finding]:
        """What the check found: an invalid reference is an error naming the wrong part."""
        if self.error is not None:
            error = self.error
            message = f"{error.part}: {error.what}"
            return [Finding(Severity.ERROR, error.code, "", message, error.fix)]
        return list(self.findings)

    def all_findings(self) -> list[Finding]:
        """What the check found, each about the reference."""
        return [f.about(self.value) for f in self.problems()]


@click.group(cls=GmsaGroup, short_help="Check credential spec references.")
def ref() -> None:
    """Check credential spec references (the credentialspec: values of a task definition).

    \b
    Its command:
      check  parse and validate references; show their parts and IAM permissions

    \b
    Examples:
      gmsa ref check credentialspec:arn:aws:s3:::my-specs/webapp01.json
    """


@ref.command("check", short_help="Parse and validate references; show what they need.")
@click.argument("references", nargs=-1, required=True, metavar="REF...")
@click.option(
    "--secret-arn",
    metavar="ARN",
    help="Domainless user secret (the credentialArn of the spec's PluginInput): "
    "adds secretsmanager:GetSecretValue on it.",
)
@click.option(
    "--kms-key-arn",
    metavar="ARN",
    help="Customer-managed KMS key encrypting the spec or the secret: adds kms:Decrypt on it.",
)
@json_option
def check(
    references: tuple[str, ...],
    secret_arn: str | None,
    kms_key_arn: str | None,
    json_output: bool,
) -> None:
    """Parse and validate each REF: credentialspec: or credentialspecdomainless:
    followed by an S3 object ARN, an SSM parameter ARN or file://NAME.json.

    Shows the parts and the permissions the task execution role needs. With
    several REFs, --json prints {"valid": ..., "references": [...]}.

    \b
    Examples:
      gmsa ref check credentialspec:arn:aws:s3:::my-specs/webapp01.json
      gmsa ref check credentialspec:file://webapp01.json \\
          credentialspec:arn:aws:ssm:eu-west-1:111122223333:parameter/gmsa/webapp01 --json

    \b
    Exit codes:
      0  every REF is valid
      1  a REF is invalid
      2  command-line usage error
    """
    results = [_check_one(value, secret_arn, kms_key_arn) for value in references]
    valid = all(r.reference is not None for r in results)
    documents = [r.to_dict() for r in results]

    def text() -> None:
        for result in results:
            _echo(result)

    emit_report(
        [f for r in results for f in r.all_findings()],
        ok=valid,
        results=documents[0] if len(documents) == 1 else {"valid": valid, "references": documents},
        text=text,
    )
    click.get_current_context().exit(int(ExitCode.OK if valid else ExitCode.INVALID))


def _check_one(value: str, secret_arn: str | None, kms_key_arn: str | None) -> _Result:
    try:
        reference = parse(value)
    except InvalidReferenceError as exc:
        return _Result(value, error=exc)
    return _Result(
        value,
        reference=reference,
        permissions=required_permissions(reference, secret_arn=secret_arn, kms_key_arn=kms_key_arn),
        findings=tuple(requirement_findings(reference, secret_arn=secret_arn)),
    )


def _echo(result: _Result) -> None:
    reference = result.reference
    if reference is None:
        assert result.error is not None
        click.echo(f"{result.value}: " + click.style("invalid", fg="red"))
        echo_findings(result.problems(), indent="  ")
        return
    click.echo(f"{result.value}: " + click.style("valid", fg="green"))
    rows = {"mode": reference.mode.value, "kind": reference.kind, **reference.location.parts()}
    if str(reference) != result.value:
        rows = {"normalized": str(reference), **rows}
    for name, part in rows.items():
        click.echo(f"  {name + ':':<12}{part}")
    if result.permissions:
        click.echo("  the task execution role needs:")
        for p in result.permissions:
            click.echo(f"    {p.action} on {p.resource} (to {p.reason})")
    else:
        click.echo(
            "  no IAM permission needed for the spec: the host reads the file from its "
            "CredentialSpecs directory"
        )
    echo_findings(result.findings, indent="  ")


__all__ = [
    "check",
    "ref",
]
