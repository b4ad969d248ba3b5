"""Streaming statistics the detectors are built from.

Each piece is O(window) memory and cheap per point (a ``bisect`` into a sorted list is a memmove
in C), because the detectors run in pure Python over long series and one is kept per series.

* :class:`SortedWindow` - sliding-window median / quantiles, robust to the spikes we hunt.
* :class:`TailModel` - upper-tail probability of a new observation: empirical inside the observed
  range, exponential (peaks-over-threshold) extrapolation beyond it, so a value far past anything
  seen gets a tiny but finite probability instead of "1 in N".
* :class:`AnomalyLikelihood` - Numenta's anomaly likelihood: a short moving average of a raw
  surprise in [0, 1], compared with a Gaussian fitted to its own long history. It turns "how
  surprising is this point" into "how unusual is the current rate of surprise for this series",
  which is what makes one threshold work across quiet and noisy series. Its tail is read from a
  Student-t whose degrees of freedom grow with the history (see the class), because a Gaussian
  fitted to a short, correlated history is far too sure of itself about 1e-5 tails.
* :func:`student_t_tail` - that tail, in pure Python (per point, so no array library call).
"""

from __future__ import annotations

import bisect
import math
from collections import deque

__all__ = ["AnomalyLikelihood", "SortedWindow", "TailModel", "log_score", "student_t_tail"]

_LOG_1E10 = math.log(1e-10)


def log_score(tail: float) -> float:
    """Map a tail probability to [0, 1] on a log scale: 1e-5 -> 0.5, 1e-10 -> 1 (as Numenta does)."""
    return min(1.0, math.log(tail + 1e-10) / _LOG_1E10)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz; Numerical Recipes 6.4)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta ``I_x(a, b)``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def student_t_tail(t: float, dof: float) -> float:
    """``P(T >= t)`` for Student's t with ``dof`` degrees of freedom (accurate far into the tail)."""
    half = 0.5 * _incomplete_beta(dof / 2.0, 0.5, dof / (dof + t * t))
    return half if t >= 0 else 1.0 - half


class SortedWindow:
    """The last ``size`` values, kept sorted for order statistics."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._order: deque[float] = deque()
        self._sorted: list[float] = []

    def __len__(self) -> int:
        return len(self._order)

    def add(self, value: float) -> None:
        self._order.append(value)
        bisect.insort(self._sorted, value)
        if len(self._order) > self.size:
            old = self._order.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def median(self) -> float:
        return self._sorted[len(self._sorted) // 2]

    def quantile(self, q: float) -> float:
        return self._sorted[int(q * (len(self._sorted) - 1))]

    def count_at_least(self, value: float) -> int:
        return len(self._sorted) - bisect.bisect_left(self._sorted, value)

    def top(self, k: int) -> list[float]:
        return self._sorted[len(self._sorted) - k:]


class TailModel:
    """Upper-tail probability of a value given a sliding window of past values.

    Inside the bulk the estimate is empirical (``(count >= x + 1) / (n + 1)``). Above the
    ``1 - tail_fraction`` quantile ``u`` it is ``P(X > u) * exp(-(x - u) / beta)`` with ``beta`` the
    mean excess over ``u``: the exponential peaks-over-threshold model (Siffer et al., SPOT 2017),
    which needs no distributional assumption for the bulk and extrapolates past the maximum.
    """

    def __init__(self, size: int, tail_fraction: float) -> None:
        self.window = SortedWindow(size)
        self.tail_fraction = tail_fraction

    def add(self, value: float) -> None:
        self.window.add(value)

    def neg_log10_tail(self, value: float) -> float:
        """``-log10 P(X >= value)``; 0 while there is too little history to say anything."""
        n = len(self.window)
        m = max(5, int(self.tail_fraction * n))
        if n < 2 * m:
            return 0.0
        top = self.window.top(m)
        u = top[0]
        if value <= u:
            return -math.log10((self.window.count_at_least(value) + 1) / (n + 1))
        beta = sum(top) / m - u
        if beta <= 0:
            beta = max(abs(u) * 1e-3, 1e-9)
        return -(math.log(m / (n + 1)) - (value - u) / beta) / math.log(10)


class AnomalyLikelihood:
    """Numenta's anomaly likelihood over a raw surprise stream in [0, 1].

    ``learning`` points are observed before any score is given, the first ``skip`` of them are
    left out of the fitted history (the model feeding us is still settling). The Gaussian is refit
    every ``refit`` points with floors on mean and variance, so a series that is never surprised
    does not turn its first tiny surprise into an alarm. Consecutive red points (tail <= 1e-5) are
    reported only once; the rest are demoted to the "yellow" level 1e-3, as Numenta's filter does,
    so a sustained anomaly raises one alert instead of a storm.

    With ``dof_points`` > 0 the tail is Student's t with one degree of freedom per ``dof_points``
    points of history (at least 2) instead of the Gaussian. Why: the history is a 10-point moving
    average of surprises from predictors that themselves smooth over tens of points, so
    neighbouring values are far from independent, and right after the warm-up there are only a
    few hundred of them. A Gaussian fitted to that is the right *shape* but far too sure about a
    1e-5 tail; Student's t is the honest predictive distribution of a new value when mean and
    spread are estimated from few observations, and it tends to the Gaussian as history grows.
    It matters most on short series and early in long ones, where a short sample made every
    slightly unusual hour look like a 1e-5 event.
    """

    RED = 1e-5
    YELLOW = 1e-3

    def __init__(self, learning: int, skip: int, average: int = 10, history: int = 8640, refit: int = 100,
                 dof_points: int = 0) -> None:
        self.learning = learning
        self.dof_points = dof_points
        self.skip = skip
        self.refit = refit
        self._recent: deque[float] = deque(maxlen=average)
        self._history: deque[float] = deque(maxlen=history)
        self._seen = 0
        self._mean: float | None = None
        self._std = 1.0
        self._previous_red = False

    def _fit(self) -> None:
        values = self._history
        n = len(values)
        if n == 0:
            self._mean, self._std = 0.03, math.sqrt(0.0003)
            return
        mean = sum(values) / n
        variance = max(sum(v * v for v in values) / n - mean * mean, 0.0)
        self._mean = max(mean, 0.03)
        self._std = math.sqrt(max(variance, 0.0003))

    def update(self, raw: float) -> float:
        """Feed one raw surprise and get the log-likelihood score in [0, 1]."""
        self._recent.append(raw)
        average = sum(self._recent) / len(self._recent)
        score = 0.0
        if self._seen >= self.learning:
            if self._mean is None or self._seen % self.refit == 0:
                self._fit()
            assert self._mean is not None
            z = (average - self._mean) / self._std
            if self.dof_points > 0:
                tail = student_t_tail(z, max(2.0, len(self._history) / self.dof_points))
            else:
                tail = 0.5 * math.erfc(z / math.sqrt(2.0))
            red = tail <= self.RED
            if red and self._previous_red:
                tail = self.YELLOW
            self._previous_red = red
            score = log_score(tail)
        if self._seen >= self.skip:
            self._history.append(average)
        self._seen += 1
        return score
