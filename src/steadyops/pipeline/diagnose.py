"""Diagnose: for each new incident, gather evidence, rank suspects, attach runbooks and remedies.

Deterministic and read-only: it reads check history, alerts, the topology and the knowledge base,
and *proposes* actions from the catalogue (with a confidence) without planning or running them.
The same result is what the agent starts from, and what an operator gets with no LLM at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steadyops.config import PrometheusConfig
from steadyops.i18n import MESSAGES, Lang, t
from steadyops.inventory import Inventory
from steadyops.logsources import LogSources, log_evidence
from steadyops.models import AlertStatus, CheckStatus, Severity
from steadyops.pipeline.metrics import metric_evidence
from steadyops.plugins import Registry
from steadyops.promql import PromQL
from steadyops.rca import personalised_pagerank
from steadyops.store.tables import AlertRow, CheckResultRow, DiagnosisRow, IncidentRow

log = logging.getLogger(__name__)
Search = Callable[[str, int, str], Sequence[Any]]  # (query, k, lang) -> passages with .to_dict()
#: more evidence (changes, SLO budgets): (session, incident, alerts, scope, score, now) -> items; it may add
#: to ``score``; an item with ``"headline": True`` is appended to the summary
EvidenceSource = Callable[[Session, IncidentRow, Sequence[AlertRow], set[str], dict[str, float], datetime],
                          list[dict[str, Any]]]

_STATUS_WEIGHT = {CheckStatus.CRITICAL.value: 3.0, CheckStatus.WARNING.value: 1.5, CheckStatus.UNKNOWN.value: 1.0}
_SEVERITY_WEIGHT = {Severity.CRITICAL.value: 3.0, Severity.WARNING.value: 2.0, Severity.INFO.value: 1.0}
LOOKBACK = timedelta(minutes=15)


@dataclass
class Diagnosis:
    summary: str
    confidence: float
    inconclusive: bool
    candidates: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    runbooks: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)


class Diagnoser:
    def __init__(self, registry: Registry, inventory: Inventory, search: Search | None = None,
                 max_hops: int = 2, prometheus: PrometheusConfig | None = None, lang: Lang = "en",
                 logs: LogSources | None = None, extra_evidence: Sequence[EvidenceSource] = ()) -> None:
        self.logs = logs
        self.extra_evidence = list(extra_evidence)
        self.registry = registry
        self.inventory = inventory
        self.search = search
        self.max_hops = max_hops
        self.prometheus = prometheus
        self.lang: Lang = lang
        self.promql = (PromQL(prometheus.url, prometheus.bearer_token.get_secret_value()
                              if prometheus.bearer_token else None, prometheus.timeout) if prometheus else None)

    def _neighbourhood(self, targets: Sequence[str]) -> set[str]:
        near = {t for t in targets if t}
        for name in self.inventory.targets:
            if any(self.inventory.distance(name, t, self.max_hops) is not None for t in targets):
                near.add(name)
        return near

    def diagnose(self, session: Session, incident: IncidentRow, now: datetime) -> Diagnosis:
        alerts = list(session.scalars(select(AlertRow).where(AlertRow.incident_id == incident.id)))
        targets = [str(t) for t in incident.targets]
        scope = self._neighbourhood(targets)
        score: dict[str, float] = {}
        critical: set[str] = set()
        evidence: list[dict[str, Any]] = []
        failing_checks: dict[str, list[str]] = {}
        for a in alerts:
            target = next((t for t in targets if t in (a.labels.get("target"), a.labels.get("instance"))), None)
            target = target or self.inventory.resolve(a.labels.get("instance", "")) or a.labels.get("target", "")
            if not target or a.status != AlertStatus.FIRING.value:
                continue
            sev = Severity.parse(a.labels.get("severity")).value
            w = _SEVERITY_WEIGHT.get(sev, 1.0)
            score[target] = max(score.get(target, 0.0), w)
            if sev == Severity.CRITICAL.value:
                critical.add(target)
            evidence.append({"kind": "alert", "target": target, "detail": a.labels.get("alertname", ""),
                             "summary": a.annotations.get("summary", "")})
        since = incident.opened_at - LOOKBACK
        rows = session.scalars(
            select(CheckResultRow).where(CheckResultRow.target.in_(scope), CheckResultRow.started_at >= since)
            .order_by(CheckResultRow.started_at.desc()))
        latest: dict[tuple[str, str], CheckResultRow] = {}
        for r in rows:
            latest.setdefault((r.check, r.target), r)
        for (check, target), r in sorted(latest.items()):
            if r.status not in _STATUS_WEIGHT:
                continue
            score[target] = score.get(target, 0.0) + _STATUS_WEIGHT[r.status]
            if r.status == CheckStatus.CRITICAL.value:
                critical.add(target)
            failing_checks.setdefault(target, []).append(check)
            evidence.append({"kind": "check", "target": target, "detail": check, "status": r.status,
                             "layer": r.layer, "summary": r.summary})
        evidence += log_evidence(self.logs, scope, incident.opened_at, score)  # adds bounded log scores
        for source in self.extra_evidence:
            try:
                evidence += source(session, incident, alerts, scope, score, now)
            except Exception:  # evidence is advice: one failing source must not cost the diagnosis
                log.exception("evidence source %r failed", source)
        if self.promql is not None and self.prometheus is not None:
            addresses = {t: self.inventory.targets[t].address for t in scope if t in self.inventory.targets}
            found, gain = metric_evidence(self.promql, self.prometheus, addresses, incident.first_alert_at, now)
            evidence.extend(found)
            for target, extra in gain.items():
                score[target] = score.get(target, 0.0) + extra
        ranked = self._rank(score, critical)
        inconclusive, confidence = _judge(ranked)
        top = ranked[0]["target"] if ranked else ""
        runbooks = self._runbooks(incident, failing_checks.get(top, []), evidence)
        actions = self._remedies(top, failing_checks.get(top, []), confidence)
        layers = sorted({e.get("layer", "") for e in evidence if e["target"] == top and e.get("layer")})
        summary = summarise(ranked, inconclusive, layers, self.lang)
        summary += "".join(f"; {e['summary']}" for e in evidence if e.get("headline"))
        return Diagnosis(summary=summary, confidence=confidence, inconclusive=inconclusive, candidates=ranked,
                         evidence=evidence, runbooks=runbooks, actions=actions)

    def _rank(self, score: dict[str, float], critical: set[str]) -> list[dict[str, Any]]:
        if not score:
            return []
        topology = {name: [d for d in t.depends_on] for name, t in self.inventory.targets.items()}
        known = {k: v for k, v in score.items() if k in topology}
        ranking = dict(score)
        if len(known) > 1:
            ranking.update(personalised_pagerank(known, topology))
        total = sum(ranking.values()) or 1.0
        ranked = sorted(ranking.items(), key=lambda kv: (-kv[1], kv[0]))
        return [{"target": t, "score": round(s, 4), "share": round(s / total, 3), "anomaly": score.get(t, 0.0),
                 "critical": t in critical} for t, s in ranked if s > 0]

    def _runbooks(self, incident: IncidentRow, checks: list[str],
                  evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.search is None:
            return []
        query = " ".join([incident.title, *checks, *{str(e.get("summary", "")) for e in evidence[:5]}])
        return [p.to_dict() for p in self.search(query, 3, self.lang)]

    def _remedies(self, target: str, checks: list[str], confidence: float) -> list[dict[str, Any]]:
        t = self.inventory.targets.get(target)
        if t is None:
            return []
        out = []
        for name in self.registry.actions.names():
            cls = self.registry.actions.get(name)
            hit = [c for c in checks if c in cls.remedies]
            if hit and cls.target_kind in (t.kind, "*"):
                out.append({"action": name, "target": target, "because": hit, "risk": cls.risk.value,
                            "confidence": round(confidence, 3), "status": "proposed (not executed)"})
        return out


def co_causes(ranked: list[dict[str, Any]]) -> list[str]:
    """Suspects tied with the leader on critical evidence: several members down is several causes."""
    if not ranked or not ranked[0].get("critical"):
        return []
    return [c["target"] for c in ranked[1:] if c.get("critical") and c["score"] * 1.25 > ranked[0]["score"]]


def summarise(ranked: list[dict[str, Any]], inconclusive: bool, layers: list[str], lang: Lang) -> str:
    """One line in the operator's language; the CLI re-renders it from the same fields for --lang."""
    if inconclusive:
        if not ranked:
            return t("diag.inconclusive_none", lang)
        return t("diag.inconclusive_tie", lang, n=len(ranked))
    also = co_causes(ranked)
    text = t("diag.root_cause", lang, target=ranked[0]["target"])
    if also:
        text += t("diag.together", lang, others=", ".join(also))
    if layers:
        names = [t(f"report.layer.{x}", lang) if f"report.layer.{x}" in MESSAGES else x for x in layers]
        text += f" ({', '.join(names)})"
    return text


def _judge(ranked: list[dict[str, Any]]) -> tuple[bool, float]:
    """Conclusive when one suspect clearly leads (alone, or 1.25x the runner-up), or when the
    leaders are tied on critical evidence (co-causes); ties on mild evidence stay inconclusive."""
    if not ranked:
        return True, 0.0
    if len(ranked) == 1:
        return False, min(0.9, 0.5 + 0.1 * ranked[0]["anomaly"])
    lead = ranked[0]["score"] / max(ranked[1]["score"], 1e-9)
    conf = round(ranked[0]["share"] + sum(c["share"] for c in ranked if c["target"] in co_causes(ranked)), 3)
    return lead < 1.25 and not co_causes(ranked), conf


def store(session: Session, incident_id: int, d: Diagnosis, now: datetime, mode: str = "deterministic") -> DiagnosisRow:
    row = DiagnosisRow(incident_id=incident_id, created_at=now, mode=mode, summary=d.summary,
                       confidence=d.confidence, inconclusive=d.inconclusive, candidates=d.candidates,
                       evidence=d.evidence, runbooks=d.runbooks, actions=d.actions)
    session.add(row)
    return row


def latest(session: Session, incident_id: int, mode: str | None = None) -> DiagnosisRow | None:
    stmt = select(DiagnosisRow).where(DiagnosisRow.incident_id == incident_id)
    if mode:
        stmt = stmt.where(DiagnosisRow.mode == mode)
    return session.scalars(stmt.order_by(DiagnosisRow.id.desc()).limit(1)).first()


def needing_diagnosis(session: Session, limit: int = 5) -> list[IncidentRow]:
    """Open incidents never diagnosed, or with alerts newer than their last diagnosis."""
    out = []
    for inc in session.scalars(select(IncidentRow).where(IncidentRow.status != "resolved")
                               .order_by(IncidentRow.id.desc()).limit(50)):
        last = latest(session, inc.id, "deterministic")
        if last is None or inc.last_alert_at > last.created_at:
            out.append(inc)
        if len(out) >= limit:
            break
    return out
