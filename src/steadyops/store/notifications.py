"""The notification log (outbox rows): counts for the noise ratio, and recent rows for operators."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steadyops.store.tables import NotificationRow


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(NotificationRow.status, func.count()).group_by(NotificationRow.status))
    return {str(s): int(n) for s, n in rows}


def count_decisions(session: Session) -> int:
    """Distinct notification decisions (one per group flush that notified), whatever the channels.

    A flush writes one row per channel, numbered from 0, or one row numbered -1 when the receiver
    has no channels; counting rows with ``channel <= 0`` therefore counts each decision once.
    """
    stmt = select(func.count()).select_from(NotificationRow).where(NotificationRow.channel <= 0)
    return int(session.scalar(stmt) or 0)


def recent(session: Session, *, status: str | None = None, incident_id: int | None = None,
           limit: int = 100) -> list[NotificationRow]:
    stmt = select(NotificationRow).order_by(NotificationRow.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(NotificationRow.status == status)
    if incident_id is not None:
        stmt = stmt.where(NotificationRow.incident_id == incident_id)
    return list(session.scalars(stmt))
