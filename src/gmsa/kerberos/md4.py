"""MD4 (RFC 1320), for the NT hash of a gMSA password.

OpenSSL 3 moved MD4 to its legacy provider, so ``hashlib.new("md4")`` fails on
current distributions and ``cryptography`` does not offer it. The NT hash is
MD4 of the UTF-16LE password and nothing else here needs MD4, so a small,
vector-tested implementation (its tests check RFC 1320 appendix A.5)
costs less than a dependency. Never use it for anything that needs a secure hash.
"""

from __future__ import annotations

import struct

_MASK = 0xFFFFFFFF
_ROUND2_ORDER = (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
_ROUND3_ORDER = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (32 - shift))) & _MASK


def md4(data: bytes) -> bytes:
    """The 16-byte MD4 digest of ``data``."""
    message = bytearray(data)
    bit_length = (len(data) * 8) & 0xFFFFFFFFFFFFFFFF
    message.append(0x80)
    message.extend(b"\0" * ((56 - len(message) % 64) % 64))
    message.extend(struct.pack("<Q", bit_length))
    state = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    for offset in range(0, len(message), 64):
        words = struct.unpack_from("<16I", message, offset)
        a, b, c, d = state
        for i in range(16):
            f = (b & c) | (~b & d)
            a = _rotl((a + f + words[i]) & _MASK, (3, 7, 11, 19)[i % 4])
            a, b, c, d = d, a, b, c
        for i, k in enumerate(_ROUND2_ORDER):
            g = (b & c) | (b & d) | (c & d)
            a = _rotl((a + g + words[k] + 0x5A827999) & _MASK, (3, 5, 9, 13)[i % 4])
            a, b, c, d = d, a, b, c
        for i, k in enumerate(_ROUND3_ORDER):
            h = b ^ c ^ d
            a = _rotl((a + h + words[k] + 0x6ED9EBA1) & _MASK, (3, 9, 11, 15)[i % 4])
            a, b, c, d = d, a, b, c
        state = [(s + v) & _MASK for s, v in zip(state, (a, b, c, d), strict=True)]
    return struct.pack("<4I", *state)


__all__ = [
    "md4",
]
