"""Kerberos keys of a gMSA from its managed password (MS-KILE, RFC 3961/3962).

AD derives a gMSA's AES keys like any computer account's: the UTF-16LE password is
converted to UTF-8 (unpaired surrogates, common in the random gMSA password,
become U+FFFD), then PBKDF2-HMAC-SHA1 with 4096 iterations over the salt
``<REALM>host<name lowercased, no $>.<realm lowercased>``, then the RFC 3961
``DK(key, "kerberos")`` step with AES. The RC4 key is the NT hash (MD4 of the
UTF-16LE bytes). The primitives come from ``cryptography``; MD4 from
:mod:`gmsa.tickets.md4`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from gmsa.tickets.md4 import md4
from gmsa.tickets.principal import PrincipalName

AES256_CTS_HMAC_SHA1_96 = 18
AES128_CTS_HMAC_SHA1_96 = 17
RC4_HMAC = 23
DEFAULT_ITERATIONS = 4096
"""PBKDF2 iterations for AES string-to-key unless the KDC says otherwise (RFC 3962)."""

_KEY_SIZES = {AES256_CTS_HMAC_SHA1_96: 32, AES128_CTS_HMAC_SHA1_96: 16}


@dataclass(frozen=True)
class KerberosKey:
    """A Kerberos key: its encryption type and bytes."""

    enctype: int
    """18 (aes256-cts-hmac-sha1-96), 17 (aes128-cts-hmac-sha1-96) or 23 (rc4-hmac)."""
    value: bytes = field(repr=False)
    """The key bytes. Secret: never printed."""


@dataclass(frozen=True)
class GmsaKeys:
    """Every long-term key of one gMSA for one password."""

    principal: PrincipalName
    """``NAME$@REALM``."""
    salt: bytes
    """The AES salt used."""
    aes256: KerberosKey
    """Enctype 18, the one AD prefers."""
    aes128: KerberosKey
    """Enctype 17."""
    rc4: KerberosKey
    """Enctype 23: the NT hash."""

    def all(self) -> tuple[KerberosKey, ...]:
        """The keys, strongest first (the order a KDC request offers them)."""
        return (self.aes256, self.aes128, self.rc4)


def kerberos_password(password_utf16le: bytes) -> bytes:
    """The UTF-8 form of a UTF-16LE password, unpaired surrogates replaced by U+FFFD."""
    return password_utf16le.decode("utf-16-le", errors="replace").encode("utf-8")


def nt_hash(password_utf16le: bytes) -> bytes:
    """MD4 of the UTF-16LE password bytes (no terminating NUL): the RC4-HMAC key."""
    return md4(password_utf16le)


def gmsa_salt(sam_account_name: str, realm: str) -> bytes:
    """AD's AES salt for a computer-type account: ``EXAMPLE.COMhostwebapp01.example.com``."""
    name = sam_account_name.lower()
    if name.endswith("$"):
        name = name[:-1]
    return f"{realm.upper()}host{name}.{realm.lower()}".encode()


def aes_string_to_key(
    password: bytes, salt: bytes, enctype: int, *, iterations: int = DEFAULT_ITERATIONS
) -> KerberosKey:
    """RFC 3962 string-to-key: PBKDF2-HMAC-SHA1, then DK(tkey, "kerberos")."""
    size = _KEY_SIZES.get(enctype)
    if size is None:
        raise ValueError(f"enctype {enctype} is not an AES enctype")
    pbkdf2 = PBKDF2HMAC(algorithm=hashes.SHA1(), length=size, salt=salt, iterations=iterations)  # noqa: S303
    return KerberosKey(enctype, derive_key(pbkdf2.derive(password), b"kerberos"))


def derive_key(base_key: bytes, constant: bytes) -> bytes:
    """RFC 3961 DK for AES: the blocks E(n-fold(constant)), E(that), ... cut to the key size.

    Each block is one AES encryption with a zero initial state; AES-CBC with a zero
    IV over ``n-fold(constant)`` followed by zero blocks yields exactly that chain.
    """
    blocks = math.ceil(len(base_key) / 16)
    plain = nfold(constant, 16) + b"\0" * (16 * (blocks - 1))
    encryptor = Cipher(algorithms.AES(base_key), modes.CBC(b"\0" * 16)).encryptor()
    return (encryptor.update(plain) + encryptor.finalize())[: len(base_key)]


def nfold(data: bytes, size: int) -> bytes:
    """RFC 3961 n-fold of ``data`` to ``size`` bytes."""
    if not data or size <= 0:
        raise ValueError("n-fold needs input and a positive size")
    bits = len(data) * 8
    value = int.from_bytes(data, "big")
    total_bytes = math.lcm(len(data), size)
    copies = []
    for i in range(total_bytes // len(data)):
        shift = (13 * i) % bits
        rotated = ((value >> shift) | (value << (bits - shift))) & ((1 << bits) - 1)
        copies.append(rotated.to_bytes(len(data), "big"))
    buffer = b"".join(copies)
    modulus_bits = size * 8
    total = 0
    for offset in range(0, total_bytes, size):
        total += int.from_bytes(buffer[offset : offset + size], "big")
    while total >> modulus_bits:
        total = (total & ((1 << modulus_bits) - 1)) + (total >> modulus_bits)
    return total.to_bytes(size, "big")


def derive_keys(password_utf16le: bytes, *, account: str, realm: str) -> GmsaKeys:
    """The AES256, AES128 and RC4 keys of gMSA ``account`` (sAMAccountName) in ``realm``."""
    salt = gmsa_salt(account, realm)
    utf8 = kerberos_password(password_utf16le)
    return GmsaKeys(
        principal=PrincipalName.for_account(account, realm),
        salt=salt,
        aes256=aes_string_to_key(utf8, salt, AES256_CTS_HMAC_SHA1_96),
        aes128=aes_string_to_key(utf8, salt, AES128_CTS_HMAC_SHA1_96),
        rc4=KerberosKey(RC4_HMAC, nt_hash(password_utf16le)),
    )
