"""Pieces of spec generation and Kerberos error reporting that need no DC."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmsa.ad.errors import AccountError
from gmsa.ad.specgen import AccountRequest
from gmsa.credspec.model import default_file_name
from gmsa.kerberos.errors import KerberosError
from gmsa.kerberos.kdc import KdcEndpoint, _kdc_error


@pytest.mark.parametrize(
    ("typed", "name", "domain"),
    [
        ("WebApp01", "WebApp01", None),
        ("WebApp01$", "WebApp01", None),
        ("WebApp01@emea.example.com", "WebApp01", "emea.example.com"),
        ("EMEA\\WebApp01$", "WebApp01", "EMEA"),
    ],
)
def test_account_arguments_are_read_like_new_credentialspec(
    typed: str, name: str, domain: str | None
) -> None:
    assert AccountRequest.parse(typed) == AccountRequest(name, domain)


@given(st.text(max_size=40))
def test_account_argument_parser_raises_only_account_errors(text: str) -> None:
    with contextlib.suppress(AccountError):
        AccountRequest.parse(text)


def test_default_file_name_is_lowercase_with_a_real_suffix() -> None:
    # New-CredentialSpec's TrimEnd(".json") would eat the "n" of an account ending in n
    assert default_file_name("EXAMPLE", "Json") == "example_json.json"


def test_clock_skew_from_the_kdc_says_to_fix_the_clock() -> None:
    error = _kdc_error(37, KdcEndpoint("dc1.example.com", "10.0.0.1"), "a TGT")
    assert isinstance(error, KerberosError)
    assert "clocks" in error.what and "NTP" in (error.fix or "")
    assert error.where == "dc1.example.com:88"
