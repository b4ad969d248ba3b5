"""An inference server's ``/metrics`` → :class:`ServerMetrics`, and the previous reading for rates.

Counters (generated tokens, preemptions, errors) are judged as growth since the previous check of
the same target; the first check has no previous reading and says so instead of judging a lifetime
total. ``process_start_time_seconds`` (Python servers export it) changing between two readings is
a restart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from steadyops.integrations.inference.flavours import Flavour
from steadyops.sources.exposition import Sample, buckets_of, by_name, histogram_quantile, parse_exposition, total


@dataclass
class ServerMetrics:
    flavour: str
    at: float
    running: float | None = None
    waiting: float | None = None
    kv_usage: float | None = None
    preemptions: float | None = None
    errors: float | None = None
    generated_tokens: float | None = None
    ttft_p95_s: float | None = None
    ttft_count: float | None = None
    ttft_buckets: list[tuple[float, float]] = field(default_factory=list)
    tpot_p95_s: float | None = None
    started_at: float | None = None
    names: list[str] = field(default_factory=list)


def _errors(samples: dict[str, list[Sample]], flavour: Flavour) -> float | None:
    if flavour.errors_label is None:
        return total(samples, *flavour.errors)
    label, bad = flavour.errors_label
    for name in flavour.errors:
        if name in samples:
            return sum(s.value for s in samples[name] if s.labels.get(label) in bad)
    return None


def _buckets(samples: dict[str, list[Sample]], names: tuple[str, ...]) -> list[tuple[float, float]]:
    for base in names:
        buckets = buckets_of(samples, base)
        if buckets:
            return buckets
    return []


def _p95(samples: dict[str, list[Sample]], names: tuple[str, ...]) -> tuple[float | None, float | None]:
    buckets = _buckets(samples, names)
    if buckets:
        return histogram_quantile(0.95, buckets), buckets[-1][1]
    return None, None


Buckets = list[tuple[float, float]]


def interval_p95(now: Buckets, before: Buckets | None) -> tuple[float | None, float]:
    """p95 of the observations made between two readings (bucket counts subtracted), with their count;
    the lifetime p95 when there is no earlier reading or the server restarted (counts went down)."""
    if before:
        old = dict(before)
        delta = [(le, count - old.get(le, 0.0)) for le, count in now]
        if all(d >= 0 for _le, d in delta) and delta and delta[-1][1] > 0:
            return histogram_quantile(0.95, delta), delta[-1][1]
        if all(d >= 0 for _le, d in delta):
            return None, 0.0
    return (histogram_quantile(0.95, now), now[-1][1]) if now else (None, 0.0)


def read_metrics(text: str, flavour: Flavour, at: float | None = None) -> ServerMetrics:
    """Parse one ``/metrics`` body with ``flavour``'s names; raises ValueError on a malformed body."""
    samples = by_name(parse_exposition(text))
    kv = total(samples, *flavour.kv_usage)
    if kv is not None and kv > 1.0:  # some servers publish a percentage
        kv /= 100.0
    ttft, ttft_count = _p95(samples, flavour.ttft_hist)
    tpot, _n = _p95(samples, flavour.tpot_hist)
    started = samples.get("process_start_time_seconds")
    return ServerMetrics(
        flavour=flavour.name, at=time.time() if at is None else at,
        running=total(samples, *flavour.running), waiting=total(samples, *flavour.waiting), kv_usage=kv,
        preemptions=total(samples, *flavour.preemptions), errors=_errors(samples, flavour),
        generated_tokens=total(samples, *flavour.generated_tokens), ttft_p95_s=ttft, ttft_count=ttft_count,
        ttft_buckets=_buckets(samples, flavour.ttft_hist),
        tpot_p95_s=tpot, started_at=started[0].value if started else None, names=sorted(samples))


def growth(now: float | None, before: float | None) -> float | None:
    """Counter growth; a reset (server restarted) counts from zero."""
    if now is None or before is None:
        return None
    return now - before if now >= before else now


__all__ = ["ServerMetrics", "growth", "interval_p95", "read_metrics"]
