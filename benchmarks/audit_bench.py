"""Benchmark: ``gmsa audit`` of a whole account against the naive way, on one moto server.

The account: ``--families`` task definition families (2,000) of ``--revisions``
revisions each (5), ``--gmsa-share`` of them (20%) using gMSA over ``--specs``
credential specs (25: S3 and SSM alternately) and ``--roles`` execution roles
(15), some broken on purpose (a missing spec of each kind, an invalid spec, two
roles without the S3 permission, a role that does not exist, and one family in
forty with a hostname under awsvpc). It is registered concurrently.

**gmsa audit**: one ``python -m gmsa audit --json`` process, as a user runs it.

**The naive way**: what a platform team does today. List the families and
describe each latest revision (in-process with boto3, one call after the other:
kinder than one AWS CLI process per family), keep those that use gMSA, and run
one ``gmsa task check - --fetch --check-role`` process per task definition,
fed its describe output. With ``--naive-sample N`` only N task definitions
(chosen at random, seeded) get their process, and the figures for all of them
are extrapolated from the sample (said so in the report).

AWS calls are counted by the moto server itself (its request recorder, started
after seeding), by API, retries included; both ways run against the same
server, one after the other, in the same run. Run::

    python -m benchmarks.audit_bench            # 2,000 families x 5, 20% gMSA
    python -m benchmarks.audit_bench --json     # the figures as JSON
"""

from __future__ import annotations

import argparse
import base64
import importlib.metadata
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.config
from tests.support.faultproxy import api_of

import gmsa
from benchmarks.prepare_bench import moto_server

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "audit-bench-specs"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
SID = "S-1-5-21-2554468230-2647958158-2204241789"


# --------------------------------------------------------------------------- the account


@dataclass(frozen=True)
class Workload:
    """The shape of the seeded account."""

    families: int = 2000
    revisions: int = 5
    gmsa_share: float = 0.2
    specs: int = 25
    roles: int = 15

    @property
    def gmsa_families(self) -> list[int]:
        """Which families use gMSA: every k-th, spread over the account."""
        count = round(self.families * self.gmsa_share)
        step = self.families / count if count else 0
        return sorted({int(i * step) for i in range(count)})

    def spec_of(self, family: int) -> int:
        return self.gmsa_families.index(family) % self.specs

    def role_of(self, family: int) -> int:
        return self.gmsa_families.index(family) % self.roles

    @property
    def missing_specs(self) -> set[int]:
        """Referenced but never stored: the last S3 one and the last SSM one."""
        s3 = max(n for n in range(self.specs) if n % 2 == 0)
        ssm = max((n for n in range(self.specs) if n % 2 == 1), default=s3)
        return {s3, ssm}

    @property
    def invalid_spec(self) -> int:
        return 0 if self.specs < 3 else self.specs - 3

    @property
    def missing_role(self) -> int:
        return self.roles - 1

    @property
    def roles_without_s3(self) -> set[int]:
        return {n for n in (self.roles - 2, self.roles - 3) if n > 0}

    @property
    def managed_roles(self) -> set[int]:
        """Roles whose permissions are an attached managed policy (the rest: inline)."""
        return set(range(0, self.roles - 1, 3))


def spec_reference(n: int) -> str:
    if n % 2 == 0:
        return f"arn:aws:s3:::{BUCKET}/specs/app{n:02d}.json"
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/bench/app{n:02d}"


def role_arn(n: int) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/bench-exec-{n:02d}"


def spec_document(n: int, *, valid: bool = True) -> str:
    name = f"BenchApp{n:02d}"
    return json.dumps(
        {
            "CmsPlugins": ["ActiveDirectory"],
            "DomainJoinConfig": {
                "Sid": SID if valid else "S-1-5-21-1",
                "MachineAccountName": name,
                "Guid": "8665abd4-e947-4dd0-9a51-f8254943c90b",
                "DnsTreeName": "example.com",
                "DnsName": "example.com",
                "NetBiosName": "example",
            },
            "ActiveDirectoryConfig": {
                "GroupManagedServiceAccounts": [
                    {"Name": name, "Scope": "example.com"},
                    {"Name": name, "Scope": "example"},
                ]
            },
        }
    )


def _client(endpoint: str, service: str) -> Any:
    session = boto3.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )
    config = botocore.config.Config(max_pool_connections=32, retries={"mode": "standard"})
    return session.client(service, endpoint_url=endpoint, config=config)  # type: ignore[call-overload]


def task_definition(workload: Workload, family: int, revision: int) -> dict[str, Any]:
    """Revision ``revision`` of family ``family`` (register-task-definition input)."""
    container: dict[str, Any] = {"name": "app", "image": f"app:{revision}", "memory": 512}
    doc: dict[str, Any] = {
        "family": f"bench-{family:05d}",
        "containerDefinitions": [container],
        "requiresCompatibilities": ["EC2"],
        "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2019_CORE"},
    }
    if family in workload.gmsa_families:
        spec = workload.spec_of(family)
        container["credentialSpecs"] = [f"credentialspec:{spec_reference(spec)}"]
        doc["executionRoleArn"] = role_arn(workload.role_of(family))
        if family % 40 == 0:
            doc["networkMode"] = "awsvpc"
            container["hostname"] = f"BenchApp{spec:02d}"
    return doc


def seed(endpoint: str, workload: Workload, *, threads: int = 16) -> float:
    """Store the specs, make the roles, register every revision (concurrently); seconds."""
    start = time.perf_counter()
    s3, ssm, iam = (_client(endpoint, s) for s in ("s3", "ssm", "iam"))
    with suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=BUCKET)
    for n in range(workload.specs):
        if n in workload.missing_specs:
            continue
        body = spec_document(n, valid=n != workload.invalid_spec)
        if n % 2 == 0:
            s3.put_object(Bucket=BUCKET, Key=f"specs/app{n:02d}.json", Body=body.encode())
        else:
            ssm.put_parameter(Name=f"/bench/app{n:02d}", Value=body, Type="String", Overwrite=True)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    for n in range(workload.roles):
        if n == workload.missing_role:
            continue
        statements = [
            {
                "Effect": "Allow",
                "Action": "ssm:GetParameters",
                "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/bench/*",
            }
        ]
        if n not in workload.roles_without_s3:
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{BUCKET}/specs/*",
                }
            )
        document = json.dumps({"Version": "2012-10-17", "Statement": statements})
        name = f"bench-exec-{n:02d}"
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        if n in workload.managed_roles:
            arn = iam.create_policy(PolicyName=f"{name}-specs", PolicyDocument=document)
            iam.attach_role_policy(RoleName=name, PolicyArn=arn["Policy"]["Arn"])
        else:
            iam.put_role_policy(RoleName=name, PolicyName="specs", PolicyDocument=document)
    ecs = _client(endpoint, "ecs")

    def register(family: int) -> None:
        for revision in range(1, workload.revisions + 1):
            ecs.register_task_definition(**task_definition(workload, family, revision))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(register, range(workload.families)))
    return time.perf_counter() - start


# --------------------------------------------------------------------------- counting calls


class Recorder:
    """The moto server's request recorder: every request it received, by API."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def _post(self, action: str) -> str:
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/recorder/{action}", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(response.read().decode())

    @contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        """Count the requests made inside the block (filled in when it ends)."""
        counts: Counter[str] = Counter()
        self._post("reset-recording")
        self._post("start-recording")
        try:
            yield counts
        finally:
            self._post("stop-recording")
            with urllib.request.urlopen(
                f"{self.endpoint}/moto-api/recorder/download-recording", timeout=60
            ) as response:
                text = response.read().decode()
            for line in text.splitlines():
                if line.strip():
                    counts[_api_of_entry(json.loads(line))] += 1
            self._post("reset-recording")


def _api_of_entry(entry: dict[str, Any]) -> str:
    body = entry.get("body") or ""
    data = base64.b64decode(body) if entry.get("body_encoded") else str(body).encode()
    return api_of(str(entry.get("method", "")), entry.get("headers") or {}, data)


# --------------------------------------------------------------------------- the two ways


def _environment(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_CONFIG_FILE=str(directory / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(directory / "no-credentials"),
    )
    return env


def _run_process(
    command: list[str], env: dict[str, str], stdin: str | None = None
) -> tuple[int, str, float]:
    """Run a process to its end: (exit code, stdout, its peak RSS in MiB). The process is
    reaped with wait4, which gives that one child's resource usage."""
    process = subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    if stdin is not None:
        assert process.stdin is not None
        process.stdin.write(stdin)  # read whole before anything is printed
        process.stdin.close()
    out = process.stdout.read()
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, out, usage.ru_maxrss / 1024


@dataclass
class WayResult:
    """One way over the whole account."""

    seconds: float
    """Wall time (extrapolated to every task definition when sampled)."""
    calls: dict[str, int]
    """Requests the server received, by API (extrapolated when sampled)."""
    peak_rss_mib: float
    """The largest resident set of any one process of the way."""
    processes: int
    """Processes started (extrapolated when sampled)."""
    failing: list[str] = field(default_factory=list)
    """Families found failing (exit 1 or 3 for the naive way; in the sample only)."""
    measured: int = 0
    """Task definitions really checked (the sample size for the naive way)."""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


def run_audit(endpoint: str, recorder: Recorder, directory: Path, concurrency: int) -> WayResult:
    command = [sys.executable, "-m", "gmsa", "audit", "--region", REGION]
    command += ["--endpoint-url", endpoint, "--concurrency", str(concurrency), "--json"]
    with recorder.counting() as counts:
        start = time.perf_counter()
        code, out, rss = _run_process(command, _environment(directory))
        seconds = time.perf_counter() - start
    document = json.loads(out)
    tasks = document["task_definitions"]
    return WayResult(
        seconds=seconds,
        calls=dict(counts),
        peak_rss_mib=rss,
        processes=1,
        failing=sorted(t["family"] for t in tasks if t["outcome"] == "fail"),
        measured=len(tasks),
        detail={
            "exit_code": code,
            "engine_seconds": document["audit"]["seconds"],
            "self_counted_calls": document["aws_calls"],
            "summary": {k: v for k, v in document["summary"].items() if k != "causes"},
            "causes": [(c["code"], c["task_definitions"]) for c in document["summary"]["causes"]],
        },
    )


def run_naive(
    endpoint: str, recorder: Recorder, directory: Path, sample: int, seed_value: int = 12
) -> WayResult:
    """List, describe each family's latest revision, then one task check per gMSA one."""
    env = _environment(directory)
    ecs = _client(endpoint, "ecs")
    with recorder.counting() as listing_counts:
        start = time.perf_counter()
        families = [
            f
            for page in ecs.get_paginator("list_task_definition_families").paginate(status="ACTIVE")
            for f in page["families"]
        ]
        described = [ecs.describe_task_definition(taskDefinition=f) for f in families]
        listing_seconds = time.perf_counter() - start
    using = [
        d
        for d in described
        if any(
            c.get("credentialSpecs") or c.get("dockerSecurityOptions")
            for c in d["taskDefinition"]["containerDefinitions"]
        )
    ]
    chosen = using
    if 0 < sample < len(using):
        chosen = random.Random(seed_value).sample(using, sample)
    command = [sys.executable, "-m", "gmsa", "task", "check", "-", "--fetch", "--check-role"]
    command += ["--region", REGION, "--endpoint-url", endpoint, "--json"]
    failing: list[str] = []
    peak = 0.0
    codes: Counter[int] = Counter()
    with recorder.counting() as check_counts:
        start = time.perf_counter()
        for answer in chosen:
            doc = {"taskDefinition": answer["taskDefinition"]}
            code, _, rss = _run_process(command, env, json.dumps(doc, default=str))
            codes[code] += 1
            peak = max(peak, rss)
            if code != 0:
                failing.append(answer["taskDefinition"]["family"])
        check_seconds = time.perf_counter() - start
    scale = len(using) / len(chosen) if chosen else 0.0
    calls = Counter(listing_counts)
    for api, number in check_counts.items():
        calls[api] += round(number * scale)
    return WayResult(
        seconds=listing_seconds + check_seconds * scale,
        calls=dict(calls),
        peak_rss_mib=peak,
        processes=len(using),
        failing=sorted(failing),
        measured=len(chosen),
        detail={
            "listing_seconds": listing_seconds,
            "check_seconds_measured": check_seconds,
            "per_process_seconds": check_seconds / len(chosen) if chosen else 0.0,
            "exit_codes": {str(k): v for k, v in sorted(codes.items())},
            "sampled": len(chosen) < len(using),
            "using_gmsa": len(using),
            "checked": sorted(a["taskDefinition"]["family"] for a in chosen),
        },
    )


# --------------------------------------------------------------------------- the minimum


def minimum_calls(workload: Workload) -> dict[str, int]:
    """The fewest calls any tool needs on real AWS to answer the question for the latest
    revisions: list the families (100 a page), describe each, read each distinct spec,
    read each distinct role's policies, and ask STS for the account once (to read SSM
    parameters by name safely)."""
    families = workload.gmsa_families
    specs = {workload.spec_of(f) for f in families}
    roles = {workload.role_of(f) for f in families}
    existing = roles - {workload.missing_role}
    managed = existing & workload.managed_roles
    out = {
        "ecs:ListTaskDefinitionFamilies": math.ceil(workload.families / 100),
        "ecs:DescribeTaskDefinition": workload.families,
        "s3:GetObject": sum(n % 2 == 0 for n in specs),
        "ssm:GetParameters": sum(n % 2 == 1 for n in specs),
        "sts:GetCallerIdentity": 1,
        "iam:ListRolePolicies": len(roles),
        "iam:GetRolePolicy": len(existing - managed),
        "iam:ListAttachedRolePolicies": len(existing),
        "iam:GetPolicy": len(managed),
        "iam:GetPolicyVersion": len(managed),
    }
    return {k: v for k, v in out.items() if v}


def expected_failing(workload: Workload) -> list[str]:
    """The families that must be found failing, from the way the account was built."""
    out = []
    for family in workload.gmsa_families:
        spec, role = workload.spec_of(family), workload.role_of(family)
        broken = (
            spec in workload.missing_specs
            or spec == workload.invalid_spec
            or role == workload.missing_role
            or (role in workload.roles_without_s3 and spec % 2 == 0)
            or family % 40 == 0
        )
        if broken:
            out.append(f"bench-{family:05d}")
    return out


# --------------------------------------------------------------------------- the report


@dataclass
class Report:
    workload: Workload
    seed_seconds: float
    audit: WayResult
    naive: WayResult
    minimum: dict[str, int]
    expected_failing: int
    audit_agrees: bool
    """Whether the audit found exactly the families built broken."""
    naive_agrees: bool
    """Whether the naive way found failing exactly the built-broken ones it checked."""
    python: str = platform.python_version()
    cpus: int = os.cpu_count() or 0
    machine: str = f"{platform.system()} {platform.machine()}"
    gmsa_version: str = gmsa.__version__
    versions: dict[str, str] = field(
        default_factory=lambda: {
            name: importlib.metadata.version(name) for name in ("moto", "botocore", "boto3")
        }
    )
    date: str = time.strftime("%Y-%m-%d")
    load: tuple[float, float] = (0.0, 0.0)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for way in ("audit", "naive"):
            out[way]["total_calls"] = getattr(self, way).total_calls
            out[way]["failing"] = len(getattr(self, way).failing)
        out["naive"]["detail"].pop("checked", None)
        out["minimum_total"] = sum(self.minimum.values())
        return out

    def text(self) -> str:
        w = self.workload
        apis = sorted(set(self.minimum) | set(self.audit.calls) | set(self.naive.calls))
        sampled = self.naive.detail.get("sampled")
        lines = [
            f"{w.families} families x {w.revisions} revisions, {len(w.gmsa_families)} using "
            f"gMSA over {w.specs} specs and {w.roles} roles (seeded in {self.seed_seconds:.0f} s)",
            f"{'':34} {'minimum':>9} {'audit':>9} {'naive':>9}",
        ]
        for api in apis:
            lines.append(
                f"  {api:32} {self.minimum.get(api, 0):9d} {self.audit.calls.get(api, 0):9d} "
                f"{self.naive.calls.get(api, 0):9d}"
            )
        lines += [
            f"  {'all calls':32} {sum(self.minimum.values()):9d} {self.audit.total_calls:9d} "
            f"{self.naive.total_calls:9d}",
            f"  {'wall time (s)':32} {'':9} {self.audit.seconds:9.1f} {self.naive.seconds:9.1f}",
            f"  {'processes':32} {'':9} {self.audit.processes:9d} {self.naive.processes:9d}",
            f"  {'peak RSS of a process (MiB)':32} {'':9} {self.audit.peak_rss_mib:9.0f} "
            f"{self.naive.peak_rss_mib:9.0f}",
            f"would fail: audit {len(self.audit.failing)} (built broken: {self.expected_failing}, "
            f"{'the same' if self.audit_agrees else 'DIFFERENT'}); naive "
            f"{len(self.naive.failing)} of {self.naive.measured} checked "
            f"({'agrees' if self.naive_agrees else 'DISAGREES'})",
        ]
        if sampled:
            lines.append(
                f"naive: {self.naive.measured} of {self.naive.processes} task definitions "
                "checked (random sample); its time and calls are extrapolated to all"
            )
        if self.audit.calls.get("ecs:ListTaskDefinitionFamilies", 0) < self.minimum.get(
            "ecs:ListTaskDefinitionFamilies", 0
        ):
            lines.append(
                "moto answers ListTaskDefinitionFamilies in one page; AWS pages by 100 (the "
                "minimum column)"
            )
        versions = ", ".join(f"{k} {v}" for k, v in self.versions.items())
        lines.append(
            f"Python {self.python}, gmsa {self.gmsa_version}, {versions}, {self.cpus} CPU(s), "
            f"{self.machine}, {self.date}, load {self.load[0]:.2f} -> {self.load[1]:.2f}"
        )
        return "\n".join(lines)


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def run(
    endpoint: str,
    workload: Workload,
    *,
    naive_sample: int = 0,
    concurrency: int = 8,
    directory: Path,
) -> Report:
    """Seed the account behind ``endpoint`` (a moto server started with a recorder) and
    run both ways."""
    load_before = os.getloadavg()[0]
    _say(f"seeding {workload.families} families x {workload.revisions} revisions")
    seed_seconds = seed(endpoint, workload)
    recorder = Recorder(endpoint)
    _say(f"seeded in {seed_seconds:.0f} s; gmsa audit")
    audit = run_audit(endpoint, recorder, directory, concurrency)
    _say(f"gmsa audit: {audit.seconds:.1f} s; the naive way")
    naive = run_naive(endpoint, recorder, directory, naive_sample)
    _say(f"the naive way: {naive.seconds:.0f} s (extrapolated when sampled)")
    built = expected_failing(workload)
    naive_agrees = set(naive.failing) == set(built) & set(naive.detail["checked"])
    return Report(
        workload=workload,
        seed_seconds=seed_seconds,
        audit=audit,
        naive=naive,
        minimum=minimum_calls(workload),
        expected_failing=len(built),
        audit_agrees=audit.failing == built,
        naive_agrees=naive_agrees,
        load=(load_before, os.getloadavg()[0]),
    )


@contextmanager
def recording_server(directory: Path) -> Iterator[str]:
    """A moto server whose request recorder writes below ``directory``."""
    with moto_server(env={"MOTO_RECORDER_FILEPATH": str(directory / "requests.jsonl")}) as url:
        yield url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--families", type=int, default=2000)
    parser.add_argument("--revisions", type=int, default=5)
    parser.add_argument("--gmsa-share", type=float, default=0.2)
    parser.add_argument("--specs", type=int, default=25)
    parser.add_argument("--roles", type=int, default=15)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--naive-sample",
        type=int,
        default=0,
        help="check only this many task definitions the naive way and extrapolate (0: all)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    workload = Workload(args.families, args.revisions, args.gmsa_share, args.specs, args.roles)
    with tempfile.TemporaryDirectory(prefix="gmsa-audit-bench-") as tmp:
        directory = Path(tmp)
        with recording_server(directory) as endpoint:
            report = run(
                endpoint,
                workload,
                naive_sample=args.naive_sample,
                concurrency=args.concurrency,
                directory=directory,
            )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
