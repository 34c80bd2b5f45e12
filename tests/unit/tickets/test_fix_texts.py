"""A fix never names a setting the ticket service does not have."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import gmsa.tickets
from gmsa.tickets.config import _KEYS

SOURCES = sorted(Path(gmsa.tickets.__file__).parent.glob("*.py"))
API_FIELDS = {"lease_id"}
"""Fields of the credentials-fetcher gRPC API a fix may name: not settings."""
SETTING = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def _fix_texts(tree: ast.AST) -> list[str]:
    texts: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "fix":
            texts.extend(
                part.value
                for part in ast.walk(node.value)
                if isinstance(part, ast.Constant) and isinstance(part.value, str)
            )
    return texts


def test_every_snake_case_name_in_a_fix_is_a_setting() -> None:
    named = {
        (path.name, word)
        for path in SOURCES
        for text in _fix_texts(ast.parse(path.read_text()))
        for word in SETTING.findall(text)
    }
    unknown = sorted((file, word) for file, word in named if word not in _KEYS | API_FIELDS)
    assert unknown == []


def test_the_check_finds_a_setting_that_does_not_exist() -> None:
    tree = ast.parse('raise E("x", fix="wait connection_max_age seconds")')
    assert SETTING.findall(" ".join(_fix_texts(tree))) == ["connection_max_age"]
