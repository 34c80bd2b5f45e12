"""The RFC 3962 AES profiles: CTS against the RFC's vectors, the whole profile against an
independent Kerberos library (minikerberos) in both directions, and refusals."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmsa.kerberos.crypto import checksum, cts_decrypt, cts_encrypt, decrypt, encrypt
from gmsa.kerberos.errors import KerberosError
from gmsa.kerberos.keys import AES128, AES256, Key

TERIYAKI = b"chicken teriyaki"
SOUP = b"I would like the General Gau's Chicken, please, and wonton soup."

# RFC 3962 appendix B: AES-128 CTS with a zero IV over the first N bytes of SOUP.
CTS_VECTORS = {
    17: "c6353568f2bf8cb4d8a580362da7ff7f97",
    31: "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5",
    32: "39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584",
    47: "97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e"
    "39312523a78662d5be7fcbcc98ebf5",
    48: "97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd8"
    "39312523a78662d5be7fcbcc98ebf5a8",
    64: "97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a8"
    "4807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8",
}


@pytest.mark.parametrize(("length", "expected"), CTS_VECTORS.items())
def test_cts_matches_rfc_3962_vectors(length: int, expected: str) -> None:
    assert cts_encrypt(TERIYAKI, SOUP[:length]).hex() == expected
    assert cts_decrypt(TERIYAKI, bytes.fromhex(expected)) == SOUP[:length]


enctypes = st.sampled_from([AES128, AES256])


def key_of(enctype: int, seed: bytes) -> Key:
    return Key(enctype, (seed * 32)[: 16 if enctype == AES128 else 32])


@settings(max_examples=150)
@given(enctypes, st.binary(min_size=1, max_size=4), st.integers(1, 30), st.binary(max_size=200))
def test_the_profile_matches_minikerberos_both_ways(
    enctype: int, seed: bytes, usage: int, data: bytes
) -> None:
    from minikerberos.protocol import encryption

    key = key_of(enctype, seed)
    theirs = encryption.Key(enctype, key.value)
    assert bytes(encryption.decrypt(theirs, usage, encrypt(key, usage, data))) == data
    assert decrypt(key, usage, bytes(encryption.encrypt(theirs, usage, data)), what="x") == data
    ctype = 15 if enctype == AES128 else 16
    assert checksum(key, usage, data) == bytes(encryption.make_checksum(ctype, theirs, usage, data))


def test_a_fixed_confounder_gives_a_fixed_ciphertext_and_a_fresh_one_does_not() -> None:
    key = Key(AES256, bytes(range(32)))
    confounder = bytes(16)
    assert encrypt(key, 3, b"x", confounder=confounder) == encrypt(
        key, 3, b"x", confounder=confounder
    )
    assert encrypt(key, 3, b"x") != encrypt(key, 3, b"x")


def test_derived_keys_are_kept_with_the_key_and_never_printed() -> None:
    key = Key(AES256, os.urandom(32))
    encrypt(key, 3, b"data")
    assert set(key.usage_keys) == {(3, 0xAA), (3, 0x55)}
    assert key == Key(AES256, key.value)  # the kept keys are not part of equality
    assert all(k.hex() not in repr(key) for k in key.usage_keys.values())


def test_an_altered_message_or_another_key_is_refused() -> None:
    key = Key(AES128, bytes(16))
    sealed = bytearray(encrypt(key, 3, b"the ticket's session key"))
    sealed[20] ^= 1
    with pytest.raises(KerberosError, match="cannot decrypt the reply"):
        decrypt(key, 3, bytes(sealed), what="reply")
    with pytest.raises(KerberosError, match="cannot decrypt"):
        decrypt(Key(AES128, bytes([1]) * 16), 3, encrypt(key, 3, b"x"), what="reply")
    with pytest.raises(KerberosError, match="cannot decrypt"):
        decrypt(key, 4, encrypt(key, 3, b"x"), what="reply")  # another key usage


def test_short_ciphertext_and_non_aes_keys_are_refused() -> None:
    with pytest.raises(KerberosError, match="too short"):
        decrypt(Key(AES256, bytes(32)), 3, bytes(27), what="reply")
    with pytest.raises(KerberosError, match="AES only"):
        encrypt(Key(23, bytes(16)), 3, b"x")
    with pytest.raises(KerberosError, match="AES only"):
        checksum(Key(23, bytes(16)), 3, b"x")
    with pytest.raises(KerberosError, match="unusable key"):
        encrypt(Key(AES256, bytes(16)), 3, b"x")  # a key of the wrong size


@given(st.binary(max_size=80))
def test_decrypting_garbage_raises_only_kerberos_errors(data: bytes) -> None:
    with pytest.raises(KerberosError):
        decrypt(Key(AES256, bytes(32)), 3, data, what="reply")
