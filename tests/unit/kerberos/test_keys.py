"""Keys from a gMSA password: MD4/NT hash, RFC 3961 n-fold, RFC 3962 AES, checked against MIT."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmsa.kerberos.keys import (
    AES128,
    AES256,
    RC4_HMAC,
    aes_string_to_key,
    derive_keys,
    gmsa_salt,
    kerberos_password,
    nfold,
    nt_hash,
)
from gmsa.kerberos.keytab import KeytabEntry, encode_keytab
from gmsa.kerberos.md4 import md4
from gmsa.kerberos.principal import Principal
from tests.support.mit import keytab_keys, ktutil_keytab, needs_mit


@pytest.mark.parametrize(
    ("message", "digest"),
    [
        (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
        (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
        (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
        (b"message digest", "d9130a8164549fe818874806e1c7014b"),
        (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
        (
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "043f8582f241db351ce627e153e7f0e4",
        ),
        (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
    ],
)
def test_md4_matches_rfc_1320(message: bytes, digest: str) -> None:
    assert md4(message).hex() == digest


@given(st.binary(max_size=300))
@settings(max_examples=200)
def test_md4_matches_an_independent_implementation(data: bytes) -> None:
    md4_module = pytest.importorskip("Cryptodome.Hash.MD4")
    assert md4(data) == md4_module.new(data).digest()


def test_nt_hash_of_password() -> None:
    assert nt_hash("password".encode("utf-16-le")).hex() == "8846f7eaee8fb117ad06bdd830b7586c"


@pytest.mark.parametrize(
    ("text", "bits", "folded"),
    [
        (b"012345", 64, "be072631276b1955"),
        (b"password", 56, "78a07b6caf85fa"),
        (b"Rough Consensus, and Running Code", 64, "bb6ed30870b7f0e0"),
        (b"password", 168, "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e"),
        (
            b"MASSACHVSETTS INSTITVTE OF TECHNOLOGY",
            192,
            "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b",
        ),
        (b"Q", 168, "518a54a215a8452a518a54a215a8452a518a54a215"),
        (b"ba", 168, "fb25d531ae8974499f52fd92ea9857c4ba24cf297e"),
        (b"kerberos", 64, "6b65726265726f73"),
        (b"kerberos", 128, "6b65726265726f737b9b5b2b93132b93"),
        (b"kerberos", 168, "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4"),
        (
            b"kerberos",
            256,
            "6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4",
        ),
    ],
)
def test_nfold_matches_rfc_3961(text: bytes, bits: int, folded: str) -> None:
    assert nfold(text, bits // 8).hex() == folded


RFC3962 = [
    (1, b"password", b"ATHENA.MIT.EDUraeburn",
     "42263c6e89f4fc28b8df68ee09799f15",
     "fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161"),
    (2, b"password", b"ATHENA.MIT.EDUraeburn",
     "c651bf29e2300ac27fa469d693bdda13",
     "a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff"),
    (1200, b"password", b"ATHENA.MIT.EDUraeburn",
     "4c01cd46d632d01e6dbe230a01ed642a",
     "55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a"),
    (5, b"password", bytes.fromhex("1234567878563412"),
     "e9b23d52273747dd5c35cb55be619d8e",
     "97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31"),
    (1200, b"X" * 64, b"pass phrase equals block size",
     "59d1bb789a828b1aa54ef9c2883f69ed",
     "89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34"),
    (1200, b"X" * 65, b"pass phrase exceeds block size",
     "cb8005dc5f90179a7f02104c0018751d",
     "d78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b"),
    (50, "\U0001d11e".encode(), b"EXAMPLE.COMpianist",
     "f149c1f2e154a73452d43e7fe62a56e5",
     "4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e"),
]  # fmt: skip


@pytest.mark.parametrize(("iterations", "password", "salt", "aes128", "aes256"), RFC3962)
def test_aes_string_to_key_matches_rfc_3962(
    iterations: int, password: bytes, salt: bytes, aes128: str, aes256: str
) -> None:
    key128 = aes_string_to_key(password, salt, AES128, iterations=iterations)
    key256 = aes_string_to_key(password, salt, AES256, iterations=iterations)
    assert (key128.value.hex(), key256.value.hex()) == (aes128, aes256)


@pytest.mark.parametrize("name", ["WebApp01", "webapp01$", "WEBAPP01$"])
def test_salt_is_realm_host_lowercase_name_dot_domain(name: str) -> None:
    assert gmsa_salt(name, "example.com") == b"EXAMPLE.COMhostwebapp01.example.com"


def test_unpaired_surrogates_become_replacement_characters() -> None:
    password = "ab".encode("utf-16-le") + b"\x00\xd8" + "c".encode("utf-16-le") + b"\x00\xdc"
    assert kerberos_password(password) == "ab\ufffdc\ufffd".encode()


def test_derive_keys_uses_the_gmsa_salt_and_4096_iterations() -> None:
    password = "Correct-Horse-Battery".encode("utf-16-le")
    keys = derive_keys(password, account="WebApp01", realm="example.com")
    salt = b"EXAMPLE.COMhostwebapp01.example.com"
    assert keys.principal == Principal(("WebApp01$",), "EXAMPLE.COM")
    assert keys.aes256 == aes_string_to_key(b"Correct-Horse-Battery", salt, AES256)
    assert keys.aes128 == aes_string_to_key(b"Correct-Horse-Battery", salt, AES128)
    assert keys.rc4.enctype == RC4_HMAC
    assert keys.rc4.value == md4(password)
    assert [k.enctype for k in keys.all()] == [18, 17, 23]


def test_each_key_is_derived_when_first_asked_for_and_kept() -> None:
    keys = derive_keys("Correct-Horse".encode("utf-16-le"), account="WebApp01", realm="x.com")
    assert keys.derived == ()
    first = keys.aes256
    assert keys.derived == (AES256,)
    assert keys.key(AES256) is first
    keys.rc4  # noqa: B018 (asking derives it)
    assert keys.derived == (AES256, RC4_HMAC)
    assert "derived=[18, 23]" in repr(keys)


def test_keys_are_not_printed() -> None:
    keys = derive_keys("pw".encode("utf-16-le"), account="WebApp01", realm="example.com")
    assert keys.aes256.value.hex() not in repr(keys)
    assert str(keys.aes256.value) not in repr(keys)


def test_derived_keys_match_an_independent_kerberos_library() -> None:
    encryption = pytest.importorskip("minikerberos.protocol.encryption")
    password = "ab".encode("utf-16-le") + b"\x00\xd8" + "Zürich€".encode("utf-16-le")
    keys = derive_keys(password, account="WebApp01", realm="EXAMPLE.COM")
    utf8 = kerberos_password(password)
    theirs = encryption.string_to_key(18, utf8, keys.salt, None)
    assert bytes(theirs.contents) == keys.aes256.value
    theirs128 = encryption.string_to_key(17, utf8, keys.salt, None)
    assert bytes(theirs128.contents) == keys.aes128.value


@needs_mit
def test_keytab_of_derived_keys_matches_mit_derivation(tmp_path: Path) -> None:
    password = "Gmsa-Pässwörd-€-中文-ok".encode("utf-16-le")
    keys = derive_keys(password, account="WebApp01", realm="example.com")
    ours = tmp_path / "ours.keytab"
    ours.write_bytes(
        encode_keytab([KeytabEntry(keys.principal, key, kvno=1) for key in keys.all()])
    )
    theirs = tmp_path / "mit.keytab"
    ktutil_keytab(
        theirs,
        "WebApp01$@EXAMPLE.COM",
        kerberos_password(password).decode(),
        keys.salt.decode(),
        ("aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96", "arcfour-hmac"),
    )
    mine, mit = keytab_keys(ours), keytab_keys(theirs)
    assert len(mine) == 3
    assert mine == mit


@needs_mit
def test_aes_keys_match_mit_for_a_password_with_unpaired_surrogates(tmp_path: Path) -> None:
    password = "gMSA".encode("utf-16-le") + b"\x3d\xd8" + "-x-".encode("utf-16-le") + b"\x00\xdc"
    keys = derive_keys(password, account="WebApp02$", realm="EXAMPLE.COM")
    ours = tmp_path / "ours.keytab"
    ours.write_bytes(
        encode_keytab(
            [KeytabEntry(keys.principal, keys.aes256), KeytabEntry(keys.principal, keys.aes128)]
        )
    )
    theirs = tmp_path / "mit.keytab"
    ktutil_keytab(
        theirs,
        "WebApp02$@EXAMPLE.COM",
        kerberos_password(password).decode(),
        "EXAMPLE.COMhostwebapp02.example.com",
        ("aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96"),
    )
    assert keytab_keys(ours) == keytab_keys(theirs)


@needs_mit
def test_mit_reads_every_keytab_field(tmp_path: Path) -> None:
    key = derive_keys(b"p\x00w\x00", account="WebApp03", realm="example.com").aes256
    path = tmp_path / "k.keytab"
    path.write_bytes(
        encode_keytab([KeytabEntry(Principal.for_account("WebApp03", "example.com"), key, kvno=7)])
    )
    assert keytab_keys(path) == {
        (7, "WebApp03$@EXAMPLE.COM", "aes256-cts-hmac-sha1-96", key.value.hex())
    }
