"""Benchmark: IAM wildcard matching, a backtracking regular expression against one pass.

The pattern has six ``*`` and the key almost matches (it lacks the final ``b``), the
worst case for a backtracking engine: it tries every way of placing the stars. The
regular expression is built the way gmsa did before (``*`` -> ``.*``) and run by Python's
``re``; the one-pass matcher is :mod:`gmsa.iam.wildcard`. Both run in this process, one
after the other, for each key length. Run::

    python -m benchmarks.iam_match_bench            # a table
    python -m benchmarks.iam_match_bench --json     # the figures as JSON
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time

from gmsa.iam.evaluate import resource_matches

PREFIX = "arn:aws:s3:::bucket/"
PATTERN = PREFIX + "*a" * 6 + "*b"
REGEX_LIMIT_SECONDS = 20.0
"""The regular expression is not run on longer keys once one run took this long."""


def _regex(pattern: str) -> re.Pattern[str]:
    parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL)


def _time(work: object) -> float:
    assert callable(work)
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def run(lengths: list[int]) -> list[dict[str, object]]:
    regex = _regex(PATTERN)
    rows: list[dict[str, object]] = []
    regex_gave_up = False
    for length in lengths:
        key = PREFIX + "a" * length
        row: dict[str, object] = {"key_characters": length}
        if not regex_gave_up:
            seconds = _time(lambda k=key: regex.fullmatch(k))
            row["regex_seconds"] = round(seconds, 4)
            regex_gave_up = seconds > REGEX_LIMIT_SECONDS
        else:
            row["regex_seconds"] = None
        row["one_pass_seconds"] = round(_time(lambda k=key: resource_matches(PATTERN, k)), 4)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="20,40,60,80,100,1000,100000")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run([int(n) for n in args.lengths.split(",")])
    if args.json:
        print(json.dumps({"python": platform.python_version(), "rows": rows}, indent=2))
        return
    print(f"pattern {PATTERN!r} against {PREFIX!r} + 'a' * N (no match)")
    print(f"{'N':>8}  {'regex (s)':>12}  {'one pass (s)':>12}")
    for row in rows:
        regex = row["regex_seconds"]
        shown = "not run" if regex is None else f"{regex:.4f}"
        print(f"{row['key_characters']:>8}  {shown:>12}  {row['one_pass_seconds']:>12.4f}")


if __name__ == "__main__":
    main()
