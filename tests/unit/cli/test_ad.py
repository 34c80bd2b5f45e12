"""How the AD commands' options become credentials: passwords never on the command line."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from gmsa.ad.connection import (
    CacheCredentials,
    KeytabCredentials,
    PasswordCredentials,
    Protection,
)
from gmsa.ad.discovery import DnsConfig
from gmsa.cli.ad import OPTION_NAMES, credentials_from, pop_connection
from gmsa.errors import ExitCode
from gmsa.inputfile import NotRegularFileError
from gmsa.kerberos.errors import CredentialsInputError


def values(**given: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(OPTION_NAMES)
    out.update(given)
    return out


def test_ticket_cache_is_the_default() -> None:
    assert credentials_from(values()) == CacheCredentials(None)


def test_keytab_with_principal() -> None:
    made = credentials_from(values(keytab="/etc/krb5.keytab", principal="H$@EXAMPLE.COM"))
    assert made == KeytabCredentials(Path("/etc/krb5.keytab"), "H$@EXAMPLE.COM")


def test_password_from_a_file_takes_its_first_line(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\nignored\n")
    made = credentials_from(values(user="admin", password_file=str(secret)))
    assert made == PasswordCredentials("admin", "s3cret")


def test_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AD_PW", "from-env")
    made = credentials_from(values(user="admin", password_env="AD_PW"))
    assert isinstance(made, PasswordCredentials) and made.password == "from-env"


def test_password_from_standard_input_takes_its_first_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("from-stdin\nrest\n"))
    made = credentials_from(values(user="admin", password_stdin=True))
    assert isinstance(made, PasswordCredentials) and made.password == "from-stdin"


def test_empty_standard_input_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CredentialsInputError, match="on standard input"):
        credentials_from(values(user="admin", password_stdin=True))


def test_two_password_sources_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AD_PW", "from-env")
    with pytest.raises(CredentialsInputError, match="choose one of --password-file"):
        credentials_from(values(user="admin", password_env="AD_PW", password_stdin=True))


def test_unset_password_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AD_PW", raising=False)
    with pytest.raises(CredentialsInputError, match="AD_PW"):
        credentials_from(values(user="admin", password_env="AD_PW"))


def test_no_password_source_without_a_terminal_is_refused() -> None:
    with pytest.raises(CredentialsInputError, match="no password"):
        credentials_from(values(user="admin"))


def test_missing_password_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CredentialsInputError, match="does not exist"):
        credentials_from(values(user="admin", password_file=str(tmp_path / "none")))


def test_a_fifo_as_password_file_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "secret"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFileError, match="FIFO") as caught:
        credentials_from(values(user="admin", password_file=str(fifo)))
    assert caught.value.exit_code == ExitCode.INVALID


def test_a_password_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"\xff\xfehunter2\n")
    with pytest.raises(CredentialsInputError, match="not UTF-8") as caught:
        credentials_from(values(user="admin", password_file=str(secret)))
    assert "hunter2" not in str(caught.value)


def test_two_credential_sources_are_refused() -> None:
    with pytest.raises(CredentialsInputError, match="choose one"):
        credentials_from(values(user="admin", keytab="/etc/krb5.keytab"))


def test_password_source_without_user_is_refused() -> None:
    with pytest.raises(CredentialsInputError, match="needs --user"):
        credentials_from(values(password_env="X"))


def test_password_is_not_in_the_credentials_repr(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("hunter2")
    made = credentials_from(values(user="admin", password_file=str(secret)))
    assert "hunter2" not in repr(made)


def test_connection_options_are_taken_out_of_the_parameters() -> None:
    params = values(domain="example.com", protection="ldaps", timeout=5, dns_server="10.0.0.1")
    params["other"] = 1
    options, _ = pop_connection(params)
    assert (options.protection, options.timeout, options.dns.server) == (
        Protection.LDAPS,
        5,
        "10.0.0.1",
    )
    assert params == {"other": 1}


def test_a_short_timeout_shortens_dns_lookups_too() -> None:
    options, _ = pop_connection(values(timeout=1, dns_server="10.0.0.1"))
    assert options.dns.timeout == 1.0


def test_a_long_timeout_keeps_the_dns_default() -> None:
    options, _ = pop_connection(values(timeout=60))
    assert options.dns.timeout == DnsConfig().timeout
