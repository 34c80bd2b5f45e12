"""Where the ticket service lives on a host, from the settings ECS hosts already carry.

With no flags, ``gmsa tickets serve`` behaves as credentials-fetcher does on an ECS
container instance: the socket and krb directory the ECS agent expects, and the
same environment variables and ``/etc/ecs/ecs.config`` keys
(docs/background.md#credentials-fetchers-grpc-api). Each value is taken from the
first of: the command-line flag, the JSON configuration file, the environment,
``/etc/ecs/ecs.config``, the default; ``gmsa tickets serve --print-settings``
shows the result and where each value came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gmsa.errors import InvalidInputError
from gmsa.inputfile import InputNotFoundError, read_input
from gmsa.tickets.errors import TicketConfigError
from gmsa.tickets.layout import DEFAULT_KRB_DIR, DEFAULT_SOCKET

ECS_CONFIG = Path("/etc/ecs/ecs.config")
"""The ECS agent's configuration file on a container instance."""
SOCKET_NAME = DEFAULT_SOCKET.name
"""The socket's file name inside ``CF_UNIX_DOMAIN_SOCKET_DIR``."""
_MAX_ECS_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class Knob:
    """One deployment setting: its key in the configuration file and the names hosts use."""

    key: str
    """The key in the JSON configuration file."""
    flag: str | None
    """The command-line flag, if there is one."""
    variables: tuple[str, ...]
    """Environment variables and ecs.config keys, in order of preference."""
    default: str | None
    """The value when nothing sets it."""
    meaning: str
    """What it is, for --print-settings."""


KNOBS: tuple[Knob, ...] = (
    Knob("socket", "--socket", ("CF_UNIX_DOMAIN_SOCKET_DIR",), str(DEFAULT_SOCKET),
         "the unix socket the ECS agent calls"),
    Knob("krb_dir", "--krb-dir", ("CF_KRB_DIR",), str(DEFAULT_KRB_DIR),
         "where leases and ticket caches live"),
    Knob("logging_dir", None, ("CF_LOGGING_DIR",), None,
         "a directory for the service's log file (none: stderr only)"),
    Knob("domain_controller", None, ("DOMAIN_CONTROLLER_GMSA",), None,
         "a DC to use instead of DNS SRV discovery"),
    Knob("gmsa_ou", None, ("CF_GMSA_OU", "CF_GMSA_DISTINGUISHED_NAME"), None,
         "the OU (distinguished name) gMSA accounts are searched in"),
    Knob("domainless_secret", None, ("CREDENTIALS_FETCHER_SECRET_NAME_FOR_DOMAINLESS_GMSA",),
         None, "a host outside the domain: the Secrets Manager secret of its domain user"),
)  # fmt: skip
"""Every deployment setting."""
KEYS = frozenset(knob.key for knob in KNOBS)
"""The configuration file keys that belong to the deployment (not the service's behaviour)."""


@dataclass(frozen=True)
class Resolved:
    """A setting's value and where it came from."""

    value: str | None
    """The value (None: unset)."""
    source: str
    """``flag --socket``, ``config file $.krb_dir``, ``environment CF_KRB_DIR``,
    ``/etc/ecs/ecs.config CF_KRB_DIR`` or ``default``."""


@dataclass(frozen=True)
class Deployment:
    """Every deployment setting, resolved."""

    values: Mapping[str, Resolved]
    """By configuration file key."""

    def path(self, key: str) -> Path | None:
        """A setting as a path."""
        value = self.values[key].value
        return Path(value) if value else None

    def text(self, key: str) -> str | None:
        """A setting as text."""
        return self.values[key].value

    def describe(self) -> list[dict[str, Any]]:
        """What --print-settings shows: key, value, source, meaning."""
        return [
            {
                "setting": knob.key,
                "value": self.values[knob.key].value,
                "source": self.values[knob.key].source,
                "meaning": knob.meaning,
            }
            for knob in KNOBS
        ]


def read_ecs_config(path: Path = ECS_CONFIG) -> dict[str, str]:
    """``KEY=VALUE`` lines of the ECS agent's configuration; missing file: nothing.

    Comments and blank lines are skipped; surrounding quotes of a value are removed, as
    the agent's systemd ``EnvironmentFile`` reading does.
    """
    try:
        data = read_input(path, max_bytes=_MAX_ECS_CONFIG_BYTES, what="ECS agent configuration")
    except InputNotFoundError:
        return {}
    values: dict[str, str] = {}
    for line in data.data.decode("utf-8", "replace").splitlines():
        text = line.strip()
        if not text or text.startswith("#") or "=" not in text:
            continue
        key, _, value = text.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def resolve(
    flags: Mapping[str, str | None],
    config: Mapping[str, Any],
    environ: Mapping[str, str],
    ecs_config: Mapping[str, str],
    *,
    config_source: str = "config file",
) -> Deployment:
    """Each setting from the first of: flag, configuration file, environment, ecs.config,
    default. ``flags`` and ``config`` are keyed by the configuration file keys."""
    values: dict[str, Resolved] = {}
    for knob in KNOBS:
        values[knob.key] = _resolve_one(knob, flags, config, environ, ecs_config, config_source)
    return Deployment(values)


def _resolve_one(
    knob: Knob,
    flags: Mapping[str, str | None],
    config: Mapping[str, Any],
    environ: Mapping[str, str],
    ecs_config: Mapping[str, str],
    config_source: str,
) -> Resolved:
    flag_value = flags.get(knob.key)
    if flag_value:
        return Resolved(flag_value, f"flag {knob.flag}")
    config_value = config.get(knob.key)
    if config_value is not None:
        if not isinstance(config_value, str) or not config_value.strip():
            raise TicketConfigError(
                f"{knob.key} must be a non-empty string",
                where=f"{config_source}: $.{knob.key}",
                fix="quote the value",
            )
        return Resolved(config_value, f"{config_source} $.{knob.key}")
    for origin, table in (("environment", environ), (str(ECS_CONFIG), ecs_config)):
        for name in knob.variables:
            found = (table.get(name) or "").strip()
            if found:
                value = str(Path(found) / SOCKET_NAME) if knob.key == "socket" else found
                _check(knob, value, f"{origin} {name}")
                return Resolved(value, f"{origin} {name}")
    return Resolved(knob.default, "default")


def _check(knob: Knob, value: str, source: str) -> None:
    if knob.key in ("socket", "krb_dir", "logging_dir") and not value.startswith("/"):
        raise InvalidInputError(
            f"{knob.key} from {source} is not an absolute path: {value!r}",
            where=source,
            fix="give an absolute directory",
        )


__all__ = [
    "ECS_CONFIG",
    "KEYS",
    "KNOBS",
    "SOCKET_NAME",
    "Deployment",
    "Knob",
    "Resolved",
    "read_ecs_config",
    "resolve",
]
