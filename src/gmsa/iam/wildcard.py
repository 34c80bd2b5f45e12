"""IAM's ``*`` and ``?`` patterns, matched in time linear in the text.

A policy is input gmsa does not control: a pattern with several ``*`` turned
into a regular expression makes Python's backtracking engine try every way of
splitting the text among the stars, which for six stars and a 100-character
ARN takes minutes. Here a pattern is a list of steps (a literal character, one
character, any run of characters; the last two optionally not crossing a
``:``), and matching keeps the *set* of steps reachable after each character
of the text, as a bit set: one pass over the text, each character costing at
most one operation per step of the pattern, whatever the pattern holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

ANY = ""
"""A wildcard step that may match any character."""
NOT_COLON = ":"
"""A wildcard step that may match any character but ``:`` (an ARN segment's)."""

_ARN_SEGMENTS = 5
"""Colons before an ARN's resource part (``arn:partition:service:region:account:``)."""


@dataclass(frozen=True)
class Step:
    """One step of a pattern."""

    literal: str | None = None
    """The character this step matches, or None for a wildcard."""
    run: bool = False
    """A wildcard that matches any run of characters (``*``), else exactly one (``?``)."""
    excluded: str = ANY
    """Characters a wildcard does not match (:data:`NOT_COLON` within an ARN segment)."""

    def accepts(self, char: str) -> bool:
        """Whether the step may consume ``char``."""
        if self.literal is not None:
            return char == self.literal
        return char not in self.excluded


@dataclass(frozen=True)
class Pattern:
    """A compiled pattern: its steps, matched against whole texts."""

    steps: tuple[Step, ...]
    """In order."""
    fold_case: bool = False
    """Compare case-insensitively (IAM actions)."""

    def matches(self, text: str) -> bool:
        """Whether the whole of ``text`` matches, in one pass over it."""
        steps = self.steps
        final = 1 << len(steps)
        states = _closure(steps, 1)
        for char in text:
            if self.fold_case:
                char = char.lower()
            following = 0
            remaining = states
            while remaining:
                low = remaining & -remaining
                index = low.bit_length() - 1
                remaining ^= low
                if index < len(steps) and steps[index].accepts(char):
                    following |= low if steps[index].run else low << 1
            if not following:
                return False
            states = _closure(steps, following)
        return bool(states & final)


def _closure(steps: tuple[Step, ...], states: int) -> int:
    """``states`` plus every step reachable by letting ``*`` steps match nothing."""
    for index, step in enumerate(steps):
        if step.run and states >> index & 1:
            states |= 1 << (index + 1)
    return states


@lru_cache(maxsize=1024)
def action_pattern(pattern: str) -> Pattern:
    """An action pattern: case-insensitive, ``*`` any run, ``?`` any one character."""
    steps = tuple(
        Step(run=True) if ch == "*" else Step() if ch == "?" else Step(literal=ch)
        for ch in (c.lower() for c in pattern)
    )
    return Pattern(steps, fold_case=True)


@lru_cache(maxsize=1024)
def resource_pattern(pattern: str, variables: bool) -> Pattern:
    """A resource pattern: case-sensitive; before the resource part of an ARN a wildcard
    stays inside its ``:`` segment unless a ``*`` ends the segment.

    With ``variables`` (a 2012-10-17 policy), ``${*}``, ``${?}`` and ``${$}`` stand for
    those characters and any other ``${...}`` matches like a ``*``, since its value
    depends on the request.
    """
    steps: list[Step] = []
    colons = 0
    i = 0
    while i < len(pattern):
        in_resource = colons >= _ARN_SEGMENTS
        if variables and pattern.startswith("${", i):
            end = pattern.find("}", i)
            if end != -1:
                inner = pattern[i + 2 : end]
                if inner in ("*", "?", "$"):
                    steps.append(Step(literal=inner))
                else:
                    steps.append(Step(run=True, excluded=ANY if in_resource else NOT_COLON))
                i = end + 1
                continue
        ch = pattern[i]
        if ch == "*":
            ends_segment = i + 1 == len(pattern) or pattern[i + 1] == ":"
            wide = in_resource or ends_segment
            steps.append(Step(run=True, excluded=ANY if wide else NOT_COLON))
        elif ch == "?":
            steps.append(Step(excluded=ANY if in_resource else NOT_COLON))
        else:
            if ch == ":":
                colons += 1
            steps.append(Step(literal=ch))
        i += 1
    return Pattern(tuple(steps))


__all__ = [
    "ANY",
    "NOT_COLON",
    "Pattern",
    "Step",
    "action_pattern",
    "resource_pattern",
]
