"""Benchmark: ``gmsa task prepare`` against what the ECS agent does, on one moto server.

The baseline does what the ECS agent's credentialspec resource does for each task:
one fetch per distinct spec of the task with plain boto3 (``get_object`` for S3,
``get_parameters`` for SSM) and a plain file write, nothing shared across tasks.
gmsa prepares the same tasks through :class:`~gmsa.hostagent.windows.WindowsHostAgent`
with one shared :class:`~gmsa.source.fetcher.SpecFetcher` and
:class:`~gmsa.source.cache.SpecCache`, and does everything it always does on top:
validation, atomic (fsynced) writes, a ledger per task.

Both run in the same process against the same moto server, which the benchmark
starts on 127.0.0.1 as ``python -m moto.server``; tasks run concurrently in a
thread pool of the same size for both. Run::

    python -m benchmarks.prepare_bench            # 200 tasks x 3 containers, 10 specs
    python -m benchmarks.prepare_bench --json     # the figures as JSON
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3

from gmsa.aws import AwsConfig
from gmsa.hostagent.windows import WindowsHostAgent
from gmsa.reference import Reference, S3Location, SsmLocation
from gmsa.source.cache import SpecCache
from gmsa.source.fetcher import SpecFetcher
from gmsa.taskdef.model import TaskDefinition, parse_task_definition

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "bench-gmsa-specs"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"


# --------------------------------------------------------------------------- the endpoint


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(env: dict[str, str] | None = None) -> Iterator[str]:
    """A moto server on loopback for the duration of the block (``env`` added to its
    environment); yields its endpoint."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the moto server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )


def aws_config(endpoint: str) -> AwsConfig:
    """How gmsa reaches the benchmark's endpoint."""
    return AwsConfig(
        region=REGION,
        endpoint_url=endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )


# --------------------------------------------------------------------------- the workload


def spec_document(n: int) -> bytes:
    """A valid credential spec for gMSA ``BenchApp<n>`` (the example domain)."""
    name = f"BenchApp{n:02d}"
    doc = {
        "CmsPlugins": ["ActiveDirectory"],
        "DomainJoinConfig": {
            "Sid": "S-1-5-21-2554468230-2647958158-2204241789",
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
    return json.dumps(doc, indent=4).encode()


def seed_specs(endpoint: str, count: int) -> list[str]:
    """Store ``count`` specs, alternately in S3 and SSM; return their references."""
    session = _session()
    s3 = session.client("s3", endpoint_url=endpoint)
    ssm = session.client("ssm", endpoint_url=endpoint)
    with suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=BUCKET)
    references = []
    for n in range(count):
        body = spec_document(n)
        if n % 2 == 0:
            key = f"specs/app{n:02d}/credspec.json"
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            references.append(f"credentialspec:arn:aws:s3:::{BUCKET}/{key}")
        else:
            name = f"/bench/app{n:02d}/credspec"
            ssm.put_parameter(Name=name, Value=body.decode(), Type="String", Overwrite=True)
            references.append(f"credentialspec:arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}")
    return references


def make_tasks(references: list[str], tasks: int, containers: int) -> list[TaskDefinition]:
    """Task ``i``'s container ``j`` uses spec ``(i + j) mod len(references)``."""
    out = []
    for i in range(tasks):
        doc = {
            "family": f"bench-{i}",
            "containerDefinitions": [
                {
                    "name": f"c{j}",
                    "image": "app",
                    "credentialSpecs": [references[(i + j) % len(references)]],
                }
                for j in range(containers)
            ],
        }
        out.append(parse_task_definition(doc, source=f"bench-{i}.json"))
    return out


def task_id(i: int) -> str:
    """An ECS-shaped task id (32 hex digits)."""
    return f"{i:032x}"


# --------------------------------------------------------------------------- the two ways


class Baseline:
    """What the ECS agent does: per task, one fetch per distinct spec, one plain write."""

    def __init__(self, endpoint: str, directory: Path) -> None:
        session = _session()
        self.s3 = session.client("s3", endpoint_url=endpoint)
        self.ssm = session.client("ssm", endpoint_url=endpoint)
        self.directory = directory
        self.fetches = 0

    def fetch(self, reference: Reference) -> bytes:
        self.fetches += 1  # one increment per call; the GIL keeps it whole
        location = reference.location
        if isinstance(location, S3Location):
            response = self.s3.get_object(Bucket=location.bucket, Key=location.key)
            return bytes(response["Body"].read())
        assert isinstance(location, SsmLocation)
        response = self.ssm.get_parameters(Names=[location.name], WithDecryption=True)
        return str(response["Parameters"][0]["Value"]).encode()

    def prepare(self, task: TaskDefinition, tid: str) -> list[str]:
        written: dict[str, str] = {}
        options = []
        for container in task.containers:
            use = container.credential_spec_uses[0]
            assert use.reference is not None
            key = str(use.reference)
            if key not in written:
                data = self.fetch(use.reference)
                location = use.reference.location
                if isinstance(location, S3Location):
                    name = f"s3_{tid}_{location.key.rsplit('/', 1)[-1]}"
                else:
                    digest = hashlib.sha256(f"{tid}{container.name}{location}".encode())
                    name = f"ssm_{digest.hexdigest()}"
                (self.directory / name).write_bytes(data)
                written[key] = name
            options.append(f"credentialspec=file://{written[key]}")
        return options


@dataclass(frozen=True)
class RunResult:
    """One way of preparing all tasks, timed."""

    fetches: int
    """Requests for spec content sent to the endpoint (S3 GetObject / SSM GetParameters)."""
    seconds: float
    """Wall time for all tasks."""


def run_baseline(
    endpoint: str, tasks: list[TaskDefinition], directory: Path, workers: int
) -> RunResult:
    """Prepare every task the ECS agent's way, ``workers`` tasks at a time."""
    start = time.perf_counter()
    baseline = Baseline(endpoint, directory)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(baseline.prepare, tasks, [task_id(i) for i in range(len(tasks))]))
    return RunResult(fetches=baseline.fetches, seconds=time.perf_counter() - start)


def run_gmsa(
    endpoint: str, tasks: list[TaskDefinition], directory: Path, workers: int
) -> RunResult:
    """Prepare every task with gmsa's host agent, ``workers`` tasks at a time."""
    start = time.perf_counter()
    fetcher = SpecFetcher(aws=aws_config(endpoint), spec_dir=directory, cache=SpecCache())
    agent = WindowsHostAgent(directory, fetcher)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(agent.prepare, tasks, [task_id(i) for i in range(len(tasks))]))
    return RunResult(fetches=fetcher.fetch_count, seconds=time.perf_counter() - start)


def single_task(
    endpoint: str, reference: str, directory: Path, repetitions: int
) -> tuple[float, float]:
    """Median seconds for one task with one container and a cold cache: (baseline, gmsa).

    The baseline is the bare boto3 fetch plus a plain write. gmsa gets a new cache for
    every repetition, so each one fetches: what is measured is its overhead
    (validation, atomic writes, the ledger), not the cache. The two alternate so
    drift of the endpoint hits both alike; clients are made once, outside the timing.
    """
    task = make_tasks([reference], 1, 1)[0]
    config = aws_config(endpoint)
    baseline = Baseline(endpoint, directory)
    warm = SpecFetcher(aws=config, spec_dir=directory, cache=SpecCache())
    warm_agent = WindowsHostAgent(directory, warm)
    warm_agent.cleanup(warm_agent.prepare(task, "warmup").task_id)
    baseline.prepare(task, "warmup")
    base_times: list[float] = []
    gmsa_times: list[float] = []
    for rep in range(repetitions):
        tid = task_id(10_000_000 + rep)
        t0 = time.perf_counter()
        baseline.prepare(task, tid)
        t1 = time.perf_counter()
        agent = WindowsHostAgent(
            directory, SpecFetcher(aws=config, spec_dir=directory, cache=SpecCache())
        )
        t2 = time.perf_counter()
        agent.prepare(task, tid)
        t3 = time.perf_counter()
        agent.cleanup(tid)
        base_times.append(t1 - t0)
        gmsa_times.append(t3 - t2)
    return statistics.median(base_times), statistics.median(gmsa_times)


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Report:
    """Everything the benchmark measured, with the machine it ran on."""

    tasks: int
    containers: int
    specs: int
    workers: int
    repetitions: int
    rounds: int
    baseline: RunResult
    gmsa: RunResult
    baseline_rounds: tuple[float, ...]
    gmsa_rounds: tuple[float, ...]
    single_baseline_ms: float
    single_gmsa_ms: float
    python: str
    cpus: int
    machine: str
    date: str
    load: tuple[float, float]
    """The 1-minute load average before and after: other work on the machine skews
    both ways alike, but a figure taken under load deserves a second run."""

    @property
    def fetch_ratio(self) -> float:
        return self.baseline.fetches / max(self.gmsa.fetches, 1)

    @property
    def speedup(self) -> float:
        return self.baseline.seconds / self.gmsa.seconds

    @property
    def single_ratio(self) -> float:
        return self.single_gmsa_ms / self.single_baseline_ms

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(
            fetch_ratio=self.fetch_ratio, speedup=self.speedup, single_ratio=self.single_ratio
        )
        return out

    def text(self) -> str:
        return "\n".join(
            [
                f"{self.tasks} tasks x {self.containers} containers over {self.specs} specs, "
                f"{self.workers} tasks at a time, median of {self.rounds} round(s)",
                f"  baseline (ECS agent way): {self.baseline.fetches:5d} fetches "
                f"{self.baseline.seconds:7.3f} s",
                f"  gmsa:                     {self.gmsa.fetches:5d} fetches "
                f"{self.gmsa.seconds:7.3f} s",
                f"  fewer fetches: {self.fetch_ratio:.1f}x   faster: {self.speedup:.2f}x",
                f"single task, one container, cold cache (median of {self.repetitions}):",
                f"  baseline {self.single_baseline_ms:.2f} ms   gmsa {self.single_gmsa_ms:.2f} ms"
                f"   ratio {self.single_ratio:.2f}",
                f"Python {self.python}, {self.cpus} CPU(s), {self.machine}, {self.date}, "
                f"load {self.load[0]:.2f} -> {self.load[1]:.2f}",
            ]
        )


def _median_run(results: list[RunResult]) -> RunResult:
    """The round with the median wall time (fetch counts are the same in every round)."""
    ordered = sorted(results, key=lambda r: r.seconds)
    return ordered[(len(ordered) - 1) // 2]


def run(
    endpoint: str,
    *,
    tasks: int,
    containers: int,
    specs: int,
    workers: int,
    repetitions: int,
    workdir: Path,
    rounds: int = 3,
) -> Report:
    """Seed the endpoint, run both ways on fresh directories, and measure one task."""
    load_before = os.getloadavg()[0]
    references = seed_specs(endpoint, specs)
    task_defs = make_tasks(references, tasks, containers)
    single_dir = workdir / "single"
    single_dir.mkdir(parents=True)
    # Warm the endpoint up first (its first requests are slower); then alternate which
    # way goes first in each round and keep each way's median round.
    warmup = workdir / "warmup"
    warmup.mkdir()
    run_baseline(endpoint, task_defs[: max(1, tasks // 10)], warmup, workers)
    runs: dict[str, list[RunResult]] = {"baseline": [], "gmsa": []}
    ways = {"baseline": run_baseline, "gmsa": run_gmsa}
    for round_no in range(rounds):
        order = ["gmsa", "baseline"] if round_no % 2 == 0 else ["baseline", "gmsa"]
        for way in order:
            directory = workdir / f"round{round_no}" / way
            directory.mkdir(parents=True)
            runs[way].append(ways[way](endpoint, task_defs, directory, workers))
    baseline, gmsa = _median_run(runs["baseline"]), _median_run(runs["gmsa"])
    single_base, single_gmsa = single_task(endpoint, references[0], single_dir, repetitions)
    return Report(
        tasks=tasks,
        containers=containers,
        specs=specs,
        workers=workers,
        repetitions=repetitions,
        rounds=rounds,
        baseline=baseline,
        gmsa=gmsa,
        baseline_rounds=tuple(r.seconds for r in runs["baseline"]),
        gmsa_rounds=tuple(r.seconds for r in runs["gmsa"]),
        single_baseline_ms=single_base * 1000,
        single_gmsa_ms=single_gmsa * 1000,
        python=platform.python_version(),
        cpus=os.cpu_count() or 0,
        machine=f"{platform.system()} {platform.machine()}",
        date=time.strftime("%Y-%m-%d"),
        load=(load_before, os.getloadavg()[0]),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--containers", type=int, default=3)
    parser.add_argument("--specs", type=int, default=10)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--repetitions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="gmsa-bench-"))
    try:
        with moto_server() as endpoint:
            report = run(
                endpoint,
                tasks=args.tasks,
                containers=args.containers,
                specs=args.specs,
                workers=args.workers,
                repetitions=args.repetitions,
                workdir=workdir,
                rounds=args.rounds,
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
