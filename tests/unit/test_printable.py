"""Text is printable in any encoding: bytes that were not UTF-8 show as ``\\xNN``, lone
surrogates and characters the stream cannot hold as JSON-compatible ``\\uXXXX``."""

from __future__ import annotations

import io
import json

import pytest

from gmsa.printable import (
    ESCAPE,
    has_surrogates,
    make_printable,
    printable,
    printable_json,
    writes_unicode,
)


def test_printable_escapes_surrogates_and_keeps_everything_else() -> None:
    assert printable("sp\udcff.json") == "sp\\xff.json"
    assert printable("a\ud800b") == "a\\ud800b"
    text = "caf\u00e9 \U0001f600 \u2713"
    assert printable(text) is text
    assert not has_surrogates(text)
    assert has_surrogates("\udfff")


def test_printable_json_escapes_keys_and_nested_strings_only() -> None:
    value = {"k\udcfe": ["v\ud800", 1, None, {"x": True}], 2: 1.5}
    assert printable_json(value) == {"k\\xfe": ["v\\ud800", 1, None, {"x": True}], 2: 1.5}
    json.dumps(printable_json(value), ensure_ascii=False).encode("utf-8")


def stream(encoding: str) -> tuple[io.BytesIO, io.TextIOWrapper]:
    raw = io.BytesIO()
    return raw, io.TextIOWrapper(raw, encoding=encoding, errors="strict")


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "cp1252", "utf-16", "koi8-r"])
def test_a_printable_stream_writes_any_text(encoding: str) -> None:
    raw, text_stream = stream(encoding)
    make_printable(text_stream)
    assert text_stream.errors == ESCAPE
    text_stream.write("\u2713 sp\udcff.json \ud800 caf\u00e9 \U0001f600\n")
    text_stream.flush()
    written = raw.getvalue().decode(encoding)
    assert "sp\\xff.json \\ud800" in written
    assert "caf" in written


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "koi8-r", "utf-8"])
def test_json_written_on_a_narrow_stream_stays_the_same_json(encoding: str) -> None:
    document = {"name": "caf\u00e9 \u2713 \U0001f600 \u20ac", "n": [1, 2]}
    raw, text_stream = stream(encoding)
    make_printable(text_stream)
    text_stream.write(json.dumps(document, ensure_ascii=False))
    text_stream.flush()
    assert json.loads(raw.getvalue().decode(encoding)) == document


def test_an_ascii_stream_writes_utf8_as_click_does() -> None:
    raw, text_stream = stream("ascii")
    make_printable(text_stream)
    assert text_stream.encoding == "utf-8"
    text_stream.write("\u2713 sp\udcff.json\n")
    text_stream.flush()
    assert raw.getvalue() == "\u2713 sp\\xff.json\n".encode()


def test_writes_unicode_tells_utf_encodings() -> None:
    assert writes_unicode(stream("utf-8")[1])
    assert writes_unicode(stream("UTF-16-LE")[1])
    assert not writes_unicode(stream("latin-1")[1])
    assert not writes_unicode(object())


def test_other_streams_are_left_alone() -> None:
    buffer = io.StringIO()
    make_printable(buffer)
    buffer.write("\ud800")
    assert buffer.getvalue() == "\ud800"
