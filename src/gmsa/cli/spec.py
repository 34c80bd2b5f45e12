"""``gmsa spec``: validate, show and describe credential specs.

Only argument parsing and output here; every decision is in :mod:`gmsa.credspec`.
"""

from __future__ import annotations

import click

from gmsa import jsondoc
from gmsa.cli._common import (
    GmsaCommand,
    GmsaGroup,
    OutputFormat,
    current_output,
    echo_failure,
    echo_findings,
    echo_success,
    emit_report,
    finding_counts,
    finish,
    json_option,
)
from gmsa.cli._options import input_format_option
from gmsa.cli.doctor import verify
from gmsa.cli.spec_new import new
from gmsa.cli.spec_publish import publish
from gmsa.credspec.embedded import EmbeddedSpecs, SpecInputFormat, check_input, findings_of
from gmsa.credspec.render import describe, render
from gmsa.credspec.schema import json_schema
from gmsa.credspec.validate import (
    CredentialSpecError,
    SpecReport,
    check_argument,
)
from gmsa.errors import ExitCode, ExternalError
from gmsa.findings import Finding, count, error


@click.group(cls=GmsaGroup, short_help="Credential specs: generate, check, store, verify.")
def spec() -> None:
    """Credential specs: generate, check, show, store and verify them.

    \b
    In the order they are used:
      new       generate a spec for a gMSA from the domain (New-CredentialSpec)
      validate  check specs, also those stored in templates and plans: every
                problem with its JSON path and a fix
      show      summarise a spec, or print it as canonical JSON
      schema    print the spec's JSON Schema for editors
      publish   store a spec in S3, SSM or a directory and print its reference
      verify    check a spec against the domain it names

    \b
    Examples:
      gmsa spec validate webapp01.json
      gmsa spec publish webapp01.json s3://my-specs/webapp01.json
    """


def _echo_status(report: SpecReport) -> None:
    counts = finding_counts(report.findings)
    detail = f" ({counts})" if counts else ""
    if report.resource is not None:
        at = f"{report.source}:{report.line}" if report.line else report.source
        name = f"{at}: {report.resource}: {report.path}"
    else:
        name = report.source
    if report.valid:
        echo_success(f"{name}: valid{detail}")
    else:
        echo_failure(f"{name}: not valid{detail}")


def _about_file(report: SpecReport) -> list[Finding]:
    """A report's findings, each naming the file it is about."""
    return [f if f.source else f.about(report.source) for f in report.findings]


def _echo_embedded(report: EmbeddedSpecs) -> None:
    echo_findings(report.problems)
    for found in report.specs:
        _echo_status(found)
        echo_findings(found.findings, indent="    ")
    echo_findings(report.notes)
    good = sum(s.valid for s in report.specs)
    parts = [f"{good} valid", f"{len(report.specs) - good} not valid"]
    if report.notes:
        parts.append(f"{count(len(report.notes), 'value')} not checked")
    click.echo(
        f"{report.source} ({report.input_format.value}): "
        f"{count(len(report.specs), 'credential spec')}: {', '.join(parts)}"
    )


@spec.command(cls=GmsaCommand, short_help="Check credential specs, also in templates and plans.")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@input_format_option((SpecInputFormat.SPEC.value, "a credential spec"))
@json_option
def validate(files: tuple[str, ...], input_format: str, json_output: bool) -> None:
    """Check credential specs: every problem with its JSON path and a fix.

    FILE may be "-" for standard input. UTF-8 (with or without a BOM) and UTF-16
    with a BOM are read, as PowerShell writes them. Errors make the spec fail;
    warnings point at things that work but look wrong.

    FILE may also be a CloudFormation template (JSON or YAML; a directory is CDK
    synth output) or a Terraform plan's JSON: every spec it stores is checked,
    in the Value of an AWS::SSM::Parameter, the value of an aws_ssm_parameter or
    the content of an aws_s3_object. Findings name the resource, the path inside
    it and the line. A value known only at deploy time is reported as not
    checked, never as an error; values that are not credential specs are
    skipped.

    \b
    Examples:
      gmsa spec validate webapp01.json
      gmsa spec validate webapp01.json other.json --json
      cat webapp01.json | gmsa spec validate -
      gmsa spec validate template.yaml --format sarif > specs.sarif
      gmsa spec validate cdk.out
      terraform show -json plan.out > plan.json && gmsa spec validate plan.json

    \b
    Exit codes:
      0  every spec is valid (warnings may be printed)
      1  a spec is not valid, a file is missing, or a template or plan cannot
         be read or holds no credential spec
      2  command-line usage error
      3  a file cannot be read
    """
    reports: list[SpecReport | EmbeddedSpecs] = []
    unreadable = False
    for name in files:
        try:
            reports.append(check_input(name, SpecInputFormat(input_format)))
        except ExternalError as exc:
            unreadable = True
            reports.append(
                SpecReport(name, None, (error("unreadable-file", "", exc.what, exc.fix),))
            )
    all_valid = all(r.valid for r in reports)

    def text() -> None:
        for report in reports:
            if isinstance(report, EmbeddedSpecs):
                _echo_embedded(report)
                continue
            _echo_status(report)
            echo_findings(report.findings)
        if len(reports) > 1:
            good = sum(r.valid for r in reports)
            click.echo(
                f"{count(len(reports), 'file')}: {good} valid, {len(reports) - good} not valid"
            )

    emit_report(
        findings_of(reports),
        ok=all_valid and not unreadable,
        results={"valid": all_valid, "files": [r.to_dict() for r in reports]},
        text=text,
    )
    if unreadable:
        finish(int(ExitCode.EXTERNAL))
    finish(int(ExitCode.OK if all_valid else ExitCode.INVALID))


@spec.command(cls=GmsaCommand, short_help="Summarise a credential spec, or print it canonically.")
@click.argument("file", metavar="FILE")
@click.option(
    "--canonical",
    is_flag=True,
    help="Print the spec as canonical JSON (stable key order, unknown keys and the "
    "PluginInput shape kept) instead of a summary; with --json, as the canonical key "
    "of the report.",
)
@json_option
def show(file: str, canonical: bool, json_output: bool) -> None:
    """Summarise a credential spec: domain, SID, GUID, accounts, domainless plugin.

    FILE may be "-" for standard input. The spec's problems, if any, are
    listed after the summary.

    \b
    Examples:
      gmsa spec show webapp01.json
      gmsa spec show webapp01.json --canonical > webapp01.canonical.json

    \b
    Exit codes:
      0  the spec is valid
      1  the spec is not valid, or the file is missing
      2  command-line usage error
      3  the file cannot be read
    """
    report = check_argument(file)
    if canonical:
        if not report.valid or report.spec is None:
            raise CredentialSpecError(report.findings, source=report.source)
        rendered = render(report.spec)
        if current_output().format is OutputFormat.TEXT:
            click.echo(rendered, nl=False)
            return
        # --json: the envelope, with the canonical spec beside the findings.
        document = jsondoc.loads(rendered, source=report.source)
        emit_report(_about_file(report), results={**report.to_dict(), "canonical": document})
        return
    summary = describe(report.spec) if report.spec is not None else None

    def text() -> None:
        _echo_status(report)
        if summary is not None:
            _echo_summary(summary)
        echo_findings(report.findings)

    emit_report(_about_file(report), results={**report.to_dict(), "spec": summary}, text=text)
    finish(int(ExitCode.OK if report.valid else ExitCode.INVALID))


def _echo_summary(summary: dict[str, object]) -> None:
    rows: list[tuple[str, str]] = [
        ("domain", f"{summary['domain']} (NetBIOS {summary['netbios_name']})"),
        ("forest", str(summary["forest"])),
        ("domain SID", str(summary["sid"])),
        ("domain GUID", str(summary["guid"])),
        ("main account", str(summary["main_account"])),
    ]
    accounts = summary["accounts"]
    assert isinstance(accounts, list)
    for index, account in enumerate(accounts):
        label = "accounts" if index == 0 else ""
        rows.append((label, f"{account['name']:<15}  scopes: {', '.join(account['scopes'])}"))
    plugin = summary["plugin"]
    if isinstance(plugin, dict):
        name = plugin["name"] or "unknown plugin"
        rows.append(("host", "domainless"))
        rows.append(
            ("plugin", f"{name} {plugin['guid']} (PluginInput as a {plugin['input_shape']})")
        )
        rows.append(("credential", str(plugin["credential_arn"] or "-")))
    else:
        rows.append(("host", "domain-joined"))
    for label, value in rows:
        click.echo(f"  {label:<13} {value}")


@spec.command(cls=GmsaCommand, short_help="Print the credential spec's JSON Schema.")
def schema() -> None:
    """Print the credential spec's JSON Schema (draft 2020-12).

    Editors use it for completion and help while a spec is written; rules that
    need several fields at once are checked only by "gmsa spec validate".

    \b
    Examples (VS Code: "json.schemas" with "url": "./credspec.schema.json"):
      gmsa spec schema > credspec.schema.json

    \b
    Exit codes:
      0  the schema was printed
    """
    click.echo(jsondoc.dumps(json_schema()), nl=False)


spec.add_command(publish)
spec.add_command(new)
spec.add_command(verify)


__all__ = [
    "schema",
    "show",
    "spec",
    "validate",
]
