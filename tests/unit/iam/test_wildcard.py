"""IAM wildcard patterns: the same answers as IAM's rules, in one pass over the text."""

from __future__ import annotations

import re
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from gmsa.iam.evaluate import action_matches, resource_matches
from gmsa.iam.wildcard import action_pattern, resource_pattern


def _oracle(pattern: str, text: str, *, arn: bool, fold: bool = False) -> bool:
    """The rules written as a regular expression (fine for the short inputs generated here)."""
    out: list[str] = []
    colons = 0
    for i, ch in enumerate(pattern):
        inside = not arn or colons >= 5
        if ch == "*":
            ends = i + 1 == len(pattern) or pattern[i + 1] == ":"
            out.append(".*" if inside or ends else "[^:]*")
        elif ch == "?":
            out.append("." if inside else "[^:]")
        else:
            colons += ch == ":"
            out.append(re.escape(ch))
    flags = re.DOTALL | (re.IGNORECASE if fold else 0)
    return re.fullmatch("".join(out), text, flags) is not None


PATTERN_CHARS = st.sampled_from(["a", "b", ":", "/", "*", "?", "A"])
TEXT_CHARS = st.sampled_from(["a", "b", ":", "/", "A", "\n"])


@settings(max_examples=400, deadline=None)
@given(st.text(PATTERN_CHARS, max_size=12), st.text(TEXT_CHARS, max_size=14))
def test_resource_patterns_agree_with_the_rules(pattern: str, text: str) -> None:
    assert resource_pattern(pattern, False).matches(text) is _oracle(pattern, text, arn=True)


@settings(max_examples=400, deadline=None)
@given(st.text(PATTERN_CHARS, max_size=12), st.text(TEXT_CHARS, max_size=14))
def test_action_patterns_agree_with_the_rules(pattern: str, text: str) -> None:
    expected = _oracle(pattern, text, arn=False, fold=True)
    assert action_pattern(pattern).matches(text) is expected


def test_a_star_before_a_colon_stays_in_its_segment() -> None:
    assert resource_matches("arn:aws:s3:::*", "arn:aws:s3:::bucket/key")
    assert not resource_matches("arn:*s:s3:::b", "arn:a:ws:s3:::b")
    assert resource_matches("arn:aws:ssm:*:*:parameter/x", "arn:aws:ssm:us-east-1:1:parameter/x")


def test_actions_ignore_case_and_resources_do_not() -> None:
    assert action_matches("S3:get*", "s3:GetObject")
    assert not resource_matches("arn:aws:s3:::B/*", "arn:aws:s3:::b/x")


def _finishes(work: object, seconds: float) -> bool:
    done = threading.Event()

    def run() -> None:
        assert callable(work)
        work()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(seconds)


def test_many_wildcards_against_a_long_arn_do_not_backtrack() -> None:
    """Six stars against a long key that almost matches: a backtracking regular expression
    needs minutes at 100 characters; one pass needs a fraction of a second at 100,000."""
    pattern = "arn:aws:s3:::bucket/" + "*a" * 6 + "*b"
    key = "arn:aws:s3:::bucket/" + "a" * 100_000
    assert _finishes(lambda: resource_matches(pattern, key), 30.0)
    assert not resource_matches(pattern, key)
    assert resource_matches(pattern, key + "b")
    assert _finishes(lambda: action_matches("*a" * 6 + "*b", "a" * 100_000), 30.0)
