"""Find where an incident starts when only one window of metrics is at hand.

Why: :func:`~steadyops.rca.ranking.rank_root_causes` needs a normal period and an incident window.
When an alert fires we usually know its start, but a metric dump around "about then" may not say
where normal ends. BARO answers this with Bayesian online change-point detection; we use the simpler
*at most one change* (AMOC) estimate, which is what an offline split needs: for every candidate split
``k`` each metric contributes its two-segment mean-shift statistic ``k·(n-k)/n · (mean_left -
mean_right)²`` in robust units, rescaled so that its peak weighs at most ``cap²`` (one wild metric
cannot choose the split alone, yet still votes for where *it* changed), and the split with the
largest total wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from steadyops.rca.scoring import IQR_TO_SIGMA

__all__ = ["find_change_point", "split_at_change_point"]


def find_change_point(
    metrics: Mapping[str, Sequence[float]],
    *,
    min_segment: int = 5,
    cap: float = 100.0,
) -> int | None:
    """Index of the first sample after the most likely single change, or ``None`` when too short.

    Series must be aligned (same length, same timestamps); non-finite samples are carried forward.
    """
    lengths = {len(v) for v in metrics.values()}
    if len(lengths) != 1:
        raise ValueError("find_change_point needs aligned series of equal length")
    n = lengths.pop()
    if n < 2 * min_segment:
        return None
    k = np.arange(1, n, dtype=np.float64)
    total = np.zeros(n - 1, dtype=np.float64)
    for values in metrics.values():
        x = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(x)
        if finite.sum() < 2 * min_segment:
            continue
        x = _carry_forward(x, finite)
        center = float(np.median(x))
        q1, q3 = np.percentile(x, [25.0, 75.0])
        scale = max(float(q3 - q1) / IQR_TO_SIGMA, float(np.std(x)) * 1e-3, 0.01 * abs(center), 1e-9)
        z = (x - center) / scale
        csum = np.cumsum(z)[:-1]
        left = csum / k
        right = (float(z.sum()) - csum) / (n - k)
        stat = k * (n - k) / n * (left - right) ** 2
        peak = float(stat.max())
        if peak > 0.0:  # keep the curve's shape (where it peaks), bound its weight
            total += stat * (min(peak, cap * cap) / peak)
    total[: min_segment - 1] = -np.inf
    total[n - min_segment :] = -np.inf
    if not np.isfinite(total).any() or float(np.max(total)) <= 0.0:
        return None
    return int(np.argmax(total)) + 1


def split_at_change_point(
    metrics: Mapping[str, Sequence[float]], *, min_segment: int = 5
) -> tuple[dict[str, list[float]], dict[str, list[float]]] | None:
    """Split aligned series into (normal, anomalous) at :func:`find_change_point`; ``None`` if none."""
    cut = find_change_point(metrics, min_segment=min_segment)
    if cut is None:
        return None
    normal = {name: [float(v) for v in values[:cut]] for name, values in metrics.items()}
    anomalous = {name: [float(v) for v in values[cut:]] for name, values in metrics.items()}
    return normal, anomalous


def _carry_forward(x: np.ndarray, finite: np.ndarray) -> np.ndarray:
    idx = np.where(finite, np.arange(x.size), 0)
    np.maximum.accumulate(idx, out=idx)
    out = x[idx]
    first = int(np.argmax(finite))
    out[:first] = x[first]
    return out
