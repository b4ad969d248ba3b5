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

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from steadyops.config.settings import PrometheusConfig, TracesConfig
from steadyops.core.errors import SteadyOpsError
from steadyops.core.i18n import MESSAGES, Lang, t
from steadyops.core.inventory import Inventory
from steadyops.core.models import AlertStatus, CheckStatus, Severity
from steadyops.pipeline import suspects
from steadyops.pipeline.advice import Failing, Search, explaining, matching_runbooks, remedies
from steadyops.pipeline.metrics import metric_evidence
from steadyops.plugins import Registry
from steadyops.rca import Span
from steadyops.rca.live import spans_from_jaeger
from steadyops.sources.jaeger import JaegerQuery
from steadyops.sources.logs import LogSources, log_evidence
from steadyops.sources.promql import PromQL
from steadyops.store import incident_targets
from steadyops.store.tables import AlertRow, CheckResultRow, DiagnosisRow, IncidentRow

log = logging.getLogger(__name__)
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
                 logs: LogSources | None = None, extra_evidence: Sequence[EvidenceSource] = (),
                 traces: TracesConfig | None = None) -> None:
        self.traces = traces
        self.jaeger = (JaegerQuery(traces.url, traces.bearer_token.get_secret_value() if traces.bearer_token else None,
                                   traces.timeout) if traces else None)
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

    def _window(self) -> tuple[float, float]:
        """(lookback, after) of the evidence window: Prometheus's when set, else the trace source's."""
        if self.prometheus is not None:
            return self.prometheus.lookback, self.prometheus.after
        if self.traces is not None:
            return self.traces.lookback, self.traces.after
        return 1800.0, 300.0

    def _spans(self, first_alert: datetime, now: datetime) -> list[Span]:
        """The trace source's spans over the evidence window; none when it is not set or not reachable."""
        if self.jaeger is None or self.traces is None:
            return []
        lookback, after = self._window()
        begin, end = first_alert - timedelta(seconds=lookback), min(now, first_alert + timedelta(seconds=after))
        try:
            return spans_from_jaeger(self.jaeger, begin, end, services=self.traces.services, limit=self.traces.limit,
                                     rename=self.traces.service_map)
        except SteadyOpsError as exc:  # traces are evidence, not a precondition of a diagnosis
            log.info("traces unavailable: %s", exc)
            return []

    def _neighbourhood(self, targets: Sequence[str]) -> set[str]:
        """The incident's targets and the inventory's targets within ``max_hops`` of one of them.

        One bounded walk from all of the incident's targets at once: asking every inventory target's
        distance to every incident target was (inventory x targets) walks, minutes for a storm's
        incident of thousands of targets against a fleet's inventory."""
        near = {t for t in targets if t}
        known = self.inventory.targets
        return near | {name for name in self.inventory.around(near, self.max_hops) if name in known}

    def diagnose(self, session: Session, incident: IncidentRow, now: datetime) -> Diagnosis:
        alerts = list(session.scalars(select(AlertRow).where(AlertRow.incident_id == incident.id)))
        targets = incident_targets.of(session, incident.id)
        scope = self._neighbourhood(targets)
        ev = suspects.Evidence()
        score = ev.score
        evidence: list[dict[str, Any]] = []
        failing: dict[str, list[Failing]] = {}
        # an alert is about the incident's target its ``target`` or ``instance`` label names (the one the
        # incident listed first when both are listed): looked up by position, not by walking the list
        # per alert, which was (alerts x targets): half a second for a storm incident of 834 of each
        position = {t: i for i, t in reversed(list(enumerate(targets)))}
        for a in alerts:
            named = [v for v in (a.labels.get("target"), a.labels.get("instance")) if v in position]
            target = min(named, key=position.__getitem__) if named else None
            target = target or self.inventory.resolve(a.labels.get("instance", "")) or a.labels.get("target", "")
            if not target or a.status != AlertStatus.FIRING.value:
                continue
            sev = Severity.parse(a.labels.get("severity")).value
            score[target] = max(score.get(target, 0.0), _SEVERITY_WEIGHT.get(sev, 1.0))
            ev.saw(target, a.starts_at, "", sev == Severity.CRITICAL.value)
            evidence.append({"kind": "alert", "target": target, "detail": a.labels.get("alertname", ""),
                             "summary": a.annotations.get("summary", "")})
        since = incident.opened_at - LOOKBACK
        rows = list(session.scalars(
            select(CheckResultRow).where(CheckResultRow.target.in_(scope), CheckResultRow.started_at >= since)
            .order_by(CheckResultRow.started_at.desc())))
        latest: dict[tuple[str, str], CheckResultRow] = {}
        for r in rows:
            latest.setdefault((r.check, r.target), r)
        onset = _onsets(rows)
        for (check, target), r in sorted(latest.items()):
            if r.status not in _STATUS_WEIGHT:
                continue
            score[target] = score.get(target, 0.0) + _STATUS_WEIGHT[r.status]
            definite = r.status != CheckStatus.UNKNOWN.value
            ev.saw(target, onset.get((check, target), r.started_at), r.layer if definite else "",
                   r.status == CheckStatus.CRITICAL.value)
            failing.setdefault(target, []).append(Failing(check, r.target_kind, CheckStatus(r.status), r.layer,
                                                          r.summary, r.runbook, dict(r.metrics or {})))
            evidence.append({"kind": "check", "target": target, "detail": check, "status": r.status,
                             "layer": r.layer, "summary": r.summary})
        evidence += log_evidence(self.logs, scope, incident.opened_at, score)  # adds bounded log scores
        for source in self.extra_evidence:
            try:
                evidence += source(session, incident, alerts, scope, score, now)
            except Exception:  # evidence is advice: one failing source must not cost the diagnosis
                log.exception("evidence source %r failed", source)
        spans = self._spans(incident.first_alert_at, now)
        if (self.promql is not None and self.prometheus is not None) or spans:
            addresses = {t: self.inventory.targets[t].address for t in scope if t in self.inventory.targets}
            graph = {name: list(t.depends_on) for name, t in self.inventory.targets.items()}
            found, gain = metric_evidence(self.promql, self.prometheus, addresses, incident.first_alert_at, now,
                                          topology=graph, lang=self.lang, spans=spans, window=self._window())
            evidence.extend(found)
            for target, extra in gain.items():
                score[target] = score.get(target, 0.0) + extra
        topology = {name: list(t.depends_on) for name, t in self.inventory.targets.items()}
        ranked = suspects.rank(ev, topology, self.max_hops)
        inconclusive, confidence = suspects.judge(ranked)
        top = ranked[0]["target"] if ranked and not inconclusive else ""
        found_top = failing.get(top, [])
        query = " ".join([incident.title, *(f.check for f in found_top), *(f.summary for f in found_top[:5])])
        runbooks = matching_runbooks(self.search, self.registry, found_top, query, self.lang)
        actions = remedies(self.registry, top, found_top, confidence) if top in self.inventory.targets else []
        first = [f.layer for f in explaining(found_top)][:1]  # the layer that explains the others leads
        layers = first + sorted({f.layer for f in found_top if f.layer and f.status is not CheckStatus.UNKNOWN}
                                - set(first))
        summary = summarise(ranked, inconclusive, layers, self.lang)
        summary += "".join(f"; {e['summary']}" for e in evidence if e.get("headline"))
        return Diagnosis(summary=summary, confidence=confidence, inconclusive=inconclusive,
                         candidates=bounded_candidates(ranked), evidence=bounded_evidence(evidence, ranked, self.lang),
                         runbooks=runbooks, actions=actions)


def _onsets(rows: list[CheckResultRow]) -> dict[tuple[str, str], datetime]:
    """When each (check, target) started failing in its current run of failures (rows newest first)."""
    out: dict[tuple[str, str], datetime] = {}
    done: set[tuple[str, str]] = set()
    for r in rows:
        key = (r.check, r.target)
        if key in done:
            continue
        if r.status in (CheckStatus.CRITICAL.value, CheckStatus.WARNING.value):
            out[key] = r.started_at
        else:
            done.add(key)
    return out


co_causes = suspects.co_causes

#: what a diagnosis keeps of a storm's incident. The ranking and the confidence are computed over every
#: suspect and alert; what is stored, shown and handed to the agent is the head of each list: a storm of
#: 20,000 hosts gave a diagnosis of 7 MB (a candidate and an evidence item per host, every tied host
#: named in the summary), re-stored at each re-diagnosis and sent whole with the incident.
MAX_CANDIDATES = 50
MAX_ALERT_EVIDENCE = 50
#: co-causes named in the summary; the rest are counted
NAMED_CO_CAUSES = 5


def bounded_candidates(ranked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first :data:`MAX_CANDIDATES`; when suspects were cut, the leader records how many were ranked
    (``ranked``) and how many are tied with it (``co_causes``), so a summary re-rendered from the stored
    candidates (the CLI's ``--lang``) counts the same as the one written now."""
    if len(ranked) <= MAX_CANDIDATES:
        return ranked
    head = ranked[:MAX_CANDIDATES]
    head[0] = {**head[0], "ranked": len(ranked), "co_causes": len(co_causes(ranked))}
    return head


def bounded_evidence(evidence: list[dict[str, Any]], ranked: list[dict[str, Any]], lang: Lang) -> list[dict[str, Any]]:
    """Every item, but alerts only up to :data:`MAX_ALERT_EVIDENCE`, the leading suspects' first (the
    incident's title is taken from the leader's, ``timings.root_finding``), then one item counting the
    rest: the alerts are the incident's own list, the evidence is what explains it."""
    alerts = [e for e in evidence if e.get("kind") == "alert"]
    if len(alerts) <= MAX_ALERT_EVIDENCE:
        return evidence
    leaders = {c["target"] for c in ranked[:NAMED_CO_CAUSES]}
    first = [e for e in alerts if e.get("target") in leaders]
    chosen = (first + [e for e in alerts if e.get("target") not in leaders])[:MAX_ALERT_EVIDENCE]
    kept = {id(e) for e in chosen}
    rest = [e for e in alerts if id(e) not in kept]
    out = [e for e in evidence if e.get("kind") != "alert" or id(e) in kept]
    out.append({"kind": "alert", "target": "", "detail": "more", "count": len(rest),
                "summary": t("diag.more_alerts", lang, n=len(rest), targets=len({e["target"] for e in rest}))})
    return out


def summarise(ranked: list[dict[str, Any]], inconclusive: bool, layers: list[str], lang: Lang) -> str:
    """One line in the operator's language; the CLI re-renders it from the same fields for --lang."""
    if inconclusive:
        if not ranked:
            return t("diag.inconclusive_none", lang)
        return t("diag.inconclusive_tie", lang, n=len(ranked))
    also = co_causes(ranked)
    if ranked[0].get("via") == "upstream":  # a proxy answering 502/504: blame what is behind it, not it
        text = t("diag.upstream_of", lang, target=ranked[0]["target"])
    else:
        text = t("diag.root_cause", lang, target=ranked[0]["target"])
    tied = max(len(also), int(ranked[0].get("co_causes", 0)))  # counted before the candidates were cut
    if tied > NAMED_CO_CAUSES:
        text += t("diag.together_more", lang, others=", ".join(also[:NAMED_CO_CAUSES]), n=tied - NAMED_CO_CAUSES)
    elif also:
        text += t("diag.together", lang, others=", ".join(also))
    if layers:
        names = [t(f"report.layer.{x}", lang) if f"report.layer.{x}" in MESSAGES else x for x in layers]
        text += f" ({', '.join(names)})"
    return text


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


def needing_diagnosis(session: Session, limit: int = 5, *, settle_since: datetime | None = None) -> list[IncidentRow]:
    """Open incidents never diagnosed, or with alerts newer than their last diagnosis.

    ``settle_since``: while alerts are still pouring in (the caller saw a journal backlog), an incident
    diagnosed after this time is not diagnosed again yet. In a storm every batch grows the incidents,
    and re-diagnosing each after every batch spent the CPU that intake and ingestion needed, for a
    diagnosis the next batch made stale again; a first diagnosis is never held back.

    On PostgreSQL several processes diagnose (workers in distributed mode): each incident taken is
    held by a transaction-scoped advisory lock, tried without waiting, so another process skips it
    instead of diagnosing it too; the staleness test is repeated once the lock is held, because a
    diagnosis committed in between makes the incident current. An advisory lock, not a row lock:
    the pipeline keeps updating the incident's row while it is being diagnosed."""
    claim = session.get_bind().dialect.name == "postgresql"
    out = []
    for inc in session.scalars(select(IncidentRow).where(IncidentRow.status != "resolved")
                               .order_by(IncidentRow.id.desc()).limit(50)):
        if not _stale(session, inc, settle_since):
            continue
        key = (DIAGNOSIS_LOCK_KEY << 32) | (inc.id & 0xFFFFFFFF)
        if claim and not (session.scalar(text("SELECT pg_try_advisory_xact_lock(CAST(:key AS bigint))"),
                                         {"key": key}) and _stale(session, inc, settle_since)):
            continue
        out.append(inc)
        if len(out) >= limit:
            break
    return out


#: first half of the advisory lock key a diagnosing transaction holds per incident (any constant: "diag")
DIAGNOSIS_LOCK_KEY = 0x64696167


def _stale(session: Session, inc: IncidentRow, settle_since: datetime | None = None) -> bool:
    last = latest(session, inc.id, "deterministic")
    if last is None:
        return True
    if settle_since is not None and last.created_at > settle_since:
        return False
    return inc.last_alert_at > last.created_at
