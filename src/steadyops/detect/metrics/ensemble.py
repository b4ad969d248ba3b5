"""The default metric detector: several predictors, calibrated surprise, one alert per event.

Why this shape (each part earned its place on the NAB benchmark, see ``bench/nab.py``):

* **Several predictors, each its own channel.** A recent-median model, a time-of-day profile and a
  time-of-week profile. An anomaly is a point one of them did not expect; a missing daily peak is
  invisible to the recent model, a level shift in a flat series is invisible to nobody. The
  channels are combined by ``max``: each is calibrated against its *own* history, so a model that
  fits a series badly is merely uninformative there, not noisy.
* **Calibrated, not thresholded, errors.** A channel's raw surprise is its error relative to the
  90th percentile of its recent errors (capped at 1), and Numenta's anomaly likelihood turns the
  rate of surprise into a tail probability for *this* series. One threshold then serves quiet and
  noisy series alike. That tail is Student's t with one degree of freedom per
  ``likelihood_dof_points`` points of history, not a Gaussian: the history is short after the
  warm-up and its neighbouring values are strongly correlated, and a Gaussian fitted to it calls
  ordinary busy hours 1e-5 events (the t tail removed 25 of 63 false alarms on NAB's development
  series, spread over 12 of them). A second, per-point view catches lone spikes: the tail
  probability of the seasonal error itself under a peaks-over-threshold model.
* **Never-seen values.** A value beyond the whole observed range (plus 10 % of it) is an anomaly
  outright (Numenta's "spatial anomaly"), once the range rests on enough history: right after
  the warm-up the range is that of a short sample, which a normal series leaves easily (among
  ``n`` exchangeable points the next one is a new extreme with chance ``2 / (n + 1)``), so it
  takes ``spatial_after`` probation lengths of history before a new range alone is an alarm;
  until then the predictors' own surprise still counts.
* **One alert per event.** Consecutive red points are reported once, and after any point at the
  alarm level the output stays 0 for a rest period (CAD-OSE does the same): a sustained incident
  is one page, not a hundred.
* **Learning first.** The first ``probation`` points only train (NAB hands detectors the length of
  its probationary period; outside NAB it is simply the warm-up), scores there are 0.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from steadyops.detect.metrics.base import MetricDetector, to_seconds
from steadyops.detect.metrics.predictors import RecentMedian, SeasonalProfile
from steadyops.detect.metrics.stats import AnomalyLikelihood, SortedWindow, TailModel, log_score

__all__ = ["EnsembleConfig", "EnsembleDetector"]

DAY = 86400.0
WEEK = 7 * DAY


class Predictor(Protocol):
    def predict(self, timestamp: float) -> float | None: ...

    def learn(self, timestamp: float, value: float) -> None: ...


@dataclass(frozen=True)
class EnsembleConfig:
    """The one configuration used for every series (tuned for general behaviour, never per series)."""

    recent_points: int = 50  # window of the recent-median predictor
    day_periods: int = 5  # days remembered by the time-of-day profile
    week_periods: int = 3  # weeks remembered by the time-of-week profile
    error_history: int = 5000  # errors kept to scale a channel's raw surprise
    error_quantile: float = 0.9  # that scale: this quantile of recent errors ...
    error_span: float = 3.0  # ... times this is a full surprise (raw = 1)
    spike_history: int = 4000  # errors kept for the per-point tail model
    spike_tail_fraction: float = 0.02  # share of them treated as the tail
    spatial_tolerance: float = 0.1  # margin beyond the seen range, as a share of that range
    rest_fraction: float = 0.2  # rest period after an alarm, as a share of the probation
    alarm_level: float = 0.5  # score that starts a rest period (a 1e-5 tail)
    step_points: int = 16  # points used to learn the sampling step for the seasonal profiles
    spatial_after: float = 2.0  # a new range counts only after this many probations of history
    likelihood_dof_points: int = 50  # points of surprise history per degree of freedom of its t tail


class _Channel:
    """One predictor and the surprise scores computed from its errors."""

    def __init__(self, predictor: Predictor, learning: int, config: EnsembleConfig, spikes: bool) -> None:
        self.predictor = predictor
        self.learning = learning
        self.config = config
        self.errors = SortedWindow(config.error_history)
        self.likelihood = AnomalyLikelihood(learning, learning // 2, dof_points=config.likelihood_dof_points)
        self.spikes = TailModel(config.spike_history, config.spike_tail_fraction) if spikes else None
        self._spike_seen = 0
        self._spike_red = False

    def _spike_score(self, error: float) -> float:
        assert self.spikes is not None
        score = 0.0
        self._spike_seen += 1
        if self._spike_seen > self.learning:
            score = min(1.0, self.spikes.neg_log10_tail(error) / 10.0)
            red = score >= 0.5
            if red and self._spike_red:
                score = log_score(AnomalyLikelihood.YELLOW)
            self._spike_red = red
        self.spikes.add(error)
        return score

    def score(self, timestamp: float, value: float) -> float:
        """Score the point against this channel's prediction, then learn it."""
        expected = self.predictor.predict(timestamp)
        self.predictor.learn(timestamp, value)
        if expected is None:
            return 0.0
        error = abs(value - expected)
        raw = 0.0
        if len(self.errors) >= 5:
            scale = self.errors.quantile(self.config.error_quantile) or 1e-9
            raw = min(1.0, error / (self.config.error_span * scale))
        self.errors.add(error)
        spike = self._spike_score(error) if self.spikes is not None else 0.0
        return max(spike, self.likelihood.update(raw))


class EnsembleDetector(MetricDetector):
    """The default streaming detector (see the module docstring for the reasoning).

    ``probation`` is the number of leading points used for learning only (NAB: 15 % of the series,
    at most 750). Memory is bounded (a few tens of thousands of floats) whatever the series length.
    """

    def __init__(self, probation: int = 750, config: EnsembleConfig | None = None) -> None:
        self.probation = max(1, probation)
        self.config = config or EnsembleConfig()
        self._channels: list[_Channel] = [_Channel(RecentMedian(self.config.recent_points), self.probation,
                                                   self.config, spikes=False)]
        self._warmup: list[tuple[float, float]] = []  # points seen before the sampling step is known
        self._low: float | None = None
        self._high: float | None = None
        self._recent_scores: deque[float] = deque(maxlen=max(1, int(self.config.rest_fraction * self.probation)))
        self._seen = 0

    def _start_seasonal(self) -> None:
        """Create the seasonal channels once the sampling step is known, and replay the warm-up."""
        gaps = sorted(b[0] - a[0] for a, b in zip(self._warmup, self._warmup[1:], strict=False) if b[0] > a[0])
        step = gaps[len(gaps) // 2] if gaps else 1.0
        day = SeasonalProfile(DAY, step, self.config.day_periods)
        week = SeasonalProfile(WEEK, step, self.config.week_periods)
        for t, x in self._warmup:
            day.learn(t, x)
            week.learn(t, x)
        self._channels.append(_Channel(day, self.probation, self.config, spikes=True))
        self._channels.append(_Channel(week, self.probation, self.config, spikes=False))
        self._warmup = []

    def _outside_range(self, value: float) -> bool:
        """Numenta's spatial anomaly: beyond everything seen so far by more than the tolerance."""
        low, high = self._low, self._high
        if low is None or high is None or high <= low:
            return False
        margin = (high - low) * self.config.spatial_tolerance
        return value > high + margin or value < low - margin

    def update(self, timestamp: datetime | float, value: float) -> float:
        t = to_seconds(timestamp)
        x = float(value)
        if not math.isfinite(x) or not math.isfinite(t):
            return 0.0  # a gap (NaN) says nothing; learning it would poison every sorted window

        score = 0.0
        for channel in self._channels:
            score = max(score, channel.score(t, x))
        if len(self._channels) == 1:
            self._warmup.append((t, x))
            if len(self._warmup) >= self.config.step_points:
                self._start_seasonal()
        if self._seen >= self.config.spatial_after * self.probation and self._outside_range(x):
            score = 1.0
        self._low = x if self._low is None else min(self._low, x)
        self._high = x if self._high is None else max(self._high, x)

        resting = bool(self._recent_scores) and max(self._recent_scores) >= self.config.alarm_level
        self._recent_scores.append(score)
        self._seen += 1
        if resting or self._seen <= self.probation:
            return 0.0
        return score
