"""日报 / 周报 / 月报: the operating rhythm of one period, from the store (and Prometheus for SLOs).

What a team reviews every day, week or month:

* incidents with their timings against 1-5-10 (detect ≤ 1 min, locate ≤ 5, recover ≤ 10), using
  the same definitions as the incident API (``pipeline.timings``: onset = last healthy
  observation or first alert);
* SLO status and budget burn (when SLOs and Prometheus are configured);
* changes, and the incidents whose diagnosis named them (change failure rate);
* the noisiest alerts and the noise-reduction ratio (alert events in / notification decisions out);
* inspection findings by status, against the previous period of the same length (the trend);
* actions taken (remediation runs by status).

Periods are calendar periods in the report's time zone: a day from 00:00, an ISO week from Monday
00:00, a month from the 1st. By default the last *complete* period before ``now``.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steadyops.operations.changes import repo as changes_repo
from steadyops.pipeline import timings
from steadyops.store import incident_targets
from steadyops.store.tables import (
    ActionRunRow,
    AlertEventRow,
    CheckResultRow,
    DiagnosisRow,
    IncidentRow,
    InspectionRunRow,
    NotificationRow,
)

Period = Literal["daily", "weekly", "monthly"]
PERIODS: tuple[str, ...] = ("daily", "weekly", "monthly")
SPANS = ("detect", "locate", "recover")


class IncidentLine(BaseModel):
    id: int
    title: str
    severity: str
    status: str
    opened_at: datetime
    targets: list[str]
    timings: dict[str, Any] = Field(description="detect/locate/recover: seconds, goal, met")
    acknowledge_seconds: float | None
    changes: list[str] = Field(default_factory=list, description="ids of changes its diagnosis named")


class SpanStats(BaseModel):
    mean_seconds: float | None
    goal_seconds: float
    met: int
    measured: int


class ChangeLine(BaseModel):
    id: str
    title: str
    when: datetime
    targets: list[str]
    author: str
    status: str
    incidents: list[int]


class NoisyAlert(BaseModel):
    alertname: str
    events: int


class PeriodReport(BaseModel):
    period: str
    start: datetime
    end: datetime
    timezone: str
    generated_at: datetime
    incidents: list[IncidentLine]
    incidents_by_severity: dict[str, int]
    incidents_per_day: list[tuple[str, int]]
    mttx: dict[str, SpanStats]
    mtta_seconds: float | None
    slos: list[dict[str, Any]] = Field(default_factory=list)
    slo_error: str = ""
    changes: list[ChangeLine]
    change_failure_rate: float | None
    alerts_received: int
    notifications_out: int
    noise_reduction_ratio: float
    noisy_alerts: list[NoisyAlert]
    inspections: int
    findings: dict[str, int]
    findings_previous: dict[str, int]
    top_failing_checks: list[tuple[str, int]]
    actions: dict[str, int]
    action_lines: list[dict[str, Any]]


def period_bounds(period: Period | str, now: datetime, zone: ZoneInfo, day: date | None = None
                  ) -> tuple[datetime, datetime]:
    """``[start, end)`` of the period containing ``day``, or of the last complete one before ``now``."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; use daily, weekly or monthly")
    local = now.astimezone(zone).date()
    if day is None:
        day = {"daily": local - timedelta(days=1), "weekly": local - timedelta(days=7),
               "monthly": (local.replace(day=1) - timedelta(days=1))}[period]
    if period == "daily":
        first, last = day, day + timedelta(days=1)
    elif period == "weekly":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
    return (datetime.combine(first, datetime.min.time(), zone), datetime.combine(last, datetime.min.time(), zone))


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _incident_changes(session: Session, ids: list[int]) -> dict[int, list[str]]:
    """Changes each incident's latest diagnosis named (evidence ``kind: change``)."""
    out: dict[int, list[str]] = {}
    if not ids:
        return out
    rows = session.scalars(select(DiagnosisRow).where(DiagnosisRow.incident_id.in_(ids))
                           .order_by(DiagnosisRow.id))
    for d in rows:  # later diagnoses replace earlier ones
        out[d.incident_id] = [str(e["change_id"]) for e in d.evidence
                              if e.get("kind") == "change" and e.get("change_id")]
    return out


def _findings(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    rows = session.execute(select(CheckResultRow.status, func.count()).where(
        CheckResultRow.started_at >= start, CheckResultRow.started_at < end).group_by(CheckResultRow.status))
    return {str(s): int(n) for s, n in rows}


def build(session: Session, period: Period | str, start: datetime, end: datetime, now: datetime, zone: ZoneInfo,
          slos: list[dict[str, Any]] | None = None, slo_error: str = "") -> PeriodReport:
    incidents = list(session.scalars(select(IncidentRow).where(IncidentRow.opened_at >= start,
                                                               IncidentRow.opened_at < end)
                                     .order_by(IncidentRow.opened_at)))
    named = _incident_changes(session, [i.id for i in incidents])
    targets = incident_targets.by_incident(session, [i.id for i in incidents])
    lines: list[IncidentLine] = []
    for inc in incidents:
        onset = min(inc.last_ok_at, inc.first_alert_at) if inc.last_ok_at else inc.first_alert_at
        spans = timings.timings(onset, inc.opened_at, inc.located_at, inc.resolved_at)
        lines.append(IncidentLine(id=inc.id, title=inc.title, severity=inc.severity, status=inc.status,
                                  opened_at=inc.opened_at, targets=targets[inc.id], timings=spans,
                                  acknowledge_seconds=timings.seconds(inc.opened_at, inc.acknowledged_at),
                                  changes=named.get(inc.id, [])))
    mttx = {}
    for span in SPANS:
        values = [float(line.timings[span]["seconds"]) for line in lines if line.timings[span]["seconds"] is not None]
        mttx[span] = SpanStats(mean_seconds=_mean(values), goal_seconds=timings.GOALS[span],
                               met=sum(1 for line in lines if line.timings[span]["met"]), measured=len(values))
    acks = [line.acknowledge_seconds for line in lines if line.acknowledge_seconds is not None]
    per_day: Counter[str] = Counter(i.opened_at.astimezone(zone).date().isoformat() for i in incidents)
    days = []
    d = start.astimezone(zone).date()
    while d < end.astimezone(zone).date():
        days.append((d.isoformat(), per_day.get(d.isoformat(), 0)))
        d += timedelta(days=1)

    changes = [c for c in changes_repo.list_changes(session, since=start, until=end, limit=1000)
               if start <= c.when < end]
    caused = {cid: [line.id for line in lines if cid in line.changes] for cid in (c.id for c in changes)}
    change_lines = [ChangeLine(id=c.id, title=c.title, when=c.when, targets=c.targets or [c.service],
                               author=c.author, status=c.status.value, incidents=caused[c.id])
                    for c in sorted(changes, key=lambda c: c.when)]

    received = int(session.scalar(select(func.count()).select_from(AlertEventRow).where(
        AlertEventRow.received_at >= start, AlertEventRow.received_at < end)) or 0)
    decisions = int(session.scalar(select(func.count()).select_from(NotificationRow).where(
        NotificationRow.created_at >= start, NotificationRow.created_at < end, NotificationRow.channel <= 0,
        ~NotificationRow.group_key.like("escalation:%"), ~NotificationRow.group_key.like("report:%"))) or 0)
    names: Counter[str] = Counter()
    for (labels,) in session.execute(select(AlertEventRow.labels).where(
            AlertEventRow.received_at >= start, AlertEventRow.received_at < end, AlertEventRow.status == "firing")):
        names[str((labels or {}).get("alertname", "?"))] += 1

    length = end - start
    failing: Counter[str] = Counter()
    for check, target in session.execute(select(CheckResultRow.check, CheckResultRow.target).where(
            CheckResultRow.started_at >= start, CheckResultRow.started_at < end, CheckResultRow.status != "ok")):
        failing[f"{check}@{target}"] += 1
    runs = int(session.scalar(select(func.count()).select_from(InspectionRunRow).where(
        InspectionRunRow.started_at >= start, InspectionRunRow.started_at < end)) or 0)

    actions = list(session.scalars(select(ActionRunRow).where(ActionRunRow.created_at >= start,
                                                              ActionRunRow.created_at < end)
                                   .order_by(ActionRunRow.created_at)))
    return PeriodReport(
        period=period, start=start, end=end, timezone=str(zone), generated_at=now, incidents=lines,
        incidents_by_severity=dict(Counter(i.severity for i in incidents)), incidents_per_day=days,
        mttx=mttx, mtta_seconds=_mean([float(a) for a in acks]), slos=slos or [], slo_error=slo_error,
        changes=change_lines,
        change_failure_rate=round(sum(1 for c in change_lines if c.incidents) / len(change_lines), 4)
        if change_lines else None,
        alerts_received=received, notifications_out=decisions,
        noise_reduction_ratio=round(received / max(decisions, 1), 3),
        noisy_alerts=[NoisyAlert(alertname=n, events=c) for n, c in names.most_common(5)],
        inspections=runs, findings=_findings(session, start, end),
        findings_previous=_findings(session, start - length, start),
        top_failing_checks=failing.most_common(5),
        actions=dict(Counter(a.status for a in actions)),
        action_lines=[{"id": a.id, "action": a.action, "target": a.target, "status": a.status,
                       "requested_by": a.requested_by, "created_at": a.created_at.isoformat()} for a in actions],
    )
