"""``gmsa spec new``: generate a credential spec from the domain (New-CredentialSpec parity).

Only argument parsing and output here; the spec is built in :mod:`gmsa.ad.specgen`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gmsa.cli._common import (
    GmsaCommand,
    current_output,
    echo_findings,
    emit_report,
    finish,
    json_option,
)
from gmsa.cli._options import credspec_dir_option, option
from gmsa.cli.ad import directory_options, pop_connection
from gmsa.credspec.render import render, to_document
from gmsa.credspec.validate import CredentialSpecError, check_document
from gmsa.errors import ExitCode, InvalidInputError
from gmsa.findings import Finding, has_errors
from gmsa.fsutil import write_atomic

if TYPE_CHECKING:
    from gmsa.ad.specgen import GeneratedSpec

STDOUT = "-"


@click.command(cls=GmsaCommand, short_help="Generate a credential spec from the domain.")
@click.argument("account", metavar="ACCOUNT")
@click.option(
    "--additional-account",
    "additional",
    multiple=True,
    metavar="NAME[@DOMAIN]",
    help="Another gMSA the container may use (repeatable); DOMAIN defaults to the main one's.",
)
@click.option(
    "--out",
    "out",
    metavar="FILE",
    help='Write the spec to FILE ("-" for standard output).',
)
@credspec_dir_option("The spec is written into it as <netbios>_<account>.json (lower case).")
@option(
    "--overwrite/--no-overwrite",
    deprecated=("/--no-clobber",),
    default=True,
    show_default=True,
    help="Replace an existing file; with --no-overwrite an existing file is refused.",
)
@click.option(
    "--host",
    metavar="NAME$",
    help="Warn when this host may not retrieve the gMSA passwords.",
)
@click.option("--strict", is_flag=True, help="Fail (and write nothing) instead of warning.")
@directory_options
@json_option
def new(
    account: str,
    additional: tuple[str, ...],
    out: str | None,
    credspec_dir: Path | None,
    overwrite: bool,
    host: str | None,
    strict: bool,
    json_output: bool,
    **connection: Any,
) -> None:
    """Generate a credential spec for gMSA ACCOUNT from the domain.

    The same fields New-CredentialSpec writes, read over LDAP from any machine
    that reaches a DC: the domain's SID and GUID, DNS and NetBIOS names, the
    forest's DNS name, ACCOUNT (a trailing $ is dropped) with both scopes, and
    one entry per additional account. ACCOUNT must exist and be a gMSA.

    Without --out or --credspec-dir the file <netbios>_<account>.json is written
    in the current directory.

    \b
    Examples:
      gmsa spec new WebApp01 --domain example.com --keytab /etc/krb5.keytab
      gmsa spec new WebApp01 --additional-account Batch01 --host HOST01$ --out -

    \b
    Exit codes:
      0  the spec was written (warnings may be printed)
      1  the account is not usable (or, with --strict, the host may not
         retrieve the password); nothing was written
      2  command-line usage error
      3  the domain cannot be reached, or the file cannot be written
    """
    if out is not None and credspec_dir is not None:
        raise InvalidInputError(
            "choose one of --out and --credspec-dir", where="--out/--credspec-dir"
        )
    # Imported here so that other commands do not load ldap3 and minikerberos.
    from gmsa.ad.connection import connected
    from gmsa.ad.specgen import AccountRequest, generate

    options, credentials = pop_connection(connection)
    main = AccountRequest.parse(account)
    extras = [AccountRequest.parse(a) for a in additional]
    with connected(options, credentials) as ldap:
        generated = generate(ldap, main, extras, host=host, strict=strict)
        round_trips = ldap.round_trips
    report = check_document(to_document(generated.spec), source="generated spec")
    findings = [*generated.findings, *report.findings]
    if not report.valid:
        raise CredentialSpecError(report.findings, source="generated spec")
    target = _target(generated, out, credspec_dir)
    failed = has_errors(findings)
    if not failed and target is not None:
        write_atomic(target, render(generated.spec).encode(), exclusive=not overwrite)
    written = str(target) if target is not None and not failed else None
    about = [*(_about_account(f) for f in generated.findings), *report.findings]

    def text() -> None:
        if target is None and not failed:
            click.echo(render(generated.spec), nl=False)
        elif not failed:
            click.echo(
                f"wrote {target}: {generated.spec.account_name} in "
                f"{generated.domain.dns_name} ({generated.domain.netbios_name})",
                err=target is None,
            )
        if findings:
            click.echo("not written:" if failed else "warnings:", err=True)
            echo_findings(findings, err=True)

    if current_output().quiet and target is None and not failed:
        click.echo(render(generated.spec), nl=False)
    emit_report(
        about,
        source="generated spec",
        results={
            "written": written,
            "file_name": generated.file_name,
            "spec": to_document(generated.spec),
            "ldap_round_trips": round_trips,
        },
        text=text,
        err=True,
    )
    finish(int(ExitCode.INVALID if failed else ExitCode.OK))


def _target(generated: GeneratedSpec, out: str | None, credspec_dir: Path | None) -> Path | None:
    """Where to write; None for standard output."""
    if out == STDOUT:
        return None
    if out is not None:
        return Path(out)
    return (credspec_dir or Path()) / generated.file_name


def _about_account(finding: Finding) -> Finding:
    """A finding of the account lookup: about the account it names, at no JSON path."""
    if finding.source or not finding.path:
        return finding
    return replace(finding, path="", source=finding.path)


__all__ = [
    "STDOUT",
    "new",
]
