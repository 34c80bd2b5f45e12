"""Telling templates and plans from other files, and reading a FILE argument."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from gmsa.iac.cloudformation import TemplateError
from gmsa.iac.inputs import STDIN_SOURCE, IacFormat, detect, read_argument
from gmsa.jsondoc import JsonDocumentError

DATA = Path(__file__).parents[2] / "data" / "iac"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (DATA / "cloudformation" / "windows-app.yaml", IacFormat.CLOUDFORMATION),
        (DATA / "cdk.out" / "GmsaWindowsStack.template.json", IacFormat.CLOUDFORMATION),
        (DATA / "terraform" / "plan.json", IacFormat.TERRAFORM),
    ],
)
def test_templates_and_plans_are_detected(path: Path, expected: IacFormat) -> None:
    found = detect(path.read_bytes(), str(path))
    assert found is not None and found.format is expected


@pytest.mark.parametrize(
    "text",
    [
        b'{"CmsPlugins": ["ActiveDirectory"]}',
        b'{"family": "x", "containerDefinitions": []}',
        b'{"not json": ',
        b"family: x\n",
        b"\xff\xfe\xfd not text",
    ],
)
def test_anything_else_is_left_to_the_caller(text: bytes) -> None:
    assert detect(text, "f") is None


def test_a_yaml_template_that_cannot_be_read_says_why() -> None:
    with pytest.raises(TemplateError) as caught:
        detect(b"Resources:\n  A: {Type: X}\n  A: {Type: Y}\n", "t.yaml")
    assert caught.value.where == "t.yaml:3"


def test_standard_input_is_read_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"12345")))
    assert read_argument("-", max_bytes=5, what="spec") == (b"12345", STDIN_SOURCE)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"123456")))
    with pytest.raises(JsonDocumentError, match="5-byte limit"):
        read_argument("-", max_bytes=5, what="spec")
