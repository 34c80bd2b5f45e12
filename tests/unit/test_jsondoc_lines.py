"""Where a JSON path is in a document's text: the line a SARIF result points at."""

from __future__ import annotations

import json

import pytest

from gmsa.jsondoc import line_of

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
