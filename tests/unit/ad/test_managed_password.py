"""The MSDS-MANAGEDPASSWORD_BLOB decoder honours every offset and fails only with its error."""

from __future__ import annotations

import contextlib
import datetime
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmsa.ad.errors import ManagedPasswordBlobError
from gmsa.ad.managed_password import (
    ManagedPassword,
    decode_managed_password,
    encode_managed_password,
)

CURRENT = "Current-Pässwörd".encode("utf-16-le")
PREVIOUS = "Previous-Passw0rd".encode("utf-16-le")
SECRET = "TOPSECRETVALUE"


def blob(
    *,
    body: bytes,
    current: int,
    previous: int = 0,
    query: int,
    unchanged: int,
    version: int = 1,
    length: int | None = None,
) -> bytes:
    """A hand-made blob: header with the given offsets, then ``body`` from byte 16."""
    total = 16 + len(body)
    header = struct.pack(
        "<HHIHHHH",
        version,
        0,
        total if length is None else length,
        current,
        previous,
        query,
        unchanged,
    )
    return header + body


def interval(days: int) -> bytes:
    return struct.pack("<Q", days * 86400 * 10_000_000)


def test_decodes_the_layout_windows_produces() -> None:
    decoded = decode_managed_password(encode_managed_password(CURRENT))
    assert decoded.current == CURRENT
    assert decoded.previous is None


def test_reads_the_previous_password_at_its_offset() -> None:
    decoded = decode_managed_password(encode_managed_password(CURRENT, PREVIOUS))
    assert (decoded.current, decoded.previous) == (CURRENT, PREVIOUS)


def test_honours_offsets_when_intervals_come_before_the_passwords() -> None:
    body = interval(30) + interval(29) + b"\xaa" * 6 + PREVIOUS + b"\0\0" + CURRENT + b"\0\0"
    previous_at = 16 + 16 + 6
    current_at = previous_at + len(PREVIOUS) + 2
    decoded = decode_managed_password(
        blob(body=body, current=current_at, previous=previous_at, query=16, unchanged=24)
    )
    assert decoded.current == CURRENT
    assert decoded.previous == PREVIOUS
    assert decoded.query_password_interval == datetime.timedelta(days=30)
    assert decoded.unchanged_password_interval == datetime.timedelta(days=29)


def test_honours_a_current_password_offset_that_is_not_16() -> None:
    body = b"\x55" * 10 + CURRENT + b"\0\0" + interval(1) + interval(2)
    current_at = 26
    query_at = current_at + len(CURRENT) + 2
    decoded = decode_managed_password(
        blob(body=body, current=current_at, query=query_at, unchanged=query_at + 8)
    )
    assert decoded.current == CURRENT


def test_reads_a_password_that_starts_at_an_odd_offset() -> None:
    body = b"\x01" + CURRENT + b"\0\0" + b"\0" * 7 + interval(1) + interval(2)
    query_at = 16 + 1 + len(CURRENT) + 2 + 7
    decoded = decode_managed_password(
        blob(body=body, current=17, query=query_at, unchanged=query_at + 8)
    )
    assert decoded.current == CURRENT


def test_refuses_a_password_with_an_odd_number_of_bytes_before_the_next_field() -> None:
    body = CURRENT + b"\x41" + interval(1) + interval(2)
    query_at = 16 + len(CURRENT) + 1
    with pytest.raises(ManagedPasswordBlobError, match="no NUL terminator"):
        decode_managed_password(blob(body=body, current=16, query=query_at, unchanged=query_at + 8))


def test_a_password_does_not_run_into_the_interval_that_follows_it() -> None:
    body = CURRENT + interval(1) + interval(2)
    query_at = 16 + len(CURRENT)
    with pytest.raises(ManagedPasswordBlobError, match="before offset"):
        decode_managed_password(blob(body=body, current=16, query=query_at, unchanged=query_at + 8))


def test_ignores_bytes_after_length() -> None:
    data = encode_managed_password(CURRENT) + b"\xff" * 9
    assert decode_managed_password(data).current == CURRENT


def test_an_empty_previous_password_counts_as_none() -> None:
    body = CURRENT + b"\0\0" + b"\0\0" + b"\0" * 2 + interval(1) + interval(2)
    previous_at = 16 + len(CURRENT) + 2
    query_at = previous_at + 4
    decoded = decode_managed_password(
        blob(body=body, current=16, previous=previous_at, query=query_at, unchanged=query_at + 8)
    )
    assert decoded.previous is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x00" * 5, "shorter than its 16-byte header"),
        (blob(body=b"\0" * 20, current=16, query=18, unchanged=26, version=2), "version 2"),
        (blob(body=b"\0" * 20, current=16, query=18, unchanged=26, length=400), "Length"),
        (blob(body=b"\0" * 20, current=16, query=18, unchanged=26, length=8), "Length"),
        (blob(body=b"\0" * 20, current=4, query=18, unchanged=26), "CurrentPasswordOffset"),
        (blob(body=b"\0" * 20, current=16, previous=35, query=18, unchanged=26), "Previous"),
        (blob(body=b"\0" * 20, current=16, query=30, unchanged=26), "QueryPasswordInterval"),
        (blob(body=b"\0" * 20, current=16, query=18, unchanged=0), "UnchangedPasswordInterval"),
        (blob(body=b"\0" * 20, current=16, query=18, unchanged=26), "empty"),
    ],
)
def test_refuses_malformed_blobs(data: bytes, message: str) -> None:
    with pytest.raises(ManagedPasswordBlobError, match=message):
        decode_managed_password(data)


def test_errors_never_contain_the_password() -> None:
    secret = SECRET.encode("utf-16-le")
    body = secret + interval(1) + interval(2)
    query_at = 16 + len(secret)
    with pytest.raises(ManagedPasswordBlobError) as caught:
        decode_managed_password(blob(body=body, current=16, query=query_at, unchanged=query_at + 8))
    error = caught.value
    for text in (str(error), repr(error), error.diagnostics(), str(error.to_dict())):
        assert SECRET not in text
        assert SECRET not in text.replace("\\x00", "")


def test_the_decoded_password_is_not_printed() -> None:
    decoded = decode_managed_password(encode_managed_password(SECRET.encode("utf-16-le")))
    assert SECRET not in repr(decoded)
    assert "TOPSECRET" not in repr(decoded).replace("\\x00", "")


def test_the_error_is_an_outside_failure() -> None:
    with pytest.raises(ManagedPasswordBlobError) as caught:
        decode_managed_password(b"")
    assert int(caught.value.exit_code) == 3


utf16_units = st.binary(min_size=2, max_size=300).filter(lambda b: len(b) % 2 == 0)


def _no_nul_unit(data: bytes) -> bytes:
    units = bytearray(data)
    for i in range(0, len(units), 2):
        if units[i] == 0 and units[i + 1] == 0:
            units[i] = 0x41
    return bytes(units)


@given(utf16_units.map(_no_nul_unit), st.none() | utf16_units.map(_no_nul_unit))
def test_round_trips_any_passwords(current: bytes, previous: bytes | None) -> None:
    decoded = decode_managed_password(encode_managed_password(current, previous))
    assert decoded == ManagedPassword(
        current, previous, decoded.query_password_interval, decoded.unchanged_password_interval
    )


@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_the_typed_error(data: bytes) -> None:
    with contextlib.suppress(ManagedPasswordBlobError):
        decode_managed_password(data)


@given(
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 600),
    st.binary(max_size=400),
)
def test_arbitrary_offsets_raise_only_the_typed_error(
    current: int, previous: int, query: int, unchanged: int, length: int, body: bytes
) -> None:
    data = struct.pack("<HHIHHHH", 1, 0, length, current, previous, query, unchanged) + body
    try:
        decoded = decode_managed_password(data)
    except ManagedPasswordBlobError:
        return
    assert decoded.current
    assert current + len(decoded.current) + 2 <= length
