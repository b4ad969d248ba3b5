"""Reference detectors for checking the scorer (helper of ``bench/nab.py``).

* null: always 0 - NAB's normalisation defines it as 0.
* perfect: 1 on the first row of every window, 0 elsewhere - defines 100.
* windowed Gaussian: NAB's own ``windowedGaussian`` detector re-implemented (mean and std of the
  last 6400 values, refreshed every 100 once the window is full; score = 1 - the two-sided
  Gaussian tail of the value). Published: 39.6 standard on the 58-series corpus, so on a subset
  it is only a rough sanity check of the scorer, not a number to match.
"""

from __future__ import annotations

import math
from collections import deque


def null_scores(n: int) -> list[float]:
    return [0.0] * n


def perfect_scores(n: int, window_rows: list[tuple[int, int]]) -> list[float]:
    scores = [0.0] * n
    for start, _ in window_rows:
        scores[start] = 1.0
    return scores


def windowed_gaussian_scores(values: list[float], window: int = 6400, step: int = 100) -> list[float]:
    data: deque[float] = deque()
    pending: list[float] = []
    total = total_sq = 0.0
    mean, std = 0.0, 1.0
    scores: list[float] = []

    def refresh() -> tuple[float, float]:
        m = total / len(data)
        s = math.sqrt(max(total_sq / len(data) - m * m, 0.0))
        return m, (s if s > 0 else 1e-6)

    for x in values:
        score = 0.0
        if data:
            z = abs(x - mean) / std
            score = 1.0 - 0.5 * math.erfc(z / math.sqrt(2.0))
        scores.append(score)
        if len(data) < window:
            data.append(x)
            total, total_sq = total + x, total_sq + x * x
            mean, std = refresh()
        else:
            pending.append(x)
            if len(pending) == step:
                for y in pending:
                    old = data.popleft()
                    data.append(y)
                    total, total_sq = total - old + y, total_sq - old * old + y * y
                pending = []
                mean, std = refresh()
    return scores
