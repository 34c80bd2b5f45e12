"""One credentials-fetcher call from a client generated from the .proto alone, in its own process.

Plays the ECS agent without gmsa's code: :func:`generate_stubs` runs protoc on the
repository's .proto with the agent's layout (``credentialsfetcher.proto`` at the
root of the include path), and :func:`call` runs this file as a script that
imports only those modules and grpc. Usage as a script::

    python agent_rpc.py STUBS_DIR SOCKET METHOD REQUEST_TYPE REQUEST_JSON

It prints ``{"ok": <response as JSON>}`` or ``{"error": [code name, details]}``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

PROTO = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "gmsa"
    / "tickets"
    / "proto"
    / "credentialsfetcher.proto"
)


def generate_stubs(out: Path) -> Path:
    """Python modules for the .proto, made by protoc into ``out``."""
    from grpc_tools import protoc

    shutil.copy(PROTO, out / "credentialsfetcher.proto")
    code = protoc.main(
        [
            "protoc",
            f"--proto_path={out}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            str(out / "credentialsfetcher.proto"),
        ]
    )
    assert code == 0, "protoc failed"
    return out


def call(
    stubs: Path, socket: Path, method: str, request_type: str, request: dict[str, Any]
) -> dict[str, Any]:
    """Run one call in a fresh interpreter; ``{"ok": ...}`` or ``{"error": [code, details]}``."""
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            str(stubs),
            str(socket),
            method,
            request_type,
            json.dumps(request),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def main() -> None:
    stubs, socket, method, request_type, request = sys.argv[1:6]
    sys.path.insert(0, stubs)
    import credentialsfetcher_pb2 as pb  # type: ignore[import-not-found]
    import credentialsfetcher_pb2_grpc as pb_grpc  # type: ignore[import-not-found]
    import grpc
    from google.protobuf import json_format

    message = json_format.ParseDict(json.loads(request), getattr(pb, request_type)())
    with grpc.insecure_channel(f"unix:{socket}") as channel:
        stub = pb_grpc.CredentialsFetcherServiceStub(channel)
        try:
            response = getattr(stub, method)(message, timeout=90)
        except grpc.RpcError as exc:
            print(json.dumps({"error": [exc.code().name, exc.details()]}))
            return
    answer = json_format.MessageToDict(response, preserving_proto_field_name=True)
    print(json.dumps({"ok": answer}))


if __name__ == "__main__":
    main()
