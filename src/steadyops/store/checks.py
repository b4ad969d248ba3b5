"""Check result history, for trends (time-to-full) and "what changed since last time"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from steadyops.store import Store
from steadyops.store.tables import CheckResultRow


def recent_metrics(store: Store, check: str, target: str, since: datetime,
                   limit: int) -> list[tuple[datetime, dict[str, Any]]]:
    """(started_at, metrics) of one check on one target since ``since``, newest first."""
    stmt = (select(CheckResultRow.started_at, CheckResultRow.metrics)
            .where(CheckResultRow.check == check, CheckResultRow.target == target,
                   CheckResultRow.started_at >= since)
            .order_by(CheckResultRow.started_at.desc()).limit(limit))
    with store.transaction() as session:
        return [(at, dict(metrics or {})) for at, metrics in session.execute(stmt)]
