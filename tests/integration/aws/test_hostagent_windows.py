"""The Windows host agent against a real moto server: write, roll back, clean up."""

from __future__ import annotations

import copy
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gmsa.aws import AwsConfig
from gmsa.errors import ExitCode
from gmsa.hostagent.interface import HostAgentError, HostStateError, InvalidTaskIdError
from gmsa.hostagent.ledger import ledger_path, read_ledger
from gmsa.hostagent.windows import (
    CCG_REGISTRY_BASE,
    WindowsHostAgent,
    spec_file_name,
)
from gmsa.reference import parse
from gmsa.source.cache import SpecCache
from gmsa.source.fetcher import SpecFetcher
from gmsa.taskdef.model import TaskDefinition, parse_task_definition
from tests.conftest import EXAMPLE_SPEC
from tests.support.moto import AwsLab

TASK_ID = "0123456789abcdef0123456789abcdef"
TASK_ARN = f"arn:aws:ecs:us-east-1:123456789012:task/default/{TASK_ID}"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gmsa-user-AbCdEf"


def spec_bytes(name: str = "WebApp01") -> bytes:
    spec = copy.deepcopy(EXAMPLE_SPEC)
    spec["DomainJoinConfig"]["MachineAccountName"] = name
    spec["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"] = [
        {"Name": name, "Scope": "example.com"},
        {"Name": name, "Scope": "example"},
    ]
    return json.dumps(spec).encode()


def domainless_bytes(*, string_input: bool) -> bytes:
    spec = json.loads(spec_bytes())
    plugin_input: Any = {"credentialArn": SECRET_ARN}
    spec["ActiveDirectoryConfig"]["HostAccountConfig"] = {
        "PortableCcgVersion": "1",
        "PluginGUID": "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
        "PluginInput": json.dumps(plugin_input) if string_input else plugin_input,
    }
    return json.dumps(spec).encode()


def task(*references: str, role: str | None = None) -> TaskDefinition:
    doc: dict[str, Any] = {
        "family": "webapp",
        "containerDefinitions": [
            {"name": f"c{i}", "image": "app", "credentialSpecs": [ref]}
            for i, ref in enumerate(references)
        ],
    }
    if role:
        doc["executionRoleArn"] = role
    return parse_task_definition(doc, source="taskdef.json")


def make_fetcher(aws: AwsLab, spec_dir: Path, cache: SpecCache | None = None) -> SpecFetcher:
    config = AwsConfig(
        region=aws.region,
        endpoint_url=aws.endpoint,
        access_key_id=aws.access_key,
        secret_access_key=aws.secret_key,
    )
    return SpecFetcher(aws=config, spec_dir=spec_dir, cache=cache or SpecCache())


@pytest.fixture
def specdir(tmp_path: Path) -> Path:
    path = tmp_path / "CredentialSpecs"
    path.mkdir()
    return path


@pytest.fixture
def agent(aws: AwsLab, specdir: Path) -> WindowsHostAgent:
    return WindowsHostAgent(specdir, make_fetcher(aws, specdir))


def listing(directory: Path) -> list[str]:
    """Every file under the directory (ledger included), relative."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def s3_ref(aws: AwsLab, key: str = "specs/webapp01.json", body: bytes | None = None) -> str:
    return "credentialspec:" + aws.put_object("example-gmsa-specs", key, body or spec_bytes())


def ssm_ref(aws: AwsLab, name: str = "webapp01-credspec", body: bytes | None = None) -> str:
    return "credentialspec:" + aws.put_parameter(name, (body or spec_bytes()).decode())


# --------------------------------------------------------------------- prepare


def test_s3_spec_is_written_under_a_task_scoped_name(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    ref = s3_ref(aws)
    result = agent.prepare(task(ref), TASK_ID)
    (container,) = result.containers
    assert container.file == spec_file_name(TASK_ID, parse(ref))
    assert container.file.startswith(f"gmsa_{TASK_ID}_s3_")
    assert container.security_option == f"credentialspec=file://{container.file}"
    written = json.loads((specdir / container.file).read_text())
    assert written["DomainJoinConfig"]["MachineAccountName"] == "WebApp01"


def test_ssm_spec_is_written_and_recorded_in_the_ledger(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    result = agent.prepare(task(ssm_ref(aws)), TASK_ID)
    (container,) = result.containers
    assert container.file.startswith(f"gmsa_{TASK_ID}_ssm_")
    ledger = read_ledger(specdir, TASK_ID)
    assert ledger is not None
    (entry,) = ledger.files
    assert entry.name == container.file
    assert entry.sha256 == hashlib.sha256((specdir / container.file).read_bytes()).hexdigest()


def test_users_own_file_spec_is_used_in_place_and_not_copied(
    agent: WindowsHostAgent, specdir: Path
) -> None:
    (specdir / "webapp01.json").write_bytes(spec_bytes())
    result = agent.prepare(task("credentialspec:file://webapp01.json"), TASK_ID)
    (container,) = result.containers
    assert container.file == "webapp01.json"
    assert container.written is False
    assert container.security_option == "credentialspec=file://webapp01.json"
    assert listing(specdir) == [str(ledger_path(Path(), TASK_ID)), "webapp01.json"]


def test_missing_file_spec_fails_as_not_found(agent: WindowsHostAgent, specdir: Path) -> None:
    with pytest.raises(HostAgentError) as caught:
        agent.prepare(task("credentialspec:file://absent.json"), TASK_ID)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert caught.value.code == "spec-not-found"
    assert "c0" in str(caught.value.where)
    assert listing(specdir) == []


def test_two_s3_keys_with_one_basename_get_two_files(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    first = s3_ref(aws, "team-a/spec.json", spec_bytes("AppA"))
    second = s3_ref(aws, "team-b/spec.json", spec_bytes("AppB"))
    result = agent.prepare(task(first, second), TASK_ID)
    names = [c.file for c in result.containers]
    assert len(set(names)) == 2
    accounts = [
        json.loads((specdir / n).read_text())["DomainJoinConfig"]["MachineAccountName"]
        for n in names
    ]
    assert accounts == ["AppA", "AppB"]


def test_containers_sharing_a_spec_fetch_it_once(aws: AwsLab, specdir: Path) -> None:
    fetcher = make_fetcher(aws, specdir)
    ref = s3_ref(aws)
    result = WindowsHostAgent(specdir, fetcher).prepare(task(ref, ref, ref), TASK_ID)
    assert fetcher.fetch_count == 1
    assert len({c.file for c in result.containers}) == 1
    assert [c.name for c in result.containers] == ["c0", "c1", "c2"]


def test_tasks_sharing_a_cache_fetch_a_spec_once(aws: AwsLab, specdir: Path) -> None:
    fetcher = make_fetcher(aws, specdir)
    agent = WindowsHostAgent(specdir, fetcher)
    ref = ssm_ref(aws)
    for n in range(3):
        agent.prepare(task(ref), f"task{n}")
    assert fetcher.fetch_count == 1


def test_failure_of_a_later_container_leaves_nothing(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    good = s3_ref(aws)
    missing = "credentialspec:arn:aws:s3:::example-gmsa-specs/specs/absent.json"
    with pytest.raises(HostAgentError) as caught:
        agent.prepare(task(good, missing), TASK_ID)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert "c1" in str(caught.value.where)
    assert listing(specdir) == []


def test_write_failure_part_way_rolls_back_files_already_written(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    first = s3_ref(aws, "specs/a.json")
    second = s3_ref(aws, "specs/b.json")
    blocker = specdir / spec_file_name(TASK_ID, parse(second))
    blocker.mkdir()  # the second file cannot be written: a directory holds its name
    with pytest.raises(HostAgentError) as caught:
        agent.prepare(task(first, second), TASK_ID)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert listing(specdir) == []


def test_ledger_write_failure_rolls_back_the_spec_files(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    ledger_path(specdir, TASK_ID).mkdir(parents=True)
    with pytest.raises(HostStateError):
        agent.prepare(task(s3_ref(aws)), TASK_ID)
    assert listing(specdir) == []


def test_invalid_spec_fails_with_its_findings_and_writes_nothing(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    bad = json.loads(spec_bytes())
    bad["DomainJoinConfig"]["Sid"] = "not-a-sid"
    ref = s3_ref(aws, body=json.dumps(bad).encode())
    with pytest.raises(HostAgentError) as caught:
        agent.prepare(task(ref), TASK_ID)
    assert caught.value.exit_code == ExitCode.INVALID
    assert any(f.path.startswith("DomainJoinConfig.Sid") for f in caught.value.findings)
    assert listing(specdir) == []


def test_invalid_reference_in_the_task_definition_is_invalid_input(
    agent: WindowsHostAgent, specdir: Path
) -> None:
    with pytest.raises(HostAgentError) as caught:
        agent.prepare(task("credentialspec:arn:aws:sqs:::queue/x"), TASK_ID)
    assert caught.value.exit_code == ExitCode.INVALID
    assert "containerDefinitions[0].credentialSpecs[0]" in str(caught.value.where)
    assert listing(specdir) == []


def test_container_with_two_references_is_refused(aws: AwsLab, agent: WindowsHostAgent) -> None:
    doc = {
        "containerDefinitions": [
            {
                "name": "web",
                "credentialSpecs": ["credentialspec:file://a.json"],
                "dockerSecurityOptions": ["credentialspec:file://b.json"],
            }
        ]
    }
    with pytest.raises(HostAgentError, match="2 credential spec references"):
        agent.prepare(parse_task_definition(doc, source="t.json"), TASK_ID)


def test_preparing_twice_gives_the_same_names_and_content(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    taskdef = task(s3_ref(aws), ssm_ref(aws))
    first = agent.prepare(taskdef, TASK_ID)
    before = {name: (specdir / name).read_bytes() for name in listing(specdir)}
    second = agent.prepare(taskdef, TASK_ID)
    after = {name: (specdir / name).read_bytes() for name in listing(specdir)}
    assert first == second
    assert before == after


def test_preparing_again_with_fewer_references_removes_the_unused_file(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    keep, drop = s3_ref(aws, "specs/a.json"), s3_ref(aws, "specs/b.json")
    agent.prepare(task(keep, drop), TASK_ID)
    result = agent.prepare(task(keep), TASK_ID)
    assert listing(specdir) == sorted(
        [str(ledger_path(Path(), TASK_ID)), result.containers[0].file]
    )


def test_task_without_credential_specs_prepares_with_a_warning(
    agent: WindowsHostAgent,
) -> None:
    doc = {"containerDefinitions": [{"name": "web", "image": "app"}]}
    result = agent.prepare(parse_task_definition(doc, source="t.json"), TASK_ID)
    assert result.containers == ()
    assert [w.code for w in result.warnings] == ["no-credential-spec"]


@pytest.mark.parametrize("task_id", ["", "../x", "a/b", "a.b", "a\\b", "x" * 65, "-lead"])
def test_unsafe_task_id_is_refused_before_anything_runs(
    agent: WindowsHostAgent, specdir: Path, task_id: str
) -> None:
    with pytest.raises(InvalidTaskIdError):
        agent.prepare(task("credentialspec:file://a.json"), task_id)
    assert listing(specdir) == []


def test_missing_credspec_dir_is_a_host_failure(aws: AwsLab, tmp_path: Path) -> None:
    agent = WindowsHostAgent(tmp_path / "nowhere", make_fetcher(aws, tmp_path))
    with pytest.raises(HostStateError) as caught:
        agent.prepare(task("credentialspec:file://a.json"), TASK_ID)
    assert caught.value.exit_code == ExitCode.EXTERNAL


# --------------------------------------------------------------------- domainless


@pytest.mark.parametrize("string_input", [True, False], ids=["string", "object"])
def test_domainless_spec_gets_reg_key_path_in_its_own_plugin_input_shape(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path, string_input: bool
) -> None:
    arn = aws.put_object(
        "example-gmsa-specs", "dl.json", domainless_bytes(string_input=string_input)
    )
    result = agent.prepare(task("credentialspecdomainless:" + arn), TASK_ID, TASK_ARN)
    (container,) = result.containers
    expected_key = f"{CCG_REGISTRY_BASE}\\{TASK_ARN}"
    assert container.registry_key == expected_key
    host = json.loads((specdir / container.file).read_text())["ActiveDirectoryConfig"][
        "HostAccountConfig"
    ]
    plugin_input = host["PluginInput"]
    assert isinstance(plugin_input, str) is string_input
    value = json.loads(plugin_input) if string_input else plugin_input
    assert value == {"credentialArn": SECRET_ARN, "regKeyPath": expected_key}
    assert result.warnings == ()


def test_domainless_file_spec_is_copied_not_edited_in_place(
    agent: WindowsHostAgent, specdir: Path
) -> None:
    original = domainless_bytes(string_input=True)
    (specdir / "dl.json").write_bytes(original)
    result = agent.prepare(task("credentialspecdomainless:file://dl.json"), TASK_ID, TASK_ARN)
    (container,) = result.containers
    assert container.written is True
    assert container.file.startswith(f"gmsa_{TASK_ID}_file_")
    assert (specdir / "dl.json").read_bytes() == original


def test_domainless_without_task_arn_uses_the_task_id_and_warns(
    aws: AwsLab, agent: WindowsHostAgent
) -> None:
    arn = aws.put_object("example-gmsa-specs", "dl.json", domainless_bytes(string_input=False))
    result = agent.prepare(task("credentialspecdomainless:" + arn), TASK_ID)
    assert result.containers[0].registry_key == f"{CCG_REGISTRY_BASE}\\{TASK_ID}"
    assert [w.code for w in result.warnings] == ["task-arn-placeholder"]


def test_domainless_reference_to_a_domain_joined_spec_is_invalid(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    arn = aws.put_object("example-gmsa-specs", "dj.json", spec_bytes())
    with pytest.raises(HostAgentError) as caught:
        agent.prepare(task("credentialspecdomainless:" + arn), TASK_ID, TASK_ARN)
    assert caught.value.exit_code == ExitCode.INVALID
    assert listing(specdir) == []


def test_task_arn_that_is_not_an_ecs_task_arn_is_refused(agent: WindowsHostAgent) -> None:
    with pytest.raises(HostAgentError) as caught:
        agent.prepare(task("credentialspec:file://a.json"), TASK_ID, "arn:aws:ecs:task\\x")
    assert caught.value.exit_code == ExitCode.INVALID


def test_task_arn_of_another_task_gives_a_warning(aws: AwsLab, agent: WindowsHostAgent) -> None:
    arn = aws.put_object("example-gmsa-specs", "dl.json", domainless_bytes(string_input=False))
    other = "arn:aws:ecs:us-east-1:123456789012:task/default/ffffffffffffffffffffffffffffffff"
    result = agent.prepare(task("credentialspecdomainless:" + arn), TASK_ID, other)
    assert "task-arn-id-mismatch" in [w.code for w in result.warnings]


# --------------------------------------------------------------------- cleanup


def test_cleanup_removes_what_prepare_wrote_and_the_ledger(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    prepared = agent.prepare(task(s3_ref(aws), ssm_ref(aws)), TASK_ID)
    result = agent.cleanup(TASK_ID)
    assert result.known is True
    assert sorted(result.removed) == sorted(c.file for c in prepared.containers)
    assert listing(specdir) == []


def test_cleanup_never_removes_a_users_own_spec(agent: WindowsHostAgent, specdir: Path) -> None:
    (specdir / "webapp01.json").write_bytes(spec_bytes())
    agent.prepare(task("credentialspec:file://webapp01.json"), TASK_ID)
    result = agent.cleanup(TASK_ID)
    assert result.removed == ()
    assert listing(specdir) == ["webapp01.json"]


def test_cleanup_keeps_a_file_changed_after_prepare(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    (container,) = agent.prepare(task(s3_ref(aws)), TASK_ID).containers
    (specdir / container.file).write_bytes(spec_bytes("Edited"))
    result = agent.cleanup(TASK_ID)
    assert result.removed == ()
    assert [k.file for k in result.kept] == [container.file]
    assert (specdir / container.file).exists()


def test_cleanup_of_an_unknown_task_removes_nothing_and_succeeds(
    agent: WindowsHostAgent, specdir: Path
) -> None:
    (specdir / f"gmsa_{TASK_ID}_s3_0000000000000000.json").write_bytes(b"{}")
    result = agent.cleanup(TASK_ID)
    assert result.known is False
    assert result.removed == ()
    assert len(listing(specdir)) == 1


def test_cleanup_twice_is_harmless(aws: AwsLab, agent: WindowsHostAgent) -> None:
    agent.prepare(task(s3_ref(aws)), TASK_ID)
    agent.cleanup(TASK_ID)
    assert agent.cleanup(TASK_ID).known is False


def test_cleanup_refuses_a_ledger_that_names_a_foreign_file(
    aws: AwsLab, agent: WindowsHostAgent, specdir: Path
) -> None:
    agent.prepare(task(s3_ref(aws)), TASK_ID)
    (specdir / "webapp01.json").write_bytes(spec_bytes())
    path = ledger_path(specdir, TASK_ID)
    doc = json.loads(path.read_text())
    doc["files"][0]["name"] = "webapp01.json"
    doc["files"][0]["sha256"] = hashlib.sha256(spec_bytes()).hexdigest()
    path.write_text(json.dumps(doc))
    with pytest.raises(HostStateError):
        agent.cleanup(TASK_ID)
    assert (specdir / "webapp01.json").exists()


# --------------------------------------------------------------------- in parallel


def test_fifty_tasks_prepared_in_parallel_are_all_complete(aws: AwsLab, specdir: Path) -> None:
    refs = [s3_ref(aws, f"specs/{n}/spec.json", spec_bytes(f"App{n}")) for n in range(3)]
    refs += [ssm_ref(aws, f"/gmsa/app{n}", spec_bytes(f"Param{n}")) for n in range(2)]
    fetcher = make_fetcher(aws, specdir)
    agent = WindowsHostAgent(specdir, fetcher)
    task_ids = [f"{n:032x}" for n in range(50)]

    def run(n: int) -> Any:
        picked = [refs[n % 5], refs[(n + 1) % 5], refs[(n + 2) % 5]]
        return agent.prepare(task(*picked), task_ids[n])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(50)))

    assert fetcher.fetch_count == len(refs)
    for task_id, result in zip(task_ids, results, strict=True):
        ledger = read_ledger(specdir, task_id)
        assert ledger is not None
        assert sorted(e.name for e in ledger.files) == sorted(c.file for c in result.containers)
        for entry in ledger.files:
            data = (specdir / entry.name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry.sha256
    assert len(listing(specdir)) == 50 * 3 + 50
    assert not [p for p in specdir.rglob("*.tmp")]

    with ThreadPoolExecutor(max_workers=8) as pool:
        cleaned = list(pool.map(agent.cleanup, task_ids))
    assert all(len(c.removed) == 3 for c in cleaned)
    assert listing(specdir) == []
