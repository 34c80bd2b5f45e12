"""Reading a spec as stored: encodings PowerShell writes, broken JSON, size, files."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest

from gmsa.credspec.model import MAX_SPEC_BYTES, CredentialSpec
from gmsa.credspec.validate import (
    CredentialSpecError,
    check_bytes,
    check_path,
    load_spec,
)
from gmsa.errors import InvalidInputError
from tests.unit.credspec.test_examples import fresh


def _bytes(doc: Any) -> bytes:
    return json.dumps(doc, indent=4).encode("utf-8")


def test_utf8_with_bom_is_read(example_spec: dict[str, Any]) -> None:
    report = check_bytes(codecs.BOM_UTF8 + _bytes(example_spec), source="s.json")
    assert report.valid and report.spec is not None


def test_utf16_le_with_bom_is_read() -> None:
    data = codecs.BOM_UTF16_LE + json.dumps(fresh("full")).encode("utf-16-le")
    report = check_bytes(data, source="s.json")
    assert report.findings == ()


def test_utf16_be_with_bom_is_read() -> None:
    data = codecs.BOM_UTF16_BE + json.dumps(fresh("full")).encode("utf-16-be")
    assert check_bytes(data, source="s.json").findings == ()


def test_broken_json_is_an_error_with_line_and_column() -> None:
    data = b'{\n  "CmsPlugins": ["ActiveDirectory"],\n  "DomainJoinConfig": {,\n}'
    report = check_bytes(data, source="s.json")
    (found,) = report.findings
    assert (found.code, found.path) == ("invalid-json", "")
    assert "line 3, column 24" in found.message
    assert report.spec is None


def test_duplicate_key_is_refused() -> None:
    data = (
        b'{"CmsPlugins": ["ActiveDirectory"], "CmsPlugins": ["ActiveDirectory"], '
        b'"DomainJoinConfig": {}, "ActiveDirectoryConfig": {}}'
    )
    (found,) = check_bytes(data, source="s.json").findings
    assert found.code == "duplicate-key"
    assert "CmsPlugins" in found.message


def test_invalid_utf8_is_an_error() -> None:
    (found,) = check_bytes(b'{"CmsPlugins": ["\xff"]}', source="s.json").findings
    assert found.code == "invalid-json"


def test_nan_is_refused() -> None:
    (found,) = check_bytes(b'{"CmsPlugins": NaN}', source="s.json").findings
    assert found.code == "invalid-json"


def test_spec_over_64_kib_is_refused() -> None:
    doc = fresh("full")
    doc["Padding"] = "x" * MAX_SPEC_BYTES
    (found,) = check_bytes(_bytes(doc), source="s.json").findings
    assert (found.code, found.path) == ("spec-too-large", "")


def test_spec_over_credentials_fetcher_limit_is_a_warning() -> None:
    doc = fresh("full")
    doc["Padding"] = "x" * 5000
    report = check_bytes(_bytes(doc), source="s.json")
    assert report.valid
    assert "larger-than-credentials-fetcher-limit" in {f.code for f in report.warnings}


def test_load_spec_returns_the_model(example_spec: dict[str, Any]) -> None:
    spec = load_spec(_bytes(example_spec), source="s.json")
    assert isinstance(spec, CredentialSpec)
    assert spec.account_name == "WebApp01"
    assert not spec.is_domainless


def test_load_spec_raises_with_every_finding() -> None:
    doc = fresh("full")
    doc["DomainJoinConfig"]["Guid"] = "{8665abd4-e947-4dd0-9a51-f8254943c90b}"
    doc["DomainJoinConfig"]["NetBiosName"] = "EXAMPLE.COM"
    with pytest.raises(CredentialSpecError) as caught:
        load_spec(_bytes(doc), source="s.json")
    err = caught.value
    assert isinstance(err, InvalidInputError)
    assert {f.code for f in err.findings} >= {"guid-braces", "netbios-name-has-dot"}
    assert err.where == "s.json: DomainJoinConfig.Guid"
    assert err.fix == 'write "8665abd4-e947-4dd0-9a51-f8254943c90b"'
    assert "1 more" in err.what
    assert len(err.to_dict()["findings"]) == len(err.findings)


def test_load_spec_raises_for_broken_json() -> None:
    with pytest.raises(CredentialSpecError) as caught:
        load_spec(b"{", source="s.json")
    assert caught.value.findings[0].code == "invalid-json"


def test_check_path_reads_a_file(example_spec_file: Path) -> None:
    report = check_path(example_spec_file)
    assert report.valid
    assert report.source == str(example_spec_file)


def test_check_path_missing_file_is_an_error_finding(tmp_path: Path) -> None:
    (found,) = check_path(tmp_path / "none.json").findings
    assert found.code == "file-not-found"


def test_check_path_directory_is_an_error_finding(tmp_path: Path) -> None:
    (found,) = check_path(tmp_path).findings
    assert found.code == "not-a-file"


def test_check_path_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b" " * (MAX_SPEC_BYTES + 10))
    (found,) = check_path(path).findings
    assert found.code == "spec-too-large"
    assert str(MAX_SPEC_BYTES + 10) in found.message
