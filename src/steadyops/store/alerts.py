"""Alert journal (persist-first intake) and the current state of each alert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, literal, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from steadyops.core.models import Alert, AlertStatus
from steadyops.store import JOURNAL_CURSOR
from steadyops.store.tables import AlertEventRow, AlertRow, CursorRow, UTCDateTime

JOURNAL_CURSOR_NAME = "journal"

JOURNAL: Table = AlertEventRow.__table__  # type: ignore[assignment]


def insert_events(session: Session, alerts: Sequence[Alert], received_at: datetime) -> int:
    """Journal alerts; a re-delivery (same fingerprint, status, startsAt) is silently ignored.

    Returns how many were new. One statement per chunk keeps a 100k-alert stream fast on SQLite.
    """
    if not alerts:
        return 0
    rows: list[dict[str, Any]] = [
        {
            "fingerprint": a.fingerprint,
            "status": a.status.value,
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "labels": a.labels,
            "annotations": a.annotations,
            "generator_url": a.generator_url,
            "source": a.source,
            "received_at": received_at,
            "processed": False,
        }
        for a in _unique(alerts)
    ]
    journal = session.connection(bind_arguments={"mapper": AlertEventRow.__mapper__})  # may be its own file
    insert = postgresql.insert if journal.dialect.name == "postgresql" else sqlite.insert
    # One compiled statement, executed for many parameter sets: SQLAlchemy batches it into
    # multi-row INSERTs ("insertmanyvalues") and caches the compilation, which a fresh
    # multi-VALUES statement per request could not. RETURNING (not rowcount) counts what was new,
    # because drivers disagree on rowcount for ON CONFLICT DO NOTHING.
    stmt = (
        insert(JOURNAL)
        .on_conflict_do_nothing(index_elements=["fingerprint", "status", "starts_at"])
        .returning(JOURNAL.c.id)
    )
    result = journal.execute(stmt, rows)
    inserted = len(result.all())
    return inserted


def _unique(alerts: Sequence[Alert]) -> list[Alert]:
    """Drop repeats inside one request (one multi-row INSERT cannot conflict with itself)."""
    seen: dict[tuple[str, str, datetime], Alert] = {}
    for a in alerts:
        seen.setdefault(a.dedup_key, a)
    return list(seen.values())


def _cursor(session: Session, *, create: bool = False) -> CursorRow | None:
    """The pipeline's read position when the journal is a separate file (see store.Store); else None."""
    if not session.info.get(JOURNAL_CURSOR):
        return None
    row = session.get(CursorRow, JOURNAL_CURSOR_NAME)
    if row is None:
        row = CursorRow(name=JOURNAL_CURSOR_NAME, last_id=0)
        if create:
            session.add(row)
    return row


def pending_events(session: Session, limit: int) -> list[AlertEventRow]:
    """The oldest unprocessed journal rows, in arrival order."""
    cursor = _cursor(session)
    stmt = select(AlertEventRow).order_by(AlertEventRow.id).limit(limit)
    if cursor is not None:
        stmt = stmt.where(AlertEventRow.id > cursor.last_id)
    else:
        stmt = stmt.where(AlertEventRow.processed.is_(False))
    return list(session.scalars(stmt))


def mark_processed(session: Session, ids: Sequence[int]) -> None:
    """Record progress in the same transaction as the pipeline's effects."""
    if not ids:
        return
    cursor = _cursor(session, create=True)
    if cursor is not None:
        cursor.last_id = max(cursor.last_id, *ids)
    else:
        session.execute(update(AlertEventRow).where(AlertEventRow.id.in_(ids)).values(processed=True))


def row_to_alert(row: AlertEventRow | AlertRow) -> Alert:
    """A journal row or a current-state row as the domain Alert (both carry the same columns)."""
    return Alert(
        labels=dict(row.labels),
        annotations=dict(row.annotations),
        status=AlertStatus(row.status),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        generator_url=row.generator_url,
        source=row.source,
        fingerprint=row.fingerprint,
    )



def get_alert(session: Session, fp: str) -> AlertRow | None:
    return session.get(AlertRow, fp)


def get_alerts(session: Session, fps: Sequence[str]) -> list[AlertRow]:
    if not fps:
        return []
    return list(session.scalars(select(AlertRow).where(AlertRow.fingerprint.in_(list(fps)))))


def firing_alerts(session: Session) -> list[AlertRow]:
    return list(session.scalars(select(AlertRow).where(AlertRow.status == AlertStatus.FIRING.value)))


def list_alerts(
    session: Session, *, status: str | None = None, incident_id: int | None = None, limit: int = 500,
    after: tuple[datetime, str] | None = None,
) -> list[AlertRow]:
    """Most recently updated first, ties by fingerprint; ``after`` = the (updated_at, fingerprint) of the last
    row of the previous page (keyset pagination: each page is an index range, however deep)."""
    stmt = select(AlertRow).order_by(AlertRow.updated_at.desc(), AlertRow.fingerprint.desc()).limit(limit)
    if status:
        stmt = stmt.where(AlertRow.status == status)
    if incident_id is not None:
        stmt = stmt.where(AlertRow.incident_id == incident_id)
    if after is not None:
        stmt = stmt.where(tuple_(AlertRow.updated_at, AlertRow.fingerprint) < tuple_(
            literal(after[0], UTCDateTime()), literal(after[1])))
    return list(session.scalars(stmt))


def count_events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AlertEventRow)) or 0)


def count_pending(session: Session) -> int:
    cursor = _cursor(session)
    stmt = select(func.count()).select_from(AlertEventRow)
    if cursor is not None:
        stmt = stmt.where(AlertEventRow.id > cursor.last_id)
    else:
        stmt = stmt.where(AlertEventRow.processed.is_(False))
    return int(session.scalar(stmt) or 0)
