"""``gmsa demo``: the gMSA example of the Amazon ECS documentation, end to end, on an
embedded AWS endpoint.

It starts moto on 127.0.0.1 (nothing leaves the machine), publishes the example's
credential spec to S3, SSM and a CredentialSpecs directory, creates a task
execution role with the example's two inline policies, switches IAM enforcement
on, and walks the example's three task definitions through check, prepare and
cleanup. Then two broken variants fail the way a user would meet them, but
before any task runs: a role without the permission, and a hostname that breaks
the Windows Server 2016 rule.

Every step uses the same library calls as the commands; the demo only prints.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gmsa.aws import AwsConfig
from gmsa.errors import AccessDeniedError, GmsaError
from gmsa.findings import Finding, count
from gmsa.localaws import EmbeddedAws, embedded_aws

REGION = "us-east-1"
BUCKET = "gmsa-demo-credspecs"
OBJECT_KEY = "ecs/webapp01.json"
PARAMETER = "/gmsa-demo/webapp01"
SPEC_FILE = "webapp01.json"
ROLE = "ecsTaskExecutionRole"
ROLE_WITHOUT_SSM = "ecsTaskExecutionRole-s3only"

EXAMPLE_SPEC: dict[str, Any] = {
    "CmsPlugins": ["ActiveDirectory"],
    "DomainJoinConfig": {
        "Sid": "S-1-5-21-2554468230-2647958158-2204241789",
        "MachineAccountName": "WebApp01",
        "Guid": "8665abd4-e947-4dd0-9a51-f8254943c90b",
        "DnsTreeName": "example.com",
        "DnsName": "example.com",
        "NetBiosName": "example",
    },
    "ActiveDirectoryConfig": {
        "GroupManagedServiceAccounts": [{"Name": "WebApp01", "Scope": "example.com"}]
    },
}
"""The example credential spec of the Amazon ECS documentation, as printed there."""

Echo = Callable[[str], None]


def example_s3_policy(bucket: str, key: str) -> dict[str, Any]:
    """The Amazon ECS documentation's inline policy for a spec in S3."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "VisualEditor",
                "Effect": "Allow",
                "Action": ["s3:Get*", "s3:List*"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{key}"],
            }
        ],
    }


def example_ssm_policy(parameter_arn: str) -> dict[str, Any]:
    """The Amazon ECS documentation's inline policy for a spec in SSM Parameter Store."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": [parameter_arn]}
        ],
    }


def example_task_definition(
    family: str, reference: str, execution_role_arn: str, *, hostname: str | None = None
) -> dict[str, Any]:
    """One of the Amazon ECS documentation's task definitions, with concrete values."""
    container: dict[str, Any] = {
        "name": "webapp",
        "image": "mcr.microsoft.com/dotnet/samples:aspnetapp",
        "memory": 512,
        "essential": True,
        "dockerSecurityOptions": [reference],
    }
    if hostname is not None:
        container["hostname"] = hostname
    return {
        "family": family,
        "executionRoleArn": execution_role_arn,
        "requiresCompatibilities": ["EC2"],
        "networkMode": "default",
        "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2019_CORE"},
        "containerDefinitions": [container],
    }


# ----------------------------------------------------------------- the walk


@dataclass
class DemoOutcome:
    """What the demo saw; it succeeds when every expectation held."""

    expectations: list[tuple[str, bool]] = field(default_factory=list)

    def expect(self, what: str, held: bool) -> None:
        """Record one expectation."""
        self.expectations.append((what, held))

    @property
    def ok(self) -> bool:
        """Whether every expectation held."""
        return all(held for _, held in self.expectations)


class _Printer:
    """Sections, steps and findings, in the demo's plain layout."""

    def __init__(self, echo: Echo) -> None:
        self.echo = echo

    def section(self, title: str) -> None:
        self.echo("")
        self.echo(f"== {title}")

    def step(self, text: str) -> None:
        self.echo(f"  - {text}")

    def detail(self, text: str) -> None:
        self.echo(f"      {text}")

    def findings(self, findings: tuple[Finding, ...] | list[Finding]) -> None:
        for finding in findings:
            for line in finding.render().split("\n"):
                self.detail(line.strip() if line.startswith("    fix") else line)


def _admin_config(aws: EmbeddedAws) -> AwsConfig:
    """Create an admin user and key while enforcement is off; its settings."""
    base = AwsConfig(
        region=REGION,
        endpoint_url=aws.endpoint,
        access_key_id="demo",
        secret_access_key="demo",  # noqa: S106 - accepted by the local endpoint only
    )
    iam = base.client("iam")
    iam.create_user(UserName="gmsa-demo-admin")
    iam.put_user_policy(
        UserName="gmsa-demo-admin",
        PolicyName="admin",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="gmsa-demo-admin")["AccessKey"]
    return AwsConfig(
        region=REGION,
        endpoint_url=aws.endpoint,
        access_key_id=key["AccessKeyId"],
        secret_access_key=key["SecretAccessKey"],
    )


def _create_role(admin: AwsConfig, name: str, policies: dict[str, dict[str, Any]]) -> str:
    """A task execution role that ECS (and the demo's admin, acting as the host) may assume."""
    iam = admin.client("iam")
    admin_arn = admin.client("sts").get_caller_identity()["Arn"]
    trust = {
        "Version": "2012-10-17",
        # One statement for both principals: ECS tasks, and the demo acting as the host.
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com", "AWS": admin_arn},
                "Action": "sts:AssumeRole",
            },
        ],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for policy_name, document in policies.items():
        iam.put_role_policy(
            RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
        )
    return str(arn)


def _check(
    out: _Printer,
    document: dict[str, Any],
    *,
    name: str,
    admin: AwsConfig,
    credspec_dir: Path,
    windows_server_2016: bool = False,
) -> Any:
    """``gmsa task check`` with the role's policies read online and the spec fetched."""
    from gmsa.iam.role import role_policies
    from gmsa.source.resolve import resolve_specs
    from gmsa.taskdef.lint import lint_task_definition
    from gmsa.taskdef.model import parse_task_definition

    task = parse_task_definition(document, source=name)
    role_arn = task.execution_role_arn or ""
    policies = role_policies(admin, role_arn)
    try:
        specs = resolve_specs(
            task.references,
            spec_dir=credspec_dir,
            aws=_as_role(admin, role_arn) if role_arn else None,
        )
    except AccessDeniedError as exc:
        out.step(f"reading the spec as the execution role is refused: {exc.what}")
        specs = resolve_specs(task.references, spec_dir=credspec_dir)
    report = lint_task_definition(
        task, windows_server_2016=windows_server_2016, specs=specs, policies=policies
    )
    verdict = "passes" if report.valid else f"FAILS ({count(len(report.errors), 'error')})"
    out.step(f"check: {verdict}; role policies read: " + ", ".join(p.name for p in policies))
    out.findings(list(report.findings))
    return report


def _as_role(admin: AwsConfig, role_arn: str) -> AwsConfig:
    return AwsConfig(
        region=admin.region,
        endpoint_url=admin.endpoint_url,
        access_key_id=admin.access_key_id,
        secret_access_key=admin.secret_access_key,
        role_arn=role_arn,
        max_attempts=2,
    )


def run(echo: Echo, *, workdir: Path | None = None) -> DemoOutcome:
    """Run the demo, printing through ``echo``; the outcome says whether all held."""
    from gmsa.hostagent.windows import WindowsHostAgent
    from gmsa.source.cache import SpecCache
    from gmsa.source.fetcher import SpecFetcher
    from gmsa.source.publish import parse_target, publish
    from gmsa.taskdef.model import parse_task_definition

    out = _Printer(echo)
    outcome = DemoOutcome()
    with (
        tempfile.TemporaryDirectory(prefix="gmsa-demo-", dir=workdir) as tmp,
        embedded_aws() as aws,
    ):
        root = Path(tmp)
        credspec_dir = root / "CredentialSpecs"
        credspec_dir.mkdir()
        source_file = root / "webapp01.json"
        source_file.write_text(json.dumps(EXAMPLE_SPEC, indent=4), encoding="utf-8")

        out.section(f"Embedded AWS endpoint on {aws.endpoint} (moto; loopback only)")
        admin = _admin_config(aws)
        admin.client("s3").create_bucket(Bucket=BUCKET)
        out.step(f"admin user created; bucket s3://{BUCKET} created")

        out.section("Publish the example credential spec (validated first) to S3, SSM and a file")
        data = source_file.read_bytes()
        references: dict[str, str] = {}
        for kind, target in (
            ("s3", f"s3://{BUCKET}/{OBJECT_KEY}"),
            ("ssm", f"ssm:{PARAMETER}"),
            ("file", f"dir:{credspec_dir / SPEC_FILE}"),
        ):
            result = publish(
                data, parse_target(target, region=REGION), source=str(source_file), aws=admin
            )
            references[kind] = str(result.reference)
            out.step(f"{target}")
            out.detail(f"-> {result.reference}")

        out.section("Task execution role with the example's two inline policies")
        parameter_arn = references["ssm"].removeprefix("credentialspec:")
        role_arn = _create_role(
            admin,
            ROLE,
            {
                "credspec-s3": example_s3_policy(BUCKET, OBJECT_KEY),
                "credspec-ssm": example_ssm_policy(parameter_arn),
            },
        )
        narrow_arn = _create_role(
            admin, ROLE_WITHOUT_SSM, {"credspec-s3": example_s3_policy(BUCKET, OBJECT_KEY)}
        )
        out.step(role_arn)
        aws.set_auth("0")
        out.step("IAM enforcement is ON from here: every request is checked against policies")

        fetcher_cache = SpecCache()
        for kind, family in (("s3", "webapp-s3"), ("ssm", "webapp-ssm"), ("file", "webapp-file")):
            out.section(f"Task definition {family}: dockerSecurityOptions {references[kind]}")
            document = example_task_definition(family, references[kind], role_arn)
            report = _check(
                out, document, name=f"{family}.json", admin=admin, credspec_dir=credspec_dir
            )
            outcome.expect(f"{family} checks clean", report.valid)
            task = parse_task_definition(document, source=f"{family}.json")
            agent = WindowsHostAgent(
                credspec_dir,
                SpecFetcher(
                    aws=_as_role(admin, role_arn), spec_dir=credspec_dir, cache=fetcher_cache
                ),
            )
            task_id = f"demo{kind}0001"
            prepared = agent.prepare(task, task_id)
            for container in prepared.containers:
                written = "written by gmsa" if container.written else "the user's own file"
                out.step(
                    f"prepare: container {container.name!r} gets "
                    f"--security-opt {container.security_option}"
                )
                out.detail(f"{credspec_dir.name}/{container.file} ({written})")
            outcome.expect(f"{family} prepared", len(prepared.containers) == 1)
            cleaned = agent.cleanup(task_id)
            out.step(f"cleanup: removed {list(cleaned.removed) or 'nothing (user file kept)'}")
            left = sorted(p.name for p in credspec_dir.iterdir() if not p.name.startswith("."))
            outcome.expect(f"{family} cleaned up", left == [SPEC_FILE])

        out.section(f"Broken 1: the SSM task with role {ROLE_WITHOUT_SSM} (no ssm:GetParameters)")
        document = example_task_definition("webapp-ssm-broken", references["ssm"], narrow_arn)
        report = _check(
            out, document, name="webapp-ssm-broken.json", admin=admin, credspec_dir=credspec_dir
        )
        outcome.expect("missing permission found before launch", not report.valid)
        agent = WindowsHostAgent(
            credspec_dir, SpecFetcher(aws=_as_role(admin, narrow_arn), spec_dir=credspec_dir)
        )
        try:
            agent.prepare(parse_task_definition(document, source="broken.json"), "demobroken1")
        except GmsaError as exc:
            out.step("prepare, had it run anyway, is refused by AWS itself:")
            for line in exc.diagnostics().splitlines():
                out.detail(line)
            outcome.expect("prepare refused with exit code 3", int(exc.exit_code) == 3)
        else:
            outcome.expect("prepare refused", False)
        left = sorted(p.name for p in credspec_dir.iterdir() if not p.name.startswith("."))
        outcome.expect("nothing left behind by the failed prepare", left == [SPEC_FILE])
        out.step(f"left in {credspec_dir.name}: {left} (nothing of the failed task)")

        out.section("Broken 2: Windows Server 2016 host, container hostname 'webapp'")
        document = example_task_definition(
            "webapp-ws2016", references["s3"], role_arn, hostname="webapp"
        )
        report = _check(
            out,
            document,
            name="webapp-ws2016.json",
            admin=admin,
            credspec_dir=credspec_dir,
            windows_server_2016=True,
        )
        outcome.expect(
            "hostname rule caught", any(f.code == "hostname-not-gmsa-name" for f in report.errors)
        )

    out.section("Summary")
    for what, held in outcome.expectations:
        out.step(f"[{'ok' if held else 'UNEXPECTED'}] {what}")
    return outcome


__all__ = [
    "BUCKET",
    "EXAMPLE_SPEC",
    "OBJECT_KEY",
    "PARAMETER",
    "REGION",
    "ROLE",
    "ROLE_WITHOUT_SSM",
    "SPEC_FILE",
    "DemoOutcome",
    "Echo",
    "example_s3_policy",
    "example_ssm_policy",
    "example_task_definition",
    "run",
]
