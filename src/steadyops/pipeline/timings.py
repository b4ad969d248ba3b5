"""Truthful incident timings: when the fault began, was detected, located, remedied and recovered.

Why these definitions:

- **Onset.** A check sees a fault only when it runs, so the fault began somewhere after the last
  healthy observation of the failing check. Time to detect is measured from that observation (an
  upper bound, never the flattering zero that "first failing observation → opened" gives, which
  leaves out the wait until the check ran). External alerts have no such observation; their
  ``startsAt`` is the onset, as in Alertmanager.
- **Located.** The first time a conclusive diagnosis named the root finding it still names: a
  diagnosis that changes its mind restarts the clock, so time to locate is not credited to a guess.
- **Remedied.** A remedy applied and verified on one of the incident's targets
  (``store.incidents.mark_remedied``, called by the executor).
- **Recovered.** The incident resolved (every alert stopped firing, or a person said so).

The goal is Alibaba's 1-5-10: detect within 1 minute, locate within 5, recover within 10.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steadyops.core.models import CheckStatus
from steadyops.pipeline.advice import LAYER_ORDER
from steadyops.store import incidents as incidents_repo
from steadyops.store.alert_states import AlertState
from steadyops.store.tables import AlertRow, CheckResultRow, DiagnosisRow, IncidentRow

#: 1-5-10, in seconds: detect ≤ 1 min, locate ≤ 5 min, recover ≤ 10 min
GOALS: dict[str, float] = {"detect": 60.0, "locate": 300.0, "recover": 600.0}

_STATUS_ORDER = {CheckStatus.CRITICAL.value: 0, CheckStatus.WARNING.value: 1, CheckStatus.UNKNOWN.value: 2}


def last_healthy(session: Session, check: str, target: str, before: datetime) -> datetime | None:
    """When ``check`` last answered OK on ``target`` before ``before`` (the fault began after it)."""
    row = session.scalars(
        select(CheckResultRow).where(CheckResultRow.check == check, CheckResultRow.target == target,
                                     CheckResultRow.status == CheckStatus.OK.value,
                                     CheckResultRow.started_at < before)
        .order_by(CheckResultRow.started_at.desc()).limit(1)).first()
    return row.started_at if row is not None else None


def note_onset(session: Session, incident: IncidentRow, alert: AlertRow | AlertState) -> None:
    """On opening: remember the last healthy observation behind a check's alert."""
    if alert.source != "check":
        return
    check, target = alert.labels.get("alertname", ""), alert.labels.get("target", "")
    if check and target:
        seen = last_healthy(session, check, target, alert.starts_at)
        if seen is not None and (incident.last_ok_at is None or seen < incident.last_ok_at):
            incident.last_ok_at = seen


def _layer_rank(layer: str) -> int:
    return LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER)


def root_finding(diagnosis: DiagnosisRow) -> tuple[str, str] | None:
    """(check or alert name, target) of the most probable root, or None when the diagnosis cannot tell."""
    if diagnosis.inconclusive or not diagnosis.candidates:
        return None
    top = str(diagnosis.candidates[0].get("target", ""))
    found = [e for e in diagnosis.evidence if e.get("target") == top and e.get("kind") == "check"
             and e.get("status") in _STATUS_ORDER and not str(e.get("summary", "")).startswith("blocked by ")]
    if found:  # the most severe finding, and among equals the lowest layer: it explains the others
        best = min(found, key=lambda e: (_STATUS_ORDER[str(e["status"])], _layer_rank(str(e.get("layer", ""))),
                                         str(e.get("detail", ""))))
        return str(best.get("detail", "")), top
    alerts = [e for e in diagnosis.evidence if e.get("target") == top and e.get("kind") == "alert"]
    return (str(alerts[0].get("detail", "")), top) if alerts else ("", top)


def note_diagnosis(session: Session, incident: IncidentRow, diagnosis: DiagnosisRow, now: datetime) -> None:
    """Name the incident after its most probable root finding; start the locate clock when it changes."""
    root = root_finding(diagnosis)
    if root is None:
        return
    check, target = root
    title = f"{check} @ {target}" if check else target
    if title != incident.title:
        incidents_repo.add_event(session, incident.id, now, "retitled", title)
        incident.title = title
        incident.located_at = now
    elif incident.located_at is None:
        incident.located_at = now


def seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max(0.0, (end - start).total_seconds()), 3)


def timings(onset: datetime, opened: datetime, located: datetime | None,
            resolved: datetime | None) -> dict[str, Any]:
    """The three spans against 1-5-10: ``{"detect": {"seconds": 4.2, "goal": 60, "met": True}, …}``."""
    spans = {"detect": seconds(onset, opened), "locate": seconds(onset, located), "recover": seconds(onset, resolved)}
    return {name: {"seconds": value, "goal": GOALS[name], "met": None if value is None else value <= GOALS[name]}
            for name, value in spans.items()}
