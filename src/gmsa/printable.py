"""Text that can be printed whatever the output's encoding: what cannot be written is
shown as an escape, never raised.

Two kinds of text reach a printer that no encoding can write as it is:

- A file name (or any argument) with bytes that are not UTF-8. Python hands such
  bytes over as lone surrogates U+DC80..U+DCFF (``surrogateescape``); they are
  shown as ``\\xNN``, the byte that was there.
- Any other lone surrogate (U+D800..U+DFFF): not a character at all. Shown as
  ``\\uXXXX``.

And an output stream may not hold every character (``LANG=C``, a
``PYTHONIOENCODING`` of ``ascii`` or ``latin-1``): a character it cannot hold is
shown as its JSON escape (``\\u00e9``; astral characters as a surrogate pair), so a
JSON document printed on such a stream stays valid JSON.

:data:`ESCAPE` is the codec error handler that does both; :func:`make_printable`
installs it on a text stream. :func:`printable` and :func:`printable_json` do the
first part ahead of time, for text that must stay exact JSON (the ``--json``
envelope): a surrogate becomes the six (or four) characters of its escape.
JSON inputs holding a lone surrogate are refused by :mod:`gmsa.jsondoc`, so these
escapes show only what came from the command line or the file system.
"""

from __future__ import annotations

import codecs
import io
import re
from typing import Any

ESCAPE = "gmsa-escape"
"""Name of the codec error handler that escapes what an encoding cannot write."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTES = range(0xDC80, 0xDD00)
"""The surrogates ``surrogateescape`` stands a byte that is not UTF-8 for."""


def _escape(char: str) -> str:
    code = ord(char)
    if code in _ESCAPED_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    if code > 0xFFFF:
        high, low = divmod(code - 0x10000, 0x400)
        return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
    return f"\\u{code:04x}"


def _handle(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return "".join(_escape(c) for c in error.object[error.start : error.end]), error.end


codecs.register_error(ESCAPE, _handle)


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a surrogate, which no UTF encoding writes as it is (in a
    Python string a surrogate is always lone: a decoded pair is one character)."""
    return _SURROGATE.search(text) is not None


def printable(text: str) -> str:
    """``text`` with every surrogate replaced by its escape: ``\\xNN`` for a byte that
    was not UTF-8, ``\\uXXXX`` for any other. Text without one is returned as it is."""
    if not has_surrogates(text):
        return text
    return _SURROGATE.sub(lambda match: _escape(match.group()), text)


def printable_json(value: Any) -> Any:
    """A JSON value with :func:`printable` applied to every string and key (the value
    itself when nothing needed it)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {
            printable(k) if isinstance(k, str) else k: printable_json(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [printable_json(v) for v in value]
    return value


def _codec_name(encoding: object) -> str:
    if not isinstance(encoding, str):
        return ""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return ""


def writes_unicode(stream: Any) -> bool:
    """Whether ``stream`` writes every character (its encoding is UTF-8, -16 or -32)."""
    return _codec_name(getattr(stream, "encoding", None)).startswith(("utf-8", "utf-16", "utf-32"))


def make_printable(stream: Any) -> None:
    """Let ``stream`` (a text stream such as ``sys.stdout``) write any string: what its
    encoding cannot hold is written as an escape (:data:`ESCAPE`). A stream that says
    ASCII (the C locale, where ASCII means "not configured" more often than "chosen")
    writes UTF-8 instead, as click's own output does there. Other streams are left
    alone."""
    if not isinstance(stream, io.TextIOWrapper):
        return
    ascii_only = _codec_name(stream.encoding) == "ascii"
    if stream.errors == ESCAPE and not ascii_only:
        return
    try:
        if ascii_only:
            stream.reconfigure(encoding="utf-8", errors=ESCAPE)
        else:
            stream.reconfigure(errors=ESCAPE)
    except (ValueError, OSError):
        pass  # a closed or detached stream: nothing will be written to it


__all__ = [
    "ESCAPE",
    "has_surrogates",
    "make_printable",
    "printable",
    "printable_json",
    "writes_unicode",
]
