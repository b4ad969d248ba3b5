"""Past results of a check, and the linear forecast that turns them into "full in N hours".

A check is instantiated fresh for every run and does not see the store, so its history comes from
the registry it was registered in: :func:`steadyops.integrations.host.register` makes one
:class:`~steadyops.integrations.host.base.HostMemory` per registry and binds the checks to it (the
ones that fit a trend are :class:`~steadyops.integrations.host.base.WithHistory`), as every plugin
binds what it remembers (:mod:`steadyops.contracts.memory`). There is
no process-wide history, so two Apps in one process (tests, a worker beside ``serve``) never share
one.

* :class:`MemoryHistory` (until the composition root's setup runs, and for a check built by hand)
  keeps the last samples in memory — what unit tests drive without a database;
* :class:`RecordedHistory` reads the runner's stored results (``check_results``) through a fetch
  function the composition root supplies (``PluginContext.check_history``), so a one-shot
  ``steadyops inspect`` also has a trend. The runner records every finding's metrics itself, so
  its ``observe`` does nothing.

Timestamps are wall-clock epoch seconds; stored results carry the runner's ``started_at``, which is
the wall clock outside tests.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = [
    "Forecast",
    "History",
    "MemoryHistory",
    "RecordedHistory",
    "Sample",
    "forecast",
    "thin",
]

#: (epoch seconds, the metrics a run reported)
Sample = tuple[float, dict[str, float]]
#: (check, target, since, limit) → up to ``limit`` newest rows of (started_at, metrics) since ``since``
FetchRecent = Callable[[str, str, datetime, int], Sequence[tuple[datetime, Mapping[str, Any]]]]
#: rows a RecordedHistory asks for before thinning (a 6 h window of a 60 s check is 360)
FETCH_LIMIT = 500


class History(Protocol):
    async def recent(self, check: str, target: str, since: float, limit: int) -> list[Sample]:
        """Samples taken at or after ``since``, oldest first, thinned evenly to at most ``limit``.

        Thinning keeps the first and the newest sample, so a six-hour window of a check run every
        minute is still a six-hour trend, in ``limit`` points.
        """
        ...

    def observe(self, check: str, target: str, at: float, metrics: Mapping[str, float]) -> None:
        """Remember this run's metrics (if this history is the one keeping them)."""
        ...


def thin(samples: Sequence[Sample], limit: int) -> list[Sample]:
    """At most ``limit`` samples spread evenly over the sequence, always keeping the newest."""
    if len(samples) <= limit:
        return list(samples)
    if limit <= 1:
        return list(samples[-1:]) if limit == 1 else []
    step = (len(samples) - 1) / (limit - 1)
    return [samples[round(i * step)] for i in range(limit)]


class MemoryHistory:
    """Per (check, target): about ``size`` samples spread over the last ``max_age`` seconds.

    While the newest sample is closer than ``max_age / size`` to the one before it, a new sample
    replaces it instead of being appended, so memory stays at ``size`` samples per key however often the check
    runs, while the newest sample is always the last run (the OOM check's "since the last check").
    """

    def __init__(self, size: int = 72, max_age: float = 12 * 3600) -> None:
        self.size = size
        self.max_age = max_age
        self.spacing = max_age / size
        self._samples: dict[tuple[str, str], deque[Sample]] = {}

    async def recent(self, check: str, target: str, since: float, limit: int) -> list[Sample]:
        window = self._samples.get((check, target))
        if not window:
            return []
        cutoff = max(since, time.time() - self.max_age)
        return thin([s for s in window if s[0] >= cutoff], limit)

    def observe(self, check: str, target: str, at: float, metrics: Mapping[str, float]) -> None:
        window = self._samples.setdefault((check, target), deque(maxlen=self.size))
        if len(window) >= 2 and window[-1][0] - window[-2][0] < self.spacing:  # newest has not earned a place
            window[-1] = (at, dict(metrics))
        else:
            window.append((at, dict(metrics)))

    def clear(self) -> None:
        self._samples.clear()


class RecordedHistory:
    """History from stored check results; ``fetch`` runs in a thread (it does blocking database I/O)."""

    def __init__(self, fetch: FetchRecent) -> None:
        self.fetch = fetch

    async def recent(self, check: str, target: str, since: float, limit: int) -> list[Sample]:
        rows = await asyncio.to_thread(self.fetch, check, target, datetime.fromtimestamp(since, UTC), FETCH_LIMIT)
        samples = [(_epoch(at), {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)})
                   for at, metrics in rows]
        return thin(sorted((s for s in samples if s[0] >= since), key=lambda s: s[0]), limit)

    def observe(self, check: str, target: str, at: float, metrics: Mapping[str, float]) -> None:
        return None  # the check runner stores every finding's metrics


def _epoch(at: datetime) -> float:
    """Stored times are UTC; a naive one (SQLite without tz) must not be read as local time."""
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


@dataclass(frozen=True)
class Forecast:
    """A least-squares line through recent samples: growth per hour and, if rising, seconds to full."""

    samples: int
    span_seconds: float
    rate_per_hour: float
    seconds_to_full: float | None

    @property
    def hours_to_full(self) -> float | None:
        return None if self.seconds_to_full is None else self.seconds_to_full / 3600


def _since_last_drop(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Samples after the last big fall (a cleanup): the trend before it says nothing about now."""
    pts = list(points)
    for i in range(len(pts) - 1, 0, -1):
        if pts[i][1] < pts[i - 1][1] - max(1.0, 0.05 * abs(pts[-1][1])):
            return pts[i:]
    return pts


def forecast(points: Sequence[tuple[float, float]], remaining: float, min_samples: int = 3) -> Forecast | None:
    """Fit ``value = a + b·t`` and, when it rises, how long until ``remaining`` more is used.

    ``None`` when there are too few samples (since the last cleanup) or no time between them: a
    forecast from one or two points would page on every burst.
    """
    pts = _since_last_drop(sorted(points))
    if len(pts) < max(2, min_samples):
        return None
    t0 = pts[0][0]
    xs = [t - t0 for t, _ in pts]
    ys = [v for _, v in pts]
    n = len(pts)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    var_x = sum((x - mean_x) ** 2 for x in xs)
    if var_x <= 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var_x
    seconds = remaining / slope if slope > 0 else None
    return Forecast(samples=n, span_seconds=xs[-1], rate_per_hour=slope * 3600,
                    seconds_to_full=None if seconds is None else max(0.0, seconds))
