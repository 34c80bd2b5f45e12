"""The public surface is explicit: every module of gmsa says what a library user may import."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import gmsa

SRC = Path(gmsa.__file__).parent
GENERATED = "gmsa.tickets.proto"


def _modules() -> list[str]:
    names = ["gmsa"]
    for info in pkgutil.walk_packages([str(SRC)], prefix="gmsa."):
        if not info.name.startswith(GENERATED) and not info.name.endswith("__main__"):
            names.append(info.name)
    return sorted(names)


def _source(name: str) -> Path:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    return Path(module.__file__)


def _defined_public_names(path: Path) -> set[str]:
    """Classes, functions and assignments at module level whose names have no underscore."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


MODULES = _modules()


def test_every_module_is_found() -> None:
    assert "gmsa.kerberos.ccache" in MODULES
    assert "gmsa.credspec.validate" in MODULES
    assert len(MODULES) > 80


@pytest.mark.parametrize("name", MODULES)
def test_module_lists_its_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{name} has no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    for item in exported:
        assert not item.startswith("_"), f"{name}.__all__ lists the private {item}"
        if not hasattr(module, item):
            importlib.import_module(f"{name}.{item}")  # a package may list its submodules


@pytest.mark.parametrize("name", MODULES)
def test_everything_public_a_module_defines_is_listed(name: str) -> None:
    path = _source(name)
    exported = set(importlib.import_module(name).__all__)
    missing = _defined_public_names(path) - exported - {"log"}
    assert not missing, f"{name} defines public names it does not list: {sorted(missing)}"
