"""``gmsa tickets``: the Kerberos ticket service for Linux hosts, and commands to talk to it."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from gmsa import jsondoc
from gmsa.cli._aws import F, apply_options
from gmsa.cli._common import GmsaGroup, emit_json, json_option
from gmsa.cli._options import krb_dir_option, option, socket_option
from gmsa.cli.ad import PASSWORD_OPTION_NAMES, PASSWORD_OPTIONS, read_password
from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.errors import ExitCode, InvalidInputError
from gmsa.tickets.client import LeaseReply, TicketClient
from gmsa.tickets.config import load_settings
from gmsa.tickets.leases import LeaseStore
from gmsa.tickets.providers import DEFAULT_PROVIDER, create_provider
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import HEALTHY, TicketService

PASSWORD_ENV = "GMSA_DOMAINLESS_PASSWORD"  # noqa: S105 - the variable's name
"""Where lease/renew read a domainless user's password when not given on stdin."""


@click.group(cls=GmsaGroup, short_help="Kerberos tickets for gMSAs on Linux hosts.")
def tickets() -> None:
    """Kerberos tickets for gMSAs on Linux hosts (credentials-fetcher compatible).

    \b
    In the order they are used:
      serve   run the ticket service the ECS agent talks to
      lease   ask a running service for a lease on the gMSAs of specs
      renew   renew a domain user's domainless leases now
      delete  delete a lease and its ticket caches
      status  the service's health and every lease's tickets

    \b
    Examples:
      gmsa tickets serve --config /etc/gmsa/tickets.json
      gmsa tickets lease webapp01.json --json
      gmsa tickets status
    """


@tickets.command(short_help="Serve the credentials-fetcher gRPC API on a unix socket.")
@socket_option
@krb_dir_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="JSON settings: keytab, principal, renewal, TTL, cache owners.",
)
@click.option(
    "--provider",
    default=DEFAULT_PROVIDER,
    show_default=True,
    metavar="NAME",
    help="Where passwords and tickets come from.",
)
def serve(socket_path: Path, krb_dir: Path, config_path: Path | None, provider: str) -> None:
    """Serve the credentials-fetcher gRPC API on a unix socket until SIGTERM or SIGINT.

    Leases on disk are recovered and renewed at start; the socket is removed at exit.

    \b
    Examples:
      gmsa tickets serve --config /etc/gmsa/tickets.json
      gmsa tickets serve --socket /run/gmsa/tickets.sock --krb-dir /var/lib/gmsa/krbdir

    \b
    Exit codes:
      0  stopped by SIGTERM or SIGINT
      1  invalid settings
      2  command-line usage error
      3  the socket or the krb directory cannot be used
    """
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    settings = load_settings(config_path)
    service = TicketService(LeaseStore(krb_dir), create_provider(provider, settings), settings)
    service.start()
    server = TicketServer(service, socket_path)
    try:
        server.start()
    except BaseException:
        service.stop()
        raise
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    click.echo(f"serving on {server.socket_path}, leases in {service.store.root}", err=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        server.stop()
        service.stop()
    click.echo("stopped", err=True)


def _read_spec(path: str) -> str:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_SPEC_BYTES + 1)
        if len(data) > MAX_SPEC_BYTES:
            raise InvalidInputError(
                "the credential spec on stdin is too large", where="<stdin>", fix="check the input"
            )
        return jsondoc.decode_text(data, source="<stdin>")
    data = jsondoc.read_bytes(Path(path), max_bytes=MAX_SPEC_BYTES, what="credential spec")
    return jsondoc.decode_text(data, source=path)


def _password(sources: dict[str, Any], user: str) -> str:
    """The domainless user's password: from --password-file, --password-env or
    --password-stdin (as the AD commands read it), else from $GMSA_DOMAINLESS_PASSWORD."""
    if any(sources.get(name) for name in PASSWORD_OPTION_NAMES):
        return read_password(sources, user)
    value = os.environ.get(PASSWORD_ENV, "")
    if not value:
        raise InvalidInputError(
            "no password for the domain user",
            where=PASSWORD_ENV,
            fix=f"give --password-file, --password-env or --password-stdin, or set {PASSWORD_ENV} "
            "(never on the command line)",
        )
    return value


def _password_options(f: F) -> F:
    return apply_options(f, list(PASSWORD_OPTIONS))


def _owner(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    uid, sep, gid = text.partition(":")
    if not sep or not uid.isdigit() or not gid.isdigit():
        raise InvalidInputError(
            f"not an owner: {text!r}", where="--owner", fix="write it as UID:GID, e.g. 1000:1000"
        )
    return int(uid), int(gid)


def _print_reply(reply: LeaseReply, verb: str, json_output: bool, **extra: Any) -> None:
    if json_output:
        emit_json({"lease_id": reply.lease_id, "paths": list(reply.paths), **extra})
        return
    click.echo(f"lease {reply.lease_id} {verb}")
    for path in reply.paths:
        click.echo(f"  {path}")


_DOMAIN_HELP = "Domainless: the user's domain (DNS name, e.g. example.com), unless --user has it."


def _domain_user(username: str | None, domain: str | None) -> tuple[str, str] | None:
    """The domainless user as (name, domain) from --user NAME[@DOMAIN] and --domain."""
    if username is None:
        if domain is not None:
            raise InvalidInputError(
                "--domain needs --user", where="--domain", fix="give --user NAME[@DOMAIN] too"
            )
        return None
    name, at, named = username.partition("@")
    if at and domain is not None and domain.lower() != named.lower():
        raise InvalidInputError(
            f"--user names the domain {named}, --domain {domain}",
            where="--user/--domain",
            fix="give the domain once",
        )
    chosen = named if at else domain
    if not name or not chosen:
        raise InvalidInputError(
            "the domainless user needs a name and a domain",
            where="--user",
            fix="give --user NAME@DOMAIN, or --user NAME with --domain DOMAIN",
        )
    return name, chosen


@tickets.command(short_help="Ask the running service for a lease on specs' gMSAs.")
@click.argument("specs", nargs=-1, required=True, metavar="FILE...")
@socket_option
@option(
    "--user",
    "username",
    deprecated=("--username",),
    metavar="NAME[@DOMAIN]",
    help="Domainless: the domain user that may read the gMSAs' passwords (its password from "
    f"--password-file, --password-env or --password-stdin, else ${PASSWORD_ENV}).",
)
@click.option("--domain", metavar="DNSNAME", help=_DOMAIN_HELP)
@_password_options
@click.option("--owner", metavar="UID:GID", help="Give the lease's ticket caches to this user.")
@json_option
def lease(
    specs: tuple[str, ...],
    socket_path: Path,
    username: str | None,
    domain: str | None,
    owner: str | None,
    json_output: bool,
    **password: Any,
) -> None:
    """Ask the running service for a lease on the gMSAs of FILE... ("-" reads stdin).

    Domain-joined unless --user is given; then the lease is domainless, as that
    user (with --domain and a password from stdin or $GMSA_DOMAINLESS_PASSWORD).

    \b
    Examples:
      gmsa tickets lease webapp01.json --json
      gmsa tickets lease webapp01.json --user svc-gmsa --domain example.com \\
          --password-stdin < password.txt

    \b
    Exit codes:
      0  the lease was created
      1  invalid input (a spec, the user, --owner)
      2  command-line usage error
      3  the service cannot be reached or failed
    """
    contents = [_read_spec(path) for path in specs]
    owner_ids = _owner(owner)
    user = _domain_user(username, domain)
    with TicketClient(socket_path) as client:
        if user is not None:
            secret = _password(password, user[0])
            reply = client.add_domainless_lease(
                contents, username=user[0], password=secret, domain=user[1]
            )
        else:
            reply = client.add_lease(contents)
        if owner_ids is not None:
            client.set_owner(reply.lease_id, *owner_ids)
    _print_reply(reply, "created", json_output)


@tickets.command(short_help="Renew a domain user's domainless leases now.")
@socket_option
@option(
    "--user",
    "username",
    deprecated=("--username",),
    required=True,
    metavar="NAME[@DOMAIN]",
    help="Domainless: the domain user of the leases (its password from --password-file, "
    f"--password-env or --password-stdin, else ${PASSWORD_ENV}).",
)
@click.option("--domain", metavar="DNSNAME", help=_DOMAIN_HELP)
@_password_options
@json_option
def renew(
    socket_path: Path, username: str, domain: str | None, json_output: bool, **password: Any
) -> None:
    """Renew every domainless lease of a domain user now (as the ECS agent does).

    \b
    Examples:
      gmsa tickets renew --user svc-gmsa@example.com --password-stdin < password.txt

    \b
    Exit codes:
      0  renewed
      1  invalid input (the user, no password)
      2  command-line usage error
      3  the service cannot be reached or failed
    """
    name, user_domain = _domain_user(username, domain) or ("", "")
    secret = _password(password, name)
    with TicketClient(socket_path) as client:
        paths = client.renew_domainless(username=name, password=secret, domain=user_domain)
    if json_output:
        emit_json({"renewed": list(paths)})
        return
    click.echo(f"renewed {len(paths)} ticket cache(s)")
    for path in paths:
        click.echo(f"  {path}")


@tickets.command(short_help="Delete a lease and its ticket caches.")
@click.argument("lease_id", metavar="LEASE_ID")
@socket_option
@json_option
def delete(lease_id: str, socket_path: Path, json_output: bool) -> None:
    """Delete a lease and its ticket caches.

    \b
    Examples:
      gmsa tickets delete 6c3f0e0a5b2d4e21

    \b
    Exit codes:
      0  deleted
      1  invalid input
      2  command-line usage error
      3  the service cannot be reached or failed
    """
    with TicketClient(socket_path) as client:
        reply = client.delete_lease(lease_id)
    _print_reply(reply, "deleted", json_output)


@tickets.command(short_help="The service's health and every lease's tickets.")
@socket_option
@json_option
def status(socket_path: Path, json_output: bool) -> None:
    """The service's health and every lease: gMSA, end time, last renewal, last error.

    \b
    Examples:
      gmsa tickets status
      gmsa tickets status --socket /run/gmsa/tickets.sock --json

    \b
    Exit codes:
      0  the service is healthy
      1  the service reports a problem
      2  command-line usage error
      3  the service cannot be reached
    """
    with TicketClient(socket_path) as client:
        report = client.status()
    healthy = report.get("status") == HEALTHY
    if json_output:
        emit_json(report)
    else:
        _print_status(report)
    sys.exit(int(ExitCode.OK if healthy else ExitCode.INVALID))


def _print_status(report: dict[str, Any]) -> None:
    health = str(report.get("status"))
    click.echo(f"status: {click.style(health, fg='green' if health == HEALTHY else 'red')}")
    leases = report.get("leases") or []
    click.echo(f"leases: {len(leases)} in {report.get('krb_dir')}")
    for item in leases:
        mode = item.get("mode")
        user = f" as {item['domainless_user']}" if item.get("domainless_user") else ""
        click.echo(f"  {item.get('lease_id')} ({mode}{user})")
        if item.get("awaiting_credentials"):
            click.echo("    waiting for the agent's next renew request (user password not known)")
        for ticket in item.get("tickets") or []:
            click.echo(
                f"    {ticket.get('gmsa')}: ends {ticket.get('end_time')}, "
                f"renewed {ticket.get('last_renewal')}, next {ticket.get('next_renewal')}"
            )
            if ticket.get("last_error"):
                click.echo(
                    click.style(
                        f"      last error ({ticket.get('failures')} failure(s)): "
                        f"{ticket['last_error']}",
                        fg="red",
                    )
                )
    for broken in report.get("unreadable_leases") or []:
        click.echo(click.style(f"  unreadable: {broken['path']}: {broken['reason']}", fg="red"))


__all__ = [
    "PASSWORD_ENV",
    "delete",
    "lease",
    "renew",
    "serve",
    "status",
    "tickets",
]
