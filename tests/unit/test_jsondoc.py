"""The strict JSON reader never returns a number JSON cannot write: a number that overflows
a double, an integer of thousands of digits, or a NaN/Infinity literal is refused with its
JSON path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmsa.jsondoc import JsonDocumentError, NumberOutOfRangeError, loads


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("1e400", ""),
        ("-1e400", ""),
        ('{"a": [1, {"b": 1e400}]}', "a[1].b"),
        ('{"a": {"b": -2.5E+999}}', "a.b"),
        ("[0, 1, " + "9" * 4001 + "]", "[2]"),
    ],
)
def test_a_number_out_of_range_is_refused_with_its_path(text: str, path: str) -> None:
    with pytest.raises(NumberOutOfRangeError) as caught:
        loads(text, source="doc.json")
    assert caught.value.json_path == path
    assert caught.value.where == (f"doc.json at {path}" if path else "doc.json")
    assert caught.value.exit_code == 1
    assert caught.value.code == "number-out-of-range"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_not_json(literal: str) -> None:
    with pytest.raises(JsonDocumentError) as caught:
        loads(f'{{"x": [{literal}]}}', source="doc.json")
    assert caught.value.code == "invalid-json"
    assert caught.value.json_path == "x[0]"
    assert literal in caught.value.what


def test_numbers_in_range_are_read_as_before() -> None:
    big = "9" * 400
    assert loads(f'{{"f": 1.5e308, "u": 1e-400, "i": -{big}}}', source="d") == {
        "f": 1.5e308,
        "u": 0.0,
        "i": -int(big),
    }


def _strict(value: Any) -> str:
    return json.dumps(value, allow_nan=False)


_NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: json.dumps(f)),
    st.integers().map(str),
    st.sampled_from(["1e400", "-1e400", "1E309", "2e-400", "9" * 5000, "-0.0"]),
)


@st.composite
def _documents(draw: st.DrawFn) -> str:
    numbers = draw(st.lists(_NUMBER_TEXT, min_size=1, max_size=6))
    keys = draw(st.lists(st.text(max_size=5), min_size=len(numbers), max_size=len(numbers)))
    pairs = enumerate(zip(keys, numbers, strict=True))
    members = ", ".join(f"{json.dumps(k + str(i))}: [{n}]" for i, (k, n) in pairs)
    return "{" + members + "}"


@settings(max_examples=300, deadline=None)
@given(_documents())
def test_whatever_it_returns_can_be_written_as_strict_json(text: str) -> None:
    try:
        document = loads(text, source="doc.json")
    except JsonDocumentError as exc:
        assert exc.json_path  # every refused number here sits under a key
        return
    assert json.loads(_strict(document)) == document
