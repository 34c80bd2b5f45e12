"""``gmsa spec publish``: validate a spec, store it in S3, SSM or a directory, print
the reference for the task definition. Decisions live in :mod:`gmsa.source.publish`."""

from __future__ import annotations

from typing import Any

import click

from gmsa.cli._aws import aws_config_from, aws_options
from gmsa.cli._common import (
    STDIN,
    GmsaCommand,
    echo_findings,
    echo_success,
    emit_report,
    json_option,
)
from gmsa.credspec.validate import read_argument
from gmsa.source.publish import LocalDirTarget, parse_target
from gmsa.source.publish import publish as publish_spec


@click.command(
    cls=GmsaCommand, short_help="Store a spec in S3, SSM or a directory; print its reference."
)
@click.argument("file", metavar="FILE")
@click.argument("target", metavar="TARGET")
@click.option(
    "--overwrite/--no-overwrite",
    default=False,
    show_default=True,
    help="Replace a different spec already stored at TARGET. Without it, the same "
    "spec already there is fine and a different one is refused.",
)
@click.option(
    "--kms-key-id",
    metavar="KEY",
    help="KMS key: SSM stores a SecureString encrypted with it; S3 uses SSE-KMS with it.",
)
@click.option(
    "--secure",
    is_flag=True,
    help="SSM: store a SecureString with the account's default key (aws/ssm).",
)
@aws_options
@json_option
def publish(
    file: str,
    target: str,
    overwrite: bool,
    kms_key_id: str | None,
    secure: bool,
    json_output: bool,
    **aws: Any,
) -> None:
    """Validate a credential spec and store it where the ECS agent reads it.

    The spec is checked first: when it is not valid nothing is stored (exit 1).
    What is stored is its canonical rendering (stable key order), so publishing
    the same spec twice stores the same bytes. Then the exact reference for the
    task definition is printed, and the next step.

    \b
    TARGET forms:
      s3://BUCKET/KEY                 S3 object (also arn:aws:s3:::BUCKET/KEY)
      ssm:NAME  or  ssm:/PATH/NAME    SSM parameter, in --region
                                      (also arn:aws:ssm:REGION:ACCOUNT:parameter/NAME)
      dir:DIRECTORY[/NAME.json]       file in a CredentialSpecs directory
                                      (an existing directory works too; the
                                      name defaults to FILE's name)

    \b
    SSM parameters are String (SecureString with --secure or --kms-key-id) and
    use the Advanced tier automatically above 4 KiB. FILE may be "-" for
    standard input (give the name with dir:DIRECTORY/NAME.json).

    \b
    Examples:
      gmsa spec publish webapp01.json s3://my-bucket/gmsa/webapp01.json
      gmsa spec publish webapp01.json ssm:/gmsa/webapp01 --region eu-west-1
      gmsa spec publish webapp01.json dir:C:/ProgramData/docker/CredentialSpecs

    \b
    Exit codes:
      0  stored (or the same spec was already there)
      1  invalid spec or target; nothing was stored
      2  command-line usage error
      3  AWS or the file system failed or refused
    """
    config = aws_config_from(aws)
    parsed = parse_target(target, region=config.region)
    if file == STDIN and isinstance(parsed, LocalDirTarget) and parsed.name is None:
        raise click.UsageError("with FILE '-', name the file: dir:DIRECTORY/NAME.json")
    data, source = read_argument(file)
    result = publish_spec(
        data,
        parsed,
        source=source,
        aws=None if isinstance(parsed, LocalDirTarget) else config,
        overwrite=overwrite,
        kms_key_id=kms_key_id,
        secure=secure,
    )
    next_step = f"gmsa iam policy {result.reference}"

    def text() -> None:
        state = "already stored, unchanged" if result.unchanged else "stored"
        version = f", version {result.version}" if result.version else ""
        echo_success(f"{source} {state} at {result.target} ({result.size} bytes{version})")
        click.echo("reference for the task definition (credentialSpecs or dockerSecurityOptions):")
        click.echo(f"  {result.reference}")
        click.echo(f"next: {next_step}")
        if result.warnings:
            click.echo("warnings (the spec was stored; fix them and publish again):")
            echo_findings(result.warnings)

    emit_report(
        result.warnings,
        ok=True,
        source=source,
        results={
            **result.to_dict(),
            "unchanged": result.unchanged,
            "warnings": [f.to_dict() for f in result.warnings],
            "next": next_step,
        },
        text=text,
    )


__all__ = [
    "publish",
]
