"""Incidents and their timelines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steadyops.core.errors import Conflict, NotFound
from steadyops.core.models import Incident, IncidentStatus, Severity
from steadyops.store import incident_targets
from steadyops.store.alerts import row_to_alert
from steadyops.store.tables import AlertRow, IncidentEventRow, IncidentRow


def add_event(session: Session, incident_id: int, at: datetime, kind: str, detail: str = "",
              actor: str = "system") -> None:
    session.add(IncidentEventRow(incident_id=incident_id, at=at, kind=kind, actor=actor, detail=detail))


def get_row(session: Session, incident_id: int) -> IncidentRow:
    row = session.get(IncidentRow, incident_id)
    if row is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return row


def to_model(session: Session, row: IncidentRow, *, with_alerts: bool = False,
             targets: Sequence[str] | None = None) -> Incident:
    """The domain incident; its counts are the row's (kept by store/counts.py), so a list never
    counts alerts. ``with_alerts`` also loads every alert (a detail view, not a list). ``targets``:
    the incident's, when the caller read them for many incidents at once (:func:`to_models`)."""
    alerts = list(session.scalars(select(AlertRow).where(AlertRow.incident_id == row.id))) if with_alerts else []
    if targets is None:
        targets = incident_targets.of(session, row.id)
    return Incident(
        id=row.id,
        title=row.title,
        status=IncidentStatus(row.status),
        severity=Severity(row.severity),
        labels=dict(row.labels),
        group_keys=list(row.group_keys),
        targets=list(targets),
        target_count=max(row.target_count or 0, len(targets)),
        first_alert_at=row.first_alert_at,
        opened_at=row.opened_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        alert_count=row.alert_count,
        firing_count=row.firing_count,
        last_ok_at=row.last_ok_at,
        located_at=row.located_at,
        remedied_at=row.remedied_at,
        alerts=[row_to_alert(a) for a in alerts] if with_alerts else [],
    )


#: targets a listed incident carries (``target_count`` has them all; the detail view lists every one)
LIST_TARGETS = 20


def to_models(session: Session, rows: Sequence[IncidentRow]) -> list[Incident]:
    """:func:`to_model` for a page of incidents, their first :data:`LIST_TARGETS` targets read in one select
    instead of one each: a page of a storm's incidents carried every host of each (hundreds of kB)."""
    targets = incident_targets.by_incident(session, [r.id for r in rows], first=LIST_TARGETS)
    return [to_model(session, r, targets=targets[r.id]) for r in rows]


def list_rows(session: Session, *, status: str | None = None, limit: int = 100,
              before: int | None = None) -> list[IncidentRow]:
    """Newest first; ``before`` (the last id of the previous page) continues a keyset-paginated list."""
    stmt = select(IncidentRow).order_by(IncidentRow.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(IncidentRow.status == status)
    if before is not None:
        stmt = stmt.where(IncidentRow.id < before)
    return list(session.scalars(stmt))


def open_rows_since(session: Session, since: datetime) -> list[IncidentRow]:
    stmt = select(IncidentRow).where(
        IncidentRow.status != IncidentStatus.RESOLVED.value, IncidentRow.last_alert_at >= since
    )
    return list(session.scalars(stmt))


def acknowledge(session: Session, incident_id: int, who: str, at: datetime, comment: str = "") -> IncidentRow:
    row = get_row(session, incident_id)
    if row.status == IncidentStatus.RESOLVED.value:
        raise Conflict(f"incident {incident_id} is already resolved")
    if row.status == IncidentStatus.ACKNOWLEDGED.value:
        return row
    row.status = IncidentStatus.ACKNOWLEDGED.value
    row.acknowledged_at = at
    row.acknowledged_by = who
    add_event(session, row.id, at, "acknowledged", comment, actor=who)
    return row


def resolve(session: Session, incident_id: int, who: str, at: datetime, comment: str = "") -> IncidentRow:
    row = get_row(session, incident_id)
    if row.status == IncidentStatus.RESOLVED.value:
        return row
    row.status = IncidentStatus.RESOLVED.value
    row.resolved_at = at
    row.resolved_by = who
    add_event(session, row.id, at, "resolved", comment, actor=who)
    return row


def events(session: Session, incident_id: int) -> list[IncidentEventRow]:
    get_row(session, incident_id)
    stmt = select(IncidentEventRow).where(IncidentEventRow.incident_id == incident_id).order_by(IncidentEventRow.id)
    return list(session.scalars(stmt))


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(IncidentRow.status, func.count()).group_by(IncidentRow.status)).all()
    return {str(status): int(n) for status, n in rows}


def mark_remedied(session: Session, target: str, at: datetime, what: str) -> None:
    """A remedy applied and verified on ``target``: every open incident that names it was remedied."""
    ids = incident_targets.holding(session, [target], open_only=True).get(target, set())
    if not ids:
        return
    stmt = select(IncidentRow).where(IncidentRow.id.in_(sorted(ids))).order_by(IncidentRow.id)
    for incident in session.scalars(stmt):
        if incident.remedied_at is None:
            incident.remedied_at = at
        add_event(session, incident.id, at, "remedied", what)


def recently_auto_resolved(session: Session, since: datetime) -> list[IncidentRow]:
    """Incidents that resolved by themselves after ``since``: a fault that flaps back reopens one."""
    stmt = select(IncidentRow).where(IncidentRow.status == IncidentStatus.RESOLVED.value,
                                     IncidentRow.resolved_by == "auto", IncidentRow.resolved_at >= since)
    return list(session.scalars(stmt.order_by(IncidentRow.id.desc())))


def reopen(session: Session, row: IncidentRow, at: datetime, why: str) -> None:
    row.status = IncidentStatus.OPEN.value
    row.resolved_at = None
    row.resolved_by = None
    add_event(session, row.id, at, "reopened", why)

