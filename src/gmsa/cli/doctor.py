"""``gmsa doctor`` and ``gmsa spec verify``: check a gMSA setup against the domain.

Only argument parsing and output here; the checks live in :mod:`gmsa.ad.doctor`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gmsa.cli._common import GmsaCommand, emit_report, finish, json_option
from gmsa.cli.ad import directory_options, pop_connection
from gmsa.credspec.model import CredentialSpec
from gmsa.credspec.validate import CredentialSpecError, check_path
from gmsa.errors import ExitCode
from gmsa.findings import Finding, Severity

if TYPE_CHECKING:
    from gmsa.ad.doctor import DoctorReport

# gmsa.ad (ldap3, minikerberos) is imported inside the commands: every other gmsa
# command would otherwise pay for loading it at start-up.

_MARKS = {
    "pass": ("✓", "green"),
    "warn": ("!", "yellow"),
    "fail": ("✗", "red"),
    "skip": ("-", None),
}


_host_option = click.option(
    "--host",
    metavar="NAME$",
    help="A host that must be allowed to retrieve the passwords. Default with --keytab: "
    "the keytab's host.",
)


def load_spec_file(path: Path) -> tuple[CredentialSpec, tuple[Finding, ...]]:
    """A spec to compare with the domain, and what validation found in it.

    A spec with errors is still compared (the domain tells which value is right);
    one that cannot even be read as a spec is refused with its findings.
    """
    report = check_path(path)
    if report.spec is None:
        raise CredentialSpecError(report.findings, source=str(path))
    return report.spec, report.findings


def echo_report(report: DoctorReport, *, title: str) -> None:
    """The checks for a person, then a one-line summary."""
    via = f" via {report.server}" if report.server else ""
    who = f" as {report.identity}" if report.identity else ""
    click.echo(f"{title}{via}{who}")
    id_width = max((len(c.id) for c in report.checks), default=10)
    subject_width = min(max((len(c.subject) for c in report.checks), default=10), 34)
    for check in report.checks:
        mark, color = _MARKS[check.status.value]
        label = (
            click.style(f"{mark} {check.status.value:<4}", fg=color)
            if color
            else (f"{mark} {check.status.value:<4}")
        )
        click.echo(
            f"  {label}  {check.id:<{id_width}}  {check.subject:<{subject_width}}  {check.message}"
        )
        if check.fix and check.status.value in ("fail", "warn"):
            click.echo(f"  {'':<6}  fix: {check.fix}")
    counts = report.counts()
    click.echo(
        f"{counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed, "
        f"{counts['skip']} skipped ({report.round_trips} LDAP round trips, "
        f"{report.seconds:.2f} s)"
    )


_SEVERITIES = {"fail": Severity.ERROR, "warn": Severity.WARNING}


def report_findings(report: DoctorReport) -> list[Finding]:
    """The checks that failed or warned, as findings about what they checked."""
    return [
        Finding(
            _SEVERITIES[check.status.value],
            check.id,
            "",
            check.message,
            check.fix,
            source=check.subject,
        )
        for check in report.checks
        if check.status.value in _SEVERITIES
    ]


def _finish(report: DoctorReport, title: str) -> None:
    emit_report(
        report_findings(report),
        ok=not report.failed,
        results=report.to_dict(),
        text=lambda: echo_report(report, title=title),
    )
    finish(int(exit_code_of(report)))


def exit_code_of(report: DoctorReport) -> ExitCode:
    """3 when the domain could not be reached at all, 1 when a check failed, else 0."""
    if not report.reached:
        return ExitCode.EXTERNAL
    return ExitCode.INVALID if report.failed else ExitCode.OK


@click.command(cls=GmsaCommand, short_help="Check a gMSA setup against the domain end to end.")
@click.option(
    "--spec",
    "spec_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="A credential spec to compare with the domain (its accounts are checked too).",
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="NAME",
    help="A gMSA to check (repeatable).",
)
@_host_option
@click.option(
    "--skip-network",
    is_flag=True,
    help="Skip the DNS SRV and DC port checks.",
)
@directory_options
@json_option
def doctor(
    spec_file: Path | None,
    accounts: tuple[str, ...],
    host: str | None,
    skip_network: bool,
    json_output: bool,
    **connection: Any,
) -> None:
    """Check a gMSA setup end to end against the domain, before anything runs.

    DNS SRV records and the DCs' ports 88/389/636; the bind; the clock; the
    spec's Sid, Guid, DnsName, DnsTreeName and NetBiosName against the domain
    (the gMSA's own SID is recognised); each account exists, is an enabled
    gMSA with a valid name, the workstation trust flag and no namesake user
    or group; who may retrieve its password (msDS-GroupMSAMembership, SIDs
    named); whether --host may, directly or through nested groups.

    Each check passes, warns or fails with a fix; checks that need a failed
    one are skipped.

    \b
    Examples:
      gmsa doctor --spec webapp01.json --keytab /etc/krb5.keytab
      gmsa doctor --domain example.com --account WebApp01 --host HOST01$ \\
          --user admin --password-file ~/.adpass --json

    \b
    Exit codes:
      0  no check failed (warnings may be printed)
      1  the domain was reached and a check failed, or the input is invalid
      2  command-line usage error
      3  the domain cannot be reached at all
    """
    from gmsa.ad.doctor import DoctorRequest, run_doctor

    options, credentials = pop_connection(connection)
    spec, findings = load_spec_file(spec_file) if spec_file is not None else (None, ())
    request = DoctorRequest(
        options,
        credentials,
        spec=spec,
        spec_findings=findings,
        accounts=accounts,
        host=host,
        network=not skip_network,
    )
    report = run_doctor(request)
    _finish(report, "gmsa doctor")


@click.command(cls=GmsaCommand, short_help="Check a credential spec against its domain.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE")
@_host_option
@directory_options
@json_option
def verify(file: Path, host: str | None, json_output: bool, **connection: Any) -> None:
    """Check a credential spec against the domain it names.

    What "gmsa spec validate" finds is reported first; then the spec's Sid,
    Guid, DnsName, DnsTreeName, NetBiosName and Scopes are compared with the
    domain (which tells the right values) and every account it names is
    checked as "gmsa doctor" does. The domain defaults to the spec's DnsName.

    \b
    Examples:
      gmsa spec verify example_webapp01.json --keytab /etc/krb5.keytab
      gmsa spec verify example_webapp01.json --user admin --password-env ADPASS --json

    \b
    Exit codes:
      0  no check failed (warnings may be printed)
      1  the domain was reached and a check failed, or the spec cannot be used
      2  command-line usage error
      3  the domain cannot be reached at all
    """
    from gmsa.ad.doctor import DoctorRequest, run_doctor

    options, credentials = pop_connection(connection)
    spec, findings = load_spec_file(file)
    request = DoctorRequest(
        options, credentials, spec=spec, spec_findings=findings, host=host, network=False
    )
    report = run_doctor(request)
    _finish(report, f"gmsa spec verify {file}")


__all__ = [
    "doctor",
    "echo_report",
    "exit_code_of",
    "load_spec_file",
    "report_findings",
    "verify",
]
