"""Rank the services most likely to have caused an incident, and say when we cannot tell.

Pipeline: score every metric robustly (:mod:`steadyops.rca.scoring`), give each service the score of
its most anomalous metric (a fault in one resource is enough; averaging would dilute a CPU hog with a
calm memory gauge), then, when the dependency graph is known, separate causes from symptoms
(:mod:`steadyops.rca.separation`): request-path evidence (latency, errors, availability) of a service
whose callees are themselves anomalous is explained by them, and a service whose callers degraded
with it gains support. When the symptom is known, services it cannot reach through its calls rank
after the ones it can: a fault propagates from callee to caller, never sideways. When the symptom's
metric is known, only evidence that can produce it counts (:func:`~steadyops.rca.semantics.explains`:
a slow callee makes callers slow, a failing one makes them fail, a starved resource does either).
Every metric is scored against the regime just before the fault as well as the normal window
(``before``), so a shift that was already there is context, not cause.

Every part can be switched off by a flag of :class:`RcaConfig` (``bench/rca.py --ablation``).

*Inconclusive* is part of the answer, not an error: a ranking is always returned, but diagnosis must
not present it as a finding when

* the strongest metric moved less than ``min_score`` times its largest excursion in normal times
  (nothing stands out from everyday noise), or
* the first service does not lead the second by ``min_separation`` (two equally good suspects).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from steadyops.rca.propagation import personalised_pagerank
from steadyops.rca.scoring import MetricScore, ScoringConfig, kind_of, score_metrics, service_of
from steadyops.rca.semantics import explains
from steadyops.rca.separation import explain_by_callees, explain_by_callers, reachable_from, separate_causes

__all__ = ["Candidate", "RcaConfig", "RcaResult", "fuse_results", "rank_root_causes"]


@dataclass(frozen=True, slots=True)
class RcaConfig:
    """One configuration for every system; the defaults are that configuration."""

    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    min_score: float = 2.0
    """Top evidence below this (× the healthy excursion) → inconclusive."""
    min_separation: float = 1.25
    """Top candidate's score must be at least this multiple of the runner-up's, else inconclusive."""
    evidence_floor: float = 1.0
    """A metric is cited as evidence when its calibrated score reaches this."""
    max_evidence: int = 5
    topology: str = "separation"
    """How the call graph is used: ``separation`` (cause vs symptom), ``pagerank`` (the older
    personalised PageRank) or ``none``. The alternatives exist for the ablation."""
    explain: float = 0.9
    """Share of a service's request-path evidence that a clearly anomalous callee explains away."""
    caller_support: float = 0.5
    """Bonus (× the strongest caller's anomaly, 0..1) for a service whose callers degraded too."""
    same_metric: bool = True
    """Callees explain exactly their own change of a metric their caller also reports."""
    callers_explain: bool = True
    """Callers explain a callee's traffic change and its silence when they are all silent too
    (``separation.explain_by_callers``)."""
    opaque_hops: bool = True
    """A leaf's request-path change may be explained by the other callees of its callers (a proxy or
    load balancer in front of a backend the graph shows beside it; see ``opaque_hop_peers``)."""
    residual_noise: bool = True
    """What a caller keeps of a change after its callee's same-metric change is taken out is measured
    against the noise of both (``separation.explain_by_callees``)."""
    quiet_callees: bool = True
    """A callee that reports the caller's metric and kept it within its healthy excursion explains
    none of the caller's change in it (``separation.explain_by_callees``)."""
    gone_wholly: bool = True
    """A callee that went silent explains its callers' request-path change wholly, not by ``explain``
    (``separation.explain_by_callees``)."""
    use_symptom: bool = True
    """Rank services the symptom cannot reach through its calls after those it can."""
    symptom_kind: bool = True
    """With a known symptom metric, count only evidence that can produce it (see ``semantics.explains``)."""
    use_logs: bool = True
    """Turn a case's logs into per-component series (:mod:`steadyops.rca.multimodal`)."""
    use_traces: bool = True
    """Turn a case's spans into per-component series (self time, originated errors …)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One suspect: its ranking score, its own anomaly, and the metrics that point at it."""

    service: str
    score: float
    """Ranking score (equals ``anomaly`` without topology, redistributed anomaly with it)."""
    anomaly: float
    """Score of the service's most anomalous metric, before any propagation."""
    evidence: list[str]
    """Metric names, strongest first."""


@dataclass(frozen=True, slots=True)
class RcaResult:
    candidates: list[Candidate]
    inconclusive: bool
    reason: str
    """Why the result is (in)conclusive, in one line a human can read."""
    metrics: list[MetricScore] = field(default_factory=list)
    """Every metric's score, strongest first (for reports and debugging)."""

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def services(self) -> list[str]:
        return [c.service for c in self.candidates]


def rank_root_causes(
    normal: Mapping[str, Sequence[float]],
    anomalous: Mapping[str, Sequence[float]],
    topology: Mapping[str, Sequence[str]] | None = None,
    *,
    service_of_metric: Callable[[str], str] = service_of,
    config: RcaConfig | None = None,
    symptom: str | None = None,
    symptom_metric: str | None = None,
    before: Mapping[str, Sequence[float]] | None = None,
) -> RcaResult:
    """Rank services by how likely each is the root cause of the change from ``normal`` to ``anomalous``.

    ``normal`` and ``anomalous`` map metric names (``<service>_<metric>`` by default, see
    :func:`~steadyops.rca.scoring.service_of`) to samples; windows may differ in length. ``topology``
    maps a service to the services it depends on (calls), as ``Target.depends_on`` does. ``symptom``
    is the service where the problem was seen and ``symptom_metric`` the metric (name without the
    service), when known. ``before``: samples from just before the fault start that are not in the
    normal window (see :func:`~steadyops.rca.scoring.score_metric`).
    """
    cfg = config or RcaConfig()
    metrics = score_metrics(
        normal, anomalous, service_of_metric=service_of_metric, config=cfg.scoring, before=before
    )
    if symptom_metric and cfg.symptom_kind:
        # a component that went silent can produce any symptom (errors, time-outs)
        metrics = [m for m in metrics if m.silent or explains(kind_of(m.metric, m.service), symptom_metric)]
    if topology and cfg.topology == "separation" and cfg.callers_explain:
        metrics = explain_by_callers(metrics, topology, threshold=cfg.min_score, explain=cfg.explain)
    if not metrics:
        return RcaResult([], True, "no metric has enough samples in both windows", metrics)

    by_service: dict[str, list[MetricScore]] = {}
    for m in metrics:  # already strongest first
        by_service.setdefault(m.service, []).append(m)
    anomaly = {svc: max(ms[0].score, 0.0) for svc, ms in by_service.items()}

    ranking = dict(anomaly)
    if topology and cfg.topology == "pagerank":
        ranking = personalised_pagerank(anomaly, topology)
    elif topology and cfg.topology == "separation":
        local = {svc: max((m.score for m in ms if m.local), default=0.0) for svc, ms in by_service.items()}
        path = {svc: max((m.score for m in ms if not m.local), default=0.0) for svc, ms in by_service.items()}
        explained = (
            explain_by_callees(
                metrics, topology, threshold=cfg.min_score, explain=cfg.explain, opaque_hops=cfg.opaque_hops,
                gone_wholly=cfg.gone_wholly, quiet_callees=cfg.quiet_callees, residual_noise=cfg.residual_noise,
            )
            if cfg.same_metric else None
        )
        ranking = separate_causes(
            local, path, topology,
            threshold=cfg.min_score, explain=cfg.explain, caller_support=cfg.caller_support,
            explained_path=explained,
        )
    reach: set[str] | None = None
    if topology and symptom and cfg.use_symptom and symptom in {*topology, *by_service}:
        reach = reachable_from(symptom, topology)

    candidates = [
        Candidate(
            service=svc,
            score=max(ranking.get(svc, 0.0), 0.0),
            anomaly=anomaly[svc],
            evidence=[m.metric for m in ms if m.score >= cfg.evidence_floor][: cfg.max_evidence] or [ms[0].metric],
        )
        for svc, ms in by_service.items()
    ]
    # equal scores (bounded evidence such as a change from a flat line) go to the service with more
    # clear pieces of evidence: independent signals agreeing are likelier than one alone
    clear = {svc: sum(1 for m in ms if m.score >= cfg.min_score) for svc, ms in by_service.items()}
    candidates.sort(key=lambda c: (
        reach is not None and c.service not in reach, -c.score, -c.anomaly, -clear[c.service], c.service,
    ))
    inconclusive, reason = _judge(candidates, metrics[0], cfg)
    return RcaResult(candidates, inconclusive, reason, metrics)


def fuse_results(
    results: Sequence[RcaResult],
    *,
    config: RcaConfig | None = None,
    topology: Mapping[str, Sequence[str]] | None = None,
    symptom: str | None = None,
) -> RcaResult:
    """One ranking from rankings of independent kinds of evidence (metrics, logs, traces).

    Each result's scores are already in the same unit (× the healthy excursion, after the call graph
    had its say), so a component's fused score is the **sum** of its scores: independent evidence
    adds up, as z-scores do in Stouffer's combination (whose common 1/√k does not change an order).
    Why not the maximum per component: every signal that merely changed from a flat line is bounded,
    so a culprit seen in three kinds of evidence would tie with a noisy gauge seen in one; why not
    weights: there is nothing to fit them on that would hold for a system not seen yet.
    """
    cfg = config or RcaConfig()
    results = [r for r in results if r.candidates]
    if len(results) == 1:
        return results[0]
    metrics = sorted((m for r in results for m in r.metrics), key=lambda m: (-m.score, m.metric))
    if not metrics:
        return RcaResult([], True, "no metric has enough samples in both windows", [])
    score: dict[str, float] = {}
    anomaly: dict[str, float] = {}
    for r in results:
        for c in r.candidates:
            score[c.service] = score.get(c.service, 0.0) + c.score
            anomaly[c.service] = max(anomaly.get(c.service, 0.0), c.anomaly)
    by_service: dict[str, list[MetricScore]] = {}
    for m in metrics:
        by_service.setdefault(m.service, []).append(m)
    reach: set[str] | None = None
    if topology and symptom and cfg.use_symptom and symptom in {*topology, *by_service}:
        reach = reachable_from(symptom, topology)
    clear = {svc: sum(1 for m in ms if m.score >= cfg.min_score) for svc, ms in by_service.items()}
    candidates = [
        Candidate(
            service=svc,
            score=score[svc],
            anomaly=anomaly[svc],
            evidence=[m.metric for m in ms if m.score >= cfg.evidence_floor][: cfg.max_evidence] or [ms[0].metric],
        )
        for svc, ms in by_service.items() if svc in score
    ]
    candidates.sort(key=lambda c: (
        reach is not None and c.service not in reach, -c.score, -c.anomaly, -clear.get(c.service, 0), c.service,
    ))
    inconclusive, reason = _judge(candidates, metrics[0], cfg)
    return RcaResult(candidates, inconclusive, reason, metrics)


def _judge(candidates: list[Candidate], strongest: MetricScore, cfg: RcaConfig) -> tuple[bool, str]:
    if strongest.score < cfg.min_score:
        return True, (
            f"strongest change ({strongest.metric}, {strongest.score:.2f}x its normal excursion) "
            f"is below {cfg.min_score:g}x: nothing stands out from normal noise"
        )
    top = candidates[0]
    if len(candidates) > 1:
        second = candidates[1]
        if second.score > 0 and top.score < cfg.min_separation * second.score:
            return True, (
                f"{top.service} ({top.score:.2f}) is not separated from {second.service} "
                f"({second.score:.2f}) by {cfg.min_separation:g}x"
            )
    return False, f"{top.service} leads with {top.score:.2f} ({', '.join(top.evidence)})"
