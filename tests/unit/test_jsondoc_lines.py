"""Where a JSON path is in a document's text: the line a SARIF result points at."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmsa.findings import json_path
from gmsa.jsondoc import line_of
from gmsa.report import output_schema

TEXT = """\ufeff{
  "family": "web",
  "containerDefinitions": [
    {"name": "a", "image": "x"},
    {
      "name": "b",
      "credentialSpecs": [
        "credentialspec:file://b.json"
      ],
      "odd.key": 1
    }
  ]
}"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("", 1),
        ("family", 2),
        ("containerDefinitions", 3),
        ("containerDefinitions[0].image", 4),
        ("containerDefinitions[1]", 5),
        ("containerDefinitions[1].credentialSpecs[0]", 8),
        ("taskDefinition.family", None),
        ("containerDefinitions[2]", None),
        ("family[0]", None),
        ("containerDefinitions.name", None),
    ],
)
def test_line_of_a_path(path: str, line: int | None) -> None:
    assert line_of(TEXT, path) == line


def test_a_text_that_is_not_json_has_no_lines() -> None:
    assert line_of("{not json", "a") is None
    assert line_of('{"a": ', "a") is None


def test_every_value_of_a_compact_document_is_on_line_one() -> None:
    text = json.dumps({"a": [{"b": 1}, {"c": [1, 2, 3]}]})
    assert line_of(text, "a[1].c[2]") == 1


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        (("A", "B", 0, "Name"), "A.B[0].Name"),
        (("A.B[0]", "Name"), "A.B[0].Name"),
        (("", "A"), "A"),
        (("Resources", "Task", "Fn::Sub"), "Resources.Task.Fn::Sub"),
        (("a", "x y", 1), 'a["x y"][1]'),
        (("\n",), '["\\n"]'),
        ((" lead",), '[" lead"]'),
        (("a -> b",), '["a -> b"]'),
        (("arn:aws:s3:::b/k",), '["arn:aws:s3:::b/k"]'),
        (("credentialspec:file://x",), '["credentialspec:file://x"]'),
        (("A", "arn:x"), "A.arn:x"),
        (('q"', "b\\"), 'q".b\\'),
    ],
)
def test_a_key_that_would_make_a_path_unreadable_is_written_in_brackets(
    parts: tuple[str | int, ...], path: str
) -> None:
    """Before, the key "\\n" made the path "\\n": not a path the output schema allows."""
    assert json_path(*parts) == path


def test_the_line_of_a_bracketed_key() -> None:
    text = TEXT.replace('"odd.key"', '"odd key"')
    assert line_of(text, 'containerDefinitions[1]["odd key"]') == 10
    assert line_of(TEXT, '["family"]') == 2
    assert line_of(TEXT, '["unterminated') is None


@given(st.lists(st.one_of(st.text(max_size=8), st.integers(0, 3)), max_size=4))
def test_every_path_json_path_writes_is_allowed_by_the_output_schema(
    parts: list[str | int],
) -> None:
    path = json_path(*parts)
    pattern = output_schema()["$defs"]["finding"]["properties"]["path"]["pattern"]
    assert not path or re.match(pattern, path), path
