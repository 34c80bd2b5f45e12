"""Auditing a whole account: which task definitions would fail to get their gMSA
identity, and why, before any of them starts (``gmsa audit``)."""

__all__ = [
    "ecs",
    "engine",
    "results",
]
