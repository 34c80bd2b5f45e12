"""Running the gmsa CLI in tests and reading what it printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from click.testing import Result

Run = Callable[..., Result]


def json_of(result: Result) -> Any:
    """The JSON a --json run printed."""
    return json.loads(result.stdout)
