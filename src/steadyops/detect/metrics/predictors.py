"""Point predictors: what value did we expect here?

Each predictor answers from the past only. The ensemble asks several, because "expected" means
different things for different series and we may not switch per series:

* :class:`RecentMedian` - the median of the last points. Follows level shifts within a few dozen
  points, ignores isolated spikes, and is the right yardstick for series without seasonality.
* :class:`SeasonalProfile` - the median of the values seen at the same phase (same time of day,
  or of week) in the last few periods, +-1 bin to absorb jitter. It is what exposes a missing daily
  peak or a flat line where there should be a cycle: things a recent-values model calls normal.
"""

from __future__ import annotations

from collections import deque

from steadyops.detect.metrics.stats import SortedWindow

__all__ = ["RecentMedian", "SeasonalProfile"]


class RecentMedian:
    """Median of the last ``size`` values (no prediction before ``min_points``)."""

    def __init__(self, size: int = 50, min_points: int = 5) -> None:
        self._window = SortedWindow(size)
        self.min_points = min_points

    def predict(self, timestamp: float) -> float | None:
        del timestamp  # the recent level does not depend on the clock
        if len(self._window) < self.min_points:
            return None
        return self._window.median()

    def learn(self, timestamp: float, value: float) -> None:
        del timestamp
        self._window.add(value)


class SeasonalProfile:
    """Median of same-phase values over the last ``periods`` cycles of length ``period`` seconds.

    The phase is binned at the series' own sampling step ``step`` (seconds); a prediction needs at
    least ``min_values`` values among the three neighbouring bins, i.e. about two past cycles.
    """

    def __init__(self, period: float, step: float, periods: int, min_values: int = 6) -> None:
        self.period = period
        self.step = max(step, 1.0)
        self.bins = max(1, round(period / self.step))
        self.periods = periods
        self.min_values = min_values
        self._values: dict[int, deque[float]] = {}

    def _bin(self, timestamp: float) -> int:
        return int((timestamp % self.period) / self.step) % self.bins

    def predict(self, timestamp: float) -> float | None:
        b = self._bin(timestamp)
        values: list[float] = []
        for k in (b - 1, b, b + 1):
            past = self._values.get(k % self.bins)
            if past:
                values.extend(past)
        if len(values) < self.min_values:
            return None
        values.sort()
        return values[len(values) // 2]

    def learn(self, timestamp: float, value: float) -> None:
        b = self._bin(timestamp)
        past = self._values.get(b)
        if past is None:
            past = self._values[b] = deque(maxlen=self.periods)
        past.append(value)
