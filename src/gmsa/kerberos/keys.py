"""Kerberos keys and their derivation (RFC 3961/3962, MS-KILE).

AES string-to-key is PBKDF2-HMAC-SHA1 over the password and salt (4096 iterations
unless the KDC says otherwise), then the RFC 3961 ``DK(key, "kerberos")`` step.
AD derives a gMSA's keys like any computer account's: the UTF-16LE managed
password is converted to UTF-8 (unpaired surrogates, common in the random gMSA
password, become U+FFFD) and salted with
``<REALM>host<name lowercased, no $>.<realm lowercased>``. The RC4 key is the NT
hash, MD4 of the UTF-16LE bytes (:mod:`gmsa.kerberos.md4`). See
``docs/background.md#keys-of-a-gmsa``.
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
import threading
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gmsa.kerberos.errors import KerberosError
from gmsa.kerberos.md4 import md4
from gmsa.kerberos.principal import Principal

AES256 = 18
"""aes256-cts-hmac-sha1-96, the enctype AD prefers."""
AES128 = 17
"""aes128-cts-hmac-sha1-96."""
RC4_HMAC = 23
"""rc4-hmac: the NT hash as a key. Derived for keytabs, never offered to a KDC."""
SUPPORTED_ENCTYPES: tuple[int, ...] = (AES256, AES128)
"""Encryption types gmsa asks for, strongest first."""
DEFAULT_ITERATIONS = 4096
"""PBKDF2 iterations for AES string-to-key unless the KDC says otherwise (RFC 3962)."""

_KEY_SIZES = {AES256: 32, AES128: 16}
_MAX_ITERATIONS = 1 << 24


@dataclass(frozen=True)
class Key:
    """A Kerberos key (long-term or session): its encryption type and bytes."""

    enctype: int
    """18 (AES256), 17 (AES128) or 23 (RC4-HMAC)."""
    value: bytes = field(repr=False)
    """The key bytes. Secret: never printed."""
    usage_keys: dict[tuple[int, int], bytes] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )
    """RFC 3961 keys derived from this one per (key usage, purpose), kept by
    :mod:`gmsa.kerberos.crypto` so each is derived once. Secret: never printed."""

    @classmethod
    def from_password(cls, enctype: int, password: str, salt: bytes, params: bytes | None) -> Key:
        """AES string-to-key of a password, with the s2k parameters a KDC sent (if any)."""
        iterations = (
            struct.unpack(">I", params)[0] if params and len(params) == 4 else DEFAULT_ITERATIONS
        )
        if not 0 < iterations <= _MAX_ITERATIONS:
            raise KerberosError(f"the KDC asks for {iterations} PBKDF2 iterations")
        return aes_string_to_key(password.encode("utf-8"), salt, enctype, iterations=iterations)


def aes_string_to_key(
    password: bytes, salt: bytes, enctype: int, *, iterations: int = DEFAULT_ITERATIONS
) -> Key:
    """RFC 3962 string-to-key: PBKDF2-HMAC-SHA1, then DK(tkey, "kerberos")."""
    size = _KEY_SIZES.get(enctype)
    if size is None:
        raise KerberosError(f"enctype {enctype} is not supported (AES only)")
    seed = hashlib.pbkdf2_hmac("sha1", password, salt, iterations, size)
    return Key(enctype, derive_key(seed, b"kerberos"))


def derive_key(base_key: bytes, constant: bytes) -> bytes:
    """RFC 3961 DK for AES: the blocks E(n-fold(constant)), E(that), ... cut to the key size.

    Each block is one AES encryption with a zero initial state; AES-CBC with a zero
    IV over ``n-fold(constant)`` followed by zero blocks yields exactly that chain.
    """
    blocks = math.ceil(len(base_key) / 16)
    plain = _folded(constant) + b"\0" * (16 * (blocks - 1))
    encryptor = Cipher(algorithms.AES(base_key), modes.CBC(b"\0" * 16)).encryptor()
    return (encryptor.update(plain) + encryptor.finalize())[: len(base_key)]


@functools.lru_cache(maxsize=1024)
def _folded(constant: bytes) -> bytes:
    """``nfold(constant, 16)``, kept: the constants are key usages, a handful in use."""
    return nfold(constant, 16)


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


class GmsaKeys:
    """Every long-term key of one gMSA for one password, each derived when first asked for.

    An AS exchange needs one key (AES256, unless the account lacks it), and each AES key
    costs a PBKDF2 of 4096 iterations: deriving the others only when something asks
    for them (a keytab, a KDC that refuses AES256) halves the work of a lease. Safe to
    share between threads (two threads may both derive a key the first time; they get
    the same bytes). Holds the password's forms it needs, never shown in ``repr``.
    """

    __slots__ = ("_derived", "_lock", "_utf8", "_utf16le", "principal", "salt")

    principal: Principal
    """``NAME$@REALM``."""
    salt: bytes
    """The AES salt used."""

    def __init__(self, principal: Principal, salt: bytes, password_utf16le: bytes) -> None:
        self.principal = principal
        self.salt = salt
        self._utf16le = password_utf16le
        self._utf8 = kerberos_password(password_utf16le)
        self._derived: dict[int, Key] = {}
        self._lock = threading.Lock()

    def key(self, enctype: int) -> Key:
        """The key of ``enctype`` (18, 17 or 23), derived on first use."""
        with self._lock:
            known = self._derived.get(enctype)
        if known is not None:
            return known
        if enctype == RC4_HMAC:
            key = Key(RC4_HMAC, nt_hash(self._utf16le))
        else:
            key = aes_string_to_key(self._utf8, self.salt, enctype)
        with self._lock:
            return self._derived.setdefault(enctype, key)

    @property
    def aes256(self) -> Key:
        """Enctype 18, the one AD prefers."""
        return self.key(AES256)

    @property
    def aes128(self) -> Key:
        """Enctype 17."""
        return self.key(AES128)

    @property
    def rc4(self) -> Key:
        """Enctype 23: the NT hash."""
        return self.key(RC4_HMAC)

    @property
    def derived(self) -> tuple[int, ...]:
        """The enctypes derived so far (for measurements and tests)."""
        with self._lock:
            return tuple(sorted(self._derived))

    def all(self) -> tuple[Key, ...]:
        """The keys, strongest first (the order a KDC request offers them)."""
        return (self.aes256, self.aes128, self.rc4)

    def aes(self) -> tuple[Key, ...]:
        """The AES keys, strongest first: what an AS exchange pre-authenticates with."""
        return (self.aes256, self.aes128)

    def __repr__(self) -> str:
        return f"GmsaKeys(principal={self.principal!s}, derived={list(self.derived)})"


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


def derive_keys(password_utf16le: bytes, *, account: str, realm: str) -> GmsaKeys:
    """The keys of gMSA ``account`` (sAMAccountName) in ``realm``: AES256, AES128 and RC4,
    each derived when first used (:class:`GmsaKeys`)."""
    return GmsaKeys(
        Principal.for_account(account, realm), gmsa_salt(account, realm), password_utf16le
    )


__all__ = [
    "AES128",
    "AES256",
    "DEFAULT_ITERATIONS",
    "RC4_HMAC",
    "SUPPORTED_ENCTYPES",
    "GmsaKeys",
    "Key",
    "aes_string_to_key",
    "derive_key",
    "derive_keys",
    "gmsa_salt",
    "kerberos_password",
    "nfold",
    "nt_hash",
]
