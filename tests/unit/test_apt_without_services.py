"""scripts/lib/apt-without-services.sh: scripts/test installs Samba and Docker packages
without starting or enabling their services.

apt-get and systemctl are stand-ins on PATH that record what they saw: apt-get runs
the policy-rc.d in place (as invoke-rc.d does before starting a service) and enables
the units a real install would; systemctl keeps enabled units as files.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "scripts" / "lib" / "apt-without-services.sh"

APT_GET = """#!/bin/sh
echo "apt-get $*" >> "$STATE/log"
if [ -x "$POLICY_RC" ]; then
    "$POLICY_RC" smbd start; echo "policy-rc.d: $?" >> "$STATE/log"
else
    echo "policy-rc.d: none" >> "$STATE/log"
fi
for unit in $INSTALL_ENABLES; do touch "$STATE/enabled/$unit"; done
exit "${APT_EXIT:-0}"
"""

SYSTEMCTL = """#!/bin/sh
case "$1" in
    is-enabled) [ -e "$STATE/enabled/$3" ];;
    disable) echo "disable $3" >> "$STATE/log"; rm -f "$STATE/enabled/$3";;
    *) exit 1;;
esac
"""


@pytest.fixture
def state(tmp_path: Path) -> Path:
    (tmp_path / "enabled").mkdir()
    (tmp_path / "bin").mkdir()
    for name, text in (("apt-get", APT_GET), ("systemctl", SYSTEMCTL)):
        shim = tmp_path / "bin" / name
        shim.write_text(text)
        shim.chmod(0o755)
    (tmp_path / "log").touch()
    return tmp_path


def install(
    state: Path, *, enables: str = "", apt_exit: int = 0, systemctl: bool = True
) -> subprocess.CompletedProcess[str]:
    bin_dir = state / "bin"
    if not systemctl:
        (bin_dir / "systemctl").unlink()
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "STATE": str(state),
        "POLICY_RC": str(state / "policy-rc.d"),
        "INSTALL_ENABLES": enables,
        "APT_EXIT": str(apt_exit),
    }
    script = f'set -euo pipefail; . "{LIB}"; rc=0; apt_install_without_services samba || rc=$?; '
    script += 'echo "rc=$rc"'
    return subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, check=True
    )


def log(state: Path) -> list[str]:
    return (state / "log").read_text().splitlines()


def enabled(state: Path) -> set[str]:
    return {p.name for p in (state / "enabled").iterdir()}


def test_no_service_may_start_while_packages_install(state: Path) -> None:
    result = install(state)
    assert result.stdout.strip() == "rc=0"
    assert log(state)[:2] == [
        "apt-get install -y -qq --no-install-recommends samba",
        "policy-rc.d: 101",
    ]


def test_the_policy_is_gone_afterwards(state: Path) -> None:
    install(state)
    assert not (state / "policy-rc.d").exists()


def test_the_policy_is_gone_when_the_install_fails_and_the_failure_is_returned(
    state: Path,
) -> None:
    result = install(state, apt_exit=100)
    assert result.stdout.strip() == "rc=100"
    assert not (state / "policy-rc.d").exists()


def test_a_policy_that_was_there_is_put_back(state: Path) -> None:
    own = "#!/bin/sh\n# the machine's own\nexit 0\n"
    (state / "policy-rc.d").write_text(own)
    (state / "policy-rc.d").chmod(0o755)
    install(state, apt_exit=1)
    assert "policy-rc.d: 101" in log(state)
    assert (state / "policy-rc.d").read_text() == own
    assert [p.name for p in state.iterdir() if p.name.startswith("policy-rc.d")] == ["policy-rc.d"]


def test_services_the_install_enabled_are_disabled(state: Path) -> None:
    units = "smbd.service nmbd.service winbind.service samba-ad-dc.service"
    units += " docker.service docker.socket containerd.service"
    install(state, enables=units)
    assert enabled(state) == set()
    assert sorted(line for line in log(state) if line.startswith("disable")) == sorted(
        f"disable {unit}" for unit in units.split()
    )


def test_services_enabled_before_stay_enabled(state: Path) -> None:
    (state / "enabled" / "docker.service").touch()
    install(state, enables="docker.service containerd.service")
    assert enabled(state) == {"docker.service"}


def test_other_units_are_left_alone(state: Path) -> None:
    install(state, enables="postgresql.service")
    assert enabled(state) == {"postgresql.service"}


def test_without_systemctl_it_still_installs(state: Path) -> None:
    result = install(state, systemctl=False)
    assert result.stdout.strip() == "rc=0"
    assert "policy-rc.d: 101" in log(state)
