"""The ticket service's logic with an in-process directory double and a fake clock."""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gmsa.domainless import DomainlessUser
from gmsa.errors import InvalidInputError
from gmsa.kerberos.ccache import encode_ccache
from gmsa.kerberos.keys import derive_keys
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.errors import LeaseIdError, LeaseNotFoundError, LeaseRequestError
from gmsa.tickets.interface import (
    AccountNotFoundError,
    CredentialProviderError,
    GmsaAccount,
    HostIdentityError,
    PasswordAccessDeniedError,
)
from gmsa.tickets.leases import LeaseStore, Owner
from gmsa.tickets.service import HEALTHY, TicketService
from tests.support.directory_double import DirectoryDouble
from tests.support.tickets import FakeClock, spec_for

H = datetime.timedelta(hours=1)
USER = DomainlessUser("svc-gmsa", "example.com", "User-Passw0rd!")


def ccache(krb_dir: Path, lease_id: str, name: str) -> bytes:
    return (krb_dir / lease_id / name / "krb5cc").read_bytes()


# --------------------------------------------------------------------------- creating leases


def test_a_lease_holds_a_ticket_cache_per_gmsa(service: TicketService, krb_dir: Path) -> None:
    result = service.add_lease([spec_for("WebApp01"), spec_for("WebApp02")])
    assert result.paths == (
        krb_dir / result.lease_id / "WebApp01",
        krb_dir / result.lease_id / "WebApp02",
    )
    for path in result.paths:
        data = (path / "krb5cc").read_bytes()
        assert data.startswith(b"\x05\x04")
        assert f"{path.name}$".encode() in data


def test_the_cache_holds_the_ticket_the_kdc_issued(
    service: TicketService, krb_dir: Path, double: DirectoryDouble
) -> None:
    result = service.add_lease([spec_for("WebApp01")])
    account = GmsaAccount("WebApp01", "example.com")
    keys = derive_keys(double.current_password("WebApp01"), account="WebApp01", realm="EXAMPLE.COM")
    double._issued -= 1  # issue the same serial again to compare byte for byte
    expected = double.get_tgt(account, keys)
    assert ccache(krb_dir, result.lease_id, "WebApp01") == encode_ccache([expected])


def test_two_specs_for_one_gmsa_make_one_directory(service: TicketService) -> None:
    result = service.add_lease([spec_for("WebApp01"), spec_for("webapp01")])
    assert [p.name for p in result.paths] == ["WebApp01"]


def test_an_empty_request_is_refused(service: TicketService, krb_dir: Path) -> None:
    with pytest.raises(LeaseRequestError, match="credspec_contents is empty"):
        service.add_lease([])


def test_an_invalid_spec_is_refused_with_its_json_path(
    service: TicketService, krb_dir: Path
) -> None:
    document = json.loads(spec_for("WebApp01"))
    del document["DomainJoinConfig"]["DnsName"]
    with pytest.raises(InvalidInputError) as caught:
        service.add_lease([spec_for("WebApp02"), json.dumps(document)])
    assert "credspec_contents[1]" in str(caught.value.where)
    assert "DnsName" in str(caught.value)
    assert list(krb_dir.iterdir()) == []


def test_a_spec_that_is_not_json_is_refused(service: TicketService) -> None:
    with pytest.raises(InvalidInputError):
        service.add_lease(["webapp01$@EXAMPLE.COM"])


def test_one_name_in_two_domains_is_refused(service: TicketService) -> None:
    with pytest.raises(LeaseRequestError, match="different domains"):
        service.add_lease([spec_for("WebApp01"), spec_for("WebApp01", "other.example.com")])


def test_a_missing_gmsa_leaves_no_lease(service: TicketService, krb_dir: Path) -> None:
    with pytest.raises(AccountNotFoundError):
        service.add_lease([spec_for("WebApp01"), spec_for("Missing01")])
    assert list(krb_dir.iterdir()) == []


def test_a_host_that_may_not_read_the_password_gets_no_lease(
    service: TicketService, krb_dir: Path, double: DirectoryDouble
) -> None:
    double.add_gmsa("Private01", readers={"someone-else"})
    with pytest.raises(PasswordAccessDeniedError, match="may not retrieve"):
        service.add_lease([spec_for("Private01")])
    assert list(krb_dir.iterdir()) == []


def test_an_unreachable_dc_leaves_no_lease(
    service: TicketService, krb_dir: Path, double: DirectoryDouble
) -> None:
    double.down = True
    with pytest.raises(CredentialProviderError, match="does not answer"):
        service.add_lease([spec_for("WebApp01")])
    assert list(krb_dir.iterdir()) == []


def test_a_provider_bug_becomes_a_typed_error_without_its_message(
    service: TicketService, double: DirectoryDouble
) -> None:
    double.crash = True
    with pytest.raises(CredentialProviderError) as caught:
        service.add_lease([spec_for("WebApp01")])
    assert "RuntimeError" in caught.value.what
    assert "secret" not in caught.value.diagnostics()


def test_the_kdc_double_refuses_keys_of_another_password(double: DirectoryDouble) -> None:
    account = GmsaAccount("WebApp01", "example.com")
    keys = derive_keys(double.current_password("WebApp02"), account="WebApp01", realm="EXAMPLE.COM")
    with pytest.raises(CredentialProviderError, match="pre-authentication"):
        double.get_tgt(account, keys)


# --------------------------------------------------------------------------- domainless


def test_a_domainless_lease_reads_the_password_as_the_user(
    service: TicketService, double: DirectoryDouble
) -> None:
    result = service.add_lease([spec_for("WebApp01")], USER)
    assert service.lease(result.lease_id).domainless_user == ("svc-gmsa", "example.com")
    assert service.lease(result.lease_id).mode == "domainless"


def test_a_domainless_lease_needs_every_user_field(service: TicketService) -> None:
    with pytest.raises(LeaseRequestError, match="password must not be empty"):
        service.add_lease([spec_for("WebApp01")], DomainlessUser("svc-gmsa", "example.com", ""))


def test_a_wrong_user_password_is_refused_without_echoing_it(service: TicketService) -> None:
    wrong = DomainlessUser("svc-gmsa", "example.com", "Wrong-Passw0rd!")
    with pytest.raises(HostIdentityError) as caught:
        service.add_lease([spec_for("WebApp01")], wrong)
    assert "Wrong-Passw0rd!" not in caught.value.diagnostics()
    assert "Wrong-Passw0rd!" not in repr(wrong)


def test_the_user_password_is_never_written_to_disk(service: TicketService, krb_dir: Path) -> None:
    service.add_lease([spec_for("WebApp01")], USER)
    for path in krb_dir.rglob("*"):
        if path.is_file():
            assert b"User-Passw0rd!" not in path.read_bytes()


def test_renew_domainless_renews_only_that_users_leases(
    service: TicketService, double: DirectoryDouble
) -> None:
    mine = service.add_lease([spec_for("WebApp01"), spec_for("WebApp02")], USER)
    service.add_lease([spec_for("WebApp01")])
    before = double.password_reads
    renewed = service.renew_domainless(USER)
    assert sorted(renewed) == sorted(mine.paths)
    assert double.password_reads - before == 2


def test_renew_domainless_with_no_leases_renews_nothing(service: TicketService) -> None:
    assert service.renew_domainless(USER) == ()


def test_renew_domainless_reports_a_failure(
    service: TicketService, double: DirectoryDouble
) -> None:
    service.add_lease([spec_for("WebApp01")], USER)
    double.down = True
    with pytest.raises(CredentialProviderError):
        service.renew_domainless(USER)


def test_renew_naming_a_lease_moves_it_to_a_new_user(
    service: TicketService, double: DirectoryDouble, krb_dir: Path
) -> None:
    lease = service.add_lease([spec_for("WebApp01")], USER)
    blue = DomainlessUser("svc-blue", "example.com", "Blue-Passw0rd!")
    double.add_user(blue.username, blue.password, may_read=("WebApp01",))
    assert service.renew_domainless(blue) == ()  # the ECS agent's call: no lease is blue's
    assert service.renew_domainless(blue, [lease.lease_id]) == lease.paths
    assert service.lease(lease.lease_id).domainless_user == ("svc-blue", "example.com")
    metadata = json.loads((krb_dir / lease.lease_id / "lease.json").read_text())
    assert metadata["domainless_user"]["username"] == "svc-blue"
    assert b"Blue-Passw0rd!" not in (krb_dir / lease.lease_id / "lease.json").read_bytes()
    assert service.renew_domainless(blue) == lease.paths  # now the agent's call finds it


def test_a_wrong_new_password_is_not_adopted(
    service: TicketService, double: DirectoryDouble, clock: FakeClock
) -> None:
    lease = service.add_lease([spec_for("WebApp01")], USER)
    typo = DomainlessUser(USER.username, USER.domain, "Typo-Passw0rd!")
    with pytest.raises(HostIdentityError):
        service.renew_domainless(typo)
    with pytest.raises(HostIdentityError):
        service.renew_domainless(typo, [lease.lease_id])
    assert service.lease(lease.lease_id).tickets[0].last_error is not None
    # The scheduler goes on with the password that works, and clears the error.
    report = service.run_due(clock.advance(7 * H))
    assert report.failed == () and report.renewed == lease.paths
    assert service.lease(lease.lease_id).tickets[0].last_error is None


def test_renew_naming_an_unknown_or_domain_joined_lease_is_refused(
    service: TicketService,
) -> None:
    joined = service.add_lease([spec_for("WebApp01")])
    with pytest.raises(LeaseNotFoundError):
        service.renew_domainless(USER, ["0123456789abcdef0123"])
    with pytest.raises(LeaseRequestError, match="domain-joined"):
        service.renew_domainless(USER, [joined.lease_id])
    with pytest.raises(LeaseIdError):
        service.renew_domainless(USER, ["../etc"])


# --------------------------------------------------------------------------- sharing work


def test_concurrent_leases_for_one_gmsa_share_one_acquisition(
    service: TicketService, double: DirectoryDouble
) -> None:
    double.latency = 0.5
    barrier = threading.Barrier(16)

    def lease(_: int) -> str:
        barrier.wait()
        return service.add_lease([spec_for("WebApp01")]).lease_id

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(lease, range(16)))
    assert len(set(ids)) == 16
    assert double.password_reads == 1
    assert double.tgt_requests == 1


def test_leases_for_different_gmsas_are_acquired_in_parallel(
    service: TicketService, double: DirectoryDouble
) -> None:
    double.latency = 0.4
    started = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        list(
            pool.map(
                lambda n: service.add_lease([spec_for(n)]), ["WebApp01", "WebApp02", "WebApp03"]
            )
        )
    assert double.max_concurrent >= 2
    assert time.monotonic() - started < 1.0


def test_a_recent_ticket_is_reused_within_the_window(
    krb_dir: Path, double: DirectoryDouble, clock: FakeClock
) -> None:
    settings = ServiceSettings(ticket_reuse=datetime.timedelta(seconds=60))
    service = TicketService(LeaseStore(krb_dir), double, settings, clock=clock)
    service.start(scheduler=False)
    service.add_lease([spec_for("WebApp01")])
    clock.advance(datetime.timedelta(seconds=30))
    service.add_lease([spec_for("WebApp01")])
    assert double.password_reads == 1
    clock.advance(datetime.timedelta(seconds=31))
    service.add_lease([spec_for("WebApp01")])
    assert double.password_reads == 2
    service.stop()


def test_without_a_reuse_window_each_lease_gets_a_fresh_ticket(
    service: TicketService, double: DirectoryDouble
) -> None:
    service.add_lease([spec_for("WebApp01")])
    service.add_lease([spec_for("WebApp01")])
    assert double.password_reads == 2


# --------------------------------------------------------------------------- renewal


def test_renewal_is_planned_at_70_percent_of_a_ten_hour_ticket(
    service: TicketService, clock: FakeClock
) -> None:
    result = service.add_lease([spec_for("WebApp01")])
    ticket = service.status()["leases"][0]["tickets"][0]
    assert ticket["next_renewal"] == (clock.now + 7 * H).isoformat().replace("+00:00", "Z")
    assert result.lease_id == service.status()["leases"][0]["lease_id"]


def test_nothing_is_renewed_before_it_is_due(
    service: TicketService, clock: FakeClock, double: DirectoryDouble
) -> None:
    service.add_lease([spec_for("WebApp01")])
    report = service.run_due(clock.advance(6 * H))
    assert report.acquisitions == 0
    assert double.password_reads == 1


def test_a_due_ticket_is_renewed_in_place(
    service: TicketService, clock: FakeClock, krb_dir: Path
) -> None:
    result = service.add_lease([spec_for("WebApp01")])
    before = ccache(krb_dir, result.lease_id, "WebApp01")
    report = service.run_due(clock.advance(7 * H))
    assert report.renewed == result.paths
    assert ccache(krb_dir, result.lease_id, "WebApp01") != before
    record = service.lease(result.lease_id).tickets[0]
    assert record.last_renewal == clock.now
    assert record.end_time == clock.now + 10 * H


def test_renewal_rereads_the_password_so_rotation_is_picked_up(
    service: TicketService, clock: FakeClock, double: DirectoryDouble
) -> None:
    result = service.add_lease([spec_for("WebApp01")])
    double.rotate("WebApp01")
    report = service.run_due(clock.advance(7 * H))
    assert report.failed == ()
    assert report.renewed == result.paths
    assert double.password_reads == 2


def test_keys_are_derived_again_only_when_the_password_changed(
    service: TicketService, clock: FakeClock, double: DirectoryDouble
) -> None:
    """Every acquisition reads the password; the PBKDF2 runs only for a password not seen
    before, and the KDC double accepts only keys of the current one."""
    counters = service.acquirer.counters
    service.add_lease([spec_for("WebApp01")])
    service.add_lease([spec_for("WebApp01")])
    service.add_lease([spec_for("WebApp02")])
    assert (counters.password_reads, counters.key_derivations) == (3, 2)
    double.rotate("WebApp01")
    report = service.run_due(clock.advance(7 * H))
    assert report.failed == ()
    assert (counters.password_reads, counters.key_derivations) == (5, 3)


def test_one_password_read_per_gmsa_per_round(
    service: TicketService, clock: FakeClock, double: DirectoryDouble
) -> None:
    names = ["WebApp01", "WebApp02", "WebApp03"]
    leases = [service.add_lease([spec_for(names[i % 3])]) for i in range(30)]
    reads = double.password_reads
    report = service.run_due(clock.advance(7 * H))
    assert double.password_reads - reads == 3
    assert report.acquisitions == 3
    assert len(report.renewed) == 30
    assert {p for lease in leases for p in lease.paths} == set(report.renewed)


def test_leases_of_one_gmsa_are_renewed_together(
    service: TicketService, clock: FakeClock, double: DirectoryDouble
) -> None:
    early = service.add_lease([spec_for("WebApp01")])
    clock.advance(2 * H)
    late = service.add_lease([spec_for("WebApp01")])
    report = service.run_due(clock.advance(5 * H))
    assert set(report.renewed) == set(early.paths + late.paths)
    assert report.acquisitions == 1
    assert service.run_due(clock.advance(2 * H)).acquisitions == 0


def test_a_failed_renewal_is_reported_and_retried_with_backoff(
    service: TicketService, clock: FakeClock, double: DirectoryDouble
) -> None:
    result = service.add_lease([spec_for("WebApp01")])
    double.down = True
    report = service.run_due(clock.advance(7 * H))
    assert [(lease_id, name) for lease_id, name, _ in report.failed] == [
        (result.lease_id, "WebApp01")
    ]
    ticket = service.status()["leases"][0]["tickets"][0]
    assert "does not answer" in ticket["last_error"]
    assert ticket["failures"] == 1
    assert ticket["next_renewal"] == (
        clock.now + datetime.timedelta(seconds=30)
    ).isoformat().replace("+00:00", "Z")
    health = service.health()
    assert health != HEALTHY
    assert result.lease_id in health and "does not answer" in health
    service.run_due(clock.advance(datetime.timedelta(seconds=30)))
    assert service.lease(result.lease_id).tickets[0].failures == 2
    assert service.run_due(clock.advance(datetime.timedelta(seconds=30))).acquisitions == 0


def test_a_recovered_dc_clears_the_error(
    service: TicketService, clock: FakeClock, double: DirectoryDouble
) -> None:
    service.add_lease([spec_for("WebApp01")])
    double.down = True
    service.run_due(clock.advance(7 * H))
    double.down = False
    report = service.run_due(clock.advance(datetime.timedelta(seconds=30)))
    assert report.failed == () and len(report.renewed) == 1
    assert service.health() == HEALTHY
    assert service.lease(report.renewed[0].parent.name).tickets[0].failures == 0


def test_an_expired_ticket_makes_the_service_unhealthy(
    service: TicketService, clock: FakeClock
) -> None:
    service.add_lease([spec_for("WebApp01")])
    assert service.health() == HEALTHY
    clock.advance(11 * H)
    assert "expired" in service.health()


def test_health_lists_at_most_three_problems(
    service: TicketService, clock: FakeClock, double: DirectoryDouble
) -> None:
    for _ in range(5):
        service.add_lease([spec_for("WebApp01")])
    double.down = True
    service.run_due(clock.advance(7 * H))
    assert service.health().startswith("FAILING: 5 problems: ")
    assert service.health().endswith("; and 2 more")


def test_the_scheduler_thread_renews_without_being_asked(krb_dir: Path) -> None:
    double = DirectoryDouble(lifetime=datetime.timedelta(seconds=2))
    double.add_gmsa("WebApp01")
    service = TicketService(
        LeaseStore(krb_dir), double, ServiceSettings(ticket_reuse=datetime.timedelta(0))
    )
    service.start()
    try:
        service.add_lease([spec_for("WebApp01")])
        deadline = time.monotonic() + 5
        while double.tgt_requests < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert double.tgt_requests >= 2
    finally:
        service.stop()


def test_new_leases_do_not_wake_the_scheduler_unless_they_are_due_sooner(
    krb_dir: Path, double: DirectoryDouble
) -> None:
    """A round scans every lease; waking the loop for each new lease made a burst of N
    leases cost N scans. A lease is due in hours, after the loop's own next wake-up."""
    service = TicketService(
        LeaseStore(krb_dir), double, ServiceSettings(ticket_reuse=datetime.timedelta(0))
    )
    rounds = []
    run_due = service.run_due
    service.run_due = lambda *a, **k: rounds.append(1) or run_due(*a, **k)  # type: ignore[method-assign]
    service.start()
    try:
        deadline = time.monotonic() + 5
        while service._planned in (None, datetime.datetime.min.replace(tzinfo=datetime.UTC)):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        for _ in range(20):
            service.add_lease([spec_for("WebApp01")])
        time.sleep(0.3)
        assert len(rounds) == 1  # the first round at start, none since
    finally:
        service.stop()


# --------------------------------------------------------------------------- deleting, TTL


def test_delete_removes_the_lease_files(service: TicketService, krb_dir: Path) -> None:
    result = service.add_lease([spec_for("WebApp01")])
    assert service.delete_lease(result.lease_id).paths == result.paths
    assert not (krb_dir / result.lease_id).exists()
    with pytest.raises(LeaseNotFoundError):
        service.delete_lease(result.lease_id)


def test_delete_refuses_a_path_as_lease_id(service: TicketService, krb_dir: Path) -> None:
    with pytest.raises(LeaseIdError):
        service.delete_lease("../krb")
    assert krb_dir.exists()


def test_a_deleted_lease_is_not_renewed(
    service: TicketService, clock: FakeClock, double: DirectoryDouble
) -> None:
    result = service.add_lease([spec_for("WebApp01")])
    service.delete_lease(result.lease_id)
    assert service.run_due(clock.advance(8 * H)).acquisitions == 0


def test_orphaned_leases_expire_after_the_ttl(
    krb_dir: Path, double: DirectoryDouble, clock: FakeClock
) -> None:
    settings = ServiceSettings(
        lease_ttl=datetime.timedelta(days=1), ticket_reuse=datetime.timedelta(0)
    )
    service = TicketService(LeaseStore(krb_dir), double, settings, clock=clock)
    service.start(scheduler=False)
    orphan = service.add_lease([spec_for("WebApp01")])
    kept = service.add_lease([spec_for("WebApp01")], USER)
    clock.advance(datetime.timedelta(hours=20))
    service.renew_domainless(USER)
    report = service.run_due(clock.advance(datetime.timedelta(hours=5)))
    assert report.expired_leases == (orphan.lease_id,)
    assert not (krb_dir / orphan.lease_id).exists()
    assert (krb_dir / kept.lease_id).exists()
    service.stop()


# --------------------------------------------------------------------------- restart


def test_a_restarted_service_recovers_and_renews_every_lease(
    krb_dir: Path, double: DirectoryDouble, clock: FakeClock, settings: ServiceSettings
) -> None:
    first = TicketService(LeaseStore(krb_dir), double, settings, clock=clock)
    first.start(scheduler=False)
    leases = [first.add_lease([spec_for(n)]) for n in ("WebApp01", "WebApp02", "WebApp01")]
    first.stop()
    reads = double.password_reads
    second = TicketService(LeaseStore(krb_dir), double, settings, clock=clock)
    second.start(scheduler=False)
    assert {lease["lease_id"] for lease in second.status()["leases"]} == {
        r.lease_id for r in leases
    }
    report = second.run_due(clock.advance(datetime.timedelta(minutes=1)))
    assert set(report.renewed) == {p for r in leases for p in r.paths}
    assert double.password_reads - reads == 2
    second.stop()


def test_domainless_leases_wait_for_the_agents_credentials_after_a_restart(
    krb_dir: Path, double: DirectoryDouble, clock: FakeClock, settings: ServiceSettings
) -> None:
    first = TicketService(LeaseStore(krb_dir), double, settings, clock=clock)
    first.start(scheduler=False)
    result = first.add_lease([spec_for("WebApp01")], USER)
    first.stop()
    second = TicketService(LeaseStore(krb_dir), double, settings, clock=clock)
    second.start(scheduler=False)
    assert second.status()["leases"][0]["awaiting_credentials"] is True
    assert second.run_due().acquisitions == 0
    assert second.renew_domainless(USER) == result.paths
    assert second.status()["leases"][0]["awaiting_credentials"] is False
    second.stop()


def test_an_unreadable_lease_on_disk_shows_in_health(
    krb_dir: Path, double: DirectoryDouble, clock: FakeClock, settings: ServiceSettings
) -> None:
    first = TicketService(LeaseStore(krb_dir), double, settings, clock=clock)
    first.start(scheduler=False)
    result = first.add_lease([spec_for("WebApp01")])
    first.stop()
    (krb_dir / result.lease_id / "lease.json").write_text("not json")
    second = TicketService(LeaseStore(krb_dir), double, settings, clock=clock)
    second.start(scheduler=False)
    assert result.lease_id in second.health()
    second.delete_lease(result.lease_id)
    assert second.health() == HEALTHY
    second.stop()


# --------------------------------------------------------------------------- owners


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")


@needs_root
def test_configured_owners_apply_per_gmsa(
    krb_dir: Path, double: DirectoryDouble, clock: FakeClock
) -> None:
    settings = ServiceSettings(
        ccache_owner=Owner(1000, 1000),
        account_owners={"webapp02": Owner(2000, 2001)},
        ticket_reuse=datetime.timedelta(0),
    )
    service = TicketService(LeaseStore(krb_dir), double, settings, clock=clock)
    service.start(scheduler=False)
    one = service.add_lease([spec_for("WebApp01")])
    two = service.add_lease([spec_for("WebApp02")])
    st1 = (one.paths[0] / "krb5cc").stat()
    st2 = (two.paths[0] / "krb5cc").stat()
    assert (st1.st_uid, st1.st_gid) == (1000, 1000)
    assert (st2.st_uid, st2.st_gid) == (2000, 2001)
    service.run_due(clock.advance(7 * H))
    st2 = (two.paths[0] / "krb5cc").stat()
    assert (st2.st_uid, st2.st_gid) == (2000, 2001)
    service.stop()


@needs_root
def test_set_owner_survives_renewal(service: TicketService, clock: FakeClock) -> None:
    result = service.add_lease([spec_for("WebApp01")])
    service.set_owner(result.lease_id, Owner(3000, 3001))
    service.run_due(clock.advance(7 * H))
    info = (result.paths[0] / "krb5cc").stat()
    assert (info.st_uid, info.st_gid) == (3000, 3001)
    assert service.lease(result.lease_id).owner == Owner(3000, 3001)
