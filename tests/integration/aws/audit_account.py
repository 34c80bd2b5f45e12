"""An account to audit: good and broken task definitions of every kind the lint knows,
specs in S3 and SSM (good, broken, missing), execution roles with and without the
permissions their references need, and one that does not exist.

:func:`seed` registers them on the moto server and returns what an audit must find
for each family (its latest ACTIVE revision), written from the rules, not from a run.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gmsa.aws import AwsConfig
from gmsa.cli.main import cli
from tests.conftest import EXAMPLE_SPEC
from tests.support.moto import ACCOUNT, REGION, AwsLab

BUCKET = "audit-gmsa-specs"
S3_GOOD = f"arn:aws:s3:::{BUCKET}/specs/webapp01.json"
S3_DOMAINLESS = f"arn:aws:s3:::{BUCKET}/specs/domainless.json"
S3_BROKEN = f"arn:aws:s3:::{BUCKET}/specs/broken.json"
S3_MISSING = f"arn:aws:s3:::{BUCKET}/specs/missing.json"
SSM_GOOD = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/gmsa/webapp02"
SSM_MISSING = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/gmsa/missing"
FILE = "file://webapp01.json"

JOINED = "credentialspec:"
DOMAINLESS = "credentialspecdomainless:"


def role(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


GOOD = role("exec-good")
MANAGED = role("exec-managed")
SSM_ONLY = role("exec-ssm-only")
DENY = role("exec-deny")
CONDITIONAL = role("exec-conditional")
NO_SECRET = role("exec-no-secret")
GHOST = role("exec-ghost")
"""Named by task definitions, never created."""


def spec_document(*, secret_arn: str | None = None, sid: str | None = None) -> dict[str, Any]:
    """The documentation's example spec with its NetBIOS scope entry (so it has no
    finding of its own); domainless when ``secret_arn`` is given."""
    doc: dict[str, Any] = copy.deepcopy(EXAMPLE_SPEC)
    doc["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"].append(
        {"Name": "WebApp01", "Scope": "example"}
    )
    if sid is not None:
        doc["DomainJoinConfig"]["Sid"] = sid
    if secret_arn is not None:
        doc["ActiveDirectoryConfig"]["HostAccountConfig"] = {
            "PortableCcgVersion": "1",
            "PluginGUID": "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
            "PluginInput": {"CredentialArn": secret_arn},
        }
    return doc


def statement(action: str, resource: str, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource, **extra}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@dataclass(frozen=True)
class Expect:
    """What the audit must find for one family's audited revision."""

    outcome: str
    errors: frozenset[str] = frozenset()
    warnings: frozenset[str] = frozenset()
    infos: frozenset[str] = frozenset()
    specs: frozenset[str] = frozenset()
    """The S3/SSM specs it references (each must be read once in all)."""
    role: str | None = None
    """The execution role whose policies must be read (once in all)."""


def expect(
    outcome: str,
    errors: tuple[str, ...] = (),
    warnings: tuple[str, ...] = (),
    infos: tuple[str, ...] = (),
    specs: tuple[str, ...] = (),
    role: str | None = None,
) -> Expect:
    return Expect(
        outcome, frozenset(errors), frozenset(warnings), frozenset(infos), frozenset(specs), role
    )


WINDOWS = {
    "requiresCompatibilities": ["EC2"],
    "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2019_CORE"},
}
WINDOWS_2016 = {
    "requiresCompatibilities": ["EC2"],
    "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2016_FULL"},
}
LINUX_EC2 = {
    "requiresCompatibilities": ["EC2"],
    "runtimePlatform": {"operatingSystemFamily": "LINUX"},
}
FARGATE_LINUX = {
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "1024",
    "memory": "2048",
    "runtimePlatform": {"operatingSystemFamily": "LINUX"},
}
FARGATE_WINDOWS = {
    **FARGATE_LINUX,
    "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2019_CORE"},
}


def container(
    name: str = "app",
    *,
    specs: tuple[str, ...] = (),
    options: tuple[str, ...] = (),
    hostname: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "image": "app", "memory": 512}
    if specs:
        out["credentialSpecs"] = list(specs)
    if options:
        out["dockerSecurityOptions"] = list(options)
    if hostname is not None:
        out["hostname"] = hostname
    return out


@dataclass
class Family:
    """One family to register: its revisions (the last is the latest) and what the
    audit of its latest ACTIVE revision must find."""

    name: str
    revisions: list[dict[str, Any]]
    expect: Expect | None
    """None: it does not use gMSA (not audited)."""
    deregister_last: bool = False


@dataclass
class Account:
    """What :func:`seed` made."""

    families: list[Family] = field(default_factory=list)
    secret_arn: str = ""

    @property
    def expected(self) -> dict[str, Expect]:
        return {f.name: f.expect for f in self.families if f.expect is not None}


def task(
    *containers: dict[str, Any], role_arn: str | None = GOOD, **settings: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {"containerDefinitions": list(containers), **settings}
    if role_arn is not None:
        doc["executionRoleArn"] = role_arn
    return doc


def families(secret_arn: str) -> list[Family]:
    """Every family of the account, with its expectation."""
    j, d = JOINED, DOMAINLESS
    good = container(specs=(j + S3_GOOD,))

    def one(name: str, doc: dict[str, Any], result: Expect | None) -> Family:
        return Family(name, [doc], result)

    return [
        # Good ones.
        one("good-s3", task(good, **WINDOWS), expect("pass", specs=(S3_GOOD,), role=GOOD)),
        one(
            "good-ssm",
            task(container(specs=(j + SSM_GOOD,)), role_arn=MANAGED, **WINDOWS),
            expect("pass", specs=(SSM_GOOD,), role=MANAGED),
        ),
        one(
            "good-docker-security-options",
            task(container(options=("no-new-privileges", j + S3_GOOD)), **WINDOWS),
            expect("pass", infos=("credential-specs-preferred",), specs=(S3_GOOD,), role=GOOD),
        ),
        one(
            "good-fargate-domainless",
            task(container(specs=(d + S3_DOMAINLESS,)), **FARGATE_LINUX),
            expect("pass", specs=(S3_DOMAINLESS,), role=GOOD),
        ),
        one(
            "good-file",
            task(container(specs=(j + FILE,)), role_arn=None, **WINDOWS),
            expect("pass", infos=("spec-host-side",)),
        ),
        one("plain", task(container(), role_arn=None), None),
        # Wrong in the task definition itself.
        one(
            "bad-reference",
            task(container(options=("credspec:file://webapp01.json",)), role_arn=None, **WINDOWS),
            expect("fail", errors=("invalid-reference",), infos=("credential-specs-preferred",)),
        ),
        one(
            "bad-two-specs",
            task(container(specs=(j + S3_GOOD, j + SSM_GOOD)), **WINDOWS),
            expect(
                "fail", errors=("too-many-credential-specs",), specs=(S3_GOOD, SSM_GOOD), role=GOOD
            ),
        ),
        one(
            "bad-both-fields",
            task(container(specs=(j + S3_GOOD,), options=(j + S3_GOOD,)), **WINDOWS),
            expect(
                "fail",
                errors=("conflicting-credential-spec-fields",),
                infos=("credential-specs-preferred",),
                specs=(S3_GOOD,),
                role=GOOD,
            ),
        ),
        one(
            "bad-hostname-awsvpc",
            task(
                container(specs=(j + S3_GOOD,), hostname="WebApp01"),
                networkMode="awsvpc",
                **WINDOWS,
            ),
            expect("fail", errors=("hostname-in-awsvpc",), specs=(S3_GOOD,), role=GOOD),
        ),
        one(
            "bad-no-role",
            task(good, role_arn=None, **WINDOWS),
            expect("fail", errors=("missing-execution-role",), specs=(S3_GOOD,)),
        ),
        one(
            "bad-role-arn",
            task(good, role_arn="exec-good", **WINDOWS),
            expect("fail", errors=("invalid-execution-role-arn",), specs=(S3_GOOD,)),
        ),
        one(
            "bad-fargate-windows",
            task(container(specs=(d + S3_DOMAINLESS,)), **FARGATE_WINDOWS),
            expect("fail", errors=("fargate-windows-gmsa",), specs=(S3_DOMAINLESS,), role=GOOD),
        ),
        one(
            "bad-fargate-docker-security-options",
            task(container(options=(d + S3_DOMAINLESS,)), **FARGATE_LINUX),
            expect(
                "fail",
                errors=("fargate-docker-security-options",),
                specs=(S3_DOMAINLESS,),
                role=GOOD,
            ),
        ),
        one(
            "bad-fargate-domain-joined",
            task(good, **FARGATE_LINUX),
            expect("fail", errors=("fargate-domain-joined",), specs=(S3_GOOD,), role=GOOD),
        ),
        one(
            "bad-fargate-file",
            task(container(specs=(d + FILE,)), role_arn=None, **FARGATE_LINUX),
            expect("fail", errors=("fargate-file-reference",), infos=("spec-host-side",)),
        ),
        one(
            "bad-ws2016-domainless",
            task(container(specs=(d + S3_DOMAINLESS,), hostname="WebApp01"), **WINDOWS_2016),
            expect(
                "fail",
                errors=("domainless-on-windows-server-2016",),
                specs=(S3_DOMAINLESS,),
                role=GOOD,
            ),
        ),
        one(
            "bad-ws2016-no-hostname",
            task(good, **WINDOWS_2016),
            expect("fail", errors=("hostname-missing",), specs=(S3_GOOD,), role=GOOD),
        ),
        one(
            "bad-ws2016-other-hostname",
            task(container(specs=(j + S3_GOOD,), hostname="other"), **WINDOWS_2016),
            expect("fail", errors=("hostname-not-gmsa-name",), specs=(S3_GOOD,), role=GOOD),
        ),
        # Only warnings: they pass.
        one(
            "warn-other-hostname",
            task(container(specs=(j + S3_GOOD,), hostname="other"), **WINDOWS),
            expect("pass", warnings=("hostname-not-gmsa-name",), specs=(S3_GOOD,), role=GOOD),
        ),
        one(
            "warn-mixed-modes",
            task(good, container("b", specs=(d + S3_DOMAINLESS,)), **WINDOWS),
            expect(
                "pass",
                warnings=("mixed-credential-spec-modes",),
                specs=(S3_GOOD, S3_DOMAINLESS),
                role=GOOD,
            ),
        ),
        one(
            "warn-linux-domain-joined",
            task(good, **LINUX_EC2),
            expect("pass", warnings=("linux-domain-joined-host",), specs=(S3_GOOD,), role=GOOD),
        ),
        one(
            "warn-shared-hostname",
            task(
                container(specs=(j + S3_GOOD,), hostname="WebApp01"),
                container("b", specs=(j + S3_GOOD,), hostname="WebApp01"),
                **WINDOWS,
            ),
            expect("pass", warnings=("shared-hostname",), specs=(S3_GOOD,), role=GOOD),
        ),
        one(
            "warn-ws2016-awsvpc",
            task(good, networkMode="awsvpc", **WINDOWS_2016),
            expect("pass", warnings=("windows-server-2016-awsvpc",), specs=(S3_GOOD,), role=GOOD),
        ),
        one(
            "warn-ws2016-file",
            task(container(specs=(j + FILE,)), role_arn=None, **WINDOWS_2016),
            expect("pass", warnings=("hostname-rule-unchecked",), infos=("spec-host-side",)),
        ),
        one(
            "warn-spec-is-domainless",
            task(container(specs=(j + S3_DOMAINLESS,)), **WINDOWS),
            expect("pass", warnings=("spec-is-domainless",), specs=(S3_DOMAINLESS,), role=GOOD),
        ),
        one(
            "warn-iam-condition",
            task(good, role_arn=CONDITIONAL, **WINDOWS),
            expect(
                "pass",
                warnings=("iam-condition-not-evaluated",),
                specs=(S3_GOOD,),
                role=CONDITIONAL,
            ),
        ),
        # Wrong in a spec.
        one(
            "bad-spec-missing-s3",
            task(container(specs=(j + S3_MISSING,)), **WINDOWS),
            expect("fail", errors=("spec-not-found",), specs=(S3_MISSING,), role=GOOD),
        ),
        one(
            "bad-spec-missing-ssm",
            task(container(specs=(j + SSM_MISSING,)), **WINDOWS),
            expect("fail", errors=("spec-not-found",), specs=(SSM_MISSING,), role=GOOD),
        ),
        one(
            "bad-spec-invalid",
            task(container(specs=(j + S3_BROKEN,)), **WINDOWS),
            expect("fail", errors=("sid-not-domain-sid",), specs=(S3_BROKEN,), role=GOOD),
        ),
        one(
            "bad-spec-not-domainless",
            task(container(specs=(d + S3_GOOD,)), **WINDOWS),
            expect("fail", errors=("spec-not-domainless",), specs=(S3_GOOD,), role=GOOD),
        ),
        one(
            "bad-domainless-spec-missing",
            task(container(specs=(d + S3_MISSING,)), **WINDOWS),
            expect(
                "fail",
                errors=("spec-not-found",),
                warnings=("iam-secret-unchecked",),
                specs=(S3_MISSING,),
                role=GOOD,
            ),
        ),
        # Wrong in the execution role.
        one(
            "bad-iam-missing",
            task(good, role_arn=SSM_ONLY, **WINDOWS),
            expect("fail", errors=("iam-permission-missing",), specs=(S3_GOOD,), role=SSM_ONLY),
        ),
        one(
            "bad-iam-secret-missing",
            task(container(specs=(d + S3_DOMAINLESS,)), role_arn=NO_SECRET, **FARGATE_LINUX),
            expect(
                "fail", errors=("iam-permission-missing",), specs=(S3_DOMAINLESS,), role=NO_SECRET
            ),
        ),
        one(
            "bad-iam-deny",
            task(good, role_arn=DENY, **WINDOWS),
            expect("fail", errors=("iam-explicit-deny",), specs=(S3_GOOD,), role=DENY),
        ),
        one(
            "bad-role-missing",
            task(good, role_arn=GHOST, **WINDOWS),
            expect("fail", errors=("execution-role-not-found",), specs=(S3_GOOD,), role=GHOST),
        ),
        # Revisions: the latest ACTIVE one is audited.
        Family(
            "revised",
            [task(container(specs=(j + S3_MISSING,)), **WINDOWS), task(good, **WINDOWS)],
            expect("pass", specs=(S3_GOOD,), role=GOOD),
        ),
        Family(
            "deregistered-latest",
            [task(good, **WINDOWS), task(container(specs=(j + S3_MISSING,)), **WINDOWS)],
            expect("pass", specs=(S3_GOOD,), role=GOOD),
            deregister_last=True,
        ),
    ]


def seed(lab: AwsLab, only: set[str] | None = None) -> Account:
    """Make the specs, the secret, the roles and the task definitions (``only`` those
    families when given); the lab's credentials must be allowed everything."""
    secret_arn = lab.put_secret("gmsa-user", {"username": "u", "password": "p"})
    lab.put_object(BUCKET, "specs/webapp01.json", json.dumps(spec_document()))
    lab.put_object(
        BUCKET, "specs/domainless.json", json.dumps(spec_document(secret_arn=secret_arn))
    )
    lab.put_object(BUCKET, "specs/broken.json", json.dumps(spec_document(sid="S-1-5-21-1")))
    lab.put_parameter("/gmsa/webapp02", json.dumps(spec_document()))
    read_all = [
        statement("s3:GetObject", f"arn:aws:s3:::{BUCKET}/specs/*"),
        statement("ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/gmsa/*"),
        statement("secretsmanager:GetSecretValue", secret_arn),
    ]
    iam = lab.client("iam")
    trust = json.dumps(
        policy(
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        )
    )

    def make_role(name: str, inline: dict[str, Any] | None, managed: dict[str, Any] | None) -> None:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        if inline is not None:
            iam.put_role_policy(RoleName=name, PolicyName="gmsa", PolicyDocument=json.dumps(inline))
        if managed is not None:
            arn = iam.create_policy(PolicyName=f"{name}-gmsa", PolicyDocument=json.dumps(managed))
            iam.attach_role_policy(RoleName=name, PolicyArn=arn["Policy"]["Arn"])

    make_role("exec-good", policy(*read_all), None)
    make_role("exec-managed", None, policy(*read_all))
    make_role("exec-ssm-only", policy(read_all[1]), None)
    make_role(
        "exec-deny",
        policy(statement("*", "*"), statement("s3:GetObject", "*", effect="Deny")),
        None,
    )
    make_role(
        "exec-conditional",
        policy(
            statement(
                "s3:GetObject",
                f"arn:aws:s3:::{BUCKET}/specs/*",
                Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
            )
        ),
        None,
    )
    make_role("exec-no-secret", policy(*read_all[:2]), None)
    ecs = lab.client("ecs")
    chosen = [f for f in families(secret_arn) if only is None or f.name in only]
    account = Account(families=chosen, secret_arn=secret_arn)
    for family in account.families:
        for revision in family.revisions:
            ecs.register_task_definition(family=family.name, **revision)
        if family.deregister_last:
            ecs.deregister_task_definition(taskDefinition=f"{family.name}:{len(family.revisions)}")
    return account


def audit(*args: str) -> Result:
    """``gmsa audit ARGS`` in-process."""
    return CliRunner().invoke(cli, ["audit", *args])


def audit_env(lab: AwsLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The lab's credentials in the environment (nothing else AWS); the options that
    point the command at the lab."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", lab.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", lab.secret_key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return ["--region", lab.region, "--endpoint-url", lab.endpoint]


def config(lab: AwsLab, endpoint: str | None = None) -> AwsConfig:
    """How the audit reaches the lab (or ``endpoint`` in front of it)."""
    return AwsConfig(
        region=lab.region,
        endpoint_url=endpoint or lab.endpoint,
        access_key_id=lab.access_key,
        secret_access_key=lab.secret_key,
        retry_mode="adaptive",
    )


class Calls:
    """The test's own count of the calls an AwsConfig's clients make (a botocore hook on
    the session they are made from)."""

    def __init__(self, aws: AwsConfig) -> None:
        self.by_api: Counter[str] = Counter()
        aws.session().events.register("before-call", self._count)

    def _count(self, event_name: str, **kwargs: Any) -> None:
        _, service, operation = event_name.split(".")
        self.by_api[f"{service}:{operation}"] += 1


__all__ = [
    "BUCKET",
    "S3_GOOD",
    "S3_MISSING",
    "Account",
    "Calls",
    "Expect",
    "Family",
    "audit",
    "audit_env",
    "config",
    "seed",
]
