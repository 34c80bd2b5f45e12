"""A real Docker engine for the tests: a private dockerd and an image built from this machine.

:func:`running_engine` starts ``dockerd`` with its data root, exec root and socket in a
temporary directory (no bridge, no iptables: nothing on the machine's network changes)
and builds :data:`IMAGE` once: a root file system made from Debian packages installed
here (static busybox from ``busybox-static``, MIT ``klist``/``kvno`` from ``krb5-user``
with the shared libraries ``ldd`` lists) and loaded with ``docker import``. No registry
is contacted; containers run with ``--network none`` (or the host network) and
``pull never``.

Like the test DC (tests/support/samba.py) one engine serves every pytest worker: the
first that asks starts it, later ones attach, the last one to leave stops it. A lock
file guards the shared state.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import shared_state

IMAGE = "gmsa-test/krb:1"
"""The locally built image: busybox, klist, kvno; user ``app`` (1000) exists."""
APP_UID = 1000
BUSYBOX = Path("/bin/busybox")
KRB_TOOLS = (Path("/usr/bin/klist"), Path("/usr/bin/kvno"))
APPLETS = (
    "sh",
    "echo",
    "cat",
    "id",
    "ls",
    "sleep",
    "touch",
    "env",
    "test",
    "true",
    "false",
    "nc",
)
LOCK_FILE = Path(tempfile.gettempdir()) / "gmsa-test-dockerd.lock"
STATE_FILE = Path(tempfile.gettempdir()) / "gmsa-test-dockerd.json"
START_TIMEOUT = 30.0


class DockerUnavailableError(RuntimeError):
    """dockerd, busybox-static or krb5-user is missing, or the engine did not come up."""


@dataclass(frozen=True)
class DockerLab:
    """A running private Docker engine."""

    directory: Path
    """Its data root, exec root, socket and log live here."""

    @property
    def socket(self) -> Path:
        """The engine's API socket."""
        return self.directory / "docker.sock"

    @property
    def url(self) -> str:
        """``--docker-host`` / ``DOCKER_HOST`` value for this engine."""
        return f"unix://{self.socket}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the docker client against this engine."""
        env = {**os.environ, "DOCKER_HOST": self.url}
        return subprocess.run(
            ["docker", *args], env=env, check=check, capture_output=True, text=True, timeout=60
        )


def missing_tools() -> list[str]:
    """What this machine lacks to run the Docker tests (empty when nothing)."""
    lacking = [tool for tool in ("dockerd", "docker") if shutil.which(tool) is None]
    lacking += [str(p) for p in (BUSYBOX, *KRB_TOOLS) if not p.is_file()]
    return lacking


def _libraries(binary: Path) -> set[Path]:
    """Shared objects ``ldd`` lists for a binary, the loader included."""
    out = subprocess.run(
        ["ldd", str(binary)], check=True, capture_output=True, text=True, timeout=30
    ).stdout
    found: set[Path] = set()
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts:
            target = parts[parts.index("=>") + 1]
            if target.startswith("/"):
                found.add(Path(target))
        elif parts and parts[0].startswith("/"):
            found.add(Path(parts[0]))
    return found


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def rootfs_tar() -> bytes:
    """The image's root file system as a tar, from files installed on this machine."""
    files: dict[str, Path] = {"bin/busybox": BUSYBOX}
    for tool in KRB_TOOLS:
        files[str(tool).lstrip("/")] = tool
        for lib in _libraries(tool):
            files[str(lib).lstrip("/")] = lib
    # Name resolution from /etc/hosts, for a KDC given by name later on.
    for nss in Path("/lib/x86_64-linux-gnu").glob("libnss_files.so.2"):
        files[str(nss).lstrip("/")] = nss
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        dirs = {"etc", "tmp", "bin", "home", "home/app"}
        for name in files:
            parent = Path(name).parent
            while str(parent) != ".":
                dirs.add(str(parent))
                parent = parent.parent
        for name in sorted(dirs):
            _add_dir(tar, name, 0o1777 if name == "tmp" else 0o755)
        for name, source in sorted(files.items()):
            _add_bytes(tar, name, source.resolve().read_bytes(), 0o755)
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        _add_bytes(
            tar,
            "etc/passwd",
            f"root:x:0:0:root:/root:/bin/sh\napp:x:{APP_UID}:{APP_UID}:app:/home/app:/bin/sh\n".encode(),
        )
        _add_bytes(tar, "etc/group", f"root:x:0:\napp:x:{APP_UID}:\n".encode())
        _add_bytes(tar, "etc/nsswitch.conf", b"hosts: files\n")
    return buffer.getvalue()


def build_image(lab: DockerLab) -> None:
    """Import :data:`IMAGE` into the engine from :func:`rootfs_tar`."""
    tar_path = lab.directory / "rootfs.tar"
    tar_path.write_bytes(rootfs_tar())
    lab.cli(
        "import",
        "--change",
        "ENV PATH=/usr/bin:/bin",
        "--change",
        'CMD ["/bin/sh"]',
        str(tar_path),
        IMAGE,
    )
    tar_path.unlink()


def _start(directory: Path) -> subprocess.Popen[bytes]:
    log = (directory / "dockerd.log").open("wb")
    process = subprocess.Popen(
        [
            "dockerd",
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--data-root",
            str(directory / "data"),
            "--exec-root",
            str(directory / "exec"),
            "--pidfile",
            str(directory / "dockerd.pid"),
            "-H",
            f"unix://{directory / 'docker.sock'}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    lab = DockerLab(directory)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if lab.socket.exists() and lab.cli("version", check=False).returncode == 0:
            return process
        time.sleep(0.2)
    _stop(process.pid)
    tail = (directory / "dockerd.log").read_text(errors="replace")[-2000:]
    raise DockerUnavailableError(f"dockerd did not come up:\n{tail}")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def _stop(pid: int) -> None:
    """Stop the engine (and the containerd it started) and wait for it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _pid_alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    if _pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _discard(state: dict[str, Any]) -> None:
    directory = Path(state["directory"])
    if _pid_alive(int(state["pid"])):
        _stop(int(state["pid"]))
    # The engine leaves mounts behind (the host network namespace under exec/netns, an
    # overlay after a crash); unmount them, deepest first, before removing the files.
    for point in sorted(_mounts_under(directory), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True, timeout=30)
    shutil.rmtree(directory, ignore_errors=True)


def _mounts_under(directory: Path) -> list[str]:
    prefix = f"{directory}/"
    points: list[str] = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 1:
                point = fields[1].replace("\\040", " ")
                if point.startswith(prefix):
                    points.append(point)
    return points


@contextlib.contextmanager
def _locked(timeout: float = 300.0) -> Iterator[None]:
    with shared_state.locked(LOCK_FILE, timeout, DockerUnavailableError):
        yield


def _read_state() -> dict[str, Any] | None:
    return shared_state.read_state(STATE_FILE)


def _write_state(state: dict[str, Any]) -> None:
    shared_state.write_state(STATE_FILE, state)


@contextlib.contextmanager
def running_engine() -> Iterator[DockerLab]:
    """The machine's test engine, with :data:`IMAGE`, for the duration of the block."""
    lacking = missing_tools()
    if lacking:
        raise DockerUnavailableError(
            "missing " + ", ".join(lacking) + " (apt-get install docker.io busybox-static "
            "krb5-user, or run scripts/test)"
        )
    me = os.getpid()
    with _locked():
        state = _read_state()
        if state is not None and _pid_alive(int(state["pid"])):
            state["users"] = [u for u in state["users"] if _pid_alive(u)] + [me]
        else:
            if state is not None:
                _discard(state)
            directory = Path(tempfile.mkdtemp(prefix="gmsa-docker-"))
            pid = 0
            try:
                pid = _start(directory).pid
                build_image(DockerLab(directory))
            except BaseException:
                _discard({"pid": pid, "directory": str(directory)})
                raise
            state = {"pid": pid, "directory": str(directory), "users": [me]}
        _write_state(state)
        lab = DockerLab(Path(state["directory"]))
    try:
        yield lab
    finally:
        with _locked():
            state = _read_state()
            if state is not None:
                state["users"] = [u for u in state["users"] if u != me and _pid_alive(u)]
                if state["users"]:
                    _write_state(state)
                else:
                    _discard(state)
                    STATE_FILE.unlink(missing_ok=True)
