"""RFC 3961 encryption, decryption and keyed checksums with a :class:`~gmsa.kerberos.keys.Key`.

The two AES profiles of RFC 3962 (aes128-cts-hmac-sha1-96, aes256-cts-hmac-sha1-96),
the only ones gmsa uses: the message, after a random confounder block, is encrypted
with AES in CBC mode with ciphertext stealing (CTS) under ``Ke``, and the first 12
bytes of HMAC-SHA1 under ``Ki`` over the plaintext follow it; a keyed checksum is
HMAC-SHA1 under ``Kc`` cut to 12 bytes. ``Ke``, ``Ki`` and ``Kc`` are derived from the
key and the key usage (RFC 3961 ``DK``, :func:`gmsa.kerberos.keys.derive_key`) once
per key and usage and kept with the key. AES comes from ``cryptography`` (OpenSSL),
HMAC from the standard library. A failure to decrypt (wrong key, altered message)
becomes a :class:`~gmsa.kerberos.errors.KerberosError`. See decision 0007.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gmsa.kerberos.errors import KerberosError
from gmsa.kerberos.keys import AES128, AES256, Key, derive_key

CHECKSUM_FOR: dict[int, int] = {AES256: 16, AES128: 15}
"""The keyed checksum type (hmac-sha1-96-aes*) that goes with each enctype."""

_BLOCK = 16
_MAC = 12
_ZERO_IV = bytes(_BLOCK)
_KEY_SIZES = {AES256: 32, AES128: 16}
_ENCRYPTION = 0xAA
_INTEGRITY = 0x55
_CHECKSUM = 0x99


def _usage_key(key: Key, usage: int, purpose: int) -> bytes:
    """``DK(key, usage | purpose)``, derived once per key, usage and purpose."""
    size = _KEY_SIZES.get(key.enctype)
    if size is None or len(key.value) != size:
        raise KerberosError(f"unusable key of enctype {key.enctype} (gmsa uses AES only)")
    found = key.usage_keys.get((usage, purpose))
    if found is None:
        found = derive_key(key.value, struct.pack(">IB", usage, purpose))
        key.usage_keys[(usage, purpose)] = found
    return found


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha1).digest()[:_MAC]


def _cbc(key: bytes, data: bytes, *, decrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(_ZERO_IV))
    op = cipher.decryptor() if decrypt else cipher.encryptor()
    return op.update(data) + op.finalize()


def _ecb_decrypt(key: bytes, block: bytes) -> bytes:
    op = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305 (one block of CTS)
    return op.update(block) + op.finalize()


def cts_encrypt(key: bytes, plaintext: bytes) -> bytes:
    """AES-CBC with ciphertext stealing and a zero IV (RFC 3962 section 5); at least one
    block of input. Exposed for the RFC's test vectors."""
    if len(plaintext) < _BLOCK:
        raise KerberosError("AES-CTS needs at least one block of input")
    padded = plaintext + bytes(-len(plaintext) % _BLOCK)
    cipher = _cbc(key, padded, decrypt=False)
    if len(plaintext) == _BLOCK:
        return cipher
    # Swap the last two blocks and cut the (new) last one to the plaintext's length.
    last = len(plaintext) % _BLOCK or _BLOCK
    return cipher[:-32] + cipher[-16:] + cipher[-32:-16][:last]


def cts_decrypt(key: bytes, ciphertext: bytes) -> bytes:
    """The inverse of :func:`cts_encrypt`."""
    if len(ciphertext) < _BLOCK:
        raise KerberosError("AES-CTS ciphertext is shorter than one block")
    if len(ciphertext) == _BLOCK:
        return _ecb_decrypt(key, ciphertext)
    last = len(ciphertext) % _BLOCK or _BLOCK
    head = len(ciphertext) - last - _BLOCK  # the whole blocks before the last two
    previous = ciphertext[head - _BLOCK : head] if head else _ZERO_IV
    first = _cbc(key, ciphertext[:head], decrypt=True) if head else b""
    # The second-to-last cipher block decrypts to (final plaintext XOR final cipher
    # block) followed by the bytes stolen from the final block.
    stolen_block = ciphertext[head : head + _BLOCK]
    final = ciphertext[head + _BLOCK :]
    opened = _ecb_decrypt(key, stolen_block)
    tail = bytes(a ^ b for a, b in zip(opened[:last], final, strict=True))
    whole = _ecb_decrypt(key, final + opened[last:])
    before_last = bytes(a ^ b for a, b in zip(whole, previous, strict=True))
    return first + before_last + tail


def encrypt(key: Key, usage: int, plaintext: bytes, *, confounder: bytes | None = None) -> bytes:
    """RFC 3961 encryption with a fresh confounder (``confounder`` only for test vectors)."""
    ke = _usage_key(key, usage, _ENCRYPTION)
    ki = _usage_key(key, usage, _INTEGRITY)
    basic = (confounder if confounder is not None else os.urandom(_BLOCK)) + plaintext
    return cts_encrypt(ke, basic) + _mac(ki, basic)


def decrypt(key: Key, usage: int, ciphertext: bytes, *, what: str) -> bytes:
    """RFC 3961 decryption; a wrong key or tampered data becomes a KerberosError."""
    ke = _usage_key(key, usage, _ENCRYPTION)
    ki = _usage_key(key, usage, _INTEGRITY)
    if len(ciphertext) < _BLOCK + _MAC:
        raise KerberosError(f"the {what} is too short to be encrypted data")
    basic = cts_decrypt(ke, ciphertext[:-_MAC])
    if not hmac.compare_digest(_mac(ki, basic), ciphertext[-_MAC:]):
        raise KerberosError(
            f"cannot decrypt the {what} (wrong key, or the message was altered)",
            fix="check the password or keytab",
        )
    return basic[_BLOCK:]


def checksum(key: Key, usage: int, data: bytes) -> bytes:
    """The keyed checksum that goes with the key's enctype (hmac-sha1-96-aes)."""
    if key.enctype not in CHECKSUM_FOR:
        raise KerberosError(f"enctype {key.enctype} is not supported (AES only)")
    return _mac(_usage_key(key, usage, _CHECKSUM), data)


__all__ = [
    "CHECKSUM_FOR",
    "checksum",
    "cts_decrypt",
    "cts_encrypt",
    "decrypt",
    "encrypt",
]
