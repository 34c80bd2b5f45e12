"""The harness that drives the CLI with hostile input (tests/support/hostile.py): one
builder per command that reads input, running a command in process with a time bound,
and the properties every run must have.

Used by tests/unit/cli/test_hostile_cli.py (AWS without credentials, nothing listening
where a ticket service, Docker or a domain controller would be) and
tests/integration/aws/test_hostile_cli_aws.py (the moto server, with hostile content
stored where references point).
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st

from gmsa.cli.main import cli
from tests.support.cli import assert_envelope, assert_sarif
from tests.support.hostile import (
    GOOD_REFERENCES,
    PASSWORD_ENV,
    SPECIAL,
    TASK_ID,
    USER_FILES,
    USER_LOOKALIKE,
    Draw,
    Sandbox,
    arguments,
    arns,
    json_bytes,
    mutated,
    odd_text,
    plan_document,
    policy_document,
    references,
    snapshot,
    snapshot_entry,
    spec_document,
    task_ids,
    taskdef_document,
    template_document,
    tickets_config_document,
    yaml_bytes,
)

EXAMPLES = int(os.environ.get("GMSA_FUZZ_EXAMPLES", "12"))
SEED = os.environ.get("GMSA_FUZZ_SEED", "")
TIME_BOUND = 20.0
"""Seconds one command may take, whatever it is given (the slowest honest case is a
domain controller address nothing answers on, bounded by --timeout)."""

FUZZ = settings(
    max_examples=EXAMPLES,
    # Shrinking re-runs commands many times; a long search shrinks what it finds.
    phases=[Phase.explicit, Phase.reuse, Phase.generate]
    + ([Phase.shrink] if EXAMPLES > 100 else []),
    derandomize=SEED == "",
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.large_base_example,
    ],
)


@dataclass
class Invocation:
    """One command line and what standard input holds."""

    args: list[str]
    stdin: bytes | None = None
    writes: list[Path] = field(default_factory=list)
    """Input files the command is asked to change (none so far)."""


Builder = Callable[[Draw, Sandbox], Invocation]


# --------------------------------------------------------------------------- inputs


def friendly(box: Sandbox) -> bool:
    """Whether this example's documents, references and task ids are ones that work (its
    other arguments and the sandbox stay hostile), so the command gets to its real work:
    writing files, reading ledgers, asking services."""
    return bool(box.notes.get("friendly"))


def reference(draw: Draw, box: Sandbox) -> str:
    """A hostile reference, or (when the sandbox holds some) one to stored hostile content;
    in a friendly example one that works (or stored content)."""
    stored: list[str] = box.notes.get("stored", [])
    if stored and draw(st.booleans()):
        return str(draw(st.sampled_from(stored)))
    if friendly(box):  # file:// ones: without an AWS endpoint S3 and SSM fail at once
        good = [ref for ref in GOOD_REFERENCES if "file://" in ref or stored]
        return str(draw(st.sampled_from(good)))
    return str(draw(references()))


def task_id(draw: Draw, box: Sandbox) -> str:
    """A task id: hostile, or in a friendly example a real one."""
    return TASK_ID if friendly(box) else str(draw(task_ids()))


def spec_base(draw: Draw, box: Sandbox) -> Any:
    return spec_document(
        draw(st.sampled_from(["WebApp01", "WebApp02"])), domainless=draw(st.booleans())
    )


def taskdef_base(draw: Draw, box: Sandbox) -> Any:
    refs = [reference(draw, box) for _ in range(draw(st.integers(1, 3)))]
    windows = "WINDOWS_SERVER_2019_CORE"
    platform = windows if friendly(box) else draw(st.sampled_from([windows, "LINUX"]))
    return taskdef_document(refs, platform)


def wildcard_resources() -> Any:
    """Resource patterns with many ``*`` and ``?``, which a backtracking matcher takes
    minutes over against a long key that almost matches."""
    pattern = st.lists(st.sampled_from(["*", "?", "a", "a", "b", "/"]), max_size=40).map("".join)
    return pattern.map(lambda p: f"arn:aws:s3:::bucket/{p}")


def policy_base(draw: Draw, box: Sandbox) -> Any:
    resources = st.one_of(
        arns(),
        wildcard_resources(),
        st.sampled_from(["*", "arn:aws:s3:::*/*", "arn:aws:s3:::bucket/" + "*a" * 12 + "*b"]),
    )
    return policy_document(draw(resources))


def infra_base(draw: Draw, box: Sandbox) -> Any:
    refs = [reference(draw, box) for _ in range(draw(st.integers(1, 2)))]
    return draw(st.sampled_from([template_document, plan_document]))(refs)


class Inputs:
    """Hands out input files for one example; at most one of them is standard input."""

    def __init__(self, draw: Draw, box: Sandbox) -> None:
        self.draw = draw
        self.box = box
        self.stdin: bytes | None = None
        self.count = 0

    def document(
        self, base: Callable[[Draw, Sandbox], Any], *, yaml_too: bool = False, stdin: bool = True
    ) -> str:
        """A path to a document built from ``base``, or a special file, or ``-``."""
        draw = self.draw
        if friendly(self.box):
            self.count += 1
            data = json.dumps(base(draw, self.box)).encode()
            return self.box.file(f"doc{self.count}.json", data)
        choice = draw(st.sampled_from(["document"] * 6 + ["special", "stdin"]))
        if choice == "stdin" and (not stdin or self.stdin is not None):
            choice = "document"
        if choice == "special":
            return self.box.special(draw(st.sampled_from(SPECIAL)))
        document = mutated(draw, base(draw, self.box))
        as_yaml = yaml_too and draw(st.booleans())
        data = yaml_bytes(draw, document) if as_yaml else json_bytes(draw, document)
        if choice == "stdin":
            self.stdin = data
            return "-"
        self.count += 1
        name = draw(
            st.sampled_from(
                [f"doc{self.count}.yaml" if as_yaml else f"doc{self.count}.json", f"x{self.count}"]
            )
        )
        return self.box.file(name, data)


def output_format(draw: Draw, box: Sandbox) -> list[str]:
    """``--json``, ``--format ...``, ``-q`` or nothing; the machine-readable format asked
    for is noted in the sandbox (an argument drawn earlier may look like ``--json`` but
    be an option's value)."""
    chosen: list[str] = draw(
        st.sampled_from(
            [[], ["--json"], ["--format", "json"], ["--format", "sarif"], ["-q"], ["--json", "-q"]]
        )
    )
    box.notes["format"] = "json" if "--json" in chosen else (chosen[1:] or [None])[0]
    return chosen


def maybe(draw: Draw, *options: str | list[str]) -> list[str]:
    """Each option (or option with its value) added or not."""
    out: list[str] = []
    for option in options:
        if draw(st.booleans()):
            out += [option] if isinstance(option, str) else option
    return out


def ad_options(box: Sandbox) -> list[str]:
    """A domain controller and KDC address nothing listens on, a user and a password."""
    return [
        "--domain",
        "example.com",
        "--server",
        "127.0.0.9",
        "--kdc",
        "127.0.0.9",
        "--timeout",
        "2",
        "--user",
        "admin@example.com",
        "--password-env",
        PASSWORD_ENV,
    ]


def _ledger_document(draw: Draw, linux: bool) -> Any:
    if linux:
        return {
            "format": 1,
            "task_id": TASK_ID,
            "task_arn": None,
            "task_definition": "webapp",
            "lease_id": "0123456789abcdef0123",
            "references": [{"reference": "credentialspec:file://webapp01.json", "containers": []}],
            "pending": ["0123456789abcdef0124"],
        }
    return {
        "format": 1,
        "task_id": TASK_ID,
        "task_arn": None,
        "task_definition": "webapp",
        "files": [
            {
                "name": USER_LOOKALIKE,
                "sha256": "0" * 64,
                "reference": "credentialspec:file://webapp01.json",
                "containers": ["c0"],
            }
        ],
    }


def plant_ledger(draw: Draw, box: Sandbox) -> None:
    """What a host agent finds where it keeps its records: nothing, a hostile ledger of
    the task, or links and special files where its ledger directory or ledger belongs
    (pointing into the canary, which must not change)."""
    kind = draw(
        st.sampled_from(["none", "none", "ledger", "gmsa-link", "tasks-link", "ledger-link"])
    )
    if kind == "none":
        return
    for root, linux in ((box.specs, False), (box.krb, True)):
        if kind == "gmsa-link":
            os.symlink(box.canary, root / ".gmsa")
            continue
        tasks = root / ".gmsa" / "tasks"
        if kind == "tasks-link":
            tasks.parent.mkdir()
            os.symlink(box.canary / "specs", tasks)
            continue
        tasks.mkdir(parents=True)
        ledger = tasks / f"task_{TASK_ID}.json"
        if kind == "ledger-link":
            os.symlink(box.canary / "spec.json", ledger)
        else:
            ledger.write_bytes(json_bytes(draw, mutated(draw, _ledger_document(draw, linux))))


def host_options(draw: Draw, box: Sandbox) -> list[str]:
    """Where a host agent works: the sandbox's CredentialSpecs or krb directory (with
    what :func:`plant_ledger` may have put there)."""
    plant_ledger(draw, box)
    platform = draw(st.sampled_from([[], ["--platform", "windows"], ["--platform", "linux"]]))
    credspec_dir = ["--credspec-dir", str(box.specs)]
    return [
        *platform,
        *(credspec_dir if friendly(box) else maybe(draw, credspec_dir)),
        "--krb-dir",
        str(box.krb),
        "--socket",
        str(box.socket),
    ]


# --------------------------------------------------------------------------- the commands


def aws_arguments(draw: Draw, box: Sandbox) -> list[str]:
    """The AWS options, left out or hostile: regions that are not regions, endpoints
    without a scheme, with a broken IPv6 literal or another scheme, or on a loopback
    port nothing listens on (always with a short ``--timeout``), and timeouts out of
    range. Never an endpoint on the network: every answer must come at once."""
    if friendly(box) or draw(st.booleans()):
        return []
    out = maybe(
        draw,
        [
            "--region",
            draw(
                st.one_of(st.sampled_from(["not a region", "", "us-east-1", "xx-1"]), arguments())
            ),
        ],
        [
            "--endpoint-url",
            draw(
                st.one_of(
                    st.sampled_from(
                        [
                            "localhost:4566",
                            "http://[::1",
                            "ftp://127.0.0.1/",
                            "http://",
                            "",
                            "http://127.0.0.1:1",
                            "https://[fe80::1%25eth0]:1",
                        ]
                    ),
                    arguments(),
                )
            ),
        ],
    )
    timeout = draw(st.sampled_from(["2", "0", "-1", "nan", "inf", "1e400", "abc", "3601", "0.5"]))
    return [*out, "--timeout", timeout]


def audit(draw: Draw, box: Sandbox) -> Invocation:
    """An account audit with hostile selections; without credentials it ends at once."""
    regions = [
        item
        for _ in range(draw(st.integers(0, 2)))
        for item in (
            "--region",
            draw(st.one_of(st.sampled_from(["us-east-1", "eu-west-3", "bogus"]), arguments())),
        )
    ]
    extra = maybe(
        draw,
        ["--family-prefix", draw(arguments())],
        ["--status", draw(st.sampled_from(["ACTIVE", "INACTIVE", "DELETED", ""]))],
        ["--concurrency", draw(st.sampled_from(["1", "0", "65", "-3", "x"]))],
        "--all-revisions",
    )
    return Invocation(
        ["audit", *regions, *extra, *aws_arguments(draw, box), *output_format(draw, box)]
    )


def spec_validate(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    paths = [files.document(spec_base) for _ in range(draw(st.integers(1, 3)))]
    return Invocation(["spec", "validate", *paths, *output_format(draw, box)], files.stdin)


def spec_show(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    path = files.document(spec_base)
    args = ["spec", "show", path, *maybe(draw, "--canonical"), *output_format(draw, box)]
    return Invocation(args, files.stdin)


def spec_publish(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    path = files.document(spec_base)
    target = draw(
        st.one_of(
            st.sampled_from(
                [
                    f"dir:{box.specs}",
                    f"dir:{box.specs}/new.json",
                    f"dir:{box.specs}/linked.json",
                    f"dir:{box.specs}/fifo.json",
                    f"dir:{box.specs}/subdir",
                    f"dir:{box.specs}/team/app.json",
                    f"dir:{box.work}/missing/x.json",
                    "dir:",
                    "s3://bucket/key.json",
                    "ssm:/gmsa/webapp01",
                    "ssm:",
                    "s3://",
                ]
            ),
            arns(),
            st.builds(lambda name: f"dir:{box.specs}/{name}", odd_text(max_size=20)),
        )
    )
    args = ["spec", "publish", path, target, *maybe(draw, "--overwrite", "--secure")]
    return Invocation([*args, *aws_arguments(draw, box), *output_format(draw, box)], files.stdin)


def spec_new(draw: Draw, box: Sandbox) -> Invocation:
    account = draw(st.one_of(st.sampled_from(["WebApp01", "WebApp01$", ""]), arguments()))
    out = draw(
        st.sampled_from(
            [
                ["--out", str(box.work / "new.json")],
                ["--out", str(box.specs / "linked.json")],
                ["--out", "-"],
                ["--credspec-dir", str(box.specs)],
                [],
            ]
        )
    )
    extra = maybe(draw, ["--additional-account", draw(arguments())], ["--host", draw(arguments())])
    args = ["spec", "new", account, *out, *extra, *ad_options(box), *output_format(draw, box)]
    return Invocation(args)


def spec_verify(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    path = files.document(spec_base, stdin=False)
    host = maybe(draw, ["--host", draw(arguments())])
    return Invocation(["spec", "verify", path, *host, *ad_options(box), *output_format(draw, box)])


def doctor(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    extra = maybe(
        draw,
        ["--spec", files.document(spec_base, stdin=False)],
        ["--account", draw(arguments())],
        ["--host", draw(arguments())],
        "--skip-network",
    )
    return Invocation(["doctor", *extra, *ad_options(box), *output_format(draw, box)])


def export_docker(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    path = files.document(spec_base)
    extra = maybe(draw, ["--file-name", draw(arguments())])
    return Invocation(["export", "docker", path, *extra, *output_format(draw, box)], files.stdin)


def export_kubernetes(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    path = files.document(spec_base)
    extra = maybe(draw, ["--name", draw(arguments())], ["--service-account", draw(arguments())])
    return Invocation(
        ["export", "kubernetes", path, *extra, *output_format(draw, box)], files.stdin
    )


def reference_arguments(draw: Draw, box: Sandbox) -> list[str]:
    refs = [
        reference(draw, box) if draw(st.booleans()) else str(draw(arguments()))
        for _ in range(draw(st.integers(1, 3)))
    ]
    return ["--", *refs] if draw(st.booleans()) else refs


def ref_check(draw: Draw, box: Sandbox) -> Invocation:
    extra = maybe(draw, ["--secret-arn", draw(arns())], ["--kms-key-arn", draw(arns())])
    return Invocation(
        ["ref", "check", *extra, *output_format(draw, box), *reference_arguments(draw, box)]
    )


def iam_policy(draw: Draw, box: Sandbox) -> Invocation:
    extra = maybe(draw, ["--secret-arn", draw(arns())], ["--kms-key-arn", draw(arns())])
    return Invocation(
        ["iam", "policy", *extra, *output_format(draw, box), *reference_arguments(draw, box)]
    )


def iam_check(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    source = draw(st.sampled_from(["policy", "policy", "role"]))
    if source == "policy":
        policies = [files.document(policy_base) for _ in range(draw(st.integers(1, 2)))]
        given_ = [item for path in policies for item in ("--policy", path)]
    else:
        given_ = ["--check-role", draw(st.one_of(arns(), arguments()))]
    extra = maybe(draw, ["--secret-arn", draw(arns())], ["--kms-key-arn", draw(arns())])
    refs = reference_arguments(draw, box)
    args = [
        "iam",
        "check",
        *given_,
        *extra,
        *aws_arguments(draw, box),
        *output_format(draw, box),
        *refs,
    ]
    return Invocation(args, files.stdin)


def task_check(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    base = draw(st.sampled_from([taskdef_base, taskdef_base, infra_base]))
    path = files.document(base, yaml_too=base is infra_base)
    extra = maybe(
        draw,
        ["--input-format", draw(st.sampled_from(["auto", "ecs", "cloudformation", "terraform"]))],
        ["--credspec-dir", str(box.specs)],
        ["--policy", files.document(policy_base, stdin=False)],
        "--fetch",
        "--check-role",
        "--windows-server-2016",
    )
    return Invocation(
        ["task", "check", path, *extra, *aws_arguments(draw, box), *output_format(draw, box)],
        files.stdin,
    )


def task_patch(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    path = files.document(taskdef_base)
    name = draw(st.one_of(st.sampled_from(["c0", "c1", "missing"]), arguments()))
    reference_ = reference(draw, box)
    extra = maybe(
        draw,
        ["--field", draw(st.sampled_from(["credentialSpecs", "dockerSecurityOptions"]))],
        ["--hostname", draw(arguments())],
        "--hostname-from-spec",
        ["--credspec-dir", str(box.specs)],
        ["--out", str(box.work / "patched.json")],
    )
    args = ["task", "patch", path, "--container", name, "--reference", reference_, *extra]
    return Invocation([*args, *aws_arguments(draw, box), *output_format(draw, box)], files.stdin)


def task_prepare(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    path = files.document(taskdef_base)
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/default/{TASK_ID}"
    if not friendly(box):
        arn = draw(st.one_of(arns(), arguments(), st.just(arn)))
    extra = maybe(draw, ["--task-arn", arn], "--no-assume-role")
    args = ["task", "prepare", path, "--task-id", task_id(draw, box), *host_options(draw, box)]
    args += extra
    return Invocation([*args, *aws_arguments(draw, box), *output_format(draw, box)], files.stdin)


def task_renew(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    path = files.document(taskdef_base)
    args = ["task", "renew", path, "--task-id", task_id(draw, box), *host_options(draw, box)]
    return Invocation([*args, *aws_arguments(draw, box), *output_format(draw, box)], files.stdin)


def task_cleanup(draw: Draw, box: Sandbox) -> Invocation:
    args = ["task", "cleanup", "--task-id", task_id(draw, box), *host_options(draw, box)]
    return Invocation([*args, *output_format(draw, box)])


def docker_host(box: Sandbox) -> list[str]:
    return ["--docker-host", f"unix://{box.work / 'docker.sock'}"]


def task_run(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    path = files.document(taskdef_base)
    extra = maybe(draw, ["--task-id", task_id(draw, box)], "--detach")
    args = ["task", "run", path, *docker_host(box), *extra, *host_options(draw, box)]
    return Invocation([*args, *aws_arguments(draw, box), *output_format(draw, box)], files.stdin)


def task_stop(draw: Draw, box: Sandbox) -> Invocation:
    args = ["task", "stop", "--task-id", task_id(draw, box), *docker_host(box)]
    return Invocation([*args, *host_options(draw, box), *output_format(draw, box)])


def socket_option(draw: Draw, box: Sandbox) -> list[str]:
    return ["--socket", draw(st.sampled_from([str(box.socket), str(box.specs / "fifo.json")]))]


def tickets_lease(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    specs = [files.document(spec_base) for _ in range(draw(st.integers(1, 2)))]
    extra = maybe(
        draw,
        ["--user", draw(arguments())],
        ["--domain", draw(arguments())],
        ["--password-env", PASSWORD_ENV],
        ["--owner", draw(arguments())],
    )
    args = [
        "tickets",
        "lease",
        *specs,
        *socket_option(draw, box),
        *extra,
        *output_format(draw, box),
    ]
    return Invocation(args, files.stdin)


def tickets_delete(draw: Draw, box: Sandbox) -> Invocation:
    lease = draw(st.one_of(st.sampled_from(["0123456789abcdef0123", "../krb"]), arguments()))
    args = ["tickets", "delete", *socket_option(draw, box), *output_format(draw, box), "--", lease]
    return Invocation(args)


def tickets_status(draw: Draw, box: Sandbox) -> Invocation:
    return Invocation(["tickets", "status", *socket_option(draw, box), *output_format(draw, box)])


def tickets_renew(draw: Draw, box: Sandbox) -> Invocation:
    extra = maybe(
        draw,
        ["--user", draw(arguments())],
        ["--domain", draw(arguments())],
        ["--password-env", PASSWORD_ENV],
    )
    args = ["tickets", "renew", *socket_option(draw, box), *extra, *output_format(draw, box)]
    return Invocation(args)


def tickets_serve(draw: Draw, box: Sandbox) -> Invocation:
    """Only ``--print-settings``: it reads every setting and exits instead of serving."""
    files = Inputs(draw, box)
    extra = maybe(
        draw,
        ["--config", files.document(lambda *_: tickets_config_document(), stdin=False)],
        ["--ecs-config", files.document(lambda *_: {"ECS_X": "1"}, stdin=False)],
        ["--provider", draw(arguments())],
        ["--metrics-listen", draw(arguments())],
    )
    args = ["tickets", "serve", "--print-settings", "--krb-dir", str(box.krb), *extra]
    return Invocation([*args, *socket_option(draw, box)])


def tickets_unit(draw: Draw, box: Sandbox) -> Invocation:
    files = Inputs(draw, box)
    extra = maybe(
        draw,
        ["--config", files.document(lambda *_: tickets_config_document(), stdin=False)],
        ["--executable", draw(st.one_of(arguments(), st.just(str(box.work / "gmsa"))))],
        ["--watchdog", draw(arguments())],
        ["--metrics-listen", draw(arguments())],
        ["--krb-dir", draw(arguments())],
    )
    return Invocation(["tickets", "unit", *extra, *socket_option(draw, box)])


CASES: dict[str, Builder] = {
    "spec validate": spec_validate,
    "spec show": spec_show,
    "spec publish": spec_publish,
    "spec new": spec_new,
    "spec verify": spec_verify,
    "doctor": doctor,
    "export docker": export_docker,
    "export kubernetes": export_kubernetes,
    "ref check": ref_check,
    "audit": audit,
    "iam policy": iam_policy,
    "iam check": iam_check,
    "task check": task_check,
    "task patch": task_patch,
    "task prepare": task_prepare,
    "task renew": task_renew,
    "task cleanup": task_cleanup,
    "task run": task_run,
    "task stop": task_stop,
    "tickets lease": tickets_lease,
    "tickets delete": tickets_delete,
    "tickets status": tickets_status,
    "tickets renew": tickets_renew,
    "tickets serve": tickets_serve,
    "tickets unit": tickets_unit,
}


def hostile_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """An environment where nothing of the user's is read or written: no AWS, Kerberos,
    Docker or gmsa settings, AWS without credentials or instance metadata, ``HOME`` in
    the test's directory (each example moves it into its own sandbox), and the password
    ``--password-env`` names."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "GMSA_", "KRB5", "DOCKER_")) and not name.startswith(
            "GMSA_FUZZ_"
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-aws-credentials"))
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{home / 'no-ccache'}")
    monkeypatch.setenv("KRB5_CONFIG", str(home / "no-krb5.conf"))
    monkeypatch.setenv(PASSWORD_ENV, "Passw0rd!")


RAW_INVOKE = getattr(CliRunner.invoke, "__wrapped__", CliRunner.invoke)
"""``CliRunner.invoke`` without the session's output check, which tells the format from
the arguments alone: here an argument may look like ``--json`` and be an option's
value. :func:`check` checks the output against its schema itself."""


@dataclass(frozen=True)
class Outcome:
    result: Result
    seconds: float


def invoke(invocation: Invocation, cwd: Path) -> Outcome:
    """Run the CLI in process, stopped (SIGALRM) if it runs twice the time bound."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"did not finish within {2 * TIME_BOUND} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, 2 * TIME_BOUND)
    started = time.monotonic()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = RAW_INVOKE(CliRunner(), cli, invocation.args, input=invocation.stdin)
    finally:
        os.chdir(old)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    seconds = time.monotonic() - started
    if os.environ.get("GMSA_FUZZ_TRACE"):  # one line per run, to see what the examples do
        print(f"{seconds:6.2f} s, exit {result.exit_code}: {invocation.args!r:.300}")
        print(f"    {result.output[-300:]!r}")
    return Outcome(result, seconds)


def check(invocation: Invocation, outcome: Outcome, fmt: str | None) -> None:
    """The properties every run has, whatever it was given (see the module text)."""
    result = outcome.result
    shown = f"gmsa {invocation.args!r} (stdin {invocation.stdin!r:.200})"
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        trace = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
        pytest.fail(f"{shown} raised {exc!r}\n{trace}")
    assert result.exit_code in (0, 1, 2, 3), f"{shown} exited {result.exit_code}"
    streams = result.stdout + result.stderr
    assert "Traceback (most recent call last)" not in streams, f"{shown}:\n{streams}"
    assert outcome.seconds < TIME_BOUND, f"{shown} took {outcome.seconds:.1f} s"
    asked_help = any(arg in ("-h", "--help") for arg in invocation.args)
    usage = result.exit_code == 2 and not result.stdout.strip()
    if fmt in ("json", "sarif") and not asked_help and not usage:
        try:
            document = json.loads(result.stdout)
        except ValueError as error:
            pytest.fail(f"{shown} printed no single JSON document ({error}):\n{result.stdout!r}")
        if fmt == "json":
            assert_envelope(document)
        else:
            assert_sarif(document)


PWNED = Path("/tmp/gmsa-hostile-pwned")
"""What a YAML python/object tag would create if a loader obeyed it."""


def run_example(
    base: Path,
    build: Builder,
    data: st.DataObject,
    prepare: Callable[[Draw, Sandbox], None] | None = None,
) -> None:
    """Build one example in a sandbox below ``base`` (``prepare`` may store content the
    example's references point at first), run it and check it."""
    with tempfile.TemporaryDirectory(dir=base) as temporary:
        box = Sandbox.make(Path(temporary))
        box.notes["friendly"] = data.draw(st.booleans())
        if prepare is not None:
            prepare(data.draw, box)
        invocation = build(data.draw, box)
        users = {name: snapshot_entry(box.specs / name) for name in USER_FILES}
        kept = {
            "inputs": snapshot(box.inputs),
            "canary": snapshot(box.canary),
            "home": snapshot(box.home),
            "base": sorted(p.name for p in base.iterdir()),
        }
        home = os.environ.get("HOME")
        os.environ["HOME"] = str(box.home)
        try:
            outcome = invoke(invocation, box.work)
        finally:
            if home is not None:
                os.environ["HOME"] = home
        check(invocation, outcome, box.notes.get("format"))
        after = {
            "inputs": snapshot(box.inputs),
            "canary": snapshot(box.canary),
            "home": snapshot(box.home),
            "base": sorted(p.name for p in base.iterdir()),
        }
        for where in kept:
            assert after[where] == kept[where], f"gmsa {invocation.args!r} changed {where}"
        named = " ".join(invocation.args)
        for name, before in users.items():
            if name not in named:  # a file the command was told to write may change
                now = snapshot_entry(box.specs / name)
                assert now == before, f"gmsa {invocation.args!r} changed the user's {name}"
        assert not PWNED.exists(), f"gmsa {invocation.args!r} obeyed a YAML python tag"


def fuzz(test: Callable[..., None]) -> Callable[..., None]:
    """The Hypothesis settings of this module, and its fixed seed when one is given."""
    test = FUZZ(test)
    if SEED and SEED != "random":
        test = seed(int(SEED))(test)
    return test


__all__ = [
    "CASES",
    "EXAMPLES",
    "FUZZ",
    "PWNED",
    "RAW_INVOKE",
    "SEED",
    "TIME_BOUND",
    "Builder",
    "Inputs",
    "Invocation",
    "Outcome",
    "ad_options",
    "aws_arguments",
    "check",
    "docker_host",
    "doctor",
    "export_docker",
    "export_kubernetes",
    "friendly",
    "fuzz",
    "host_options",
    "hostile_environment",
    "iam_check",
    "iam_policy",
    "infra_base",
    "invoke",
    "maybe",
    "output_format",
    "plant_ledger",
    "policy_base",
    "ref_check",
    "reference",
    "reference_arguments",
    "run_example",
    "socket_option",
    "spec_base",
    "spec_new",
    "spec_publish",
    "spec_show",
    "spec_validate",
    "spec_verify",
    "task_check",
    "task_cleanup",
    "task_id",
    "task_patch",
    "task_prepare",
    "task_renew",
    "task_run",
    "task_stop",
    "taskdef_base",
    "tickets_delete",
    "tickets_lease",
    "tickets_renew",
    "tickets_serve",
    "tickets_status",
    "tickets_unit",
    "wildcard_resources",
]
