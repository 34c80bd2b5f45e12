"""Leases on disk: ids that cannot escape, whole-or-nothing creation, recovery, deletion."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gmsa.tickets.errors import LeaseIdError, LeaseNotFoundError, LeaseRequestError, LeaseStoreError
from gmsa.tickets.interface import GmsaAccount
from gmsa.tickets.leases import (
    Lease,
    LeaseStore,
    Owner,
    TicketRecord,
    check_lease_id,
    new_lease_id,
    safe_account_dir,
)

NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
WEBAPP01 = GmsaAccount("WebApp01", "example.com")
WEBAPP02 = GmsaAccount("WebApp02", "example.com")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")


def make_lease(
    *accounts: GmsaAccount, owner: Owner | None = None, user: tuple[str, str] | None = None
) -> Lease:
    records = tuple(
        TicketRecord(a, NOW, NOW + datetime.timedelta(hours=10), NOW)
        for a in accounts or (WEBAPP01,)
    )
    return Lease(new_lease_id(), NOW, NOW, records, user, owner)


@pytest.fixture
def store(tmp_path: Path) -> LeaseStore:
    s = LeaseStore(tmp_path / "krb")
    s.prepare()
    return s


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_lease_ids_are_20_lowercase_hex_digits_and_unique() -> None:
    ids = {new_lease_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 20 and int(i, 16) >= 0 and i == i.lower() for i in ids)


@pytest.mark.parametrize(
    "bad",
    ["", "../../../etc/passwd", "0123456789abcdef012", "0123456789abcdef01234",
     "0123456789ABCDEF0123", "0123456789abcdef012/", "/tmp/0123456789abcdef", "..",
     "0123456789abcdef012\n"],
)  # fmt: skip
def test_refuses_anything_but_a_lease_id(bad: str) -> None:
    with pytest.raises(LeaseIdError, match="not a lease id"):
        check_lease_id(bad)


@given(st.text(max_size=40))
def test_an_accepted_lease_id_names_a_direct_child_of_the_krb_dir(text: str) -> None:
    store = LeaseStore(Path("/srv/krb"))
    try:
        path = store.lease_dir(text)
    except LeaseIdError:
        return
    assert path.parent == Path("/srv/krb")
    assert path.name == text


@pytest.mark.parametrize(
    "name", ["", ".", "..", "../x", "a/b", ".hidden", "a\\b", "nul\0", "tab\t"]
)
def test_refuses_gmsa_names_that_are_not_one_directory(name: str) -> None:
    with pytest.raises(LeaseRequestError):
        safe_account_dir(name)


def test_create_writes_one_private_ccache_per_gmsa_and_metadata(store: LeaseStore) -> None:
    lease = make_lease(WEBAPP01, WEBAPP02)
    paths = store.create(lease, {WEBAPP01: b"cc1", WEBAPP02: b"cc2"})
    root = store.root / lease.lease_id
    assert paths == (root / "WebApp01", root / "WebApp02")
    assert (root / "WebApp01" / "krb5cc").read_bytes() == b"cc1"
    assert (root / "WebApp02" / "krb5cc").read_bytes() == b"cc2"
    assert mode(root / "WebApp01" / "krb5cc") == 0o600
    assert mode(root / "WebApp01") == 0o700
    assert mode(root / "lease.json") == 0o600
    metadata = json.loads((root / "lease.json").read_text())
    assert metadata["lease_id"] == lease.lease_id
    assert [t["name"] for t in metadata["tickets"]] == ["WebApp01", "WebApp02"]


def test_a_failed_creation_leaves_nothing_behind(store: LeaseStore) -> None:
    bad = GmsaAccount("../escape", "example.com")
    lease = make_lease(WEBAPP01, bad)
    with pytest.raises(LeaseRequestError):
        store.create(lease, {WEBAPP01: b"cc1", bad: b"cc2"})
    assert list(store.root.iterdir()) == []


def test_prepare_removes_staging_left_by_a_crash(store: LeaseStore) -> None:
    (store.root / ".staging-0123456789abcdef0123-aa").mkdir()
    (store.root / ".staging-0123456789abcdef0123-aa" / "lease.json").write_text("{}")
    store.prepare()
    assert list(store.root.iterdir()) == []


def test_prepare_refuses_a_world_writable_krb_dir(tmp_path: Path) -> None:
    root = tmp_path / "krb"
    root.mkdir()
    root.chmod(0o777)
    with pytest.raises(LeaseStoreError, match="writable by every user"):
        LeaseStore(root).prepare()


def test_prepare_refuses_a_file_as_krb_dir(tmp_path: Path) -> None:
    (tmp_path / "krb").write_text("")
    with pytest.raises(LeaseStoreError):
        LeaseStore(tmp_path / "krb").prepare()


def test_load_all_recovers_every_lease(store: LeaseStore) -> None:
    first = make_lease(WEBAPP01)
    second = make_lease(
        WEBAPP01, WEBAPP02, user=("svc-gmsa", "example.com"), owner=Owner(1000, 1001)
    )
    store.create(first, {WEBAPP01: b"a"})
    store.create(second, {WEBAPP01: b"b", WEBAPP02: b"c"})
    leases, broken = store.load_all()
    assert broken == []
    assert {lease.lease_id: lease for lease in leases} == {
        first.lease_id: first,
        second.lease_id: second,
    }


def test_load_all_reports_a_lease_with_unreadable_metadata(store: LeaseStore) -> None:
    lease = make_lease(WEBAPP01)
    store.create(lease, {WEBAPP01: b"a"})
    (store.root / lease.lease_id / "lease.json").write_text('{"version": 1, "version": 2}')
    leases, broken = store.load_all()
    assert leases == []
    assert [b.path.name for b in broken] == [lease.lease_id]
    assert "more than once" in broken[0].reason


def test_load_all_ignores_what_is_not_a_lease(store: LeaseStore) -> None:
    (store.root / "notes.txt").write_text("x")
    (store.root / "other-directory").mkdir()
    assert store.load_all() == ([], [])


def test_metadata_with_a_foreign_lease_id_is_not_trusted(store: LeaseStore) -> None:
    lease = make_lease(WEBAPP01)
    store.create(lease, {WEBAPP01: b"a"})
    path = store.root / lease.lease_id / "lease.json"
    document = json.loads(path.read_text())
    document["lease_id"] = new_lease_id()
    path.write_text(json.dumps(document))
    assert "does not match" in store.load_all()[1][0].reason


def test_metadata_with_an_escaping_gmsa_name_is_not_trusted(store: LeaseStore) -> None:
    lease = make_lease(WEBAPP01)
    store.create(lease, {WEBAPP01: b"a"})
    path = store.root / lease.lease_id / "lease.json"
    document = json.loads(path.read_text())
    document["tickets"][0]["name"] = "../../etc"
    path.write_text(json.dumps(document))
    leases, broken = store.load_all()
    assert leases == [] and len(broken) == 1


def test_delete_removes_the_lease_and_returns_its_ticket_dirs(store: LeaseStore) -> None:
    lease = make_lease(WEBAPP01, WEBAPP02)
    created = store.create(lease, {WEBAPP01: b"a", WEBAPP02: b"b"})
    assert store.delete(lease.lease_id) == created
    assert list(store.root.iterdir()) == []


def test_delete_of_an_unknown_lease_says_so(store: LeaseStore) -> None:
    with pytest.raises(LeaseNotFoundError):
        store.delete(new_lease_id())


def test_write_ccache_replaces_the_cache_atomically(store: LeaseStore) -> None:
    lease = make_lease(WEBAPP01)
    store.create(lease, {WEBAPP01: b"old"})
    path = store.write_ccache(lease, WEBAPP01, b"new")
    assert path.read_bytes() == b"new"
    assert mode(path) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["krb5cc"]


@needs_root
def test_an_owned_lease_gives_its_caches_to_the_owner(store: LeaseStore) -> None:
    lease = make_lease(WEBAPP01, owner=Owner(4321, 8765))
    store.create(lease, {WEBAPP01: b"a"})
    ccache = store.ccache_path(lease.lease_id, WEBAPP01)
    assert (ccache.stat().st_uid, ccache.stat().st_gid) == (4321, 8765)
    assert (ccache.parent.stat().st_uid, ccache.parent.stat().st_gid) == (4321, 8765)
    assert mode(ccache) == 0o600
    assert mode(store.root / lease.lease_id) == 0o711
    store.write_ccache(lease, WEBAPP01, b"renewed")
    assert (ccache.stat().st_uid, ccache.stat().st_gid) == (4321, 8765)


@needs_root
def test_set_owner_changes_an_existing_lease(store: LeaseStore) -> None:
    lease = make_lease(WEBAPP01)
    store.create(lease, {WEBAPP01: b"a"})
    store.set_owner(lease, Owner(1234, 5678))
    ccache = store.ccache_path(lease.lease_id, WEBAPP01)
    assert (ccache.stat().st_uid, ccache.stat().st_gid) == (1234, 5678)


# --------------------------------------------------------------------------- links


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere"
    (path / WEBAPP01.name).mkdir(parents=True)
    (path / WEBAPP01.name / "krb5cc").write_bytes(b"not yours")
    (path / "lease.json").write_text("{}")
    return path


def tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(directory.rglob("*"))
    }


def test_renewal_never_writes_through_a_linked_ticket_dir(store: LeaseStore, outside: Path) -> None:
    lease = make_lease(WEBAPP01)
    store.create(lease, {WEBAPP01: b"old"})
    ticket_dir = store.ticket_dir(lease.lease_id, WEBAPP01)
    (ticket_dir / "krb5cc").unlink()
    ticket_dir.rmdir()
    ticket_dir.symlink_to(outside / WEBAPP01.name)
    before = tree(outside)
    with pytest.raises(LeaseStoreError) as caught:
        store.write_ccache(lease, WEBAPP01, b"new")
    assert caught.value.where == str(ticket_dir)
    assert "symbolic link" in caught.value.what
    with pytest.raises(LeaseStoreError):
        store.save(replace_lease_dir_with_link(store, lease.lease_id, outside))
    assert tree(outside) == before


def replace_lease_dir_with_link(store: LeaseStore, lease_id: str, target: Path) -> Lease:
    shutil.rmtree(store.lease_dir(lease_id))
    store.lease_dir(lease_id).symlink_to(target)
    return Lease(lease_id, NOW, NOW, (TicketRecord(WEBAPP01, NOW, NOW, NOW),))


def test_delete_refuses_a_lease_that_is_a_link_and_removes_nothing_outside(
    store: LeaseStore, outside: Path
) -> None:
    lease_id = new_lease_id()
    (store.root / lease_id).symlink_to(outside)
    before = tree(outside)
    with pytest.raises(LeaseStoreError) as caught:
        store.delete(lease_id)
    assert caught.value.where == str(store.root / lease_id)
    assert tree(outside) == before
    leases, broken = store.load_all()
    assert leases == []
    assert [b.path for b in broken] == [store.root / lease_id]


def test_a_krb_dir_that_is_a_link_is_refused(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "krb").symlink_to(outside)
    with pytest.raises(LeaseStoreError, match="symbolic link"):
        LeaseStore(tmp_path / "krb").prepare()


def test_the_store_keeps_working_in_the_krb_dir_it_opened(tmp_path: Path) -> None:
    store = LeaseStore(tmp_path / "krb")
    store.prepare()
    (tmp_path / "krb").rename(tmp_path / "moved")
    (tmp_path / "krb").mkdir()
    lease = make_lease(WEBAPP01)
    store.create(lease, {WEBAPP01: b"a"})
    assert (tmp_path / "moved" / lease.lease_id / WEBAPP01.name / "krb5cc").read_bytes() == b"a"
    assert list((tmp_path / "krb").iterdir()) == []


def test_prepare_drops_a_staging_link_and_keeps_what_it_points_to(
    tmp_path: Path, outside: Path
) -> None:
    (tmp_path / "krb").mkdir(mode=0o711)
    (tmp_path / "krb" / ".staging-x").symlink_to(outside)
    before = tree(outside)
    LeaseStore(tmp_path / "krb").prepare()
    assert list((tmp_path / "krb").iterdir()) == []
    assert tree(outside) == before
