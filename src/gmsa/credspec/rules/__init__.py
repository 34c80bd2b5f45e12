"""The rules of a credential spec, one module per part of the document.

:mod:`gmsa.credspec.validate` is the way in; :func:`~gmsa.credspec.rules.document.read_document`
walks a parsed document with a :class:`~gmsa.credspec.rules.walker.Walker` that collects
the findings.
"""

__all__ = [
    "accounts",
    "document",
    "domain",
    "host",
    "walker",
]
