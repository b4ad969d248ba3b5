"""Windowed scoring of anomaly detectors, as the Numenta Anomaly Benchmark (NAB v1.1) defines it.

Why our own implementation: NAB's scorer drags in pandas and a results-directory layout, and we
want to score detectors inside tests and benchmarks with nothing but the standard library. The
rules below follow NAB's ``sweeper.py`` / ``optimizer.py`` / ``runner.normalize`` exactly:

* Each labelled anomaly is a *window* of rows. The first detection inside a window earns
  ``tp * S(pos) / S(-1)`` where ``S`` is the scaled sigmoid and ``pos`` runs from -1 at the window's
  first row towards 0 at its last, so an early detection is worth more than a late one. Further
  detections in the same window are free. A window with no detection costs ``fn``.
* A detection outside every window costs ``fp`` times ``-S(d)``: ``d`` is the distance past the
  preceding window's end in window widths (rows before any window cost the full ``fp``), so a late
  detection just after a window is cheaper than noise far from any anomaly.
* Rows in the probationary period (the first 15 %, at most 750 rows) are not scored at all.
* One threshold per profile is chosen for the whole corpus (not per file) by sweeping every distinct
  anomaly score, and the raw total is normalised so the null detector scores 0 and a perfect one
  100: ``100 * (raw - null) / (perfect - null)`` with ``null = -windows * fn`` and
  ``perfect = windows * tp``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "PROFILES",
    "CorpusScore",
    "CostProfile",
    "SeriesScore",
    "ThresholdScore",
    "optimise_threshold",
    "probation_length",
    "scaled_sigmoid",
    "score_corpus",
    "score_profiles",
    "window_rows",
]


@dataclass(frozen=True)
class CostProfile:
    """Weights of NAB's application profiles (``config/profiles.json`` of NAB v1.1)."""

    name: str
    tp: float
    fp: float
    fn: float


#: NAB v1.1 ``config/profiles.json``: standard, reward_low_FP_rate, reward_low_FN_rate.
PROFILES: dict[str, CostProfile] = {
    "standard": CostProfile("standard", tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP_rate": CostProfile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN_rate": CostProfile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0),
}

PROBATION_PERCENT = 0.15
_PROBATION_CAP_ROWS = 5000  # NAB caps the probationary period at 15 % of 5000 rows


def probation_length(rows: int, percent: float = PROBATION_PERCENT) -> int:
    """Rows at the start of a series that NAB neither scores nor penalises."""
    return int(min(math.floor(percent * rows), percent * _PROBATION_CAP_ROWS))


def scaled_sigmoid(position: float) -> float:
    """NAB's reward curve: ~0.987 at -1 (window start), 0 at the end, -1 from 3 widths past it."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def window_rows(timestamps: Sequence[float], windows: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
    """Map (start, end) window limits to inclusive row ranges, as NAB's sweeper does.

    NAB enters a window at the row whose timestamp equals the window start and leaves it at the
    first row whose timestamp equals the end (real series have a few out-of-order rows, so this is
    not a bisection). Limits that are not exact timestamps fall back to the first row at or after
    the start and the last row at or before the end. Windows without rows are dropped.
    """
    first_at: dict[float, int] = {}
    for i, t in enumerate(timestamps):
        first_at.setdefault(t, i)
    rows: list[tuple[int, int]] = []
    for start, end in windows:
        first = first_at.get(start)
        if first is None:
            first = next((i for i, t in enumerate(timestamps) if t >= start), None)
        last = first_at.get(end)
        if last is None:
            last = max((i for i, t in enumerate(timestamps) if t <= end), default=None)
        if first is not None and last is not None and first <= last:
            rows.append((first, last))
    return sorted(rows)


@dataclass(frozen=True)
class ThresholdScore:
    """Raw score and row counts when every row with ``anomaly_score >= threshold`` is a detection."""

    threshold: float
    score: float
    tp: int
    tn: int
    fp: int
    fn: int


# A scorable row: (anomaly score, unit weight, window index or -1). The unit weight is NAB's sweep
# score before the profile's weight: S(pos) / S(-1) inside a window (times tp), S(distance past the
# previous window) outside (times fp). It does not depend on the profile, so it is computed once.
_Row = tuple[float, float, int]


def _sweep_rows(scores: Sequence[float], windows: Sequence[tuple[int, int]]) -> list[_Row]:
    """Per-row sweep weights (NAB ``Sweeper.calcSweepScore``), probationary rows removed."""
    max_tp = scaled_sigmoid(-1.0)
    probation = probation_length(len(scores))
    rows: list[_Row] = []
    wi = 0
    prev_end: int | None = None
    prev_width = 0
    for i, score in enumerate(scores):
        in_window = wi < len(windows) and windows[wi][0] <= i <= windows[wi][1]
        if in_window:
            start, end = windows[wi]
            width = end - start + 1
            unit, window = scaled_sigmoid(-(end - i + 1) / width) / max_tp, wi
        else:
            distance = 3.0 if prev_end is None else abs(prev_end - i) / max(prev_width - 1, 1)
            unit, window = scaled_sigmoid(distance), -1
        if i >= probation:
            rows.append((float(score), unit, window))
        if in_window and i == windows[wi][1]:
            prev_end, prev_width = i, windows[wi][1] - windows[wi][0] + 1
            wi += 1
    return rows


def _score_by_threshold(ordered: list[_Row], window_ids: list[int], n_windows: int,
                        profile: CostProfile) -> list[ThresholdScore]:
    """Score at every distinct threshold, highest first (NAB ``Sweeper.calcScoreByThreshold``).

    ``ordered`` holds every scorable row of the corpus sorted by descending anomaly score and
    ``window_ids`` the corpus-wide id of each row's window (-1 outside windows).
    """
    best_in_window = [-profile.fn] * n_windows
    window_total = -profile.fn * n_windows
    fp_total = 0.0
    tn = sum(1 for w in window_ids if w < 0)
    fn = len(ordered) - tn
    tp = fp = 0
    threshold = 1.1
    out: list[ThresholdScore] = []
    for (score, unit, _), window in zip(ordered, window_ids, strict=True):
        if score != threshold:
            out.append(ThresholdScore(threshold, window_total + fp_total, tp, tn, fp, fn))
            threshold = score
        if window < 0:
            fp, tn = fp + 1, tn - 1
            fp_total += unit * profile.fp
        else:
            tp, fn = tp + 1, fn - 1
            weight = unit * profile.tp
            if weight > best_in_window[window]:
                window_total += weight - best_in_window[window]
                best_in_window[window] = weight
    out.append(ThresholdScore(threshold, window_total + fp_total, tp, tn, fp, fn))
    return out


@dataclass(frozen=True)
class SeriesScore:
    """One series' contribution at the chosen threshold."""

    name: str
    score: float
    tp: int
    tn: int
    fp: int
    fn: int
    windows: int
    windows_detected: int


@dataclass(frozen=True)
class CorpusScore:
    """Result of one profile: the optimal threshold, the raw and normalised scores, per-series rows."""

    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float
    normalised: float
    series: list[SeriesScore] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Row counts summed over the corpus, as NAB's ``*_scores.csv`` totals report them."""
        keys = ("tp", "tn", "fp", "fn", "windows", "windows_detected")
        return {k: sum(int(getattr(s, k)) for s in self.series) for k in keys}


def _series_at(name: str, rows: list[_Row], n_windows: int, profile: CostProfile, threshold: float) -> SeriesScore:
    total = 0.0
    best = [-profile.fn] * n_windows
    tp = tn = fp = fn = 0
    for score, unit, window in rows:
        hit = score >= threshold
        if window < 0:
            if hit:
                fp += 1
                total += unit * profile.fp
            else:
                tn += 1
        elif hit:
            tp += 1
            best[window] = max(best[window], unit * profile.tp)
        else:
            fn += 1
    detected = sum(1 for b in best if b > -profile.fn)
    return SeriesScore(name, total + sum(best), tp, tn, fp, fn, n_windows, detected)


Corpus = Mapping[str, tuple[Sequence[float], Sequence[tuple[int, int]]]]


def score_profiles(corpus: Corpus, profiles: Mapping[str, CostProfile] | None = None,
                   thresholds: Mapping[str, float] | None = None) -> dict[str, CorpusScore]:
    """Score ``{name: (anomaly_scores, window_rows)}`` under each profile (default: NAB's three).

    A profile's threshold is optimised over the whole corpus, as NAB's optimiser does, unless
    ``thresholds`` fixes it (e.g. one learned on another corpus).
    """
    profiles = PROFILES if profiles is None else profiles
    prepared = {name: (_sweep_rows(scores, windows), len(windows)) for name, (scores, windows) in corpus.items()}
    tagged: list[tuple[_Row, int]] = []
    offset = 0
    for rows, n_windows in prepared.values():
        tagged.extend((row, offset + row[2] if row[2] >= 0 else -1) for row in rows)
        offset += n_windows
    tagged.sort(key=lambda item: item[0][0], reverse=True)
    ordered = [row for row, _ in tagged]
    window_ids = [window for _, window in tagged]

    results: dict[str, CorpusScore] = {}
    for key, profile in profiles.items():
        threshold = (thresholds or {}).get(key)
        if threshold is None:
            candidates = _score_by_threshold(ordered, window_ids, offset, profile)
            threshold = max(candidates, key=lambda c: c.score).threshold
        series = [_series_at(name, rows, n, profile, threshold) for name, (rows, n) in prepared.items()]
        raw = sum(s.score for s in series)
        null = -offset * profile.fn
        perfect = offset * profile.tp
        normalised = 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
        results[key] = CorpusScore(profile.name, threshold, raw, null, perfect, normalised, series)
    return results


def optimise_threshold(corpus: Corpus, profile: CostProfile) -> ThresholdScore:
    """The corpus-wide threshold with the best raw score (ties: the highest threshold)."""
    tagged: list[tuple[_Row, int]] = []
    offset = 0
    for scores, windows in corpus.values():
        tagged.extend((row, offset + row[2] if row[2] >= 0 else -1) for row in _sweep_rows(scores, windows))
        offset += len(windows)
    tagged.sort(key=lambda item: item[0][0], reverse=True)
    candidates = _score_by_threshold([r for r, _ in tagged], [w for _, w in tagged], offset, profile)
    return max(candidates, key=lambda c: c.score)


def score_corpus(corpus: Corpus, profile: CostProfile, threshold: float | None = None) -> CorpusScore:
    """Score one profile (see :func:`score_profiles`)."""
    fixed = None if threshold is None else {profile.name: threshold}
    return score_profiles(corpus, {profile.name: profile}, fixed)[profile.name]
