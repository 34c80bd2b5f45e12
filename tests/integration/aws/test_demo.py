"""`gmsa demo` runs the Amazon ECS documentation's gMSA example and shows both broken variants."""

from __future__ import annotations

from click.testing import CliRunner

from gmsa.cli.main import cli


def test_demo_walks_the_ecs_example_and_exits_zero() -> None:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    out = result.output
    for family in ("webapp-s3", "webapp-ssm", "webapp-file"):
        assert f"Task definition {family}" in out
    assert "credentialspec=file://gmsa_" in out
    assert "UNEXPECTED" not in out
    # broken 1: missing permission found statically, then refused by the endpoint itself
    assert "no policy allows ssm:GetParameters" in out
    assert "AWS refused ssm:GetParameters" in out
    # broken 2: the Windows Server 2016 hostname rule
    assert "differs from the gMSA name 'WebApp01'" in out
