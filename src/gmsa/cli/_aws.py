"""The AWS options every command that talks to AWS shares.

One definition, so ``--region``, ``--endpoint-url``, ``--profile``, ``--timeout``
and ``--role-arn`` mean the same thing (and read the same environment variables)
in every command. A region or endpoint that cannot be one is a usage error (exit
2) naming the option and showing a valid form, checked by the same functions as
:class:`~gmsa.aws.AwsConfig` (:func:`gmsa.aws.check_region`,
:func:`gmsa.aws.check_endpoint_url`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import click

from gmsa.aws import (
    DEFAULT_TIMEOUT,
    AwsConfig,
    AwsOptionError,
    check_endpoint_url,
    check_region,
)
from gmsa.errors import InvalidInputError

F = TypeVar("F", bound=Callable[..., Any])

_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


class _Checked(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2 on
    """A text option checked by one of :mod:`gmsa.aws`'s checks; a refusal is a usage
    error that names the option (and the environment variable it came from)."""

    def __init__(self, name: str, check: Callable[[str], str]) -> None:
        self.name = name
        self.check = check

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or (isinstance(value, str) and value == ""):
            return None
        try:
            return self.check(str(value))
        except AwsOptionError as exc:
            origin = ""
            if ctx is not None and param is not None and param.name is not None:
                source = ctx.get_parameter_source(param.name)
                if source is click.core.ParameterSource.ENVIRONMENT and param.envvar:
                    origin = f" (from {param.envvar})"
                elif source is click.core.ParameterSource.DEFAULT and param.name == "region":
                    origin = " (from AWS_REGION or AWS_DEFAULT_REGION)"
            self.fail(f"{exc.what}{origin}; {exc.fix}", param, ctx)


REGION = _Checked("region", check_region)
"""``--region``'s type: an AWS region name."""
ENDPOINT_URL = _Checked("url", check_endpoint_url)
"""``--endpoint-url``'s type: an http(s) URL with a host."""


def _region_default() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def _base_options() -> list[Callable[[Any], Any]]:
    return [
        click.option(
            "--region",
            type=REGION,
            default=_region_default,
            metavar="REGION",
            help="AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION, then the profile).",
        ),
        click.option(
            "--endpoint-url",
            type=ENDPOINT_URL,
            envvar="AWS_ENDPOINT_URL",
            metavar="URL",
            help="Endpoint for every AWS service, e.g. a VPC endpoint or a local one "
            "(default: AWS_ENDPOINT_URL).",
        ),
        click.option(
            "--profile",
            envvar="AWS_PROFILE",
            metavar="NAME",
            help="Named profile for the base credentials (default: AWS_PROFILE).",
        ),
        click.option(
            "--timeout",
            "aws_timeout",
            type=click.FloatRange(min=0, min_open=True, max=3600),
            default=DEFAULT_TIMEOUT,
            show_default=True,
            metavar="SECONDS",
            help="Seconds one AWS request may take in all, over every retry and connection.",
        ),
    ]


def apply_options(f: F, options: list[Callable[[Any], Any]]) -> F:
    """Decorate ``f`` with ``options``, the first listed shown first in ``--help``."""
    decorated: Any = f
    for option in reversed(options):
        decorated = option(decorated)
    return cast(F, decorated)


def aws_base_options(f: F) -> F:
    """Add ``--region``, ``--endpoint-url`` and ``--profile``: for commands that act with
    the base credentials and never assume a role (reading a role's policies)."""
    return apply_options(f, _base_options())


def aws_options(f: F) -> F:
    """Add ``--region``, ``--endpoint-url``, ``--profile`` and ``--role-arn`` to a command."""
    role = click.option(
        "--role-arn",
        metavar="ARN",
        help="Task execution role to assume with STS, as the ECS agent does.",
    )
    return apply_options(f, [*_base_options(), role])


def aws_config_from(params: Mapping[str, Any]) -> AwsConfig:
    """Build an :class:`AwsConfig` from the option values (a click ``params`` dict)."""
    role_arn = params.get("role_arn") or None
    if role_arn is not None and not _ROLE_ARN_RE.match(role_arn):
        raise InvalidInputError(
            "--role-arn is not an IAM role ARN",
            where=f"--role-arn {role_arn}",
            fix="give arn:aws:iam::ACCOUNT:role/NAME (the task definition's executionRoleArn)",
        )
    timeout = params.get("aws_timeout")
    return AwsConfig(
        region=params.get("region") or None,
        endpoint_url=params.get("endpoint_url") or None,
        profile=params.get("profile") or None,
        role_arn=role_arn,
        timeout=float(timeout) if timeout is not None else DEFAULT_TIMEOUT,
    )


__all__ = [
    "ENDPOINT_URL",
    "REGION",
    "F",
    "apply_options",
    "aws_base_options",
    "aws_config_from",
    "aws_options",
]
