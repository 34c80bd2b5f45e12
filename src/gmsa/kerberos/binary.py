"""Big-endian reads and writes shared by the ccache and keytab formats."""

from __future__ import annotations

import struct

from gmsa.kerberos.errors import CredentialsInputError


class Reader:
    """Big-endian reads that end in a typed error naming the file, never an IndexError."""

    def __init__(self, data: bytes, source: str, what: str) -> None:
        self.data = data
        self.at = 0
        self.source = source
        self.what = what

    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self.data) - self.at

    def take(self, size: int) -> bytes:
        """The next ``size`` bytes."""
        if size < 0 or self.at + size > len(self.data):
            raise CredentialsInputError(f"the {self.what} is truncated", where=self.source)
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def u8(self) -> int:
        """An unsigned byte."""
        return self.take(1)[0]

    def u16(self) -> int:
        """An unsigned 16-bit number."""
        return int(struct.unpack(">H", self.take(2))[0])

    def u32(self) -> int:
        """An unsigned 32-bit number."""
        return int(struct.unpack(">I", self.take(4))[0])

    def counted16(self) -> bytes:
        """Bytes after a 16-bit length."""
        return self.take(self.u16())

    def counted32(self) -> bytes:
        """Bytes after a 32-bit length."""
        return self.take(self.u32())


def counted16(data: bytes) -> bytes:
    """``data`` after its 16-bit length."""
    return struct.pack(">H", len(data)) + data


def counted32(data: bytes) -> bytes:
    """``data`` after its 32-bit length."""
    return struct.pack(">I", len(data)) + data


__all__ = [
    "Reader",
    "counted16",
    "counted32",
]
