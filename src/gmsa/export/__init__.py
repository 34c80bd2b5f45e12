"""Exports: a credential spec in the forms other platforms read (Kubernetes, Docker)."""

__all__ = [
    "docker",
    "kubernetes",
]
