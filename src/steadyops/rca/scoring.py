"""Robust per-metric anomaly scores: how far did each metric move in the incident window?

The method follows the robust-scoring half of BARO (Pham et al., FSE 2024) and the NSigma baseline
of RCAEval, written from their descriptions rather than their code, with three changes that make it
hold on systems it has never seen:

* Each metric is centred on the **median** of the normal period and scaled by its **IQR** (turned
  into a σ-equivalent by dividing by 1.349): the normal period of a real system carries spikes, and a
  mean/standard deviation would let one spike hide the fault.
* **Direction comes from the metric's meaning** (:mod:`steadyops.rca.semantics`): increases for
  latency, errors and resources, decreases for availability and success, both for traffic. A fall in
  availability is a fault; a fall in CPU is usually a consequence.
* **A flat baseline is not a zero scale.** A metric that did not move in normal times has no spread
  to divide by; dividing by an arbitrary tiny floor turns any change into a score of 1e11 and lets a
  counter flat at 0 outrank everything. Instead the scale is never below ``rel_floor`` of the
  metric's own level (a move of a few KiB on a 400 MB gauge is not news), then never below the
  largest excursion seen in normal times (rare blips set the unit), and a metric flat at exactly
  zero that moves gets a **bounded** score of ``flat_evidence``: "it changed", as strong as a clear
  excursion and no stronger, so other evidence decides between such changes. Lone samples do not
  make a baseline less flat (``isolated_blips``): the incident's statistic is smoothed so that one
  stray sample cannot carry a metric, and the same stray sample in the normal window must not set
  its unit either. Otherwise a count of rare events (new log templates, 5xx) that happened to blip
  once while healthy scores its incident count (132 for 132 lines), while the same count of a
  component that never blipped scores ``flat_evidence``: whether a service logged one odd line last
  week would decide which of two services with the same surge is blamed.
* The window statistic is the maximum of a **rolling median of 3**, so one stray sample cannot
  carry a metric but a fault lasting a few samples does.
* Each metric's score is then **calibrated by its own normal behaviour**: the same statistic
  computed over the normal period itself. A score of ``k`` means "k times the largest excursion seen
  while the system was healthy", a unit that means the same for every metric and every system.
* **Healthy is what recurs.** A metric that sits at one value through most of the normal window
  (availability at 100 %, a pool size, ``up`` at 1) departs from it in *events*, and the period
  labelled normal may hold one that was not healthy at all: the tail of an earlier incident, a
  deploy. Calibrating by that single episode would let one bad hour in the reference mute the
  metric in every later incident. Such an event-like metric is calibrated by the largest excursion
  it makes **more than once**; one that wanders (a gauge, a drifting memory level) keeps its
  largest, since its wandering is what health looks like.
* **A first failure is news.** A failure metric (availability, success, ``up``: ``semantics``
  category ``errors``) that held one value through the whole normal window and moves the bad way
  scores at least ``flat_evidence``, as an error count flat at zero already does. Its floored scale
  (``rel_floor`` of the level) would otherwise make one failed request in 100 a sample score 1 and
  one in 1000 score 0.1: the share a single failure takes says how busy the component is, not how
  unusual the failure is. Larger falls still score by their size.
* **Silence is evidence.** A crashed component writes no logs and is not scraped: a count of all
  its activity (``ACTIVITY_KINDS``) that was (almost) never zero in normal times and is zero through
  most of the incident, or a component whose every metric has samples in the normal window and none in the
  incident (while others still report), is *silent*: as strong as a clear excursion
  (``flat_evidence``), never weaker than the count's own fall, and marked so the call graph can
  tell a component that went away from one its callers stopped calling
  (:func:`~steadyops.rca.separation.explain_by_callers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from steadyops.rca.semantics import Direction, category_of, direction_of, is_local

__all__ = [
    "MetricScore",
    "ScoringConfig",
    "score_metric",
    "score_metrics",
    "service_of",
]

FloatArray = NDArray[np.float64]

#: Counts of *everything* a component does, so that zero means it stopped rather than that nobody
#: called it: ``log_lines`` (every line it writes, housekeeping included) and ``span_answered`` (the
#: share of calls made to it that it answered; see ``rca.multimodal``). Request and span counts are
#: traffic: a component nobody calls has none either.
ACTIVITY_KINDS = frozenset({"log_lines", "span_answered"})

#: IQR of a standard normal distribution; dividing by it makes the IQR a σ estimate.
IQR_TO_SIGMA = 1.349


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    """Knobs of the scorer. One configuration serves every system; the defaults are that config."""

    rel_floor: float = 0.01
    """The scale is never below this share of the metric's normal level (|median|)."""
    abs_floor: float = 1e-9
    """Only used by ``flat_handling=False`` (the old behaviour, kept for the ablation)."""
    flat_evidence: float = 3.0
    """Score of a change on a metric that was exactly flat at zero in normal times."""
    flat_handling: bool = True
    """Bounded scores for flat baselines; off = the old tiny absolute floor (ablation only)."""
    directional: bool = True
    """Direction from the metric's name; off = increases only (ablation only)."""
    smooth: int = 3
    """Width of the rolling median applied to z-scores before taking the maximum."""
    onset: bool = True
    """Divide by the deviation already present just before the fault start (ablation flag)."""
    null_floor: float = 1.0
    """Calibration never divides by less than this: a metric quiet in normal times keeps its z."""
    min_points: int = 3
    """Fewer finite samples than this in either window and the metric is skipped."""
    recurring: bool = True
    """Calibrate an event-like metric by the largest excursion it makes more than once (see the
    module notes; off = by its largest, ablation only)."""
    flat_failures: bool = True
    """A failure metric flat through the normal window scores a bad change at least ``flat_evidence``
    (see the module notes; ablation flag)."""
    isolated_blips: bool = True
    """A baseline flat at zero but for lone samples counts as flat (see the module notes; ablation flag)."""


@dataclass(frozen=True, slots=True)
class MetricScore:
    """The evidence one metric gives: its raw z (incident), its normal-time z, and their ratio."""

    metric: str
    service: str
    score: float
    """``raw / max(null, null_floor)``: incident excursion in units of the healthy excursion."""
    raw: float
    """Largest smoothed robust z in the incident window (increase direction)."""
    null: float
    """The same statistic over the normal window: how far the metric strays when all is well (for an
    event-like metric, the largest excursion it makes more than once)."""
    direction: str = "up"
    """Which change was scored: ``up``, ``down`` or ``both`` (from the metric's name)."""
    local: bool = False
    """A resource metric of the component itself (see :func:`~steadyops.rca.semantics.is_local`)."""
    kind: str = ""
    """The metric's name without its component (``latency_p90``): what callers and callees share."""
    scale: float = 0.0
    """Native units per z unit (0 for a metric flat at zero): ``raw * scale`` is the change itself."""
    prior: float = 0.0
    """Deviation held throughout the period just before the fault start (outside the normal window)."""
    silent: bool = False
    """The component went quiet: its count fell to zero, or its data stopped (see the module notes)."""


def service_of(metric: str) -> str:
    """Map a metric column to its service: the text before the first ``_`` (else the first ``.``).

    Every public microservice RCA benchmark we know names its columns ``<service>_<metric>``
    (``orders_cpu``, ``web-api_mem``, ``auth-service_latency-90``); service names contain ``-``
    but not ``_``. Pass your own mapping to :func:`score_metrics` when yours differ.
    """
    for sep in ("_", "."):
        head, found, _ = metric.partition(sep)
        if found and head:
            return head
    return metric


def _finite(values: Sequence[float]) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    return arr[np.isfinite(arr)]


def _rolling_median(z: FloatArray, width: int) -> FloatArray:
    if width <= 1 or z.size < width:
        return z
    windows = np.lib.stride_tricks.sliding_window_view(z, width)
    return np.asarray(np.median(windows, axis=1), dtype=np.float64)


def robust_location_scale(normal: FloatArray, config: ScoringConfig) -> tuple[float, float]:
    """Median and a floored, σ-equivalent IQR of the normal window."""
    center = float(np.median(normal))
    q1, q3 = np.percentile(normal, [25.0, 75.0])
    scale = float(q3 - q1) / IQR_TO_SIGMA
    if scale <= 0.0:
        # Mostly-constant metric with rare blips: the IQR says nothing, the spread of the blips does.
        scale = float(np.std(normal))
    scale = max(scale, config.rel_floor * abs(center), config.abs_floor)
    return center, scale


def _quartiles(base: FloatArray) -> tuple[float, float]:
    q1, q3 = np.percentile(base, [25.0, 75.0])
    return float(q1), float(q3)


def _scale(base: FloatArray, center: float, config: ScoringConfig, quartiles: tuple[float, float]) -> float:
    """σ-equivalent spread of the normal window; 0 when it is flat at zero (with ``isolated_blips``:
    flat but for lone samples, which the window statistic's smoothing would not count either)."""
    q1, q3 = quartiles
    scale = max((q3 - q1) / IQR_TO_SIGMA, config.rel_floor * abs(center))
    if scale <= 0.0:
        excursion = np.abs(base - center)
        if config.isolated_blips and not np.any(_rolling_median(excursion, config.smooth)):
            return 0.0
        scale = float(np.max(excursion))
    return scale


def _deviation(values: FloatArray, center: float, scale: float, config: ScoringConfig) -> FloatArray:
    """Signed deviation in robust units; bounded ``±flat_evidence`` when the baseline is flat zero."""
    if not config.flat_handling:
        legacy = max(scale, config.abs_floor)
        return (values - center) / legacy
    if scale > 0.0:
        return (values - center) / scale
    tiny = 1e-12 * max(1.0, abs(center))
    delta = values - center
    return np.where(np.abs(delta) > tiny, np.sign(delta) * config.flat_evidence, 0.0)


def _excursion_peaks(rolled: FloatArray) -> list[float]:
    """The peak of every run of bad (positive) deviation, largest first: one per episode."""
    bad = np.concatenate(([False], rolled > 0.0, [False]))
    edges = np.flatnonzero(np.diff(bad.astype(np.int8)))
    return sorted((float(np.max(rolled[a:b])) for a, b in zip(edges[::2], edges[1::2], strict=True)), reverse=True)


def _healthy_excursion(rolled: FloatArray, event_like: bool) -> float:
    """How far the metric strays while healthy: its largest excursion in the normal window, or, for
    an event-like metric, the largest it makes more than once (0 when it made at most one).

    Event-like: the metric sat at one value through the middle half of the normal window (its IQR
    is 0), so its departures are events (a failed request, a restart), not the wiggle of a gauge.
    """
    if event_like:
        peaks = _excursion_peaks(rolled)
        return peaks[1] if len(peaks) > 1 else 0.0
    return float(np.max(rolled))


def _oriented(z: FloatArray, direction: Direction) -> FloatArray:
    if direction is Direction.DOWN:
        return -z
    if direction is Direction.BOTH:
        return np.abs(z)
    return z


def score_metric(
    metric: str,
    normal: Sequence[float],
    anomalous: Sequence[float],
    *,
    service: str | None = None,
    config: ScoringConfig | None = None,
    kind: str | None = None,
    before: Sequence[float] | None = None,
) -> MetricScore | None:
    """Score one metric; ``None`` when either window has too few finite samples to judge.

    ``kind`` is the metric's name without its component (``latency_p90``), read for its direction
    and locality; by default the text after ``service`` (or the whole name). ``before`` holds samples
    from just before the fault start that are not part of the normal window (when the normal period
    was recorded elsewhere): a deviation already present there is a regime the fault found, not its
    effect, so the score is divided by it as it is by the normal-time excursion.
    """
    cfg = config or ScoringConfig()
    base = _finite(normal)
    incident = _finite(anomalous)
    if base.size < cfg.min_points or incident.size < 1:
        return None
    svc = service or service_of(metric)
    if kind is None:
        kind = metric[len(svc) + 1 :] if metric.startswith(svc) and len(metric) > len(svc) else metric
    direction = direction_of(kind) if cfg.directional else Direction.UP
    quartiles = _quartiles(base)
    if cfg.flat_handling:
        center = float(np.median(base))
        scale = _scale(base, center, cfg, quartiles)
    else:
        center, scale = robust_location_scale(base, cfg)
    # a failure metric that held one (non-zero) value while healthy: a first failure is at least
    # "it changed", however small a share of the traffic it is (module notes)
    first_failure = (
        cfg.flat_failures and cfg.flat_handling and scale > 0.0
        and float(np.ptp(base)) == 0.0 and category_of(kind) == "errors"
    )

    def bad(values: FloatArray) -> FloatArray:
        z = _oriented(_deviation(values, center, scale, cfg), direction)
        return np.where(z > 0.0, np.maximum(z, cfg.flat_evidence), z) if first_failure else z

    raw = float(np.max(_rolling_median(bad(incident), cfg.smooth)))
    event_like = cfg.recurring and quartiles[1] - quartiles[0] == 0.0
    null = _healthy_excursion(_rolling_median(bad(base), cfg.smooth), event_like)
    if not (math.isfinite(raw) and math.isfinite(null)):
        return None
    prior = 0.0
    pre = _finite(before) if before is not None and cfg.onset else np.zeros(0)
    if pre.size:
        # the deviation held throughout that period (its least deviating sample): a change that
        # starts inside it may be the fault itself, which labels of the start only approximate
        prior = max(float(np.min(bad(pre))), 0.0)
    score = raw / max(null, prior, cfg.null_floor)
    # everything a component does, (almost) never zero and zero through most of the incident: the
    # component stopped; its fall in z units is bounded by the count's own noise, so a quiet
    # component's silence would read weaker than a busy one's
    silent = (
        kind in ACTIVITY_KINDS
        and float(np.median(incident)) <= 0.0
        and float(np.percentile(base, 10.0)) > 0.0
        and not (pre.size and float(np.median(pre)) <= 0.0)  # quiet already before the fault: not its doing
    )
    if silent:
        score = max(score, cfg.flat_evidence)
    return MetricScore(
        metric=metric,
        service=svc,
        score=score,
        raw=raw,
        null=null,
        direction=direction.value,
        kind=kind,
        scale=scale if scale > 0.0 else 0.0,
        prior=prior,
        silent=silent,
        local=is_local(kind) or silent,
    )


def kind_of(metric: str, service: str) -> str:
    """The metric's name without its component: ``orders_cpu`` → ``cpu``, ``a::b:lat`` → ``lat``."""
    if metric.startswith(service) and len(metric) > len(service) + 1:
        return metric[len(service) + 1 :]
    return metric


def score_metrics(
    normal: Mapping[str, Sequence[float]],
    anomalous: Mapping[str, Sequence[float]],
    *,
    service_of_metric: Callable[[str], str] = service_of,
    config: ScoringConfig | None = None,
    before: Mapping[str, Sequence[float]] | None = None,
) -> list[MetricScore]:
    """Score every metric present in both windows, highest score first (``before``: see score_metric)."""
    cfg = config or ScoringConfig()
    scores: list[MetricScore] = []
    reported: dict[str, bool] = {}  # service → any finite sample in the incident, for services with a normal
    for metric, base in normal.items():
        incident = anomalous.get(metric)
        if incident is None:
            continue
        svc = service_of_metric(metric)
        kind = kind_of(metric, svc)
        prior = before.get(metric) if before else None
        scored = score_metric(metric, base, incident, service=svc, config=cfg, kind=kind, before=prior)
        if scored is not None:
            scores.append(scored)
        if _finite(base).size >= cfg.min_points and len(incident):
            reported[svc] = reported.get(svc, False) or bool(_finite(incident).size)
    if any(reported.values()):
        # a component whose data stopped while others still report: it is gone (a crash, a killed pod)
        scores += [
            MetricScore(metric=f"{svc}:no_data", service=svc, score=cfg.flat_evidence, raw=cfg.flat_evidence,
                        null=0.0, direction=Direction.DOWN.value, local=True, kind="no_data", silent=True)
            for svc, any_sample in reported.items() if not any_sample
        ]
    scores.sort(key=lambda s: (-s.score, s.metric))
    return scores
