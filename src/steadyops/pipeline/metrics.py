"""Metric evidence for diagnosis: which targets' metrics changed when the incident began.

For each target near the incident, the configured PromQL queries are read around the first alert;
the window before it is the normal baseline and the window after it the incident. The series are
collected into the root-cause case model (:class:`~steadyops.rca.cases.RcaCase`, columns
``<target>:<metric name>``) and ranked by :func:`~steadyops.rca.multimodal.rank_case` with the
inventory's ``depends_on`` graph: the same ranker, scores and inconclusive band that ``bench/rca.py``
measures, so "cpu 14x its normal excursion" means the same thing here as on the benchmark. The
ranking becomes one ``rca`` evidence item; each strong metric stays a ``metric`` item.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from steadyops.config.settings import PrometheusConfig
from steadyops.core.errors import SteadyOpsError
from steadyops.core.i18n import Lang, t
from steadyops.rca import RcaCase, Span, rank_case
from steadyops.sources.promql import PromQL, host_regex

log = logging.getLogger(__name__)

#: a metric this many times its baseline's own excursion counts as evidence
EVIDENCE_SCORE = 3.0
#: most a target's score can gain from metrics: they corroborate checks and alerts, not outvote them
MAX_CONTRIBUTION = 2.0


def metric_evidence(prom: PromQL | None, cfg: PrometheusConfig | None, targets: Mapping[str, str], start: datetime,
                    now: datetime, topology: Mapping[str, Sequence[str]] | None = None,
                    lang: Lang = "en", *, spans: Sequence[Span] = (),
                    window: tuple[float, float] = (1800.0, 300.0)) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """(evidence items, score contribution per target) for targets ``{name: address}``.

    ``spans`` (from the trace source, already limited to the window) join the same case as trace
    evidence; ``window`` is (lookback, after) in seconds when there is no Prometheus section to say.
    """
    lookback, after = (cfg.lookback, cfg.after) if cfg is not None else window
    begin = start - timedelta(seconds=lookback)
    end = min(now, start + timedelta(seconds=after))
    columns: dict[str, dict[float, float]] = {}
    for target, address in targets.items():
        if not address or prom is None or cfg is None:
            continue
        for name, template in cfg.metrics.items():
            query = template.replace("{host}", host_regex(address))
            try:
                series = prom.query_range(query, begin, end, cfg.step)
            except SteadyOpsError as exc:
                log.info("metric %s for %s unavailable: %s", name, target, exc)
                continue
            metric = name.replace(":", "_")  # the component is what precedes the last ':'
            for i, (_labels, points) in enumerate(series):
                column = f"{target}:{metric if len(series) == 1 else f'{metric}[{i}]'}"
                columns[column] = {tm: v for tm, v in points if math.isfinite(v)}
    if not columns and not spans:
        return [], {}
    times = sorted({tm for values in columns.values() for tm in values})
    case = RcaCase(
        name="live", times=times,
        metrics={col: [values.get(tm, math.nan) for tm in times] for col, values in columns.items()},
        normal=(begin.timestamp(), start.timestamp() - 1e-6), fault_start=start.timestamp(), end=end.timestamp(),
        topology={k: list(v) for k, v in (topology or {}).items() if k in targets},
        spans=list(spans),
    )
    result = rank_case(case)
    evidence: list[dict[str, Any]] = []
    gain: dict[str, float] = {}
    for s in result.metrics:
        if s.score < EVIDENCE_SCORE:
            continue
        target, _, name = s.metric.rpartition(":")
        evidence.append({"kind": "metric", "target": target, "detail": name, "score": round(s.score, 2),
                         "summary": f"{name} on {target} changed {s.score:.1f}x its normal variation at the incident"})
        if target in targets:  # a traced service that is not a target here is context, not a suspect
            gain[target] = min(MAX_CONTRIBUTION, gain.get(target, 0.0) + s.score / 10)
    top = result.top
    if top is not None:
        summary = (t("diag.rca_metrics_unsure", lang, reason=result.reason) if result.inconclusive else
                   t("diag.rca_metrics", lang, target=top.service,
                     evidence=", ".join(e.rpartition(":")[2] for e in top.evidence)))
        evidence.append({"kind": "rca", "target": top.service, "detail": ", ".join(top.evidence),
                         "score": round(top.score, 2), "inconclusive": result.inconclusive,
                         "ranking": result.services()[:5], "summary": summary})
    return evidence, gain
