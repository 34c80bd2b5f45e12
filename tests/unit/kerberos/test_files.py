"""Keytabs and credential caches are read as regular files only: a FIFO, socket, device or
directory given as one is refused at once, and a missing one says how to get one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gmsa.inputfile import NotRegularFileError, SymlinkLoopError
from gmsa.kerberos.ccache import read_ccache
from gmsa.kerberos.errors import CredentialsInputError
from gmsa.kerberos.keytab import read_keytab
from tests.support.cli import within
from tests.support.special_files import SPECIAL_KINDS, special_file, symlink_loop

READERS: dict[str, Callable[[Path], Any]] = {"keytab": read_keytab, "ccache": read_ccache}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("kind", SPECIAL_KINDS)
def test_a_special_file_is_refused_at_once(reader: str, kind: str, tmp_path: Path) -> None:
    with (
        special_file(kind, tmp_path) as (path, said),
        within(5),
        pytest.raises(NotRegularFileError) as caught,
    ):
        READERS[reader](path)
    assert f"is {said}, not a regular file" in caught.value.what


@pytest.mark.parametrize("reader", READERS)
def test_a_symlink_loop_is_named_as_one(reader: str, tmp_path: Path) -> None:
    with pytest.raises(SymlinkLoopError):
        READERS[reader](symlink_loop(tmp_path))


def test_a_missing_keytab_and_cache_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CredentialsInputError, match="the keytab does not exist"):
        read_keytab(tmp_path / "none.keytab")
    with pytest.raises(CredentialsInputError) as caught:
        read_ccache(tmp_path / "krb5cc")
    assert "kinit" in (caught.value.fix or "")
