"""Prometheus-style durations (``30s``, ``1h30m``) as a pydantic type, shared by every settings model."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

from steadyops.config.errors import LocalizedValueError

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: Any) -> float:
    """Prometheus-style durations (``30s``, ``1h30m``) or plain seconds, as float seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise LocalizedValueError("a duration cannot be negative", "cfgerr.negative_duration")
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return parse_duration(float(text))
        except ValueError:
            pass
        parts = _DURATION_RE.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return sum(float(n) * _UNIT[u] for n, u in parts)
    raise LocalizedValueError(
        f"invalid duration {value!r}; use e.g. 30s, 5m, 4h, 1h30m", "cfgerr.duration", got=repr(value)
    )


Duration = Annotated[float, BeforeValidator(parse_duration)]
