"""Every command speaks one vocabulary and documents itself the same way.

Walks the whole click tree: every command's help has examples and exit codes,
every group describes all its commands, no summary is cut off, and each concept
has one flag (with one metavar) everywhere, as the table in docs/cli.md says.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from gmsa.cli._options import VocabularyOption
from gmsa.cli.main import cli

REPO = Path(__file__).resolve().parents[3]

# The vocabulary: each shared option as --help renders it, and its deprecated aliases.
# Keep in sync with the table in docs/cli.md (test_docs_table_is_this_table checks it).
VOCABULARY: dict[str, tuple[str, ...]] = {
    "--credspec-dir DIR": ("--spec-dir",),
    "--policy FILE": (),
    "--input-format FORMAT": (),
    "--check-role ARN": ("--role", "--role-from-aws"),
    "--role-arn ARN": (),
    "--no-assume-role": (),
    "--region REGION": (),
    "--endpoint-url URL": (),
    "--profile NAME": (),
    "--family-prefix PREFIX": (),
    "--status [ACTIVE|INACTIVE]": (),
    "--all-revisions": (),
    "--concurrency N": (),
    "--secret-arn ARN": (),
    "--kms-key-arn ARN": (),
    "--task-id ID": (),
    "--task-arn ARN": (),
    "--platform [windows|linux]": (),
    "--socket PATH": (),
    "--krb-dir DIR": (),
    "--docker-host URL": (),
    "--domain DNSNAME": (),
    "--user NAME[@DOMAIN]": ("--username",),
    "--password-file FILE": (),
    "--password-env VAR": (),
    "--password-stdin": (),
    "--server HOST": (),
    "--dns-server ADDR[:PORT]": (),
    "--kdc HOST[:PORT]": (),
    "--protection [sealed|ldaps|plain]": (),
    "--ca-file FILE": (),
    "--timeout SECONDS": (),
    "--ccache FILE": (),
    "--keytab FILE": (),
    "--principal NAME@REALM": (),
    "--host NAME$": (),
    "--out FILE": (),
    "--overwrite / --no-overwrite": ("--no-clobber",),
    "--json": (),
    "--format [text|json|sarif]": (),
    "-q, --quiet": (),
    "--config FILE": (),
    "--metrics-listen HOST:PORT": (),
}

DEPRECATED = {alias: usage for usage, aliases in VOCABULARY.items() for alias in aliases}


def _walk(
    command: click.Command, ctx: click.Context
) -> Iterator[tuple[click.Command, click.Context]]:
    yield command, ctx
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, click.Context(sub, info_name=name, parent=ctx))


TREE = list(_walk(cli, click.Context(cli, info_name="gmsa")))
COMMANDS = [(c, ctx) for c, ctx in TREE if not isinstance(c, click.Group)]
GROUPS = [(c, ctx) for c, ctx in TREE if isinstance(c, click.Group)]


def _ids(items: list[tuple[click.Command, click.Context]]) -> list[str]:
    return [ctx.command_path for _, ctx in items]


def _flag(usage: str) -> str:
    """The first flag of a rendered option: '--credspec-dir DIR' -> '--credspec-dir'."""
    return re.split(r"[ ,]", usage)[0]


def _usage(option: click.Option, ctx: click.Context) -> str | None:
    """How --help renders the option's names and metavar, deprecated names left out; an
    optional value ('--check-role [ARN]') counts as the value ('--check-role ARN')."""
    record = option.get_help_record(ctx)
    if record is None:
        return None
    usage = record[0]
    metavar = option.metavar or ""
    if metavar.startswith("[") and metavar.endswith("]") and "|" not in metavar:
        usage = usage.replace(metavar, metavar[1:-1])
    return usage


def _options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option)]


def _help(command: click.Command, ctx: click.Context) -> str:
    return command.get_help(ctx)


@pytest.mark.parametrize(("command", "ctx"), COMMANDS, ids=_ids(COMMANDS))
def test_every_command_has_examples_and_exit_codes(
    command: click.Command, ctx: click.Context
) -> None:
    text = _help(command, ctx)
    examples = re.search(r"^\s*Examples\b[^\n]*:\n((?:\s+\S.*\n)+)", text, re.M)
    assert examples, f"{ctx.command_path}: no Examples section"
    assert ctx.command_path in examples.group(1), f"{ctx.command_path}: examples do not run it"
    codes = re.search(r"^\s*Exit codes:\n((?:\s+\d+\s+\S.*\n(?:\s{6,}\S.*\n)*)+)", text, re.M)
    assert codes, f"{ctx.command_path}: no Exit codes section"
    listed = {
        int(line.split()[0]) for line in codes.group(1).splitlines() if line.split()[0].isdigit()
    }
    assert 0 in listed


@pytest.mark.parametrize(("group", "ctx"), GROUPS, ids=_ids(GROUPS))
def test_every_group_describes_all_its_commands(group: click.Command, ctx: click.Context) -> None:
    assert isinstance(group, click.Group)
    description = group.help or ""
    for name in group.commands:
        assert re.search(rf"^\s+{re.escape(name)}\s+\S", description, re.M), (
            f"{ctx.command_path}: its description does not describe {name}"
        )
    assert re.search(r"^\s*Examples:", description, re.M), f"{ctx.command_path}: no examples"


@pytest.mark.parametrize(("group", "ctx"), GROUPS, ids=_ids(GROUPS))
def test_no_command_summary_is_cut_off(group: click.Command, ctx: click.Context) -> None:
    assert isinstance(group, click.Group)
    for name, sub in group.commands.items():
        assert sub.short_help, f"{ctx.command_path} {name}: no explicit short help"
        assert not sub.short_help.endswith("..."), f"{ctx.command_path} {name}"
    words = ctx.command_path.split()[1:]
    result = CliRunner().invoke(cli, [*words, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    listing = result.output.split("\nCommands:\n", 1)[1]
    for line in listing.splitlines():
        assert not line.rstrip().endswith("..."), line
    for name, sub in group.commands.items():
        assert sub.short_help in " ".join(listing.split()), f"{name}: summary not shown whole"


def test_each_flag_has_one_metavar_everywhere() -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for command, ctx in TREE:
        for option in _options(command):
            usage = _usage(option, ctx)
            if usage is not None:
                seen[_flag(usage)].add(usage)
    assert {flag: usages for flag, usages in seen.items() if len(usages) > 1} == {}


def test_every_option_shared_by_commands_is_in_the_vocabulary() -> None:
    users: dict[str, set[str]] = defaultdict(set)
    for command, ctx in COMMANDS:
        for option in _options(command):
            usage = _usage(option, ctx)
            if usage is not None:
                users[usage].add(ctx.command_path)
    shared = {usage for usage, paths in users.items() if len(paths) > 1}
    assert shared - set(VOCABULARY) == set()
    # ... and every vocabulary entry is a flag some command takes, rendered as listed.
    assert set(VOCABULARY) - set(users) == set()


def test_old_flags_are_only_deprecated_aliases() -> None:
    found: set[str] = set()
    for command, ctx in TREE:
        for option in _options(command):
            deprecated = getattr(option, "deprecated_names", ())
            names = {*option.opts, *option.secondary_opts, *deprecated}
            for old in names & set(DEPRECATED):
                found.add(old)
                where = f"{ctx.command_path} {old}"
                assert isinstance(option, VocabularyOption), where
                current = _flag(DEPRECATED[old])
                if option.replaced_by is not None:
                    assert option.replaced_by == current, where
                    assert any(_flag(_usage(o, ctx) or "") == current for o in _options(command))
                else:
                    assert old in option.deprecated_names, where
                    assert old not in {*option.opts, *option.secondary_opts}, where
                    assert current in {*option.opts, *option.secondary_opts}, where
                record = option.get_help_record(ctx)
                assert record is not None
                assert "Deprecated" in record[1], where
    assert found == set(DEPRECATED), "an alias in the table is used by no command"


def _docs_table() -> dict[str, tuple[str, ...]]:
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    table: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) != 4 or not cells[1].startswith("`"):
            continue
        usages = [u.replace("\\|", "|") for u in re.findall(r"`([^`]+)`", cells[1])]
        aliases = tuple(re.findall(r"`([^`]+)`", cells[3]))
        for usage in usages:
            table[usage] = aliases
    return table


def test_docs_table_is_this_table() -> None:
    assert _docs_table() == VOCABULARY


# Each deprecated alias parses to the same values as its current flag.
ALIASES = [
    (["task", "check"], ["t.json", "--spec-dir", "specs"], ["t.json", "--credspec-dir", "specs"]),
    (
        ["task", "patch"],
        ["t.json", "--container", "c", "--reference", "r", "--spec-dir", "specs"],
        ["t.json", "--container", "c", "--reference", "r", "--credspec-dir", "specs"],
    ),
    (
        ["iam", "check"],
        ["--role", "arn:aws:iam::111122223333:role/r", "ref"],
        ["--check-role", "arn:aws:iam::111122223333:role/r", "ref"],
    ),
    (["spec", "new"], ["WebApp01", "--no-clobber"], ["WebApp01", "--no-overwrite"]),
    (
        ["tickets", "lease"],
        ["s.json", "--username", "svc", "--domain", "example.com"],
        ["s.json", "--user", "svc", "--domain", "example.com"],
    ),
    (
        ["tickets", "renew"],
        ["--username", "svc", "--domain", "example.com"],
        ["--user", "svc", "--domain", "example.com"],
    ),
]


def _parsed(words: list[str], args: list[str]) -> dict[str, object]:
    command: click.Command = cli
    ctx = click.Context(cli, info_name="gmsa")
    for word in words:
        assert isinstance(command, click.Group)
        command = command.commands[word]
        ctx = click.Context(command, info_name=word, parent=ctx)
    with command.make_context(words[-1], list(args), parent=ctx.parent) as parsed:
        return dict(parsed.params)


@pytest.mark.parametrize(("words", "old", "new"), ALIASES, ids=[" ".join(a[0]) for a in ALIASES])
def test_a_deprecated_alias_means_its_flag(
    words: list[str], old: list[str], new: list[str]
) -> None:
    assert _parsed(words, old) == _parsed(words, new)


def test_role_from_aws_means_check_role_without_arn() -> None:
    old = _parsed(["task", "check"], ["t.json", "--role-from-aws"])
    new = _parsed(["task", "check"], ["t.json", "--check-role"])
    assert old["role_from_aws"] is True
    assert old["check_role"] is None
    assert new["check_role"] == "executionRoleArn"
    assert new["role_from_aws"] is False


# The argument names docs/cli.md lists: one name per kind of argument.
ARGUMENTS = {"TASKDEF", "FILE", "REF", "ACCOUNT", "TARGET", "LEASE_ID"}


def test_arguments_have_the_documented_names() -> None:
    for command, ctx in COMMANDS:
        for param in command.params:
            if isinstance(param, click.Argument):
                name = param.make_metavar(ctx).removesuffix("...")
                assert name in ARGUMENTS, f"{ctx.command_path}: argument {name}"
    text = (REPO / "docs" / "cli.md").read_text()
    listed = re.search(r"^Arguments use the same names everywhere:(.*?)\n\n", text, re.M | re.S)
    assert listed is not None
    assert set(re.findall(r"`([A-Z_]+)`", listed.group(1))) == ARGUMENTS
