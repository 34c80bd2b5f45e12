"""The test engine runs containers of the locally built image with no network."""

from __future__ import annotations

import socket
import threading

from tests.support.docker import APP_UID, IMAGE, DockerLab


def test_image_runs_mit_klist_offline(engine: DockerLab) -> None:
    done = engine.cli("run", "--rm", "--network", "none", "--pull", "never", IMAGE, "klist", "-V")
    assert "Kerberos 5 version" in done.stdout


def test_image_has_a_non_root_user(engine: DockerLab) -> None:
    done = engine.cli(
        "run", "--rm", "--network", "none", "--pull", "never", "--user", "app", IMAGE, "id", "-u"
    )
    assert done.stdout.strip() == str(APP_UID)


def test_image_has_kvno(engine: DockerLab) -> None:
    done = engine.cli(
        "run", "--rm", "--network", "none", "--pull", "never", IMAGE, "kvno", "-h", check=False
    )
    assert "usage" in (done.stdout + done.stderr).lower()


def test_host_network_reaches_the_machines_loopback(engine: DockerLab) -> None:
    # The end-to-end tests' containers reach the DC and the AWS endpoint this way.
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"hello from the host\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        done = engine.cli(
            "run", "--rm", "--network", "host", "--pull", "never", IMAGE,
            "nc", "127.0.0.1", str(port),
        )  # fmt: skip
        thread.join(timeout=10)
    assert "hello from the host" in done.stdout
