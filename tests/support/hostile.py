"""Hostile input for the CLI, as Hypothesis strategies: files, documents, references,
task ids and other arguments a careless or hostile user gives.

Documents start from a valid one (a credential spec, a task definition, a policy, a
CloudFormation template, a Terraform plan, a ticket service configuration) so the
command gets past its first checks, then are mutated (values replaced with hostile
ones, keys removed) and written in a hostile way (a BOM, UTF-16, invalid UTF-8,
truncated, trailing garbage, numbers that overflow, deep nesting, duplicate keys,
YAML tags and alias bombs). Files may also be no file at all: a FIFO, a directory, a
symbolic link loop, ``/dev/null``, a link to a file outside the sandbox, nothing.

Everything is written below a :class:`Sandbox`: ``inputs`` (never changed by a
command), ``work`` (the working directory, the CredentialSpecs and krb directories,
where commands may write) and, beside it, ``canary`` (files that links point at,
never changed) and ``home`` (``HOME``, never changed).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from tests.conftest import EXAMPLE_SPEC

Draw = Callable[..., Any]
"""``data.draw`` of a Hypothesis ``st.data()``."""

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gmsa-user-AbCdEf"
ROLE_ARN = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
TASK_ID = "0123456789abcdef0123456789abcdef"
USER_LOOKALIKE = f"gmsa_{TASK_ID}_file_0123456789abcdef.json"
"""A user's file in the CredentialSpecs directory named as gmsa names its own."""
USER_FILES = (
    "webapp01.json",
    "domainless.json",
    "team/app.json",
    "linked.json",
    "linked-dir",
    "fifo.json",
    "loop.json",
    USER_LOOKALIKE,
)
"""The user's entries in the CredentialSpecs directory: no command may change them unless
it is told to write that very name."""
PASSWORD_ENV = "GMSA_HOSTILE_PASSWORD"
"""The environment variable commands read a password from (``--password-env``)."""

# --------------------------------------------------------------------------- valid documents


def spec_document(name: str = "WebApp01", *, domainless: bool = False) -> dict[str, Any]:
    """The ECS documentation's example spec for the gMSA ``name``."""
    doc: dict[str, Any] = copy.deepcopy(EXAMPLE_SPEC)
    doc["DomainJoinConfig"]["MachineAccountName"] = name
    doc["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"] = [
        {"Name": name, "Scope": "example.com"},
        {"Name": name, "Scope": "example"},
    ]
    if domainless:
        doc["ActiveDirectoryConfig"]["HostAccountConfig"] = {
            "PortableCcgVersion": "1",
            "PluginGUID": "{859E1386-BDB4-49E8-85C7-3070B13920E1}",
            "PluginInput": {"CredentialArn": SECRET_ARN},
        }
    return doc


def container(name: str, reference: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "app", "credentialSpecs": [reference], **extra}


def taskdef_document(references: list[str], platform: str = "WINDOWS_SERVER_2019_CORE") -> dict:
    """A task definition whose containers use ``references`` (one each)."""
    return {
        "family": "webapp",
        "executionRoleArn": ROLE_ARN,
        "runtimePlatform": {"operatingSystemFamily": platform},
        "containerDefinitions": [
            container(f"c{i}", ref, hostname="webapp01") for i, ref in enumerate(references)
        ],
    }


def policy_document(resource: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ssm:GetParameters", "s3:GetObject", "secretsmanager:GetSecretValue"],
                "Resource": resource,
            }
        ],
    }


def template_document(references: list[str]) -> dict[str, Any]:
    """A CloudFormation template with one task definition."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": "webapp",
                    "ExecutionRoleArn": ROLE_ARN,
                    "ContainerDefinitions": [
                        {"Name": f"c{i}", "Image": "app", "CredentialSpecs": [ref]}
                        for i, ref in enumerate(references)
                    ],
                },
            }
        },
    }


def plan_document(references: list[str]) -> dict[str, Any]:
    """A Terraform plan (``terraform show -json``) with one task definition."""
    containers = [container(f"c{i}", ref) for i, ref in enumerate(references)]
    resource = {
        "address": "aws_ecs_task_definition.web",
        "mode": "managed",
        "type": "aws_ecs_task_definition",
        "name": "web",
        "values": {
            "family": "webapp",
            "execution_role_arn": ROLE_ARN,
            "container_definitions": json.dumps(containers),
        },
    }
    return {"format_version": "1.2", "planned_values": {"root_module": {"resources": [resource]}}}


def tickets_config_document() -> dict[str, Any]:
    return {
        "lease_ttl_seconds": 604800,
        "renew_fraction": 0.7,
        "retry_base_seconds": 30,
        "renewal_workers": 4,
        "ccache_owner": {"uid": 1000, "gid": 1000},
        "account_owners": {"WebApp01": {"uid": 1001, "gid": 1001}},
    }


# --------------------------------------------------------------------------- text and values

_ODD_CHARS = (
    "\n",
    "\r",
    "\t",
    "\x1b",
    "\x7f",
    "\x85",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "\u00e9",
    "/",
    "\\",
    ":",
    "*",
    "?",
    '"',
    "<",
    "|",
    ".",
    "..",
    "%",
    "$",
    "`",
    "'",
    " ",
    "-",
    "@",
    "#",
)


def odd_text(*, max_size: int = 40, surrogates: bool = False, nul: bool = False) -> Any:
    """Text with control characters, bidi overrides, separators and the characters
    Python uses for bytes that are not UTF-8 (what an argument or file name holds
    when it is not UTF-8); ``surrogates`` adds lone surrogates (only JSON escapes them)."""
    parts = [
        st.sampled_from(_ODD_CHARS),
        st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF),
        st.characters(codec="utf-8"),
    ]
    if surrogates:
        parts.append(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
    text = st.lists(st.one_of(*parts), max_size=max_size).map("".join)
    return text if nul else text.map(lambda s: s.replace("\0", ""))


HUGE_NUMBERS = (10**400, -(10**400), 2**63, 2**64 + 1, -(2**63) - 1, 10**30)


def hostile_values() -> Any:
    """A JSON value a document should not hold where it is put."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from(HUGE_NUMBERS),
        st.floats(allow_nan=True, allow_infinity=True),
        odd_text(surrogates=True, nul=True),
        st.text(max_size=10).map(lambda s: s * 2000),  # long
        st.sampled_from(["", " ", "WebApp01", "arn:", "credentialspec:", "-1", "1e400"]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(odd_text(max_size=8, surrogates=True, nul=True), inner, max_size=3),
        ),
        max_leaves=6,
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def mutated(draw: Draw, document: Any) -> Any:
    """``document`` with up to three values replaced, or keys and items removed."""
    doc = copy.deepcopy(document)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 3]))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        value = draw(hostile_values())
        if not path:
            doc = value
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return doc


# --------------------------------------------------------------------------- serialising


def _dumps(value: Any, *, ascii_only: bool, indent: int | None) -> str:
    try:
        return json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    except (ValueError, RecursionError):
        return "{}"


def json_bytes(draw: Draw, document: Any) -> bytes:
    """``document`` as JSON, written in one of many hostile ways."""
    ascii_only = draw(st.booleans())
    text = _dumps(document, ascii_only=ascii_only, indent=draw(st.sampled_from([None, 2])))
    twist = draw(
        st.sampled_from(
            [
                *["none"] * 8,
                "bom",
                "utf16",
                "truncated",
                "garbage",
                "huge-number",
                "inf-token",
                "nested",
                "duplicate-key",
                "comment",
                "lone-surrogate",
                "invalid-utf8",
                "nul",
                "second-document",
            ]
        )
    )
    data = text.encode("utf-8", "surrogatepass")
    if twist == "bom":
        return b"\xef\xbb\xbf" + data
    if twist == "utf16":
        return text.encode("utf-16", "surrogatepass")
    if twist == "truncated":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if twist == "garbage":
        return data + draw(st.binary(min_size=1, max_size=20))
    if twist == "huge-number":
        number = draw(st.sampled_from(["1e400", "-1e400", "9" * 5000, "1" + "0" * 400 + ".5"]))
        return _into_object(data, f'"n": {number}')
    if twist == "inf-token":
        return _into_object(data, '"n": ' + draw(st.sampled_from(["NaN", "Infinity", "-Infinity"])))
    if twist == "nested":
        depth = draw(st.sampled_from([100, 1000, 100_000]))
        return _into_object(data, '"n": ' + "[" * depth + "]" * depth)
    if twist == "duplicate-key":
        return _into_object(data, '"family": 1, "family": 2')
    if twist == "comment":
        return b"// a comment\n" + data
    if twist == "lone-surrogate":
        return _into_object(data, '"\\ud800": "\\udfff"')
    if twist == "invalid-utf8":
        return _into_object(data, '"x": "BYTES"').replace(b"BYTES", b"\xff\xfe", 1)
    if twist == "nul":
        return data.replace(b"{", b"{\x00", 1)
    if twist == "second-document":
        return data + b"\n" + data
    return data


def _into_object(data: bytes, member: str) -> bytes:
    """Add ``member`` (``"key": value``) to the outermost object, or wrap the value."""
    text = data.decode("utf-8", "surrogatepass")
    stripped = text.lstrip()
    if stripped.startswith("{") and stripped.rstrip() != "{}":
        index = text.index("{")
        return (text[: index + 1] + member + ", " + text[index + 1 :]).encode(
            "utf-8", "surrogatepass"
        )
    return ("{" + member + "}").encode("utf-8", "surrogatepass")


def yaml_bytes(draw: Draw, document: Any) -> bytes:
    """``document`` as YAML, with CloudFormation tags, alias bombs and other hostile forms."""
    try:
        text = yaml.safe_dump(document, allow_unicode=draw(st.booleans()))
    except (yaml.YAMLError, RecursionError, ValueError):
        text = "{}\n"
    twist = draw(
        st.sampled_from(
            [
                "none",
                "none",
                "cfn-tags",
                "python-tag",
                "alias-bomb",
                "merge-key",
                "tabs",
                "nested",
                "binary-tag",
                "timestamp",
                "documents",
            ]
        )
    )
    if twist == "cfn-tags":
        text += "Outputs:\n  A: !Ref Task\n  B: !GetAtt Task.Arn\n  C: !Sub '${AWS::Region}'\n"
    elif twist == "python-tag":
        text += "Evil: !!python/object/apply:os.system ['touch /tmp/gmsa-hostile-pwned']\n"
    elif twist == "alias-bomb":
        lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
        for n in range(1, 9):
            refs = ", ".join([f"*a{n - 1}"] * 9)
            lines.append(f"a{n}: &a{n} [{refs}]")
        text = "\n".join(lines) + "\nResources:\n  Bomb: *a8\n" + text
    elif twist == "merge-key":
        text = "base: &base {Type: 'AWS::ECS::TaskDefinition'}\n" + text + "X:\n  <<: *base\n"
    elif twist == "tabs":
        text = text.replace("  ", "\t", 1)
    elif twist == "nested":
        depth = draw(st.sampled_from([100, 10_000]))
        text += "Deep: " + "[" * depth + "]" * depth + "\n"
    elif twist == "binary-tag":
        text += "Bin: !!binary aGVsbG8=\n"
    elif twist == "timestamp":
        text += "When: 2001-12-14t21:59:43.10-05:00\n"
    elif twist == "documents":
        text += "---\n" + text
    return text.encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------- references

_REGIONS = ("us-east-1", "eu-west-1", "", "US-EAST-1", "moon-1", "us-east-1\n")
_ACCOUNTS = ("123456789012", "999999999999", "12345678901", "", "abcdefghijkl", "0" * 13)
_BUCKETS = ("bucket", "my.bucket", "B", "bu", "-bucket", "bucket..x", "xn--bucket", "a" * 70)


def file_paths() -> Any:
    """What follows ``file://``: names the sandbox holds, traversal, absolute paths."""
    return st.one_of(
        st.sampled_from(
            [
                "webapp01.json",
                "domainless.json",
                "team/app.json",
                "linked.json",
                "linked-dir/spec.json",
                "fifo.json",
                "loop.json",
                "subdir",
                "missing.json",
                "../canary/spec.json",
                "../../canary/spec.json",
                "team/../../canary/spec.json",
                "..\\canary\\spec.json",
                "/etc/passwd",
                "//server/share/x.json",
                "C:\\x.json",
                "c:x.json",
                "x.json:stream",
                "CON",
                "nul.json",
                "./webapp01.json",
                "team//app.json",
                "team/",
                "%2e%2e/canary/spec.json",
                "",
            ]
        ),
        odd_text(max_size=30),
    )


def arns() -> Any:
    """S3, SSM and other ARNs, well formed or not, in this account or another."""
    return st.one_of(
        st.builds(
            lambda p, b, k: f"arn:{p}:s3:::{b}/{k}",
            st.sampled_from(["aws", "aws-cn", "aws-us-gov", "aws-iso", "AWS", "azure"]),
            st.sampled_from(_BUCKETS),
            st.one_of(
                st.sampled_from(["key.json", "", "a/../b.json", "x" * 1100, "a" * 200 + "c"]),
                odd_text(),
            ),
        ),
        st.builds(
            lambda r, a, n: f"arn:aws:ssm:{r}:{a}:parameter{n}",
            st.sampled_from(_REGIONS),
            st.sampled_from(_ACCOUNTS),
            st.one_of(
                st.sampled_from(["/gmsa/webapp01", "/a/../b", "webapp01", "/", "/" + "x" * 2100]),
                odd_text(),
            ),
        ),
        st.sampled_from(
            [
                "arn:aws:s3:::bucket",
                "arn:aws:s3:us-east-1:123456789012:bucket/key.json",
                "arn:aws:ssm:us-east-1:123456789012:document/x",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
                "arn:aws:iam::123456789012:role/x",
                "arn:aws:s3",
                "arn::::::",
                "s3://bucket/key.json",
                "ssm:/gmsa/webapp01",
            ]
        ),
    )


GOOD_REFERENCES = (
    "credentialspec:file://webapp01.json",
    "credentialspec:file://team/app.json",
    "credentialspecdomainless:file://domainless.json",
    "credentialspec:arn:aws:s3:::bucket/key.json",
    "credentialspec:arn:aws:ssm:us-east-1:123456789012:parameter/gmsa/webapp01",
)
"""References a sandbox (or the moto server's stored content) can satisfy."""


def references() -> Any:
    """A credential spec reference: one that works, or a prefix and a location hostile in
    either."""
    return st.one_of(st.sampled_from(GOOD_REFERENCES), _hostile_references())


def _hostile_references() -> Any:
    prefix = st.sampled_from(
        [
            "credentialspec:",
            "credentialspecdomainless:",
            "CredentialSpec:",
            "credentialspec:credentialspec:",
            "credentialspec=",
            "",
        ]
    )
    location = st.one_of(
        file_paths().map(lambda p: "file://" + p),
        arns(),
        st.sampled_from(["file:/webapp01.json", "FILE://webapp01.json", "file:///etc/passwd"]),
        odd_text(),
    )
    return st.builds(lambda a, b: a + b, prefix, location)


def task_ids() -> Any:
    """A task id: often a real one, so the command gets to its work."""
    return st.one_of(
        st.just(TASK_ID),
        st.sampled_from(
            [
                TASK_ID,
                TASK_ID + "\n",
                "..",
                ".",
                "a/b",
                "../x",
                "arn:aws:ecs:us-east-1:123456789012:task/c/" + TASK_ID,
                "x" * 65,
                "CON",
                "-x",
                "",
                "\u0661\u0662",
                "a\u200bb",
            ]
        ),
        odd_text(max_size=70),
    )


def arguments() -> Any:
    """Any argument: text with odd characters (never NUL, which no argument can hold)."""
    return st.one_of(odd_text(), st.sampled_from(["-", "--", "-h", "--json", "=", " "]))


# --------------------------------------------------------------------------- the sandbox


@dataclass(frozen=True)
class Sandbox:
    """The directories of one example (see the module text)."""

    inputs: Path
    work: Path
    canary: Path
    home: Path
    notes: dict[str, Any] = field(default_factory=dict, compare=False)
    """What the example's builder noted for its checks (the output format asked for)."""

    @property
    def specs(self) -> Path:
        """The CredentialSpecs directory (in ``work``)."""
        return self.work / "specs"

    @property
    def krb(self) -> Path:
        """The krb directory (in ``work``)."""
        return self.work / "krb"

    @property
    def socket(self) -> Path:
        """A socket path nothing listens on."""
        return self.work / "none.sock"

    @classmethod
    def make(cls, base: Path) -> Sandbox:
        """A sandbox below ``base``: the canary's files, a CredentialSpecs directory with
        specs, links into the canary, a FIFO and a link loop."""
        box = cls(base / "in", base / "work", base / "canary", base / "home")
        for directory in (box.inputs, box.work, box.canary, box.home, box.krb, box.specs):
            directory.mkdir(parents=True, exist_ok=True)
        (box.canary / "spec.json").write_text(json.dumps(spec_document("Canary")))
        (box.canary / "specs").mkdir(exist_ok=True)
        (box.canary / "specs" / "spec.json").write_text(json.dumps(spec_document("Canary")))
        (box.specs / "webapp01.json").write_text(json.dumps(spec_document()))
        (box.specs / "domainless.json").write_text(
            json.dumps(spec_document("WebApp02", domainless=True))
        )
        (box.specs / "team").mkdir()
        (box.specs / "team" / "app.json").write_text(json.dumps(spec_document("WebApp03")))
        (box.specs / "subdir").mkdir()
        os.symlink(box.canary / "spec.json", box.specs / "linked.json")
        os.symlink(box.canary / "specs", box.specs / "linked-dir")
        os.mkfifo(box.specs / "fifo.json")
        os.symlink("loop.json", box.specs / "loop.json")
        (box.specs / USER_LOOKALIKE).write_text("the user's, named like gmsa's\n")
        return box

    def file(self, name: str, data: bytes) -> str:
        """Write ``data`` to ``inputs/name``; its path."""
        path = self.inputs / name
        path.write_bytes(data)
        return str(path)

    def special(self, kind: str) -> str:
        """A path that is not a regular file with a document (see :data:`SPECIAL`)."""
        path = self.inputs / f"special-{kind}"
        if kind == "fifo":
            if not path.exists():
                os.mkfifo(path)
        elif kind == "directory":
            path.mkdir(exist_ok=True)
        elif kind == "loop":
            if not path.is_symlink():
                os.symlink(path.name, path)
        elif kind == "dangling":
            if not path.is_symlink():
                os.symlink("nowhere", path)
        elif kind == "canary-link":
            if not path.is_symlink():
                os.symlink(self.canary / "spec.json", path)
        elif kind == "devnull":
            return os.devnull
        elif kind == "missing":
            return str(path) + "-missing"
        elif kind == "empty":
            path.write_bytes(b"")
        return str(path)


SPECIAL = ("fifo", "directory", "loop", "dangling", "canary-link", "devnull", "missing", "empty")
"""The kinds of :meth:`Sandbox.special`."""


def snapshot_entry(path: Path) -> tuple[str, str, int]:
    """One entry (a link not followed): kind, content digest or link target, and
    permission bits; a FIFO or other special file is never opened."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return ("missing", "", 0)
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        return ("link", os.readlink(path), 0)
    if stat.S_ISREG(info.st_mode):
        return ("file", hashlib.sha256(path.read_bytes()).hexdigest(), mode)
    if stat.S_ISDIR(info.st_mode):
        return ("dir", "", mode)
    return ("special", "", mode)


def snapshot(directory: Path) -> dict[str, tuple[str, str, int]]:
    """Every entry below ``directory`` (links not followed), as :func:`snapshot_entry`."""
    out: dict[str, tuple[str, str, int]] = {}
    for root, dirs, files in os.walk(directory, followlinks=False):
        for name in dirs + files:
            path = Path(root) / name
            out[str(path.relative_to(directory))] = snapshot_entry(path)
    return out


__all__ = [
    "GOOD_REFERENCES",
    "PASSWORD_ENV",
    "ROLE_ARN",
    "SECRET_ARN",
    "SPECIAL",
    "TASK_ID",
    "USER_FILES",
    "USER_LOOKALIKE",
    "Draw",
    "Sandbox",
    "arguments",
    "arns",
    "file_paths",
    "hostile_values",
    "json_bytes",
    "mutated",
    "odd_text",
    "plan_document",
    "policy_document",
    "references",
    "snapshot",
    "snapshot_entry",
    "spec_document",
    "task_ids",
    "taskdef_document",
    "template_document",
    "tickets_config_document",
    "yaml_bytes",
]
