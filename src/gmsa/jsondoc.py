"""Strict JSON documents: the way every JSON input (specs, policies, task definitions) is read.

Why not plain ``json.loads``: PowerShell writes UTF-8 with a BOM or UTF-16, users
paste files with duplicate keys (which JSON parsers resolve silently and
differently), and an error must say line and column. One reader does all of it.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from pathlib import Path
from typing import Any

from gmsa.errors import InvalidInputError
from gmsa.findings import json_path
from gmsa.inputfile import InputTooLargeError, read_input
from gmsa.printable import has_surrogates, printable

DEFAULT_MAX_BYTES = 1024 * 1024
"""Cap for JSON documents that have no tighter limit of their own (1 MiB)."""


class JsonDocumentError(InvalidInputError):
    """A JSON document could not be read: encoding, syntax, duplicate keys or size."""

    code = "invalid-json"

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        fix: str | None = None,
        json_path: str = "",
        document: str | None = None,
    ) -> None:
        super().__init__(what, where=where, fix=fix)
        self.json_path = json_path
        """Where in the document, when known (``A.B[0]``)."""
        self.document = document
        """With :attr:`json_path`: the document's name (a file, an ARN, ``<stdin>``);
        :attr:`where` joins the two for people, findings keep them apart."""


class DuplicateKeyError(JsonDocumentError):
    """An object holds one key twice; parsers disagree on which wins, so it is refused."""

    code = "duplicate-key"


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(data: bytes, *, source: str) -> str:
    """Decode bytes as UTF-8 (BOM optional), or UTF-16/32 when a BOM says so."""
    encoding = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            data = data[len(bom) :]
            encoding = name
            break
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise JsonDocumentError(
            f"the file is not valid {encoding.upper()} (byte {exc.start})",
            where=source,
            fix="save it as UTF-8 (with or without a BOM) or UTF-16 with a BOM",
        ) from None


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


class NumberOutOfRangeError(JsonDocumentError):
    """A number no JSON reader can hold: one that overflows a double (``1e400`` would
    become infinity, which JSON cannot write) or an integer of thousands of digits.
    (``NaN`` and ``Infinity`` literals are not JSON at all: plain
    :class:`JsonDocumentError`.)"""

    code = "number-out-of-range"


class InvalidUnicodeError(JsonDocumentError):
    """A string or key holds a lone surrogate (``"\\ud800"``): an escape that stands for
    no character. No UTF encoding can write it, JSON readers disagree on what it means
    (I-JSON, RFC 7493, forbids it), so it is refused naming its JSON path."""

    code = "invalid-unicode"


_MAX_INT_DIGITS = 4000
"""Longest integer read (Python refuses to convert more than 4300 digits by default)."""


class _BadNumber:
    """Stands in for a number that must be refused until its JSON path is known."""

    def __init__(self, literal: str, what: str, error: type[JsonDocumentError]) -> None:
        self.literal = literal
        self.what = what
        self.error = error


class _StrictDecoder:
    """Builds objects, refusing duplicate keys at once and numbers JSON cannot hold once
    their JSON path is known."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.bad_numbers = False

    def pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise DuplicateKeyError(
                    f"key {key!r} appears more than once in one object",
                    where=self.source,
                    fix=f"keep a single {key!r} entry; JSON readers disagree on which copy wins",
                )
            out[key] = value
        return out

    def number(
        self, literal: str, what: str, error: type[JsonDocumentError] = NumberOutOfRangeError
    ) -> _BadNumber:
        self.bad_numbers = True
        return _BadNumber(literal, what, error)

    def parse_float(self, literal: str) -> float | _BadNumber:
        value = float(literal)
        if math.isfinite(value):
            return value
        return self.number(literal, "is out of range: it would overflow to infinity")

    def parse_int(self, literal: str) -> int | _BadNumber:
        if len(literal.lstrip("-")) > _MAX_INT_DIGITS:
            return self.number(literal, f"has more than {_MAX_INT_DIGITS} digits")
        return int(literal)

    def parse_constant(self, name: str) -> _BadNumber:
        return self.number(
            name, "is not valid JSON (JSON has no NaN or Infinity)", JsonDocumentError
        )


_SURROGATE_IN_TEXT = re.compile(r"[\ud800-\udfff]|\\u[dD][89a-fA-F]")
"""A surrogate in a document's text, or the escape of one: only then can a string or
key hold a lone surrogate, so only then are they all looked at."""


def _unwritable(value: Any, source: str, path: str) -> JsonDocumentError | None:
    """The error for a value JSON cannot write (a refused number, a non-finite float,
    a string with a surrogate), or ``None``."""
    where = f"{source} at {path}" if path else source
    if isinstance(value, _BadNumber):
        shown = value.literal if len(value.literal) <= 24 else value.literal[:20] + "..."
        return value.error(
            f"the number {shown} {value.what}",
            json_path=path,
            document=source,
            where=where,
            fix="write a number between -1.7e308 and 1.7e308, or a string",
        )
    if isinstance(value, float) and not math.isfinite(value):
        return NumberOutOfRangeError(
            f"the number {value} is out of range (JSON has no NaN or Infinity)",
            json_path=path,
            document=source,
            where=where,
            fix="write a number between -1.7e308 and 1.7e308, or a string",
        )
    if isinstance(value, str) and has_surrogates(value):
        return _invalid_unicode("the string", value, path, where, source)
    return None


def _invalid_unicode(
    kind: str, text: str, path: str, where: str, source: str
) -> InvalidUnicodeError:
    shown = printable(text if len(text) <= 60 else text[:56] + "...")
    surrogate = printable(next(c for c in text if has_surrogates(c)))
    return InvalidUnicodeError(
        f'{kind} "{shown}" holds {surrogate}, a lone surrogate: it stands for no character, '
        "so UTF-8 cannot write it and JSON readers disagree on what it means",
        json_path=path,
        document=source,
        where=where,
        fix="write the character itself, or both halves of its surrogate pair "
        "(\\ud83d\\ude00 is one character); remove the escape if it is noise",
    )


MAX_DEPTH = 100
"""Deepest nesting of arrays and objects a document may have. No document gmsa reads
comes close (a credential spec nests four levels, a Terraform plan of nested modules a
few dozen); with the limit, everything that walks a document after it is read (copies,
checks, printers) can recurse without running out of stack."""


def check_depth(document: Any, *, source: str, what: str = "JSON") -> None:
    """Raise :class:`JsonDocumentError` when ``document`` nests arrays and objects more
    than :data:`MAX_DEPTH` levels deep (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            raise JsonDocumentError(
                f"the {what} nests more than {MAX_DEPTH} levels deep, deeper than any real "
                "document",
                where=source,
                fix="check that the right file was given",
            )
        stack.extend((child, depth + 1) for child in children)


def refuse_unwritable(document: Any, *, source: str) -> None:
    """Raise for the first value (in document order) that JSON cannot write: a number
    out of range or not finite (:class:`NumberOutOfRangeError`; the literals ``NaN`` /
    ``Infinity``: :class:`JsonDocumentError`), or a string or key holding a lone
    surrogate (:class:`InvalidUnicodeError`), naming its JSON path.

    Documents read by :func:`loads` are checked already; a reader of another format
    whose values become JSON (YAML templates) calls it on what it read.
    """
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack:
        parts, value = stack.pop()
        found = _unwritable(value, source, json_path(*parts))
        if found is not None:
            raise found
        items: list[tuple[str | int, Any]] = []
        if isinstance(value, dict):
            for key, child in value.items():
                if isinstance(key, str) and has_surrogates(key):
                    key_path = json_path(*parts, printable(key))
                    raise _invalid_unicode(
                        "the key", key, key_path, f"{source} at {key_path}", source
                    )
                items.append((key, child))
        elif isinstance(value, list):
            items = list(enumerate(value))
        stack.extend(((*parts, key), child) for key, child in reversed(items))


def loads(data: bytes | str, *, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Parse one JSON document strictly.

    ``source`` names the input in errors (a file path, an ARN, ``<stdin>``).
    Raises :class:`JsonDocumentError` (or :class:`DuplicateKeyError`,
    :class:`NumberOutOfRangeError`, :class:`InvalidUnicodeError`) and nothing else: no
    value it returns is a float that JSON cannot write (infinity, NaN) or a string that
    UTF-8 cannot (a lone surrogate), and none nests deeper than :data:`MAX_DEPTH`.
    """
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise JsonDocumentError(
            f"the document is {size} bytes, over the {max_bytes}-byte limit",
            where=source,
            fix="this is not a document of the expected kind, or it must be made smaller",
        )
    text = decode_text(data, source=source) if isinstance(data, bytes) else data.lstrip("\ufeff")
    decoder = _StrictDecoder(source)
    try:
        document = json.loads(
            text,
            object_pairs_hook=decoder.pairs,
            parse_float=decoder.parse_float,
            parse_int=decoder.parse_int,
            parse_constant=decoder.parse_constant,
        )
    except json.JSONDecodeError as exc:
        line, col = _line_col(text, exc.pos)
        raise JsonDocumentError(
            f"not valid JSON: {exc.msg}",
            where=f"{source}:{line}:{col}",
            fix="correct the JSON syntax at that line and column",
        ) from None
    except RecursionError:
        raise JsonDocumentError(
            "the JSON nests too deeply to be a real document",
            where=source,
            fix="check that the right file was given",
        ) from None
    check_depth(document, source=source)
    if decoder.bad_numbers or _SURROGATE_IN_TEXT.search(text):
        refuse_unwritable(document, source=source)
    return document


def read_bytes(path: Path, *, max_bytes: int, what: str = "file") -> bytes:
    """Read a regular file (see :func:`gmsa.inputfile.read_input`: a FIFO, socket,
    device or directory is refused at once), refusing it before reading when it is
    larger than ``max_bytes`` (as :class:`JsonDocumentError`)."""
    try:
        return read_input(path, max_bytes=max_bytes, what=what).data
    except InputTooLargeError as exc:
        raise JsonDocumentError(exc.what, where=exc.where, fix=exc.fix) from None


def load_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "file") -> Any:
    """Read and strictly parse a JSON file."""
    return loads(
        read_bytes(path, max_bytes=max_bytes, what=what), source=str(path), max_bytes=max_bytes
    )


def dumps(value: Any) -> str:
    """Render JSON the one way gmsa writes it: 4-space indent, key order kept, newline."""
    return json.dumps(value, indent=4, ensure_ascii=False) + "\n"


_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_RAW = json.JSONDecoder()


def _path_parts(path: str) -> list[str | int] | None:
    """``A.B[0].C`` as ``["A", "B", 0, "C"]`` (a key in brackets is a JSON string:
    ``A["x.y"]``); ``None`` when it is not such a path."""
    parts: list[str | int] = []
    pos = 0
    while pos < len(path):
        if path.startswith('["', pos):
            try:
                key, end = _RAW.raw_decode(path, pos + 1)
            except ValueError:
                return None
            if not isinstance(key, str) or path[end : end + 1] != "]":
                return None
            parts.append(key)
            pos = end + 1
            continue
        match = _PATH_PART.match(path, pos)
        if match is None:
            return None
        index, key = match.groups()
        parts.append(int(index) if index is not None else key)
        pos = match.end()
    return parts


def _skip(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos


def _child(text: str, pos: int, part: str | int) -> int | None:
    """Where the value of ``part`` (a key or an index) starts in the container at ``pos``."""
    opener = text[pos : pos + 1]
    if opener not in ("{", "[") or (opener == "{") != isinstance(part, str):
        return None
    pos = _skip(text, pos + 1)
    index = 0
    while pos < len(text) and text[pos] not in "}]":
        if opener == "{":
            key, pos = _RAW.raw_decode(text, pos)
            pos = _skip(text, _skip(text, pos) + 1)
            if key == part:
                return pos
        elif index == part:
            return pos
        _, pos = _RAW.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos : pos + 1] == ",":
            pos = _skip(text, pos + 1)
        index += 1
    return None


def line_of(text: str, path: str) -> int | None:
    """The line (from 1) where the value at JSON path ``path`` (``A.B[0].C``, the form
    :func:`gmsa.findings.json_path` writes) starts in the JSON ``text``; ``None`` when
    the text is not JSON or holds no such value. An empty path is the document itself."""
    parts = _path_parts(path)
    if parts is None:
        return None
    text = text.lstrip("\ufeff")
    pos = _skip(text, 0)
    try:
        for part in parts:
            found = _child(text, pos, part)
            if found is None:
                return None
            pos = found
    except (ValueError, IndexError):
        return None
    if pos >= len(text):
        return None
    return _line_col(text, pos)[0]


def type_name(value: Any) -> str:
    """A JSON value's type as an error message says it: ``a string``, ``an array``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_DEPTH",
    "DuplicateKeyError",
    "InvalidUnicodeError",
    "JsonDocumentError",
    "NumberOutOfRangeError",
    "check_depth",
    "decode_text",
    "dumps",
    "line_of",
    "load_file",
    "loads",
    "read_bytes",
    "refuse_unwritable",
    "type_name",
]
