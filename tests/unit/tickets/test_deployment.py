"""Deployment settings from flags, the config file, the environment and ecs.config, in
that order, as credentials-fetcher's hosts set them."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from gmsa.cli.main import cli
from gmsa.errors import InvalidInputError
from gmsa.inputfile import NotRegularFileError
from gmsa.tickets.activedirectory import ActiveDirectoryProvider, search_base
from gmsa.tickets.config import ServiceSettings, settings_from
from gmsa.tickets.deployment import read_ecs_config, resolve
from gmsa.tickets.errors import TicketConfigError
from gmsa.tickets.logformat import LOG_FILE, configure
from gmsa.tickets.providers import create_provider
from tests.support.cli import within

EMPTY: dict[str, str] = {}


def test_each_source_wins_over_the_ones_after_it() -> None:
    ecs = {"CF_KRB_DIR": "/ecs/krb", "DOMAIN_CONTROLLER_GMSA": "dc9.example.com"}
    env = {"CF_KRB_DIR": "/env/krb"}
    config = {"krb_dir": "/config/krb"}
    flags = {"krb_dir": "/flag/krb"}
    assert resolve(flags, config, env, ecs).values["krb_dir"].source == "flag --krb-dir"
    assert resolve({}, config, env, ecs).text("krb_dir") == "/config/krb"
    assert resolve({}, {}, env, ecs).values["krb_dir"].source == "environment CF_KRB_DIR"
    from_ecs = resolve({}, {}, EMPTY, ecs)
    assert from_ecs.text("krb_dir") == "/ecs/krb"
    assert from_ecs.values["krb_dir"].source == "/etc/ecs/ecs.config CF_KRB_DIR"
    assert from_ecs.text("domain_controller") == "dc9.example.com"
    defaults = resolve({}, {}, EMPTY, EMPTY)
    assert defaults.text("krb_dir") == "/var/credentials-fetcher/krbdir"
    assert defaults.text("socket") == "/var/credentials-fetcher/socket/credentials_fetcher.sock"
    assert defaults.values["socket"].source == "default"


def test_the_socket_directory_variable_names_a_directory() -> None:
    found = resolve({}, {}, {"CF_UNIX_DOMAIN_SOCKET_DIR": "/run/cf"}, EMPTY)
    assert found.text("socket") == "/run/cf/credentials_fetcher.sock"


def test_either_ou_variable_names_the_search_base() -> None:
    ou = resolve({}, {}, EMPTY, {"CF_GMSA_DISTINGUISHED_NAME": "OU=gMSAs,DC=example,DC=com"})
    assert ou.text("gmsa_ou") == "OU=gMSAs,DC=example,DC=com"
    assert resolve({}, {}, {"CF_GMSA_OU": "OU=x"}, EMPTY).text("gmsa_ou") == "OU=x"


def test_relative_directories_and_bad_config_values_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="not an absolute path"):
        resolve({}, {}, {"CF_KRB_DIR": "krb"}, EMPTY)
    with pytest.raises(TicketConfigError, match="krb_dir must be a non-empty string"):
        resolve({}, {"krb_dir": 7}, EMPTY, EMPTY)


def test_ecs_config_lines_comments_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "ecs.config"
    path.write_text(
        "# comment\nECS_CLUSTER=prod\n\nCF_KRB_DIR='/srv/krb'\n"
        'CREDENTIALS_FETCHER_SECRET_NAME_FOR_DOMAINLESS_GMSA="gmsa/user"\nnot a setting\n'
    )
    values = read_ecs_config(path)
    assert values["CF_KRB_DIR"] == "/srv/krb"
    assert values["CREDENTIALS_FETCHER_SECRET_NAME_FOR_DOMAINLESS_GMSA"] == "gmsa/user"
    assert "not a setting" not in values
    assert read_ecs_config(tmp_path / "missing") == {}


def test_the_config_file_accepts_deployment_keys_but_not_typos() -> None:
    settings = settings_from({"krb_dir": "/srv/krb", "renewal_workers": 2}, source="c.json")
    assert settings.renewal_workers == 2
    with pytest.raises(TicketConfigError, match="unknown setting 'krb_dirr'"):
        settings_from({"krb_dirr": "/srv/krb"}, source="c.json")


def test_print_settings_names_every_source(tmp_path: Path) -> None:
    ecs = tmp_path / "ecs.config"
    ecs.write_text("CF_GMSA_OU=OU=gMSAs\nCF_KRB_DIR=/ecs/krb\n")
    config = tmp_path / "tickets.json"
    config.write_text(json.dumps({"logging_dir": "/var/log/gmsa"}))
    result = CliRunner().invoke(
        cli,
        ["tickets", "serve", "--print-settings", "--ecs-config", str(ecs),
         "--config", str(config), "--socket", "/run/x.sock"],
        env={"CF_KRB_DIR": "/env/krb", "DOMAIN_CONTROLLER_GMSA": ""},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert lines["socket"].endswith("[flag --socket]")
    assert "/env/krb" in lines["krb_dir"] and "[environment CF_KRB_DIR]" in lines["krb_dir"]
    assert f"[{config} $.logging_dir]" in lines["logging_dir"]
    assert "OU=gMSAs" in lines["gmsa_ou"] and "ecs.config CF_GMSA_OU" in lines["gmsa_ou"]
    assert "(unset)  [default]" in lines["domain_controller"]


def test_the_provider_uses_the_deployments_dc_and_ou() -> None:
    settings = ServiceSettings(domain_controller="dc2.example.com", gmsa_ou="OU=gMSAs")
    provider = create_provider("active-directory", settings)
    assert isinstance(provider, ActiveDirectoryProvider)
    assert provider.directory.server == "dc2.example.com"
    assert provider.directory.gmsa_ou == "OU=gMSAs"


def test_search_base_is_the_domain_an_ou_in_it_or_a_whole_dn() -> None:
    assert search_base("example.com", None) == "DC=example,DC=com"
    assert search_base("example.com", "OU=gMSAs") == "OU=gMSAs,DC=example,DC=com"
    assert search_base("example.com", "OU=a,DC=other,DC=org") == "OU=a,DC=other,DC=org"


def test_the_logging_directory_gets_a_private_log_file(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        handlers = configure("json", directory=tmp_path / "logs")
        logging.getLogger("gmsa.tickets").info("hello", extra={"method": "HealthCheck"})
        for handler in handlers:
            handler.flush()
        path = tmp_path / "logs" / LOG_FILE
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        line = json.loads(path.read_text().splitlines()[-1])
        assert (line["message"], line["method"]) == ("hello", "HealthCheck")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


def test_an_ecs_config_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "ecs.config"
    os.mkfifo(fifo)
    with within(10), pytest.raises(NotRegularFileError, match="FIFO"):
        read_ecs_config(fifo)
