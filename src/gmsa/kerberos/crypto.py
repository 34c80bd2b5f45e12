"""RFC 3961 encryption, decryption and keyed checksums with a :class:`~gmsa.kerberos.keys.Key`.

minikerberos supplies the AES-CTS profiles; a failure to decrypt (wrong key,
altered message) becomes a :class:`~gmsa.kerberos.errors.KerberosError`.
"""

from __future__ import annotations

from typing import Any

from minikerberos.protocol import encryption

from gmsa.kerberos.errors import DECODE_ERRORS, KerberosError
from gmsa.kerberos.keys import AES128, AES256, Key

CHECKSUM_FOR: dict[int, int] = {AES256: 16, AES128: 15}
"""The keyed checksum type (hmac-sha1-96-aes*) that goes with each enctype."""


def _profile_key(key: Key) -> Any:
    """The minikerberos key object for the crypto functions."""
    try:
        return encryption.Key(key.enctype, key.value)
    except DECODE_ERRORS as exc:
        raise KerberosError(f"unusable key of enctype {key.enctype}: {exc}") from None


def encrypt(key: Key, usage: int, plaintext: bytes) -> bytes:
    """RFC 3961 encryption with a fresh confounder."""
    return bytes(encryption.encrypt(_profile_key(key), usage, plaintext))


def decrypt(key: Key, usage: int, ciphertext: bytes, *, what: str) -> bytes:
    """RFC 3961 decryption; a wrong key or tampered data becomes a KerberosError."""
    try:
        return bytes(encryption.decrypt(_profile_key(key), usage, ciphertext))
    except Exception as exc:  # minikerberos raises ValueError subclasses, and others
        raise KerberosError(
            f"cannot decrypt the {what} (wrong key, or the message was altered)",
            fix="check the password or keytab",
        ) from exc


def checksum(key: Key, usage: int, data: bytes) -> bytes:
    """The keyed checksum that goes with the key's enctype."""
    ctype = CHECKSUM_FOR.get(key.enctype)
    if ctype is None:
        raise KerberosError(f"enctype {key.enctype} is not supported (AES only)")
    return bytes(encryption.make_checksum(ctype, _profile_key(key), usage, data))


__all__ = [
    "CHECKSUM_FOR",
    "checksum",
    "decrypt",
    "encrypt",
]
