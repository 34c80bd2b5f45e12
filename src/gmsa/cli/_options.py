"""The command line's vocabulary: one declaration per concept that several commands share.

A concept (the CredentialSpecs directory, a policy file, the ticket service's
socket, ...) has one flag, one metavar and one meaning in every command; the
table in docs/cli.md lists them, and tests/unit/cli/test_vocabulary.py keeps
every command to it. An older flag for a concept stays working as a deprecated
alias: :class:`VocabularyOption` accepts it and names it as deprecated in
``--help``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from gmsa.tickets.layout import DEFAULT_KRB_DIR, DEFAULT_SOCKET

Decorator = Callable[[Any], Any]

PLATFORMS = ("windows", "linux")
"""Values of ``--platform``: which host agent prepares a task's credentials."""

EXECUTION_ROLE = "executionRoleArn"
"""The value of ``--check-role`` given without an ARN: the task definition's own role."""

SOCKET_ENV = "GMSA_TICKETS_SOCKET"
"""Environment variable with the ticket service's socket (``--socket``)."""


class VocabularyOption(click.Option):
    """An option that keeps older flags as deprecated aliases.

    ``deprecated`` names flags that still work but are shown in ``--help`` only as
    "Deprecated alias: ..."; a name written ``/--no-thing`` is an alias of a boolean
    option's off switch (``--thing/--no-thing``). ``replaced_by`` marks an option that is itself
    deprecated in favour of another flag (when the old one cannot be a plain alias,
    e.g. a flag that became an option with a value).
    """

    def __init__(
        self,
        param_decls: Sequence[str] | None = None,
        *,
        deprecated: Sequence[str] = (),
        replaced_by: str | None = None,
        **attrs: Any,
    ) -> None:
        super().__init__(param_decls, **attrs)
        self._deprecated_on = [name for name in deprecated if not name.startswith("/")]
        self._deprecated_off = [name.lstrip("/") for name in deprecated if name.startswith("/")]
        self.deprecated_names = (*self._deprecated_on, *self._deprecated_off)
        self.replaced_by = replaced_by

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        """Accept the deprecated names too; elsewhere (help, shell completion) they are
        left out of :attr:`opts`."""
        opts, secondary = self.opts, self.secondary_opts
        self.opts = [*opts, *self._deprecated_on]
        self.secondary_opts = [*secondary, *self._deprecated_off]
        try:
            super().add_to_parser(parser, ctx)
        finally:
            self.opts, self.secondary_opts = opts, secondary

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        """The help line, with deprecated flags named after the help text."""
        record = super().get_help_record(ctx)
        if record is None:
            return None
        if self.replaced_by is not None:
            return record[0], f"Deprecated: use {self.replaced_by}. {record[1]}".strip()
        if not self.deprecated_names:
            return record
        text = self.help
        self.help = f"{text or ''} Deprecated alias: {', '.join(self.deprecated_names)}.".strip()
        try:
            return super().get_help_record(ctx)
        finally:
            self.help = text


def option(*param_decls: str, deprecated: Sequence[str] = (), **attrs: Any) -> Decorator:
    """``click.option`` with :class:`VocabularyOption` and its deprecated aliases."""
    return click.option(*param_decls, cls=VocabularyOption, deprecated=deprecated, **attrs)


CREDSPEC_DIR_HELP = (
    "Docker's CredentialSpecs directory (on Windows %ProgramData%\\docker\\CredentialSpecs, "
    "or a copy of it), where credentialspec:file:// references point."
)


def credspec_dir_option(
    purpose: str, *, name: str = "credspec_dir", deprecated: Sequence[str] = ()
) -> Decorator:
    """``--credspec-dir DIR``: Docker's CredentialSpecs directory; ``purpose`` says what
    the command does with it."""
    return option(
        "--credspec-dir",
        name,
        deprecated=deprecated,
        type=click.Path(path_type=Path),
        metavar="DIR",
        help=f"{CREDSPEC_DIR_HELP} {purpose}",
    )


policy_option = option(
    "--policy",
    "policy_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="An IAM policy document (JSON) of the task execution role, to check that it allows "
    "reading every spec. Repeatable.",
)
"""``--policy FILE``: a policy document to evaluate, repeatable."""

CHECK_ROLE_HELP = (
    "Read this IAM role's inline and attached policies from IAM (with the base "
    "credentials, never assumed) and check them."
)


def check_role_option(
    *, name: str, optional_arn: bool = False, deprecated: Sequence[str] = ()
) -> Decorator:
    """``--check-role ARN``: a role whose policies are read from IAM and checked (not
    ``--role-arn``, which is a role to assume). With ``optional_arn`` the ARN may be
    left out and means the task definition's executionRoleArn (:data:`EXECUTION_ROLE`)."""
    if optional_arn:
        return option(
            "--check-role",
            name,
            deprecated=deprecated,
            is_flag=False,
            flag_value=EXECUTION_ROLE,
            default=None,
            metavar="[ARN]",
            help=f"{CHECK_ROLE_HELP} Without ARN: the task definition's executionRoleArn.",
        )
    return option("--check-role", name, deprecated=deprecated, metavar="ARN", help=CHECK_ROLE_HELP)


socket_option = option(
    "--socket",
    "socket_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_SOCKET,
    show_default=True,
    envvar=SOCKET_ENV,
    metavar="PATH",
    help=f"The ticket service's unix socket (default: {SOCKET_ENV}, then the path shown).",
)
"""``--socket PATH``: the ticket service's unix socket (Linux hosts)."""

krb_dir_option = option(
    "--krb-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_KRB_DIR,
    show_default=True,
    metavar="DIR",
    help="The ticket service's krb directory: one directory per lease with its ticket "
    "caches (the agent mounts containers' tickets from here).",
)
"""``--krb-dir DIR``: the ticket service's krb directory (Linux hosts)."""


def platform_option(*, from_task_definition: bool) -> Decorator:
    """``--platform windows|linux``: which host agent prepares (or prepared) a task."""
    default = (
        "Default: the task definition's runtimePlatform, else windows when --credspec-dir "
        "is given, else this host's system."
        if from_task_definition
        else "Default: the agent that holds a record of the task (in --credspec-dir or "
        "--krb-dir), else windows when --credspec-dir is given, else this host's system."
    )
    return option(
        "--platform",
        type=click.Choice(PLATFORMS),
        help="Which host agent: windows (a spec file per reference in --credspec-dir) or "
        f"linux (a Kerberos lease from the ticket service). {default}",
    )


def task_id_option(*, required: bool, help: str) -> Decorator:
    """``--task-id ID``: the id of a task on this host (the last part of its ARN)."""
    return option("--task-id", required=required, metavar="ID", help=help)


task_arn_option = option(
    "--task-arn",
    metavar="ARN",
    help="The task's ARN: a domainless spec gets regKeyPath "
    "HKLM\\...\\AmazonECSCCGPlugin\\<task ARN> (Windows), as the ECS agent sets it.",
)
"""``--task-arn ARN``: the task's ARN."""


def input_format_option(own: tuple[str, str]) -> Decorator:
    """``--input-format FORMAT``: what a FILE argument is, detected by default. ``own``
    is the command's own kind of file (name, description) beside the templates and
    plans every such command reads."""
    name, description = own
    return option(
        "--input-format",
        type=click.Choice(["auto", name, "cloudformation", "terraform"]),
        default="auto",
        show_default=True,
        metavar="FORMAT",
        help=f"What the file is: auto (detected from the content; a directory is CDK synth "
        f"output), {name} ({description}), cloudformation (a template in JSON or YAML, or "
        "the cdk.out directory) or terraform (the JSON of terraform show -json PLANFILE).",
    )


__all__ = [
    "CHECK_ROLE_HELP",
    "CREDSPEC_DIR_HELP",
    "EXECUTION_ROLE",
    "PLATFORMS",
    "SOCKET_ENV",
    "Decorator",
    "VocabularyOption",
    "check_role_option",
    "credspec_dir_option",
    "input_format_option",
    "krb_dir_option",
    "option",
    "platform_option",
    "policy_option",
    "socket_option",
    "task_arn_option",
    "task_id_option",
]
