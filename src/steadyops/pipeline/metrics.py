"""Metric evidence for diagnosis: which targets' metrics changed when the incident began.

For each target near the incident, the configured PromQL queries are read around the first alert;
the window before it is the normal baseline and the window after it the incident. Scoring reuses
the root-cause ranker's robust scores (median/IQR, calibrated against the baseline's own noise), so
"cpu 14x its normal excursion" means the same thing here as on the benchmark.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from steadyops.config.settings import PrometheusConfig
from steadyops.core.errors import SteadyOpsError
from steadyops.rca import score_metrics
from steadyops.sources.promql import PromQL, host_regex

log = logging.getLogger(__name__)

#: a metric this many times its baseline's own excursion counts as evidence
EVIDENCE_SCORE = 3.0
#: most a target's score can gain from metrics: they corroborate checks and alerts, not outvote them
MAX_CONTRIBUTION = 2.0


def metric_evidence(prom: PromQL, cfg: PrometheusConfig, targets: Mapping[str, str], start: datetime,
                    now: datetime) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """(evidence items, score contribution per target) for targets ``{name: address}``."""
    begin = start - timedelta(seconds=cfg.lookback)
    end = min(now, start + timedelta(seconds=cfg.after))
    normal: dict[str, list[float]] = {}
    incident: dict[str, list[float]] = {}
    owner: dict[str, tuple[str, str]] = {}
    for target, address in targets.items():
        if not address:
            continue
        for name, template in cfg.metrics.items():
            query = template.replace("{host}", host_regex(address))
            try:
                series = prom.query_range(query, begin, end, cfg.step)
            except SteadyOpsError as exc:
                log.info("metric %s for %s unavailable: %s", name, target, exc)
                continue
            for i, (_labels, points) in enumerate(series):
                key = f"m{len(owner)}"
                owner[key] = (target, name if len(series) == 1 else f"{name}[{i}]")
                normal[key] = [v for t, v in points if t < start.timestamp()]
                incident[key] = [v for t, v in points if t >= start.timestamp()]
    if not owner:
        return [], {}
    scores = score_metrics(normal, incident, service_of_metric=lambda key: owner[key][0])
    evidence: list[dict[str, Any]] = []
    gain: dict[str, float] = {}
    for s in scores:
        if s.score < EVIDENCE_SCORE:
            continue
        target, name = owner[s.metric]
        evidence.append({"kind": "metric", "target": target, "detail": name, "score": round(s.score, 2),
                         "summary": f"{name} on {target} changed {s.score:.1f}x its normal variation at the incident"})
        gain[target] = min(MAX_CONTRIBUTION, gain.get(target, 0.0) + s.score / 10)
    return evidence, gain
