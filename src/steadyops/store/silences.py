"""Silences: create, update (expire-and-replace semantics are the caller's choice), expire, list."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from steadyops.core.errors import NotFound, ValidationFailed
from steadyops.core.models import Matcher, Silence
from steadyops.store.tables import SilenceRow


def to_model(row: SilenceRow) -> Silence:
    return Silence(
        id=row.id,
        matchers=[Matcher.model_validate(m) for m in row.matchers],
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_by=row.created_by,
        comment=row.comment,
        created_at=row.created_at,
    )


def _check(s: Silence) -> None:
    if s.ends_at <= s.starts_at:
        raise ValidationFailed("silence ends_at must be after starts_at")


def create(session: Session, silence: Silence, now: datetime) -> Silence:
    _check(silence)
    row = SilenceRow(
        id=silence.id or str(uuid.uuid4()),
        matchers=[m.model_dump(mode="json") for m in silence.matchers],
        starts_at=silence.starts_at,
        ends_at=silence.ends_at,
        created_by=silence.created_by,
        comment=silence.comment,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return to_model(row)


def get(session: Session, silence_id: str) -> Silence:
    row = session.get(SilenceRow, silence_id)
    if row is None:
        raise NotFound(f"silence {silence_id} does not exist")
    return to_model(row)


def update(session: Session, silence_id: str, silence: Silence, now: datetime) -> Silence:
    _check(silence)
    row = session.get(SilenceRow, silence_id)
    if row is None:
        raise NotFound(f"silence {silence_id} does not exist")
    row.matchers = [m.model_dump(mode="json") for m in silence.matchers]
    row.starts_at = silence.starts_at
    row.ends_at = silence.ends_at
    row.created_by = silence.created_by
    row.comment = silence.comment
    row.updated_at = now
    return to_model(row)


def expire(session: Session, silence_id: str, now: datetime) -> Silence:
    """Expiring keeps the record (who silenced what, and when) instead of deleting it."""
    row = session.get(SilenceRow, silence_id)
    if row is None:
        raise NotFound(f"silence {silence_id} does not exist")
    if row.ends_at > now:
        row.ends_at = max(now, row.starts_at)
        row.updated_at = now
    return to_model(row)


def list_all(session: Session, *, active_at: datetime | None = None) -> list[Silence]:
    stmt = select(SilenceRow).order_by(SilenceRow.created_at.desc())
    if active_at is not None:
        stmt = stmt.where(SilenceRow.starts_at <= active_at, SilenceRow.ends_at > active_at)
    return [to_model(r) for r in session.scalars(stmt)]


def current_reasons(session: Session, reasons_per_row: Sequence[Sequence[str]], now: datetime) -> list[list[str]]:
    """Each row's stored ``muted_by`` as of ``now``: a silence that has ended since no longer mutes.

    ``muted_by`` is re-evaluated when a group flushes (every ``group_interval``), so between flushes
    a silence that expired would still be shown as muting; reads filter it out here, with one query.
    """
    wanted = {r.removeprefix("silence:") for reasons in reasons_per_row for r in reasons if r.startswith("silence:")}
    active: set[str] = set()
    if wanted:
        active = set(session.scalars(select(SilenceRow.id).where(SilenceRow.id.in_(wanted), SilenceRow.starts_at <= now,
                                                                 SilenceRow.ends_at > now)))
    return [[r for r in reasons if not r.startswith("silence:") or r.removeprefix("silence:") in active]
            for reasons in reasons_per_row]
