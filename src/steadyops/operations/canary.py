"""Canary / A-B comparison of two deployments' SLIs, with a verdict usable as a release gate.

Inputs per arm: latency samples (ms), failed and total requests, and optionally a quality score per
request that the user supplies (higher is better). Each SLI gets a statistical answer at the stated
confidence, never a comparison of two point estimates:

* latency: a bootstrap confidence interval of the ratio p<q>(canary) / p<q>(baseline) (percentile
  method, ``resamples`` draws, fixed seed so a gate is reproducible), with the one-sided
  Mann-Whitney U test (canary slower) as a second opinion reported beside it;
* errors: the one-sided two-proportion z-test (canary fails more) and a Newcombe (Wilson) interval
  of the difference in error rates;
* quality: a bootstrap interval of the difference in means.

Per SLI: **fail** when the interval lies wholly on the worse side of the allowed ``margin``;
**pass** when it lies wholly on the better side; otherwise **inconclusive** (too few samples or no
real difference). With the default margin 0, identical deployments are inconclusive — a pass needs
evidence, not the absence of it; ``margin=0.05`` makes the latency gate "no more than 5 % slower".
Overall: fail if any SLI fails; pass if latency passes and nothing fails; else inconclusive.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats

Verdict = Literal["pass", "fail", "inconclusive"]
#: the gate's exit codes (CLI): pass 0, fail 1, inconclusive 3 (2 stays "bad usage")
EXIT_CODES: dict[str, int] = {"pass": 0, "fail": 1, "inconclusive": 3}


@dataclass
class Arm:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    requests: int = 0
    quality: list[float] = field(default_factory=list)

    def validate(self, name: str) -> None:
        if any(not math.isfinite(x) or x < 0 for x in self.latencies_ms):
            raise ValueError(f"{name}: latencies must be finite, non-negative milliseconds")
        if self.errors < 0 or self.requests < 0 or self.errors > self.requests:
            raise ValueError(f"{name}: need 0 <= errors <= requests (got {self.errors} of {self.requests})")
        if any(not math.isfinite(x) for x in self.quality):
            raise ValueError(f"{name}: quality scores must be finite numbers")


@dataclass
class Sli:
    name: str
    verdict: Verdict
    baseline: float | None
    canary: float | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    detail: str


@dataclass
class CanaryResult:
    verdict: Verdict
    confidence: float
    slis: list[Sli]
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _interval_verdict(low: float, high: float, worse_above: float, *, higher_is_worse: bool = True) -> Verdict:
    if higher_is_worse:
        return "fail" if low > worse_above else "pass" if high < worse_above else "inconclusive"
    return "fail" if high < worse_above else "pass" if low > worse_above else "inconclusive"


def bootstrap_quantile(values: np.ndarray, q: float, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``resamples`` draws of the bootstrap distribution of the q-quantile, without resampling arrays.

    The q-quantile of a resample is the order statistic ``x_(J)`` of the sorted data, where
    ``P(J <= j) = P(Binomial(n, j/n) >= m)`` with ``m = ceil(q·n)`` (at least m of the n draws fall at or
    below ``x_(j)``). Sampling J from that law is exact for the order-statistic quantile and costs
    O(n + resamples) instead of O(n · resamples), so a gate on 10⁵ samples stays instant.
    """
    ordered = np.sort(values)
    n = len(ordered)
    m = max(1, math.ceil(q * n))
    cdf = stats.binom.sf(m - 1, n, np.arange(1, n + 1) / n)
    picks = np.searchsorted(cdf, rng.random(resamples), side="left")
    return ordered[np.minimum(picks, n - 1)]


def compare_latency(base: list[float], can: list[float], *, q: float, confidence: float, margin: float,
                    resamples: int, rng: np.random.Generator, min_samples: int) -> Sli:
    name = f"latency p{q * 100:g}"
    if len(base) < min_samples or len(can) < min_samples:
        return Sli(name, "inconclusive", None, None, None, None, None, None,
                   f"need at least {min_samples} latency samples per arm (have {len(base)} and {len(can)})")
    a, b = np.asarray(base, dtype=float), np.asarray(can, dtype=float)
    pa, pb = float(np.quantile(a, q)), float(np.quantile(b, q))
    boot_a = bootstrap_quantile(a, q, resamples, rng)
    boot_b = bootstrap_quantile(b, q, resamples, rng)
    ratios = boot_b / np.maximum(boot_a, 1e-12)
    alpha = 1 - confidence
    low, high = (float(x) for x in np.quantile(ratios, [alpha / 2, 1 - alpha / 2]))
    p_mwu = float(stats.mannwhitneyu(b, a, alternative="greater").pvalue)
    verdict = _interval_verdict(low, high, 1 + margin)
    ratio = pb / pa if pa > 0 else math.inf
    return Sli(name, verdict, round(pa, 3), round(pb, 3), round(ratio, 4), round(low, 4), round(high, 4),
               round(p_mwu, 6), f"p{q * 100:g} {pa:.1f} → {pb:.1f} ms (×{ratio:.3f}, {confidence:.0%} CI "
               f"×{low:.3f}–×{high:.3f}, allowed ×{1 + margin:.3f}); Mann-Whitney U one-sided p={p_mwu:.4g}")


def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def compare_errors(base: Arm, can: Arm, *, confidence: float, margin: float) -> Sli:
    if base.requests == 0 or can.requests == 0:
        return Sli("error rate", "inconclusive", None, None, None, None, None, None, "no request counts given")
    p1, p2 = base.errors / base.requests, can.errors / can.requests
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    l1, u1 = _wilson(base.errors, base.requests, z)
    l2, u2 = _wilson(can.errors, can.requests, z)
    diff = p2 - p1
    low = diff - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)  # Newcombe's hybrid score interval
    high = diff + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    pooled = (base.errors + can.errors) / (base.requests + can.requests)
    se = math.sqrt(pooled * (1 - pooled) * (1 / base.requests + 1 / can.requests))
    p_value = float(stats.norm.sf(diff / se)) if se > 0 else (0.0 if diff > 0 else 1.0)
    verdict: Verdict = "fail" if (p_value < 1 - confidence and low > margin) else \
        "pass" if high < margin else "inconclusive"
    return Sli("error rate", verdict, round(p1, 6), round(p2, 6), round(diff, 6), round(low, 6), round(high, 6),
               round(p_value, 6), f"{base.errors}/{base.requests} → {can.errors}/{can.requests} "
               f"({p1:.3%} → {p2:.3%}, {confidence:.0%} CI of the difference {low:+.3%}…{high:+.3%}); "
               f"two-proportion z-test one-sided p={p_value:.4g}")


def compare_quality(base: list[float], can: list[float], *, confidence: float, margin: float, resamples: int,
                    rng: np.random.Generator, min_samples: int) -> Sli:
    if len(base) < min_samples or len(can) < min_samples:
        return Sli("quality", "inconclusive", None, None, None, None, None, None,
                   f"need at least {min_samples} quality scores per arm")
    a, b = np.asarray(base, dtype=float), np.asarray(can, dtype=float)
    diffs = (b[rng.integers(0, len(b), size=(resamples, len(b)))].mean(axis=1)
             - a[rng.integers(0, len(a), size=(resamples, len(a)))].mean(axis=1))
    alpha = 1 - confidence
    low, high = (float(x) for x in np.quantile(diffs, [alpha / 2, 1 - alpha / 2]))
    verdict = _interval_verdict(low, high, -margin, higher_is_worse=False)
    return Sli("quality", verdict, round(float(a.mean()), 4), round(float(b.mean()), 4),
               round(float(b.mean() - a.mean()), 4), round(low, 4), round(high, 4), None,
               f"mean {a.mean():.3f} → {b.mean():.3f} ({confidence:.0%} CI of the difference {low:+.3f}…{high:+.3f})")


def compare(baseline: Arm, canary: Arm, *, confidence: float = 0.95, margin: float = 0.0, quantile: float = 0.95,
            error_margin: float = 0.0, quality_margin: float = 0.0, resamples: int = 4000, seed: int = 0,
            min_samples: int = 30) -> CanaryResult:
    """The verdict for ``canary`` against ``baseline``; raises ValueError on bad input."""
    if not 0.5 <= confidence < 1:
        raise ValueError("confidence must be in [0.5, 1)")
    if not 0 < quantile < 1:
        raise ValueError("quantile must be in (0, 1)")
    baseline.validate("baseline")
    canary.validate("canary")
    rng = np.random.default_rng(seed)
    slis = [compare_latency(baseline.latencies_ms, canary.latencies_ms, q=quantile, confidence=confidence,
                            margin=margin, resamples=resamples, rng=rng, min_samples=min_samples)]
    if baseline.requests or canary.requests:
        slis.append(compare_errors(baseline, canary, confidence=confidence, margin=error_margin))
    if baseline.quality or canary.quality:
        slis.append(compare_quality(baseline.quality, canary.quality, confidence=confidence, margin=quality_margin,
                                    resamples=resamples, rng=rng, min_samples=min_samples))
    failed = [s for s in slis if s.verdict == "fail"]
    verdict: Verdict = "fail" if failed else "pass" if slis[0].verdict == "pass" else "inconclusive"
    reasons = [f"{s.name}: {s.verdict} — {s.detail}" for s in slis]
    return CanaryResult(verdict, confidence, slis, reasons)


__all__ = ["EXIT_CODES", "Arm", "CanaryResult", "Sli", "Verdict", "bootstrap_quantile", "compare"]
