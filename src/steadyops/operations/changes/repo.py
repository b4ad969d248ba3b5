"""Changes in the store: idempotent upsert by the sender's key, listing, and "what changed near here"."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from steadyops.core.errors import NotFound, ValidationFailed
from steadyops.operations.changes.model import ChangeIn, ChangeOut
from steadyops.store.operations import ChangeRow

_FIELDS = ("title", "kind", "description", "service", "targets", "environment", "author", "status", "started_at",
           "finished_at", "planned_start", "planned_end", "ticket", "rollback_plan", "url", "revision",
           "approved_by")


def to_model(row: ChangeRow) -> ChangeOut:
    return ChangeOut.model_validate({**{f: getattr(row, f) for f in _FIELDS}, "id": row.id, "source": row.source,
                                     "external_id": row.external_id, "received_at": row.received_at,
                                     "updated_at": row.updated_at, "silences": list(row.silences or [])})


def _external_id(change: ChangeIn) -> str:
    """The sender's id, or (without one) a digest of what/where/when so an identical replay is one row."""
    if change.id:
        return change.id
    key = "|".join([change.title, change.service, ",".join(change.targets),
                    change.started_at.isoformat() if change.started_at else "",
                    change.planned_start.isoformat() if change.planned_start else ""])
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def upsert(session: Session, source: str, change: ChangeIn, now: datetime) -> tuple[ChangeOut, bool]:
    """Insert, or update the row with the same ``(source, external_id)``; ``(change, changed?)``.

    A later webhook for the same pipeline keeps what the earlier one knew (a start time, a ticket)
    unless it says something new, so "running" then "success" ends with both times.
    """
    external = _external_id(change)
    row = session.scalars(select(ChangeRow).where(ChangeRow.source == source,
                                                  ChangeRow.external_id == external)).first()
    values = change.model_dump(mode="python", exclude={"id"})
    values["kind"] = change.kind.value
    values["status"] = change.status.value
    if row is None:
        if values["started_at"] is None and change.status.value not in ("planned", "approved"):
            finished = values.get("finished_at")  # it cannot have started after it finished
            values["started_at"] = min(now, finished) if finished is not None else now
        row = ChangeRow(id=str(uuid.uuid4()), source=source, external_id=external, received_at=now, updated_at=now,
                        silences=[], **values)
        session.add(row)
        session.flush()
        return to_model(row), True
    changed = False
    for field, value in values.items():
        if value in (None, "", []) and getattr(row, field) not in (None, "", []):
            continue  # keep what an earlier delivery told us
        if getattr(row, field) != value:
            setattr(row, field, value)
            changed = True
    if row.started_at and row.finished_at and row.finished_at < row.started_at:
        raise ValidationFailed(f"finished_at {row.finished_at.isoformat()} is before the started_at "
                               f"{row.started_at.isoformat()} an earlier delivery gave")
    if changed:
        row.updated_at = now
    return to_model(row), changed


def get(session: Session, change_id: str) -> ChangeOut:
    row = session.get(ChangeRow, change_id)
    if row is None:
        raise NotFound(f"change {change_id} does not exist")
    return to_model(row)


def list_changes(session: Session, *, since: datetime | None = None, until: datetime | None = None,
                 limit: int = 200) -> list[ChangeOut]:
    """Newest first by when they began (planned ones by their planned start)."""
    stmt = select(ChangeRow)
    if since is not None:
        stmt = stmt.where(or_(ChangeRow.started_at >= since, ChangeRow.planned_start >= since,
                              ChangeRow.received_at >= since))
    if until is not None:
        stmt = stmt.where(or_(ChangeRow.started_at <= until, ChangeRow.planned_start <= until))
    rows = list(session.scalars(stmt.order_by(ChangeRow.received_at.desc()).limit(limit)))
    return sorted((to_model(r) for r in rows), key=lambda c: c.when, reverse=True)


def set_silences(session: Session, change_id: str, silence_ids: list[str]) -> None:
    row = session.get(ChangeRow, change_id)
    if row is not None:
        row.silences = list(silence_ids)
