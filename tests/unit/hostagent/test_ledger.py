"""Task ids, the per-task ledger and what cleanup may trust in it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmsa.errors import ExitCode
from gmsa.hostagent.interface import (
    HostStateError,
    InvalidTaskIdError,
    TaskInputError,
    check_task_id,
)
from gmsa.hostagent.ledger import (
    LeaseLedger,
    Ledger,
    LedgerEntry,
    file_prefix,
    ledger_path,
    read_lease_ledger,
    read_ledger,
    remove_ledger,
    task_definition_identity,
    write_lease_ledger,
    write_ledger,
)
from gmsa.hostagent.windows import check_task_arn
from gmsa.taskdef.model import parse_task_definition

TASK_ID = "0123456789abcdef0123456789abcdef"
NAME = f"gmsa_{TASK_ID}_s3_0123456789abcdef.json"
DIGEST = "a" * 64


def sample() -> Ledger:
    entry = LedgerEntry(
        name=NAME, sha256=DIGEST, reference="credentialspec:arn:aws:s3:::b/k", containers=("web",)
    )
    return Ledger(task_id=TASK_ID, task_arn=None, files=(entry,))


@given(st.text(max_size=80))
def test_task_id_check_accepts_or_raises_its_typed_error(task_id: str) -> None:
    try:
        accepted = check_task_id(task_id)
    except InvalidTaskIdError as exc:
        assert exc.exit_code == ExitCode.INVALID
        assert exc.fix
    else:
        assert accepted == task_id


@given(st.text(max_size=80))
def test_accepted_task_ids_make_plain_file_names(task_id: str) -> None:
    try:
        check_task_id(task_id)
    except InvalidTaskIdError:
        return
    for name in (file_prefix(task_id), ledger_path(Path("root"), task_id).name):
        assert "/" not in name and "\\" not in name and ".." not in name
    assert ledger_path(Path("root"), task_id).parent == Path("root/.gmsa/tasks")


@pytest.mark.parametrize("task_id", [TASK_ID, "5b7c8e4a-2d7f-4b8e-9a1c-3f2e1d0c9b8a", "t1"])
def test_ecs_task_id_forms_are_accepted(task_id: str) -> None:
    assert check_task_id(task_id) == task_id


def test_whole_task_arn_as_task_id_is_refused_with_a_hint() -> None:
    with pytest.raises(InvalidTaskIdError, match="looks like an ARN") as caught:
        check_task_id(f"arn:aws:ecs:us-east-1:123456789012:task/default/{TASK_ID}")
    assert caught.value.fix is not None and "last part of the task ARN" in caught.value.fix


def test_ledger_round_trips(tmp_path: Path) -> None:
    write_ledger(tmp_path, sample())
    assert read_ledger(tmp_path, TASK_ID) == sample()


def test_unknown_task_has_no_ledger(tmp_path: Path) -> None:
    assert read_ledger(tmp_path, TASK_ID) is None


def test_removing_a_missing_ledger_is_fine(tmp_path: Path) -> None:
    remove_ledger(tmp_path, TASK_ID)
    write_ledger(tmp_path, sample())
    remove_ledger(tmp_path, TASK_ID)
    assert read_ledger(tmp_path, TASK_ID) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "webapp01.json"),
        ("name", f"gmsa_{TASK_ID}_s3_0123456789abcdef.json/../../x.json"),
        ("name", "gmsa_othertask_s3_0123456789abcdef.json"),
        ("sha256", "zz"),
        ("containers", "web"),
        ("reference", 3),
        ("earlier", ["zz"]),
        ("earlier", "a" * 64),
    ],
)
def test_ledger_entry_that_prepare_could_not_have_written_is_refused(
    tmp_path: Path, field: str, value: object
) -> None:
    write_ledger(tmp_path, sample())
    path = ledger_path(tmp_path, TASK_ID)
    doc = json.loads(path.read_text())
    doc["files"][0][field] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(HostStateError) as caught:
        read_ledger(tmp_path, TASK_ID)
    assert caught.value.exit_code == ExitCode.EXTERNAL


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"format": 2}', '{"format": 1, "task_id": "x"}']
)
def test_damaged_ledger_is_a_typed_error(tmp_path: Path, text: str) -> None:
    path = ledger_path(tmp_path, TASK_ID)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(HostStateError, match="damaged"):
        read_ledger(tmp_path, TASK_ID)


def test_ledger_that_cannot_be_written_is_a_host_failure(tmp_path: Path) -> None:
    (tmp_path / ".gmsa").write_text("a file where the ledger directory should be")
    with pytest.raises(HostStateError) as caught:
        write_ledger(tmp_path, sample())
    assert caught.value.exit_code == ExitCode.EXTERNAL


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


@given(
    st.fixed_dictionaries(
        {"format": st.just(1), "task_id": st.just(TASK_ID)},
        optional={
            "task_arn": _json,
            "task_definition": _json,
            "files": st.lists(_json, max_size=3) | _json,
        },
    )
)
def test_any_ledger_document_reads_or_raises_the_typed_error(doc: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = ledger_path(Path(tmp), TASK_ID)
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(doc))
        try:
            ledger = read_ledger(Path(tmp), TASK_ID)
        except HostStateError:
            return
    assert ledger is not None
    assert all(e.name.startswith(file_prefix(TASK_ID)) for e in ledger.files)


@given(st.text(max_size=120))
def test_task_arn_check_accepts_or_raises_its_typed_error(text: str) -> None:
    try:
        match = check_task_arn(text)
    except TaskInputError as exc:
        assert exc.exit_code == ExitCode.INVALID
    else:
        assert "\\" not in text
        assert match.group("id")


def test_earlier_digests_and_the_definition_round_trip(tmp_path: Path) -> None:
    (entry,) = sample().files
    entry = LedgerEntry(entry.name, entry.sha256, entry.reference, ("web",), ("b" * 64,))
    ledger = Ledger(TASK_ID, None, (entry,), task_definition="webapp:3")
    write_ledger(tmp_path, ledger)
    assert read_ledger(tmp_path, TASK_ID) == ledger
    assert entry.digests() == {"a" * 64, "b" * 64}


def test_lease_ledger_round_trips_with_its_definition(tmp_path: Path) -> None:
    ledger = LeaseLedger(TASK_ID, None, "0" * 20, (("ref", ("web",)),), "webapp")
    write_lease_ledger(tmp_path / "krb", ledger)
    assert read_lease_ledger(tmp_path / "krb", TASK_ID) == ledger
    assert read_lease_ledger(tmp_path / "absent", TASK_ID) is None
    assert not (tmp_path / "absent").exists()


@pytest.mark.parametrize(
    ("document", "identity"),
    [
        (
            {"taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/web:3", "family": "web"},
            "arn:aws:ecs:us-east-1:1:task-definition/web:3",
        ),
        ({"family": "web", "revision": 3}, "web:3"),
        ({"family": "web"}, "web"),
        ({}, "file taskdef.json"),
    ],
)
def test_a_task_definition_is_named_by_its_arn_family_and_revision_or_file(
    document: dict[str, object], identity: str
) -> None:
    doc = {**document, "containerDefinitions": [{"name": "web"}]}
    assert task_definition_identity(parse_task_definition(doc, source="taskdef.json")) == identity
