"""``gmsa tickets``: the Kerberos ticket service for Linux hosts, and commands to talk to it."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import click
from prometheus_client import start_http_server

from gmsa import jsondoc
from gmsa.aws import AwsConfig
from gmsa.cli._aws import F, apply_options
from gmsa.cli._common import GmsaGroup, emit_report, json_option
from gmsa.cli._options import option, socket_option
from gmsa.cli.ad import PASSWORD_OPTION_NAMES, PASSWORD_OPTIONS, read_password
from gmsa.credspec.model import MAX_SPEC_BYTES
from gmsa.credspec.validate import read_argument
from gmsa.domainless import read_host_user
from gmsa.errors import ExitCode, ExternalError, GmsaError, InvalidInputError
from gmsa.findings import Finding, Severity, count
from gmsa.tickets.client import LeaseReply, TicketClient
from gmsa.tickets.config import ServiceSettings, load_document, load_settings, settings_from
from gmsa.tickets.deployment import ECS_CONFIG, SOCKET_NAME, Deployment, read_ecs_config
from gmsa.tickets.deployment import resolve as resolve_deployment
from gmsa.tickets.layout import DEFAULT_KRB_DIR, DEFAULT_SOCKET
from gmsa.tickets.leases import LeaseStore
from gmsa.tickets.logformat import FORMATS
from gmsa.tickets.logformat import configure as configure_logging
from gmsa.tickets.metrics import ServiceMetrics, parse_listen
from gmsa.tickets.providers import DEFAULT_PROVIDER, create_provider
from gmsa.tickets.server import TicketServer
from gmsa.tickets.service import HEALTHY, TicketService
from gmsa.tickets.systemd import Notifier, unit_file, watchdog_interval

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
      unit    a systemd unit that runs serve

    \b
    Examples:
      gmsa tickets serve --config /etc/gmsa/tickets.json
      gmsa tickets lease webapp01.json --json
      gmsa tickets status
    """


def config_option(text: str) -> Callable[[F], F]:
    """``--config FILE``: the ticket service's JSON settings."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help=text,
    )


metrics_listen_option = click.option(
    "--metrics-listen",
    metavar="HOST:PORT",
    help="Serve Prometheus metrics at http://HOST:PORT/metrics (off unless given).",
)


@tickets.command(short_help="Serve the credentials-fetcher gRPC API on a unix socket.")
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PATH",
    envvar="GMSA_TICKETS_SOCKET",
    help="The unix socket to serve on (env GMSA_TICKETS_SOCKET; default: "
    f"$CF_UNIX_DOMAIN_SOCKET_DIR/{SOCKET_NAME}, else {DEFAULT_SOCKET}).",
)
@click.option(
    "--krb-dir",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help=f"Where lease directories and ticket caches live (default: $CF_KRB_DIR, else "
    f"{DEFAULT_KRB_DIR}).",
)
@config_option(
    "JSON settings: keytab, principal, renewal, TTL, cache owners and the deployment "
    "settings (re-read on SIGHUP)."
)
@click.option(
    "--provider",
    default=DEFAULT_PROVIDER,
    show_default=True,
    metavar="NAME",
    help="Where passwords and tickets come from.",
)
@metrics_listen_option
@click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for people, json (one object per line) for log shippers.",
)
@click.option(
    "--ecs-config",
    type=click.Path(path_type=Path, dir_okay=False),
    default=ECS_CONFIG,
    show_default=True,
    help="The ECS agent's configuration, read for the keys it shares with the service.",
)
@click.option(
    "--print-settings",
    is_flag=True,
    help="Print every deployment setting, its value and where it came from, then exit.",
)
def serve(
    socket_path: Path | None,
    krb_dir: Path | None,
    config_path: Path | None,
    provider: str,
    metrics_listen: str | None,
    log_format: str,
    ecs_config: Path,
    print_settings: bool,
) -> None:
    """Serve the credentials-fetcher gRPC API on a unix socket until SIGTERM or SIGINT.

    Leases on disk are recovered and renewed at start; the socket is removed at exit.
    With no flags it runs as credentials-fetcher does on an ECS host: each deployment
    setting comes from the first of the flag, --config, the environment (CF_KRB_DIR,
    CF_UNIX_DOMAIN_SOCKET_DIR, CF_LOGGING_DIR, DOMAIN_CONTROLLER_GMSA, CF_GMSA_OU or
    CF_GMSA_DISTINGUISHED_NAME), /etc/ecs/ecs.config, the default (see --print-settings).
    Under systemd (Type=notify, see `gmsa tickets unit`) it reports READY=1 once the
    socket is bound and every lease recovered, a STATUS= line with lease and failure
    counts, and WATCHDOG=1 pings while its renewal loop is healthy. SIGHUP re-reads
    --config without dropping a lease.

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
    document = load_document(config_path)
    deployment = resolve_deployment(
        {
            "socket": str(socket_path) if socket_path else None,
            "krb_dir": str(krb_dir) if krb_dir else None,
        },
        document,
        os.environ,
        read_ecs_config(ecs_config),
        config_source=str(config_path) if config_path else "config file",
    )
    if print_settings:
        for row in deployment.describe():
            shown = row["value"] if row["value"] is not None else "(unset)"
            click.echo(f"{row['setting']:<18} {shown}  [{row['source']}]")
        return
    socket_path = deployment.path("socket") or DEFAULT_SOCKET
    krb_dir = deployment.path("krb_dir") or DEFAULT_KRB_DIR
    configure_logging(log_format, directory=deployment.path("logging_dir"))
    listen = parse_listen(metrics_listen) if metrics_listen else None
    settings = _with_deployment(settings_from(document, source=str(config_path)), deployment)
    service = TicketService(LeaseStore(krb_dir), create_provider(provider, settings), settings)
    metrics = ServiceMetrics(service) if listen else None
    service.start()
    server = TicketServer(
        service, socket_path, interceptors=[metrics.interceptor()] if metrics else ()
    )
    try:
        server.start()
        exporter = _start_metrics(metrics, listen)
    except BaseException:
        server.stop()
        service.stop()
        raise
    notifier = Notifier.from_environment()
    stop = threading.Event()
    reload = threading.Event()

    def on_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    def on_reload(_signum: int, _frame: FrameType | None) -> None:
        reload.set()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, on_reload)
    click.echo(f"serving on {server.socket_path}, leases in {service.store.root}", err=True)
    notifier.notify(READY=1, STATUS=service.summary())
    ping_every = watchdog_interval()
    stuck_after = 2 * ping_every if ping_every else 0.0
    last_ping = last_status = time.monotonic()
    status = service.summary()
    try:
        while not stop.wait(min(1.0, ping_every or 1.0)):
            now = time.monotonic()
            if reload.is_set():
                reload.clear()
                _reload(service, notifier, config_path, provider, deployment)
            due = ping_every is not None and now - last_ping >= ping_every
            if due and service.renewal_loop_healthy(max(stuck_after, _ROUND_LIMIT)):
                notifier.notify(WATCHDOG=1)
                last_ping = now
            if now - last_status >= _STATUS_EVERY and service.summary() != status:
                status = service.summary()
                notifier.notify(STATUS=status)
                last_status = now
    finally:
        notifier.notify(STOPPING=1)
        server.stop()
        service.stop()
        if exporter is not None:
            exporter.shutdown()
    click.echo("stopped", err=True)


_STATUS_EVERY = 10.0
"""Seconds between STATUS= updates (only when the line changed)."""
_ROUND_LIMIT = 300.0
"""A renewal round running longer than this (or twice the watchdog) counts as stuck."""


def _start_metrics(metrics: ServiceMetrics | None, listen: tuple[str, int] | None) -> Any:
    """The HTTP server of the metrics endpoint, or None when metrics are off."""
    if metrics is None or listen is None:
        return None
    host, port = listen
    try:
        exporter, _thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        raise ExternalError(
            f"cannot listen for metrics: {exc.strerror or exc}",
            where=f"{host}:{port}",
            fix="choose a free port and an address of this host (e.g. 127.0.0.1:9464)",
        ) from None
    click.echo(f"metrics on http://{host}:{port}/metrics", err=True)
    return exporter


def _with_deployment(
    settings: ServiceSettings, deployment: Deployment, aws: AwsConfig | None = None
) -> ServiceSettings:
    """The settings with the deployment's DC and OU, which the provider reads, and on a
    host outside the domain the domain user from its secret (read with the host's AWS
    credentials) as the identity of AddKerberosLease."""
    settings = replace(
        settings,
        domain_controller=deployment.text("domain_controller"),
        gmsa_ou=deployment.text("gmsa_ou"),
    )
    secret = deployment.text("domainless_secret")
    if secret:
        user = read_host_user(aws or AwsConfig(), secret)
        settings = replace(settings, host_identity=user)
    return settings


def _reload(
    service: TicketService,
    notifier: Notifier,
    config_path: Path | None,
    provider: str,
    deployment: Deployment,
) -> None:
    """SIGHUP: read the configuration again; keep the old one if the new one is wrong."""
    notifier.notify(RELOADING=1, MONOTONIC_USEC=time.monotonic_ns() // 1000)
    try:
        settings = _with_deployment(load_settings(config_path), deployment)
        service.reload(settings, create_provider(provider, settings))
    except GmsaError as exc:
        logging.getLogger("gmsa.tickets").error("reload refused, settings kept: %s", exc)
    notifier.notify(READY=1, STATUS=service.summary())


@tickets.command("unit", short_help="Print a systemd unit that runs tickets serve.")
@socket_option
@click.option(
    "--krb-dir",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    default=DEFAULT_KRB_DIR,
    show_default=True,
    help="The krb directory the service is to use.",
)
@config_option("The JSON settings file the service is to read.")
@metrics_listen_option
@click.option(
    "--executable",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The gmsa program to run (default: the one of this installation).",
)
@click.option(
    "--watchdog",
    type=int,
    default=60,
    show_default=True,
    metavar="SECONDS",
    help="systemd restarts the service when no WATCHDOG=1 came within this time.",
)
def unit(
    socket_path: Path,
    krb_dir: Path,
    config_path: Path | None,
    metrics_listen: str | None,
    executable: Path | None,
    watchdog: int,
) -> None:
    """Print a systemd unit that runs `gmsa tickets serve` (Type=notify, hardened).

    \b
    Examples:
      gmsa tickets unit > /etc/systemd/system/gmsa-tickets.service
      systemctl daemon-reload && systemctl enable --now gmsa-tickets
      gmsa tickets unit --config /etc/gmsa/tickets.json --metrics-listen 127.0.0.1:9464

    \b
    Exit codes:
      0  the unit was printed
      1  a path or an address cannot go into a unit
      2  command-line usage error
    """
    if metrics_listen is not None:
        parse_listen(metrics_listen)
    click.echo(
        unit_file(
            executable=executable.absolute() if executable else None,
            socket_path=socket_path.absolute(),
            krb_dir=krb_dir.absolute(),
            config=config_path.absolute() if config_path else None,
            metrics_listen=metrics_listen,
            watchdog_seconds=watchdog,
        ),
        nl=False,
    )


def _read_spec(path: str) -> str:
    data, source = read_argument(path)
    if len(data) > MAX_SPEC_BYTES:
        raise InvalidInputError(
            f"the credential spec is over the {MAX_SPEC_BYTES}-byte limit",
            where=source,
            fix="check the input",
        )
    return jsondoc.decode_text(data, source=source)


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


def _print_reply(reply: LeaseReply, verb: str) -> None:
    def text() -> None:
        click.echo(f"lease {reply.lease_id} {verb}")
        for path in reply.paths:
            click.echo(f"  {path}")

    emit_report([], results={"lease_id": reply.lease_id, "paths": list(reply.paths)}, text=text)


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
    _print_reply(reply, "created")


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

    def text() -> None:
        click.echo(f"renewed {count(len(paths), 'ticket cache')}")
        for path in paths:
            click.echo(f"  {path}")

    emit_report([], results={"renewed": list(paths)}, text=text)


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
    _print_reply(reply, "deleted")


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
    "config_option",
    "delete",
    "lease",
    "metrics_listen_option",
    "renew",
    "serve",
    "status",
    "status_findings",
    "tickets",
    "unit",
]
