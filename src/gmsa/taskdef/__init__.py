"""ECS task definitions: read them, lint their gMSA settings, patch them."""

__all__ = [
    "lint",
    "model",
    "patch",
]
