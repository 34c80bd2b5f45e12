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
from gmsa.cli._common import GmsaGroup, emit_report, json_option
from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.errors import ExitCode, InvalidInputError
from gmsa.findings import Finding, Severity, count
from gmsa.tickets.client import LeaseReply, TicketClient
from gmsa.tickets.config import load_settings
from gmsa.tickets.layout import DEFAULT_KRB_DIR, DEFAULT_SOCKET
from gmsa.tickets.leases import LeaseStore
from gmsa.tickets.providers import DEFAULT_PROVIDER, create_provider
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import HEALTHY, TicketService

PASSWORD_ENV = "GMSA_DOMAINLESS_PASSWORD"  # noqa: S105 - the variable's name
"""Where lease/renew read a domainless user's password when not given on stdin."""

socket_option = click.option(
    "--socket",
    "socket_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_SOCKET,
    show_default=True,
    envvar="GMSA_TICKETS_SOCKET",
    help="The service's unix socket (env GMSA_TICKETS_SOCKET).",
)


@click.group(cls=GmsaGroup)
def tickets() -> None:
    """Kerberos tickets for gMSAs on Linux hosts (credentials-fetcher compatible).

    \b
      gmsa tickets serve --socket S --krb-dir D   run the service the ECS agent talks to
      gmsa tickets lease webapp01.json            ask a running service for a lease
      gmsa tickets status                         health and every lease's tickets
      gmsa tickets delete LEASE_ID                remove a lease
    """


@tickets.command()
@socket_option
@click.option(
    "--krb-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_KRB_DIR,
    show_default=True,
    help="Where lease directories and ticket caches live (the agent mounts from here).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON settings: keytab, principal, renewal, TTL, cache owners.",
)
@click.option(
    "--provider",
    default=DEFAULT_PROVIDER,
    show_default=True,
    help="Where passwords and tickets come from.",
)
def serve(socket_path: Path, krb_dir: Path, config_path: Path | None, provider: str) -> None:
    """Serve the credentials-fetcher gRPC API on a unix socket until SIGTERM or SIGINT.

    Leases on disk are recovered and renewed at start; the socket is removed at exit.
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


def _password(password_stdin: bool) -> str:
    if password_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    else:
        value = os.environ.get(PASSWORD_ENV, "")
    if not value:
        raise InvalidInputError(
            "no password for the domain user",
            where="--password-stdin" if password_stdin else PASSWORD_ENV,
            fix=f"pipe it with --password-stdin or set {PASSWORD_ENV} (never on the command line)",
        )
    return value


def _owner(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    uid, sep, gid = text.partition(":")
    if not sep or not uid.isdigit() or not gid.isdigit():
        raise InvalidInputError(
            f"not an owner: {text!r}", where="--owner", fix="write it as UID:GID, e.g. 1000:1000"
        )
    return int(uid), int(gid)


def _print_reply(reply: LeaseReply, verb: str) -> None:
    def text() -> None:
        click.echo(f"lease {reply.lease_id} {verb}")
        for path in reply.paths:
            click.echo(f"  {path}")

    emit_report([], results={"lease_id": reply.lease_id, "paths": list(reply.paths)}, text=text)


@tickets.command()
@click.argument("specs", nargs=-1, required=True, metavar="SPEC_FILE...")
@socket_option
@click.option("--username", help="Domainless: the domain user that may read the password.")
@click.option("--domain", help="Domainless: the user's domain.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help=f"Domainless: read the user's password from stdin (else ${PASSWORD_ENV}).",
)
@click.option("--owner", metavar="UID:GID", help="Give the lease's ticket caches to this user.")
@json_option
def lease(
    specs: tuple[str, ...],
    socket_path: Path,
    username: str | None,
    domain: str | None,
    password_stdin: bool,
    owner: str | None,
    json_output: bool,
) -> None:
    """Ask the running service for a lease on the gMSAs of SPEC_FILE... ("-" reads stdin).

    Domain-joined unless --username is given.
    """
    contents = [_read_spec(path) for path in specs]
    owner_ids = _owner(owner)
    if (username is None) != (domain is None):
        raise InvalidInputError(
            "--username and --domain go together", where="--username/--domain", fix="give both"
        )
    with TicketClient(socket_path) as client:
        if username is not None and domain is not None:
            password = _password(password_stdin)
            reply = client.add_domainless_lease(
                contents, username=username, password=password, domain=domain
            )
        else:
            reply = client.add_lease(contents)
        if owner_ids is not None:
            client.set_owner(reply.lease_id, *owner_ids)
    _print_reply(reply, "created")


@tickets.command()
@socket_option
@click.option("--username", required=True, help="The domain user of the domainless leases.")
@click.option("--domain", required=True, help="The user's domain.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help=f"Read the user's password from stdin (else ${PASSWORD_ENV}).",
)
@json_option
def renew(
    socket_path: Path, username: str, domain: str, password_stdin: bool, json_output: bool
) -> None:
    """Renew every domainless lease of a domain user now (as the ECS agent does)."""
    password = _password(password_stdin)
    with TicketClient(socket_path) as client:
        paths = client.renew_domainless(username=username, password=password, domain=domain)

    def text() -> None:
        click.echo(f"renewed {count(len(paths), 'ticket cache')}")
        for path in paths:
            click.echo(f"  {path}")

    emit_report([], results={"renewed": list(paths)}, text=text)


@tickets.command()
@click.argument("lease_id")
@socket_option
@json_option
def delete(lease_id: str, socket_path: Path, json_output: bool) -> None:
    """Delete a lease and its ticket caches."""
    with TicketClient(socket_path) as client:
        reply = client.delete_lease(lease_id)
    _print_reply(reply, "deleted")


@tickets.command()
@socket_option
@json_option
def status(socket_path: Path, json_output: bool) -> None:
    """The service's health and every lease: gMSA, end time, last renewal, last error.

    Exits 1 when the service reports a problem.
    """
    with TicketClient(socket_path) as client:
        report = client.status()
    healthy = report.get("status") == HEALTHY
    emit_report(
        status_findings(report), ok=healthy, results=report, text=lambda: _print_status(report)
    )
    sys.exit(int(ExitCode.OK if healthy else ExitCode.INVALID))


def status_findings(report: dict[str, Any]) -> list[Finding]:
    """The problems a status report shows: tickets whose renewal failed, unreadable leases."""
    found: list[Finding] = []
    for item in report.get("leases") or []:
        for ticket in item.get("tickets") or []:
            if ticket.get("last_error"):
                failures = count(int(ticket.get("failures") or 0), "failure")
                found.append(
                    Finding(
                        Severity.ERROR,
                        "ticket-renewal-failed",
                        "",
                        f"{ticket.get('gmsa')}: last error ({failures}): {ticket['last_error']}",
                        source=str(item.get("lease_id")),
                    )
                )
    for broken in report.get("unreadable_leases") or []:
        found.append(
            Finding(
                Severity.ERROR,
                "unreadable-lease",
                "",
                f"unreadable: {broken['reason']}",
                source=str(broken["path"]),
            )
        )
    return found


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
                        f"      last error ({count(int(ticket.get('failures') or 0), 'failure')}): "
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
    "socket_option",
    "status",
    "status_findings",
    "tickets",
]
