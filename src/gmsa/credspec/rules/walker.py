"""Walking a credential spec: findings at JSON paths, and fields read the way readers read them.

Spec readers match keys exactly, so a key in another letter case is found but
reported; a missing key suggests the near-miss it may be; unknown keys are
kept (and warned about) so that a round trip loses nothing.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Sequence
from typing import Any

from gmsa.findings import Finding, error, json_path, warning
from gmsa.identifiers import GuidForm, guid_form
from gmsa.jsondoc import type_name

PathPart = str | int
"""One step of a JSON path: a key or a list index."""


def quote(value: Any) -> str:
    """Quote a value the way it appears in the JSON file, so it can be found and pasted."""
    return json.dumps(value, ensure_ascii=False)


class Walker:
    """One pass over a document: the findings so far, the unknown keys kept, and reading fields
    the way every part of the spec is read."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        """Every error and warning, in the order found."""
        self.extra: dict[str, Any] = {}
        """Unknown keys by JSON path, with their values, kept for the model."""

    # -- reporting

    def err(
        self, code: str, parts: Sequence[PathPart], message: str, fix: str | None = None
    ) -> None:
        """Report an error at the JSON path ``parts``."""
        self.findings.append(error(code, json_path(*parts), message, fix))

    def warn(
        self, code: str, parts: Sequence[PathPart], message: str, fix: str | None = None
    ) -> None:
        """Report a warning at the JSON path ``parts``."""
        self.findings.append(warning(code, json_path(*parts), message, fix))

    # -- field access

    def get(
        self,
        obj: dict[str, Any],
        key: str,
        parent: tuple[PathPart, ...],
        known: Sequence[str],
        *,
        required: bool = True,
        missing_fix: str | None = None,
    ) -> tuple[bool, Any]:
        """Find ``key`` in ``obj``; a different spelling of its case is an error."""
        if key in obj:
            return True, obj[key]
        for name, value in obj.items():
            if name.lower() == key.lower():
                self.err(
                    "key-case",
                    (*parent, name),
                    f"{quote(name)} must be spelled {quote(key)}: spec readers match keys exactly",
                    f"rename {quote(name)} to {quote(key)}",
                )
                return True, value
        if required:
            strangers = [k for k in obj if k.lower() not in {n.lower() for n in known}]
            close = difflib.get_close_matches(key, strangers, n=1, cutoff=0.75)
            fix = (
                f"rename {quote(close[0])} to {quote(key)}"
                if close
                else missing_fix or f"add {quote(key)}"
            )
            self.err("missing-field", (*parent, key), f"{key} is missing", fix)
        return False, None

    def unknown_keys(
        self, obj: dict[str, Any], known: Sequence[str], parent: tuple[PathPart, ...]
    ) -> None:
        """Keep and warn about every key of ``obj`` that is not ``known`` (in any case)."""
        lowered = {k.lower() for k in known}
        for name, value in obj.items():
            if name.lower() in lowered:
                continue
            path = (*parent, name)
            self.extra[json_path(*path)] = copy.deepcopy(value)
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
            self.warn(
                "unknown-key",
                path,
                f"unknown key {quote(name)}: it is kept, but CCG and credentials-fetcher ignore it",
                f"did you mean {quote(close[0])}?"
                if close
                else "remove it unless a tool of yours reads it",
            )

    def obj(self, value: Any, parts: tuple[PathPart, ...], fix: str) -> dict[str, Any] | None:
        """``value`` when it is a JSON object, else an error and None."""
        if isinstance(value, dict):
            return value
        self.err("wrong-type", parts, f"must be an object, not {type_name(value)}", fix)
        return None

    def string(self, value: Any, parts: tuple[PathPart, ...], fix: str) -> str | None:
        """A non-empty string without surrounding white space, else an error and None."""
        if not isinstance(value, str):
            self.err("wrong-type", parts, f"must be a string, not {type_name(value)}", fix)
            return None
        if not value.strip():
            self.err("empty-field", parts, "is empty", fix)
            return None
        if value != value.strip():
            self.err(
                "surrounding-whitespace",
                parts,
                "has leading or trailing white space, which is kept as part of the value",
                f"write {quote(value.strip())}",
            )
        return value

    def guid(
        self, text: str, parts: tuple[PathPart, ...], code: str, message: str, fix: str
    ) -> GuidForm | None:
        """How the GUID in ``text`` is written, else an error (``code``) and None."""
        form = guid_form(text)
        if form is None:
            self.err(code, parts, message, fix)
        return form


__all__ = [
    "PathPart",
    "Walker",
    "quote",
]
