"""The strict JSON reader never returns text UTF-8 cannot write: a lone surrogate escape
(``"\\ud800"``) in a key or a string is refused with its JSON path; a surrogate pair is
one character and is read as before."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmsa.jsondoc import InvalidUnicodeError, JsonDocumentError, loads, refuse_unwritable


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('"\\ud800"', ""),
        ('{"a": "x\\udfff"}', "a"),
        ('{"a": [1, {"b": ["ok", "\\uDC80"]}]}', "a[1].b[1]"),
        ('{"a": {"\\ud800k": 1}}', "a.\\ud800k"),
        ('{"\\udcff": 1}', "\\xff"),
        ('{"a": "\\ude00\\ud83d"}', "a"),  # a pair in the wrong order is two lone halves
    ],
)
def test_a_lone_surrogate_is_refused_naming_its_path(text: str, path: str) -> None:
    with pytest.raises(InvalidUnicodeError) as caught:
        loads(text, source="doc.json")
    assert caught.value.json_path == path
    assert caught.value.where == (f"doc.json at {path}" if path else "doc.json")
    assert caught.value.code == "invalid-unicode"
    assert caught.value.exit_code == 1
    # The message itself can be printed anywhere: the surrogate is shown as its escape.
    for text_part in (caught.value.what, caught.value.where, caught.value.fix or ""):
        text_part.encode("ascii")


def test_the_first_problem_in_document_order_is_named() -> None:
    with pytest.raises(JsonDocumentError) as caught:
        loads('{"a": ["\\ud800"], "b": 1e400}', source="d")
    assert caught.value.json_path == "a[0]"
    with pytest.raises(JsonDocumentError) as caught:
        loads('{"a": [1e400], "b": "\\ud800"}', source="d")
    assert caught.value.json_path == "a[0]"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"\\ud83d\\ude00"', "\U0001f600"),
        ('{"k\\u00e9": "\\\\ud800"}', {"k\u00e9": "\\ud800"}),  # an escaped backslash: text
        ('"\\u20ac"', "\u20ac"),
    ],
)
def test_pairs_escaped_backslashes_and_other_escapes_are_read_as_before(
    text: str, value: Any
) -> None:
    assert loads(text, source="d") == value


def test_a_surrogate_in_text_given_as_str_is_refused_too() -> None:
    with pytest.raises(InvalidUnicodeError):
        loads('{"a": "\ud800"}', source="d")


def test_another_readers_document_is_checked_the_same_way() -> None:
    with pytest.raises(InvalidUnicodeError) as caught:
        refuse_unwritable({"a": [{"b": "\udcff"}]}, source="t.yaml")
    assert caught.value.json_path == "a[0].b"
    with pytest.raises(JsonDocumentError) as number:
        refuse_unwritable({"a": float("inf")}, source="t.yaml")
    assert number.value.json_path == "a"
    refuse_unwritable({"a": ["\U0001f600", 1.5, None, True]}, source="t.yaml")


_values = st.recursive(
    st.one_of(st.text(max_size=4), st.integers(), st.booleans(), st.none()),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(_values, st.booleans())
def test_whatever_it_returns_can_be_written_as_utf8(value: Any, ascii_escapes: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_escapes)
    try:
        document = loads(text.encode("utf-8", "surrogatepass"), source="d")
    except JsonDocumentError as exc:
        # Only a str with a surrogate is refused, and bytes that are not UTF-8 (a raw
        # surrogate written with surrogatepass).
        assert isinstance(exc, InvalidUnicodeError) or not ascii_escapes
        return
    json.dumps(document, ensure_ascii=False).encode("utf-8")
    assert document == value
