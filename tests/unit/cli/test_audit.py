"""``gmsa audit`` without AWS: its options, and the progress line on a terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from gmsa.audit.engine import Audit, AuditOptions, Counts
from gmsa.aws import AwsConfig
from gmsa.cli.audit import Progress
from gmsa.cli.main import cli


@pytest.fixture
def no_aws_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "no region"),
        (["--region", "nowhere"], "not an AWS region name"),
        (["--region", "us-east-1", "--concurrency", "0"], "--concurrency"),
        (["--region", "us-east-1", "--concurrency", "65"], "--concurrency"),
        (["--region", "us-east-1", "--status", "DELETED"], "--status"),
    ],
)
def test_usage_errors_exit_2(no_aws_settings: None, args: list[str], says: str) -> None:
    result = CliRunner().invoke(cli, ["audit", *args])
    assert result.exit_code == 2
    assert says in result.output


def test_the_region_may_come_from_the_environment(
    no_aws_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    command = cli.commands["audit"]
    with command.make_context("audit", []) as ctx:
        assert ctx.params["regions"] == ("eu-west-1",)
    with command.make_context("audit", ["--region", "us-east-1", "--region", "eu-west-3"]) as ctx:
        assert ctx.params["regions"] == ("us-east-1", "eu-west-3")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Fixed(Audit):
    """An audit that is always this far."""

    def __init__(self, counts: Counts) -> None:
        super().__init__(AwsConfig(region="us-east-1"), AuditOptions(regions=("us-east-1",)))
        self.fixed = counts

    def counts(self) -> Counts:
        return self.fixed


def test_the_progress_line_gives_counts_and_rate_and_is_erased() -> None:
    counts = Counts(
        listed=120, read=80, using_gmsa=16, would_fail=3, passed=12, not_checked=1, seconds=4.0
    )
    assert Progress.line(counts) == (
        "120 listed, 80 read (20/s), 16 use gMSA: 3 would fail, 12 pass, 1 not checked"
    )
    stream = Terminal()
    progress = Progress(Fixed(counts), stream)
    progress.draw()
    progress.draw()
    progress.erase()
    text = stream.getvalue()
    assert text.count("\r120 listed") == 2
    assert text.endswith("\r" + " " * len(Progress.line(counts)) + "\r")


def test_no_progress_when_stderr_is_not_a_terminal(no_aws_settings: None) -> None:
    # Refused before any connection (the profile does not exist); nothing on stderr but
    # the error itself.
    result = CliRunner().invoke(
        cli, ["audit", "--region", "us-east-1", "--profile", "gmsa-test-no-such-profile"]
    )
    assert result.exit_code == 3
    assert "listed" not in result.stderr
    assert "profile" in result.stderr
