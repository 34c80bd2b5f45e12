"""Property tests: no input makes the spec checker raise; valid specs round-trip and fit the
schema."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from gmsa.credspec.render import render
from gmsa.credspec.schema import json_schema
from gmsa.credspec.validate import (
    CredentialSpecError,
    SpecReport,
    check_bytes,
    check_document,
    load_spec,
)
from gmsa.findings import Finding
from tests.unit.credspec.test_examples import VALID_EXAMPLES

VALIDATOR = jsonschema.Draft202012Validator(json_schema())

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=15,
)

NEAR_MISSES = [
    "",
    " ",
    "WebApp01$",
    "EXAMPLE\\WebApp01",
    "WebApp01@example.com",
    "A" * 16,
    "S-1-5-21-1-2-3",
    "S-1-5-21-1-2-3-4",
    "s-1-5-21-1-2-3",
    "S-1-5-21-1-2-" + "9" * 5000,
    "example.com",
    "EXAMPLE",
    "example.com.",
    "EXAMPLE.COM",
    "{8665abd4-e947-4dd0-9a51-f8254943c90b}",
    "8665ABD4-E947-4DD0-9A51-F8254943C90B",
    "8665abd4e9474dd09a51f8254943c90b",
    "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
    "859e1386-bdb4-49e8-85c7-3070b13920e1",
    "1",
    "2",
    '{"credentialArn": "arn:aws:secretsmanager:us-east-1:111122223333:secret:x"}',
    '{"credentialArn": "arn:aws:ssm:us-east-1:111122223333:parameter/a/b"}',
    '{"credentialArn": 3}',
    "{",
    "[]",
    "ActiveDirectory",
    "arn:aws-cn:secretsmanager:us-east-1:1:x",
]

# Mostly near misses, so that many mutated specs stay valid or fail on one rule only.
replacement = st.one_of(
    st.sampled_from(NEAR_MISSES),
    st.sampled_from(NEAR_MISSES),
    st.sampled_from(NEAR_MISSES).map(lambda s: {"credentialArn": s}),
    json_values,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((*prefix, index))
            out.extend(_paths(value, (*prefix, index)))
    return out


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    """A valid example with a few values replaced, deleted or keys renamed."""
    document: Any = copy.deepcopy(VALID_EXAMPLES[draw(st.sampled_from(sorted(VALID_EXAMPLES)))])
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        paths = _paths(document)
        leaves = [p for p in paths if _at(document, p) is None or isinstance(_at(document, p), str)]
        if leaves and draw(st.integers(0, 3)):
            paths = leaves
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = document
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace"] * 6 + ["delete", "rename"]))
        if action == "replace":
            parent[path[-1]] = draw(replacement)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            value = parent.pop(path[-1])
            parent[draw(st.sampled_from([path[-1].lower(), path[-1] + "x", "Other"]))] = value
    return document


def _well_formed(report: SpecReport) -> None:
    assert isinstance(report, SpecReport)
    for finding in report.findings:
        assert isinstance(finding, Finding)
        assert finding.code and finding.message
    json.dumps(report.to_dict())


@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    _well_formed(check_bytes(data, source="x"))


@given(json_values)
def test_arbitrary_json_values_never_raise(value: Any) -> None:
    _well_formed(check_document(value, source="x"))


@settings(max_examples=300)
@given(mutated_specs())
def test_mutated_specs_never_raise(document: Any) -> None:
    _well_formed(check_document(document, source="x"))


@settings(max_examples=300)
@given(mutated_specs())
def test_a_valid_spec_fits_the_schema_and_round_trips(document: Any) -> None:
    report = check_document(document, source="x")
    if not report.valid:
        return
    assert report.spec is not None
    VALIDATOR.validate(document)
    again = check_document(json.loads(render(report.spec)), source="x")
    assert again.spec == report.spec
    assert {(f.code, f.path) for f in again.findings} == {(f.code, f.path) for f in report.findings}


@given(
    st.one_of(st.binary(max_size=300), mutated_specs().map(lambda d: json.dumps(d).encode("utf-8")))
)
def test_load_spec_raises_only_its_typed_error(data: bytes) -> None:
    try:
        load_spec(data, source="x")
    except CredentialSpecError as exc:
        assert exc.findings


@given(mutated_specs(), st.sampled_from(["utf-8-sig", "utf-16", "utf-16-be", "utf-16-le"]))
def test_encodings_powershell_writes_read_like_utf8(document: Any, encoding: str) -> None:
    text = json.dumps(document, ensure_ascii=False)
    plain = check_bytes(text.encode("utf-8"), source="x")
    if encoding in ("utf-16-be", "utf-16-le"):
        bom = "\ufeff".encode(encoding)
        data = bom + text.encode(encoding)
    else:
        data = text.encode(encoding)
    if len(data) > 4000 or len(text.encode("utf-8")) > 4000:
        return
    assert check_bytes(data, source="x").findings == plain.findings


@st.composite
def specs_with_extras(draw: st.DrawFn) -> Any:
    """A valid example with unknown keys of any value added to any of its objects."""
    document: Any = copy.deepcopy(VALID_EXAMPLES[draw(st.sampled_from(sorted(VALID_EXAMPLES)))])
    objects = [p for p in [(), *_paths(document)] if isinstance(_at(document, p), dict)]
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        target = _at(document, draw(st.sampled_from(objects)))
        target[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
    return document


@given(specs_with_extras())
def test_unknown_keys_anywhere_are_kept_and_fit_the_schema(document: Any) -> None:
    report = check_document(document, source="x")
    if not report.valid:  # a key that is a known one in another case, or a secret
        return
    assert report.spec is not None
    VALIDATOR.validate(document)
    assert json.loads(render(report.spec)) == document
