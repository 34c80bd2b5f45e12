"""Credential specs: model, parsing and validation, rendering, JSON Schema."""

__all__ = [
    "model",
    "render",
    "rules",
    "schema",
    "validate",
]
