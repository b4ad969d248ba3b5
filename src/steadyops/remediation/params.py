"""Action parameters typed as ``key=value`` text (the CLI's ``--param``, the console's plan form).

One parser for both, so a value means the same thing wherever it is typed: a value that parses as
JSON is used as JSON (lists, numbers, booleans), and a repeated key builds a list
(``paths=/a`` ``paths=/b``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from steadyops.core.errors import ValidationFailed


class BadParam(ValidationFailed):
    """An item that is not ``key=value``; ``item`` is what was typed, for a localised message."""

    def __init__(self, item: str) -> None:
        super().__init__(f"parameter {item!r} is not key=value")
        self.item = item


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise BadParam(item)
        key, value = key.strip(), _value(raw.strip())
        if key in out:
            prev = out[key]
            out[key] = [*(prev if isinstance(prev, list) else [prev]), value]
        else:
            out[key] = value
    return out
