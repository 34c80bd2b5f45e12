"""``gmsa export``: a credential spec in the forms Kubernetes and Docker read.

Only argument parsing and output here; the objects and options are built in
:mod:`gmsa.export.kubernetes` and :mod:`gmsa.export.docker`.
"""

from __future__ import annotations

from pathlib import Path

import click

from gmsa.cli._common import (
    STDIN,
    GmsaCommand,
    GmsaGroup,
    OutputFormat,
    current_output,
    echo_findings,
    emit_report,
    json_option,
)
from gmsa.credspec.model import CredentialSpec, default_file_name
from gmsa.credspec.validate import CredentialSpecError, SpecReport, check_argument
from gmsa.export import docker as docker_export
from gmsa.export import kubernetes as kubernetes_export
from gmsa.export.kubernetes import ServiceAccount
from gmsa.findings import Finding


@click.group(cls=GmsaGroup, short_help="A credential spec for Kubernetes and Docker.")
def export() -> None:
    """Export a credential spec for Kubernetes and Docker.

    \b
    In the order they are used:
      kubernetes  a GMSACredentialSpec with the RBAC objects that let pods use it
      docker      the docker run and Compose options, with the gMSA hostname

    The spec is validated first; an invalid spec exports nothing (exit 1).

    \b
    Examples:
      gmsa export kubernetes webapp01.json --name webapp01 --service-account default/webapp
      gmsa export docker example_webapp01.json
    """


def _valid_spec(name: str) -> tuple[CredentialSpec, SpecReport]:
    """The spec in FILE (``-``: standard input), or CredentialSpecError with every problem."""
    report = check_argument(name)
    if not report.valid or report.spec is None:
        raise CredentialSpecError(report.findings, source=report.source)
    return report.spec, report


def _warn(source: str, findings: tuple[Finding, ...]) -> None:
    """Warnings go to stderr so that stdout stays a document to pipe on."""
    if findings:
        click.echo(f"{source}:", err=True)
        echo_findings(findings, err=True)


@export.command(
    "kubernetes", cls=GmsaCommand, short_help="Print a spec as Kubernetes objects, with RBAC."
)
@click.argument("spec_file", metavar="FILE")
@click.option(
    "--name",
    required=True,
    metavar="NAME",
    help="Name of the GMSACredentialSpec object, as pods give it in "
    "securityContext.windowsOptions.gmsaCredentialSpecName (a DNS-1123 subdomain).",
)
@click.option(
    "--service-account",
    metavar="NAMESPACE/NAME",
    help="The service account whose pods may use the spec: adds a RoleBinding for it.",
)
@json_option
def kubernetes(spec_file: str, name: str, service_account: str | None, json_output: bool) -> None:
    """Print the credential spec FILE as Kubernetes objects, with RBAC.

    One YAML stream: a GMSACredentialSpec (windows.k8s.io/v1, the CRD of the kubernetes-sigs
    windows-gmsa webhook) named NAME holding the spec, a ClusterRole
    gmsa-use-NAME granting "use" on exactly that object and, with
    --service-account, a RoleBinding giving that role to the service account
    (the webhook admits a pod only when its service account may use the spec).
    With --json the objects come as a Kubernetes List under "list". Keys the CRD has no
    place for are left out, and an object-shaped PluginInput is written as a
    JSON string, each with a warning on stderr.


    \b
    Examples:
      gmsa export kubernetes webapp01.json --name webapp01 \\
          --service-account default/webapp | kubectl apply -f -
      gmsa export kubernetes webapp01.json --name webapp01 --json > webapp01.k8s.json

    \b
    Exit codes:
      0  the objects were printed (warnings on stderr)
      1  FILE is not a valid spec, or a name is not one Kubernetes accepts
      2  command-line usage error
    """
    account = ServiceAccount.parse(service_account) if service_account is not None else None
    spec, report = _valid_spec(spec_file)
    result = kubernetes_export.export(spec, name, account)
    warnings = (*report.warnings, *result.findings)
    if current_output().format is OutputFormat.TEXT:
        _warn(report.source, warnings)
        click.echo(result.to_yaml(), nl=False)
        return
    emit_report(warnings, ok=True, source=report.source, results={"list": result.to_list()})


@export.command(
    "docker", cls=GmsaCommand, short_help="Print the docker run and Compose options for a spec."
)
@click.argument("spec_file", metavar="FILE")
@click.option(
    "--file-name",
    metavar="NAME",
    help="The spec's file name in the CredentialSpecs directory (default: FILE's own "
    "name; for standard input <netbios>_<account>.json, as 'gmsa spec new' names it).",
)
@json_option
def docker(spec_file: str, file_name: str | None, json_output: bool) -> None:
    """Print the docker run and Compose options for the credential spec FILE.

    They give a container FILE's gMSA. Docker on Windows reads
    credentialspec=file://NAME from its CredentialSpecs directory, so copy FILE
    there under NAME. The hostname is the gMSA's name:
    Windows Server 2016 requires it, later versions accept it.


    \b
    Examples:
      gmsa export docker example_webapp01.json
      gmsa export docker - --file-name webapp01.json --json < webapp01.json

    \b
    Exit codes:
      0  the options were printed (warnings on stderr)
      1  FILE is not a valid spec, or NAME is not a file name Docker reads
      2  command-line usage error
    """
    spec, report = _valid_spec(spec_file)
    if file_name is None:
        file_name = (
            default_file_name(spec.domain_join_config.netbios_name, spec.account_name)
            if spec_file == STDIN
            else Path(spec_file).name
        )
    result = docker_export.export(spec, file_name)
    if current_output().format is OutputFormat.TEXT:
        _warn(report.source, report.warnings)
        click.echo(f"# Copy the spec to {result.host_path} on each host.")
        click.echo("# docker run:")
        click.echo(result.run_command())
        click.echo("# Compose, under the service:")
        click.echo(result.compose_yaml(), nl=False)
        return
    emit_report(report.warnings, ok=True, source=report.source, results=result.to_dict())


__all__ = [
    "docker",
    "export",
    "kubernetes",
]
