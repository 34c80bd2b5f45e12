"""Credential specs: model, parsing and validation, rendering, JSON Schema."""
