"""Rates of cumulative counters between check runs (evictions, slow queries, aborted connects …).

A counter only means something as a rate. A check instance lives for one run, so the previous
sample is kept in a :class:`CounterMemory` (one per registry, the checks' ``memory``: see
:mod:`steadyops.contracts.memory`; keyed by target and counter) with the *server's* uptime as the
clock: it survives our restarts and detects the server's. When there is no usable previous sample
— the first run, a one-shot ``steadyops inspect``, a server restart (uptime or counter went down) —
the rate is the average since the server started, still a rate, never a lifetime total judged as
if it were new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MIN_WINDOW_S", "CounterMemory", "Rate"]

#: a rate over less time than this is computed over this much: one event in a 1 s window is not 1/s
MIN_WINDOW_S = 60.0


@dataclass(frozen=True)
class Rate:
    per_second: float
    delta: float  # how much the counter grew over the window
    window: float  # seconds of server uptime the delta covers
    basis: str  # "since the last check" / "since start"

    @property
    def per_minute(self) -> float:
        return self.per_second * 60

    def describe(self, unit: str, per: Literal["s", "min"] = "s") -> str:
        """``"600 keys evicted since the last check (10/s over 60s)"``; ``per="min"`` for slow counters."""
        speed = f"{self.per_minute:.3g}/min" if per == "min" else f"{self.per_second:.3g}/s"
        return f"{self.delta:g} {unit} {self.basis} ({speed} over {self.window:.0f}s)"


class CounterMemory:
    """Last value of each cumulative counter per target, to compute a rate since the previous check."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[float, float]] = {}

    def rate(self, target: str, counter: str, value: float, uptime: float) -> Rate:
        """Rate of ``counter`` since the last call for ``target``, with the server's ``uptime`` (s) as the clock."""
        key = (target, counter)
        previous = self._seen.get(key)
        self._seen[key] = (value, uptime)
        if previous is not None:
            last_value, last_uptime = previous
            # Uptime is whole seconds: two checks in one second are the same server, not a restart.
            # A restart shows as uptime going down (or the counter, which a new process resets).
            if uptime >= last_uptime and value >= last_value:
                window = uptime - last_uptime
                return Rate((value - last_value) / max(window, MIN_WINDOW_S), value - last_value, window,
                            "since the last check")
        return Rate(value / max(uptime, MIN_WINDOW_S), value, uptime, "since start")
