"""Options every command that talks to Active Directory shares, and how they become
connection options and credentials.

Passwords are read from a file, an environment variable or a prompt, never
from the command line (where ``ps`` and shell history would keep them).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from gmsa.inputfile import InputNotFoundError, read_input
from gmsa.kerberos.errors import CredentialsInputError

if TYPE_CHECKING:
    from gmsa.ad.connection import ConnectOptions, Credentials

# gmsa.ad.connection (ldap3, minikerberos) is imported when a command runs, not when
# the CLI starts: the other commands need neither.
PROTECTIONS = ("sealed", "ldaps", "plain")
"""Values of --protection (gmsa.ad.connection.Protection)."""
DEFAULT_TIMEOUT = 10
"""Seconds (gmsa.ad.connection.DEFAULT_TIMEOUT)."""

_MAX_PASSWORD_FILE_BYTES = 64 * 1024
"""A password file is one line; anything larger is not one."""

F = TypeVar("F", bound=Callable[..., Any])

password_file_option = click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Read --user's password from this file (first line).",
)
"""``--password-file FILE``: where a domain user's password comes from."""
password_env_option = click.option(
    "--password-env",
    metavar="VAR",
    help="Read --user's password from this environment variable.",
)
"""``--password-env VAR``: where a domain user's password comes from."""
password_stdin_option = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read --user's password from the first line of standard input.",
)
"""``--password-stdin``: where a domain user's password comes from."""
PASSWORD_OPTIONS = (password_file_option, password_env_option, password_stdin_option)
"""The password sources, in the order ``--help`` lists them."""
PASSWORD_OPTION_NAMES = ("password_file", "password_env", "password_stdin")
"""Parameter names of :data:`PASSWORD_OPTIONS`."""

_OPTIONS = (
    click.option(
        "--domain",
        metavar="DNSNAME",
        help="The domain (e.g. example.com). Default: the realm of the credentials.",
    ),
    click.option(
        "--server",
        metavar="HOST",
        help="A DC's host name. Default: DCs from DNS SRV _ldap._tcp.dc._msdcs.DOMAIN.",
    ),
    click.option(
        "--dns-server",
        metavar="ADDR[:PORT]",
        help="DNS server to find DCs with (and resolve their names). Default: the system's.",
    ),
    click.option("--kdc", metavar="HOST[:PORT]", help="KDC to use. Default: the DC itself."),
    click.option(
        "--protection",
        type=click.Choice(PROTECTIONS),
        default=PROTECTIONS[0],
        show_default=True,
        help="sealed: Kerberos-encrypted LDAP on 389; ldaps: TLS on 636; plain: no "
        "protection (only for tests).",
    ),
    click.option(
        "--ca-file",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="CA certificates (PEM) that signed the DC's LDAPS certificate.",
    ),
    click.option(
        "--timeout",
        type=click.IntRange(1, 300),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help="Seconds to wait for each connection and answer (1 to 300).",
    ),
    click.option(
        "--ccache",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="Kerberos credential cache. Default (no --keytab/--user): $KRB5CCNAME.",
    ),
    click.option(
        "--keytab",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="Authenticate with a keytab, e.g. the host's /etc/krb5.keytab.",
    ),
    click.option(
        "--principal",
        metavar="NAME@REALM",
        help="Principal to take from --keytab. Default: its host principal (NAME$).",
    ),
    click.option(
        "--user",
        metavar="NAME[@DOMAIN]",
        help="Authenticate with a user name and a password (file, variable, stdin or prompt).",
    ),
    *PASSWORD_OPTIONS,
)

OPTION_NAMES = (
    "domain",
    "server",
    "dns_server",
    "kdc",
    "protection",
    "ca_file",
    "timeout",
    "ccache",
    "keytab",
    "principal",
    "user",
    *PASSWORD_OPTION_NAMES,
)
"""Parameter names the decorator adds; commands pass them on with :func:`pop_connection`."""


def directory_options(function: F) -> F:
    """Add the connection and credential options to a command."""
    for option in reversed(_OPTIONS):
        function = option(function)
    return function


def pop_connection(params: dict[str, Any]) -> tuple[ConnectOptions, Credentials]:
    """Take the connection options out of a command's parameters and build them."""
    from gmsa.ad import discovery
    from gmsa.ad.connection import ConnectOptions, Protection

    values = {name: params.pop(name, None) for name in OPTION_NAMES}
    timeout = int(values["timeout"] or DEFAULT_TIMEOUT)
    options = ConnectOptions(
        domain=values["domain"],
        server=values["server"],
        kdc=values["kdc"],
        # --timeout shortens DNS lookups too, but never lengthens them past DNS's default.
        dns=discovery.DnsConfig.parse(
            values["dns_server"], timeout=min(float(timeout), discovery.DEFAULT_TIMEOUT)
        ),
        protection=Protection(values["protection"] or PROTECTIONS[0]),
        ca_file=values["ca_file"],
        timeout=timeout,
    )
    return options, credentials_from(values)


def credentials_from(values: dict[str, Any]) -> Credentials:
    """The one credential source the options name (a ticket cache by default)."""
    from gmsa.ad.connection import CacheCredentials, KeytabCredentials, PasswordCredentials

    chosen = [n for n in ("ccache", "keytab", "user") if values.get(n)]
    if len(chosen) > 1:
        raise CredentialsInputError(
            "choose one of --ccache, --keytab and --user",
            where=" and ".join(f"--{n}" for n in chosen),
        )
    if values.get("principal") and not values.get("keytab"):
        raise CredentialsInputError("--principal goes with --keytab", where="--principal")
    if any(values.get(name) for name in PASSWORD_OPTION_NAMES) and not values.get("user"):
        raise CredentialsInputError(
            "a password source needs --user",
            where="--password-file/--password-env/--password-stdin",
        )
    if values.get("keytab"):
        return KeytabCredentials(Path(values["keytab"]), values.get("principal"))
    if values.get("user"):
        user = str(values["user"])
        return PasswordCredentials(user, read_password(values, user))
    ccache = values.get("ccache")
    return CacheCredentials(Path(ccache) if ccache else None)


def read_password(values: dict[str, Any], user: str) -> str:
    """The password from --password-file, --password-env, --password-stdin, or a prompt on
    a terminal."""
    if sum(bool(values.get(name)) for name in PASSWORD_OPTION_NAMES) > 1:
        raise CredentialsInputError(
            "choose one of --password-file, --password-env and --password-stdin",
            where="--password-*",
        )
    if values.get("password_stdin"):
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CredentialsInputError(
                f"no password for {user} on standard input",
                where="--password-stdin",
                fix="write the password as the first line of standard input",
            )
        return password
    if values.get("password_file"):
        path = Path(values["password_file"])
        try:
            # The shared reader refuses a FIFO, socket, device or directory at once.
            data = read_input(path, max_bytes=_MAX_PASSWORD_FILE_BYTES, what="password file").data
        except InputNotFoundError:
            raise CredentialsInputError(
                "the password file does not exist", where=str(path), fix="check --password-file"
            ) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CredentialsInputError(
                "the password file is not UTF-8 text",
                where=str(path),
                fix="save the password as UTF-8",
            ) from None
        password = text.splitlines()[0] if text else ""
        if not password:
            raise CredentialsInputError("the password file is empty", where=str(path))
        return password
    if values.get("password_env"):
        name = str(values["password_env"])
        password = os.environ.get(name, "")
        if not password:
            raise CredentialsInputError(
                f"the environment variable {name} is not set or empty",
                where="--password-env",
                fix=f"export {name} before running, or use --password-file",
            )
        return password
    if not sys.stdin.isatty():
        raise CredentialsInputError(
            f"no password for {user}",
            where="--user",
            fix="give --password-file, --password-env or --password-stdin "
            "(there is no terminal to prompt on)",
        )
    return str(click.prompt(f"Password for {user}", hide_input=True, err=True))


__all__ = [
    "DEFAULT_TIMEOUT",
    "OPTION_NAMES",
    "PASSWORD_OPTIONS",
    "PASSWORD_OPTION_NAMES",
    "PROTECTIONS",
    "F",
    "credentials_from",
    "directory_options",
    "password_env_option",
    "password_file_option",
    "password_stdin_option",
    "pop_connection",
    "read_password",
]
