"""No module imports upward: each part of gmsa imports only the parts below it.

The order is the one ``docs/architecture.md`` draws, bottom first. A new top-level
module or package must be placed in it before it can be imported by anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gmsa

SRC = Path(gmsa.__file__).parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "printable"),
    ("inputfile", "findings"),
    ("jsondoc", "fsutil", "identifiers", "singleflight"),
    ("reference", "aws", "kerberos", "report"),
    ("domainless",),
    ("credspec",),
    ("source",),
    ("iam", "ad"),
    ("taskdef",),
    ("export",),
    ("tickets",),
    ("hostagent",),
    ("localaws",),
    ("demo",),
    ("cli",),
    ("__main__",),
)
LEVEL = {part: level for level, parts in enumerate(LAYERS) for part in parts}


def _part_of(path: Path) -> str:
    """The top-level module or package a source file belongs to."""
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _imported(text: str) -> set[str]:
    """The top-level parts of gmsa a source text imports."""
    parts: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        parts.update(n.split(".")[1] for n in names if n.startswith("gmsa.") and "." in n)
    return parts


SOURCES = sorted(p for p in SRC.rglob("*.py") if p.name != "__init__.py" or p.parent != SRC)


def test_every_part_has_a_layer() -> None:
    parts = {_part_of(p) for p in SOURCES}
    assert parts - set(LEVEL) == set(), "place new parts in LAYERS (and docs/architecture.md)"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_go_down_only(path: Path) -> None:
    me = _part_of(path)
    imported = _imported(path.read_text()) - {me}
    upward = sorted(p for p in imported if LEVEL[p] >= LEVEL[me])
    assert upward == [], f"{path.relative_to(SRC)} ({me}) imports {upward}, not below it"


def test_the_check_sees_every_form_of_import() -> None:
    text = (
        "import gmsa.errors\n"
        "from gmsa.cli.main import cli\n"
        "from gmsa.kerberos import ccache\n"
        "def f():\n    from gmsa.tickets.layout import CCACHE_NAME\n"
        "import json\n"
    )
    assert _imported(text) == {"errors", "cli", "kerberos", "tickets"}
