"""ARN leases (AddKerberosArnLease, RenewKerberosArnLease) with the directory double and
an in-memory S3 and Secrets Manager: parsing, all or nothing, what is kept on disk,
renewal with new keys, and the rotation of the domain user's secret."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gmsa.aws import AwsAccessDeniedError, AwsCredentialsError
from gmsa.credspec.validate import CredentialSpecError
from gmsa.kerberos.ccache import parse_ccache
from gmsa.tickets.arn import AwsKeys, parse_arn_entry
from gmsa.tickets.config import ServiceSettings
from gmsa.tickets.errors import (
    LeaseExistsError,
    LeaseIdError,
    LeaseNotFoundError,
    LeaseRequestError,
    grpc_status_of,
)
from gmsa.tickets.interface import AccountNotFoundError, DomainlessUserError
from gmsa.tickets.leases import LeaseStore, check_stored_lease_id
from gmsa.tickets.service import RENEW_FAILED, RENEW_SUCCESSFUL, TicketService
from tests.support.directory_double import DirectoryDouble
from tests.support.tickets import AwsDouble, FakeClock, domainless_spec_for, spec_for

KEYS = AwsKeys("AKIAFIRST", "first-Secret-Key", "first-Session-Token", "us-east-1")
NEW_KEYS = AwsKeys("AKIASECOND", "second-Secret-Key", "second-Session-Token", "us-east-1")
SECRETS_ON_THE_WIRE = (
    "first-Secret-Key",
    "first-Session-Token",
    "second-Secret-Key",
    "second-Session-Token",
    "User-Passw0rd!",
    "Rotated-Passw0rd!",
)


@pytest.fixture
def aws() -> AwsDouble:
    double = AwsDouble()
    double.valid.add(NEW_KEYS.access_key_id)
    return double


@pytest.fixture
def secret(aws: AwsDouble) -> str:
    return aws.put_secret("gmsa-user", "svc-gmsa", "User-Passw0rd!")


@pytest.fixture
def arns(aws: AwsDouble, secret: str) -> dict[str, str]:
    return {
        name: aws.put_spec(f"{name}.json", domainless_spec_for(name, secret))
        for name in ("WebApp01", "WebApp02")
    }


def new_service(
    krb_dir: Path, double: DirectoryDouble, aws: AwsDouble, clock: FakeClock
) -> TicketService:
    settings = ServiceSettings(ticket_reuse=datetime.timedelta(0))
    service = TicketService(LeaseStore(krb_dir), double, settings, clock=clock, arn_reader=aws)
    service.start(scheduler=False)
    return service


@pytest.fixture
def arn_service(
    krb_dir: Path, double: DirectoryDouble, aws: AwsDouble, clock: FakeClock
) -> Iterator[TicketService]:
    service = new_service(krb_dir, double, aws, clock)
    yield service
    service.stop()


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --------------------------------------------------------------------------- entries


def test_an_entry_splits_into_the_spec_the_lease_and_the_directory() -> None:
    entry = parse_arn_entry("arn:aws:s3:::specs/a#b.json#task-01/WebApp01", 0)
    assert (entry.arn, entry.lease_id, entry.directory) == (
        "arn:aws:s3:::specs/a#b.json",
        "task-01",
        "WebApp01",
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("arn:aws:s3:::specs/a.json", "no '#<lease id>/<directory>'"),
        ("#task/dir", "no '#<lease id>/<directory>'"),
        ("arn:aws:s3:::specs/a.json#task", "exactly <lease id>/<directory>"),
        ("arn:aws:s3:::specs/a.json#task/dir/more", "exactly <lease id>/<directory>"),
        ("arn:aws:s3:::specs/a.json#../dir", "cannot be a lease id"),
        ("arn:aws:s3:::specs/a.json#task/..", "cannot be a directory"),
        ("arn:aws:s3:::specs/a.json#task/.hidden", "cannot be a directory"),
        ("arn:aws:s3:::specs/a.json#task/a..b", "cannot be a directory"),
        ("arn:aws:s3:::specs/a.json#task/lease.json", "cannot be a directory"),
        ("arn:aws:s3:::specs/a.json#task/dir\n", "cannot be a directory"),
        ("arn:aws:s3:::specs/a.json#ta\x00sk/dir", "cannot be a lease id"),
        ("arn:aws:s3:::specs/a.json#task/di\\r", "cannot be a directory"),
        ("arn:aws:s3:::specs/a.json#" + "t" * 129 + "/dir", "cannot be a lease id"),
        ("arn:aws:s3:::specs/a.json#task/", "cannot be a directory"),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/spec#task/dir", "from S3"),
        ("s3://specs/a.json#task/dir", "only ARNs"),
    ],
)
def test_a_bad_entry_is_refused_naming_its_index(entry: str, message: str) -> None:
    with pytest.raises(LeaseRequestError, match=message) as caught:
        parse_arn_entry(entry, 3)
    assert caught.value.where is not None and caught.value.where.startswith("credspec_arns[3]")
    assert grpc_status_of(caught.value) == "INVALID_ARGUMENT"


def test_caller_chosen_lease_ids_are_accepted_where_own_ids_are() -> None:
    assert check_stored_lease_id("0123456789abcdef0123") == "0123456789abcdef0123"
    assert check_stored_lease_id("e8a1c2d3f4b5a6978812345678901234") == (
        "e8a1c2d3f4b5a6978812345678901234"
    )
    for bad in ("..", "../x", "a/b", ".staging-x", "", "x" * 129):
        with pytest.raises(LeaseIdError):
            check_stored_lease_id(bad)


# --------------------------------------------------------------------------- creating


def test_an_arn_lease_writes_each_cache_where_the_caller_said(
    arn_service: TicketService, arns: dict[str, str], krb_dir: Path, aws: AwsDouble
) -> None:
    result = arn_service.add_arn_lease(
        [f"{arns['WebApp01']}#task01/web", f"{arns['WebApp02']}#task01/worker"], KEYS
    )
    assert result.lease_id == "task01"
    assert result.tickets == (
        (arns["WebApp01"], krb_dir / "task01" / "web"),
        (arns["WebApp02"], krb_dir / "task01" / "worker"),
    )
    web = parse_ccache((krb_dir / "task01" / "web" / "krb5cc").read_bytes())
    worker = parse_ccache((krb_dir / "task01" / "worker" / "krb5cc").read_bytes())
    assert (str(web.principal), str(worker.principal)) == (
        "WebApp01$@EXAMPLE.COM",
        "WebApp02$@EXAMPLE.COM",
    )
    assert {key for _, _, key in aws.reads} == {KEYS.access_key_id}
    lease = arn_service.lease("task01")
    assert lease.mode == "arn" and lease.domainless_user == ("svc-gmsa", "example.com")


def test_one_gmsa_in_two_directories_is_read_once(
    arn_service: TicketService, arns: dict[str, str], krb_dir: Path, double: DirectoryDouble
) -> None:
    arn_service.add_arn_lease([f"{arns['WebApp01']}#t/a", f"{arns['WebApp01']}#t/b"], KEYS)
    assert double.password_reads == 1
    assert (krb_dir / "t" / "a" / "krb5cc").read_bytes() == (
        krb_dir / "t" / "b" / "krb5cc"
    ).read_bytes()


def test_the_lease_on_disk_has_what_renewal_needs_and_no_secret(
    arn_service: TicketService, arns: dict[str, str], krb_dir: Path, secret: str
) -> None:
    arn_service.add_arn_lease([f"{arns['WebApp01']}#task01/web"], KEYS)
    arn_service.renew_arn_leases(NEW_KEYS)
    metadata = json.loads((krb_dir / "task01" / "lease.json").read_text())
    assert metadata["mode"] == "arn"
    assert metadata["domainless_user"] == {"username": "svc-gmsa", "domain": "example.com"}
    assert metadata["tickets"][0]["credspec_arn"] == arns["WebApp01"]
    assert metadata["tickets"][0]["directory"] == "web"
    for path in files_under(krb_dir):
        data = path.read_bytes()
        for text in SECRETS_ON_THE_WIRE:
            assert text.encode() not in data, (path, text)
    assert "first-Secret-Key" not in repr(KEYS)


@pytest.mark.parametrize("empty", ["access_key_id", "secret_access_key", "session_token", "region"])
def test_every_credential_field_is_required(
    arn_service: TicketService, arns: dict[str, str], empty: str, aws: AwsDouble
) -> None:
    keys = AwsKeys(**{**KEYS.__dict__, empty: ""})
    with pytest.raises(LeaseRequestError, match=f"{empty} must not be empty"):
        arn_service.add_arn_lease([f"{arns['WebApp01']}#task01/web"], keys)
    with pytest.raises(LeaseRequestError, match=f"{empty} must not be empty"):
        arn_service.renew_arn_leases(keys)
    assert aws.reads == []


@pytest.mark.parametrize("region", ["not a region", "US-EAST-1", "http://x"])
def test_a_region_that_is_not_one_is_refused_before_any_read(
    arn_service: TicketService, arns: dict[str, str], region: str, aws: AwsDouble
) -> None:
    keys = AwsKeys(**{**KEYS.__dict__, "region": region})
    with pytest.raises(LeaseRequestError, match="is not an AWS region name") as caught:
        arn_service.add_arn_lease([f"{arns['WebApp01']}#task01/web"], keys)
    assert caught.value.where == "region"
    assert aws.reads == []


def test_an_empty_request_is_refused(arn_service: TicketService) -> None:
    with pytest.raises(LeaseRequestError, match="credspec_arns is empty"):
        arn_service.add_arn_lease([], KEYS)


def test_a_directory_twice_is_refused_whatever_its_case(
    arn_service: TicketService, arns: dict[str, str], krb_dir: Path
) -> None:
    with pytest.raises(LeaseRequestError, match="appears twice") as caught:
        arn_service.add_arn_lease([f"{arns['WebApp01']}#t/web", f"{arns['WebApp02']}#t/WEB"], KEYS)
    assert caught.value.where == "credspec_arns[1]"
    assert files_under(krb_dir) == []


def test_two_lease_ids_in_one_request_are_refused(
    arn_service: TicketService, arns: dict[str, str]
) -> None:
    with pytest.raises(LeaseRequestError, match="two lease ids"):
        arn_service.add_arn_lease([f"{arns['WebApp01']}#a/web", f"{arns['WebApp02']}#b/w"], KEYS)


def test_an_existing_lease_id_is_already_exists(
    arn_service: TicketService, arns: dict[str, str], krb_dir: Path
) -> None:
    first = arn_service.add_arn_lease([f"{arns['WebApp01']}#task01/web"], KEYS)
    before = (krb_dir / "task01" / "web" / "krb5cc").read_bytes()
    with pytest.raises(LeaseExistsError) as caught:
        arn_service.add_arn_lease([f"{arns['WebApp02']}#task01/other"], KEYS)
    assert grpc_status_of(caught.value) == "ALREADY_EXISTS"
    assert (krb_dir / "task01" / "web" / "krb5cc").read_bytes() == before
    assert not (krb_dir / "task01" / "other").exists()
    own = arn_service.add_lease([spec_for("WebApp01")])
    with pytest.raises(LeaseExistsError):
        arn_service.add_arn_lease([f"{arns['WebApp01']}#{own.lease_id}/web"], KEYS)
    assert first.lease_id == "task01"


def test_a_spec_that_is_not_domainless_is_refused(
    arn_service: TicketService, aws: AwsDouble
) -> None:
    arn = aws.put_spec("joined.json", spec_for("WebApp01"))
    with pytest.raises(LeaseRequestError, match="needs a domainless spec") as caught:
        arn_service.add_arn_lease([f"{arn}#t/web"], KEYS)
    assert caught.value.where == f"credspec_arns[0]: {arn}"


def test_an_invalid_spec_is_refused_naming_its_arn(
    arn_service: TicketService, aws: AwsDouble
) -> None:
    arn = aws.put_spec("bad.json", '{"CmsPlugins": ["ActiveDirectory"]}')
    with pytest.raises(CredentialSpecError) as caught:
        arn_service.add_arn_lease([f"{arn}#t/web"], KEYS)
    assert arn in str(caught.value.where)


def test_aws_refusals_keep_their_grpc_meaning(
    arn_service: TicketService, arns: dict[str, str], aws: AwsDouble, secret: str
) -> None:
    bad_keys = AwsKeys("AKIAWRONG", "x", "y", "us-east-1")
    with pytest.raises(AwsCredentialsError) as refused:
        arn_service.add_arn_lease([f"{arns['WebApp01']}#t/web"], bad_keys)
    assert grpc_status_of(refused.value) == "UNAUTHENTICATED"
    aws.denied.add(secret)
    with pytest.raises(AwsAccessDeniedError) as denied:
        arn_service.add_arn_lease([f"{arns['WebApp01']}#t/web"], KEYS)
    assert grpc_status_of(denied.value) == "PERMISSION_DENIED"
    with pytest.raises(Exception) as missing:
        arn_service.add_arn_lease(["arn:aws:s3:::specs/none.json#t/web"], KEYS)
    assert grpc_status_of(missing.value) == "NOT_FOUND"


def test_a_second_failing_spec_leaves_no_lease(
    arn_service: TicketService, aws: AwsDouble, arns: dict[str, str], secret: str, krb_dir: Path
) -> None:
    missing = aws.put_spec("missing.json", domainless_spec_for("Missing01", secret))
    with pytest.raises(AccountNotFoundError):
        arn_service.add_arn_lease([f"{arns['WebApp01']}#t/web", f"{missing}#t/gone"], KEYS)
    assert files_under(krb_dir) == []
    with pytest.raises(LeaseNotFoundError):
        arn_service.lease("t")


def test_specs_naming_two_users_are_refused(
    arn_service: TicketService, aws: AwsDouble, arns: dict[str, str], double: DirectoryDouble
) -> None:
    double.add_user("other-user", "Other-Passw0rd!", may_read=("WebApp02",))
    other = aws.put_secret("other", "other-user", "Other-Passw0rd!")
    spec = aws.put_spec("other.json", domainless_spec_for("WebApp02", other))
    with pytest.raises(LeaseRequestError, match="different domain users"):
        arn_service.add_arn_lease([f"{arns['WebApp01']}#t/web", f"{spec}#t/w2"], KEYS)


def test_a_wrong_user_password_is_unauthenticated(
    arn_service: TicketService, aws: AwsDouble, krb_dir: Path
) -> None:
    wrong = aws.put_secret("wrong", "svc-gmsa", "Not-The-Passw0rd!")
    spec = aws.put_spec("w.json", domainless_spec_for("WebApp01", wrong))
    with pytest.raises(DomainlessUserError) as caught:
        arn_service.add_arn_lease([f"{spec}#t/web"], KEYS)
    assert grpc_status_of(caught.value) == "UNAUTHENTICATED"
    assert "Not-The-Passw0rd!" not in caught.value.diagnostics()
    assert files_under(krb_dir) == []


def test_an_arn_lease_is_deleted_by_its_id(
    arn_service: TicketService, arns: dict[str, str], krb_dir: Path
) -> None:
    arn_service.add_arn_lease([f"{arns['WebApp01']}#task01/web"], KEYS)
    assert arn_service.delete_lease("task01").paths == (krb_dir / "task01" / "web",)
    assert not (krb_dir / "task01").exists()


# --------------------------------------------------------------------------- renewing


def test_renew_reads_everything_again_with_the_new_keys(
    arn_service: TicketService,
    arns: dict[str, str],
    krb_dir: Path,
    aws: AwsDouble,
    clock: FakeClock,
) -> None:
    arn_service.add_arn_lease([f"{arns['WebApp01']}#t1/web"], KEYS)
    arn_service.add_arn_lease([f"{arns['WebApp02']}#t2/web"], KEYS)
    own = arn_service.add_lease([spec_for("WebApp03")])
    before = (krb_dir / "t1" / "web" / "krb5cc").read_bytes()
    aws.reads.clear()
    clock.advance(datetime.timedelta(minutes=5))
    renewal = arn_service.renew_arn_leases(NEW_KEYS)
    assert renewal.status == RENEW_SUCCESSFUL
    assert sorted(renewal.renewed) == [krb_dir / "t1" / "web", krb_dir / "t2" / "web"]
    assert (krb_dir / "t1" / "web" / "krb5cc").read_bytes() != before
    assert {key for _, _, key in aws.reads} == {NEW_KEYS.access_key_id}
    assert sorted(kind for kind, _, _ in aws.reads) == ["s3", "s3", "secret"]
    assert arn_service.lease(own.lease_id).tickets[0].last_renewal is not None
    assert arn_service.lease("t1").last_seen == clock.now


def test_renew_with_no_arn_leases_is_successful(arn_service: TicketService) -> None:
    assert arn_service.renew_arn_leases(NEW_KEYS).status == RENEW_SUCCESSFUL


def test_a_rotated_password_is_used_by_the_next_renew(
    arn_service: TicketService,
    arns: dict[str, str],
    krb_dir: Path,
    aws: AwsDouble,
    secret: str,
    double: DirectoryDouble,
    clock: FakeClock,
) -> None:
    arn_service.add_arn_lease([f"{arns['WebApp01']}#t1/web"], KEYS)
    cache = krb_dir / "t1" / "web" / "krb5cc"
    issued = cache.read_bytes()
    # The user's password changes in AD and in the secret: the issued ticket stays.
    double.users["svc-gmsa"] = "Rotated-Passw0rd!"
    aws.secrets[secret]["password"] = "Rotated-Passw0rd!"
    assert cache.read_bytes() == issued
    clock.advance(datetime.timedelta(minutes=5))
    renewal = arn_service.renew_arn_leases(NEW_KEYS)
    assert renewal.status == RENEW_SUCCESSFUL
    assert cache.read_bytes() != issued
    # The scheduler's own renewals use the new password from now on.
    report = arn_service.run_due(clock.now + datetime.timedelta(hours=9))
    assert report.failed == () and krb_dir / "t1" / "web" in report.renewed


def test_a_secret_naming_a_new_user_moves_the_lease_to_it(
    arn_service: TicketService,
    arns: dict[str, str],
    krb_dir: Path,
    aws: AwsDouble,
    secret: str,
    double: DirectoryDouble,
) -> None:
    arn_service.add_arn_lease([f"{arns['WebApp01']}#t1/web"], KEYS)
    double.add_user("svc-gmsa-blue", "Blue-Passw0rd!", may_read=("WebApp01",))
    aws.secrets[secret] = {
        "username": "svc-gmsa-blue",
        "password": "Blue-Passw0rd!",
        "domainName": "example.com",
    }
    assert arn_service.renew_arn_leases(NEW_KEYS).status == RENEW_SUCCESSFUL
    assert arn_service.lease("t1").domainless_user == ("svc-gmsa-blue", "example.com")
    metadata = json.loads((krb_dir / "t1" / "lease.json").read_text())
    assert metadata["domainless_user"]["username"] == "svc-gmsa-blue"
    assert b"Blue-Passw0rd!" not in (krb_dir / "t1" / "lease.json").read_bytes()


def test_a_wrong_new_password_fails_the_renew_and_keeps_the_tickets(
    arn_service: TicketService,
    arns: dict[str, str],
    krb_dir: Path,
    aws: AwsDouble,
    secret: str,
    clock: FakeClock,
) -> None:
    arn_service.add_arn_lease([f"{arns['WebApp01']}#t1/web"], KEYS)
    cache = krb_dir / "t1" / "web" / "krb5cc"
    issued = cache.read_bytes()
    aws.secrets[secret]["password"] = "Typo-Passw0rd!"
    clock.advance(datetime.timedelta(minutes=5))
    renewal = arn_service.renew_arn_leases(NEW_KEYS)
    assert renewal.status == RENEW_FAILED
    lease_id, error = renewal.failed[0]
    assert lease_id == "t1" and isinstance(error, DomainlessUserError)
    assert "svc-gmsa" in error.what and "Typo-Passw0rd!" not in error.diagnostics()
    assert cache.read_bytes() == issued  # still valid, still in place
    record = arn_service.lease("t1").tickets[0]
    assert record.last_error is not None and "refused the domain user" in record.last_error
    assert "refused the domain user" in arn_service.health()


def test_a_spec_that_now_names_another_gmsa_fails_that_lease_only(
    arn_service: TicketService,
    arns: dict[str, str],
    krb_dir: Path,
    aws: AwsDouble,
    secret: str,
) -> None:
    arn_service.add_arn_lease([f"{arns['WebApp01']}#t1/web"], KEYS)
    arn_service.add_arn_lease([f"{arns['WebApp02']}#t2/web"], KEYS)
    issued = (krb_dir / "t1" / "web" / "krb5cc").read_bytes()
    aws.objects[arns["WebApp01"]] = domainless_spec_for("WebApp03", secret).encode()
    renewal = arn_service.renew_arn_leases(NEW_KEYS)
    assert renewal.status == RENEW_FAILED
    assert [lease_id for lease_id, _ in renewal.failed] == ["t1"]
    assert "now names the gMSA WebApp03$" in renewal.failed[0][1].what
    assert renewal.renewed == (krb_dir / "t2" / "web",)
    assert (krb_dir / "t1" / "web" / "krb5cc").read_bytes() == issued


def test_unreadable_specs_fail_the_renew_and_keep_the_tickets(
    arn_service: TicketService, arns: dict[str, str], krb_dir: Path, aws: AwsDouble
) -> None:
    arn_service.add_arn_lease([f"{arns['WebApp01']}#t1/web"], KEYS)
    issued = (krb_dir / "t1" / "web" / "krb5cc").read_bytes()
    aws.denied.add(arns["WebApp01"])
    renewal = arn_service.renew_arn_leases(NEW_KEYS)
    assert renewal.status == RENEW_FAILED
    assert isinstance(renewal.failed[0][1], AwsAccessDeniedError)
    assert (krb_dir / "t1" / "web" / "krb5cc").read_bytes() == issued


def test_after_a_restart_arn_leases_wait_for_the_agents_keys(
    krb_dir: Path,
    double: DirectoryDouble,
    aws: AwsDouble,
    clock: FakeClock,
    arns: dict[str, str],
) -> None:
    first = new_service(krb_dir, double, aws, clock)
    first.add_arn_lease([f"{arns['WebApp01']}#t1/web", f"{arns['WebApp02']}#t1/worker"], KEYS)
    first.stop()
    second = new_service(krb_dir, double, aws, clock)
    try:
        recovered = second.lease("t1")
        assert recovered.mode == "arn"
        assert [r.directory for r in recovered.tickets] == ["web", "worker"]
        assert second.run_due().renewed == ()  # no user password in memory yet
        status = second.status()["leases"][0]
        assert status["awaiting_credentials"] is True
        assert status["tickets"][0]["credspec_arn"] == arns["WebApp01"]
        assert status["tickets"][0]["path"] == str(krb_dir / "t1" / "web")
        renewal = second.renew_arn_leases(NEW_KEYS)
        assert renewal.status == RENEW_SUCCESSFUL
        assert sorted(renewal.renewed) == [krb_dir / "t1" / "web", krb_dir / "t1" / "worker"]
    finally:
        second.stop()


def test_a_folder_that_is_not_a_lease_is_left_alone(
    krb_dir: Path, double: DirectoryDouble, aws: AwsDouble, clock: FakeClock
) -> None:
    (krb_dir / "not-a-lease").mkdir(parents=True)
    service = new_service(krb_dir, double, aws, clock)
    try:
        assert service.health() == "OK"
        assert service.status()["unreadable_leases"] == []
    finally:
        service.stop()
