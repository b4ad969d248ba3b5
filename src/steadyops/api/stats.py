"""Platform statistics and the notification log.

The headline number is the noise reduction ratio, because it is what convergence is for: how many
alerts came in for every notification a human had to read. The MTT* means are computed from the
same definitions as :class:`steadyops.core.models.Incident` so the list and the dashboard agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from steadyops.api.deps import get_app
from steadyops.api.params import OptionalIdQuery
from steadyops.app import App
from steadyops.auth import Viewer
from steadyops.core.models import IncidentStatus
from steadyops.pipeline import timings
from steadyops.store import alerts as alerts_repo
from steadyops.store import incidents as incidents_repo
from steadyops.store import notifications as notifications_repo
from steadyops.store.tables import IncidentRow

router = APIRouter(prefix="/api/v1", tags=["stats"])

_RATIO_DOC = (
    "alerts_received / max(notifications_out, 1): alerts taken in (every journalled delivery, "
    "re-deliveries excluded) per notification decision sent to people (one per group flush that "
    "notified, however many channels it fanned out to). 1.0 means no reduction; higher is better."
)


class Stats(BaseModel):
    alerts_received: int = Field(description="Alert events journalled (distinct fingerprint, status, start).")
    notifications_out: int = Field(description="Notification decisions (group flushes that notified).")
    noise_reduction_ratio: float = Field(description=_RATIO_DOC)
    incidents: dict[str, int] = Field(description="Incidents by status (every status present, zero if none).")
    pending_journal: int = Field(description="Journalled alert events the pipeline has not processed yet.")
    notifications: dict[str, int] = Field(description="Channel deliveries by status: pending, sent, failed.")
    mttd_seconds: float | None = Field(description="Mean time to detect over all incidents; null if none.")
    mtta_seconds: float | None = Field(description="Mean time to acknowledge over acknowledged incidents.")
    mttr_seconds: float | None = Field(description="Mean time to recover over resolved incidents.")
    mttl_seconds: float | None = Field(default=None, description="Mean time to locate over located incidents.")
    goals: dict[str, Any] = Field(default_factory=dict, description=(
        "1-5-10 over all incidents: per span the goal in seconds and how many incidents met it / were measured."))


class NotificationOut(BaseModel):
    id: int
    group_key: str
    incident_id: int | None
    receiver: str
    channel_type: str = Field(description='Notifier type, or "log" when the receiver has no channels.')
    status: str = Field(description="pending, sent or failed")
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else max(0.0, (end - start).total_seconds())


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


@router.get("/stats", response_model=Stats, summary="Alert, incident and notification statistics",
            description=f"`noise_reduction_ratio` = {_RATIO_DOC}")
def stats(me: Viewer, app: Annotated[App, Depends(get_app)]) -> Stats:
    with app.store.transaction() as session:
        received = alerts_repo.count_events(session)
        pending = alerts_repo.count_pending(session)
        by_status = {s.value: 0 for s in IncidentStatus} | incidents_repo.count_by_status(session)
        # Only the four timestamps: the means must not load every incident's alerts.
        times = session.execute(select(IncidentRow.first_alert_at, IncidentRow.opened_at,
                                       IncidentRow.acknowledged_at, IncidentRow.resolved_at)).all()
        spans = [_spans(*r) for r in session.execute(select(
            IncidentRow.first_alert_at, IncidentRow.last_ok_at, IncidentRow.opened_at, IncidentRow.located_at,
            IncidentRow.resolved_at)).all()]
        decisions = notifications_repo.count_decisions(session)
        delivery = notifications_repo.count_by_status(session)
    return Stats(
        alerts_received=received,
        notifications_out=decisions,
        noise_reduction_ratio=received / max(decisions, 1),
        incidents=by_status,
        pending_journal=pending,
        notifications=delivery,
        mttd_seconds=_mean(s["detect"]["seconds"] for s in spans),
        mtta_seconds=_mean(_seconds(opened, acked) for _, opened, acked, _ in times),
        mttr_seconds=_mean(s["recover"]["seconds"] for s in spans),
        mttl_seconds=_mean(s["locate"]["seconds"] for s in spans),
        goals={name: {"goal_seconds": goal,
                      "met": sum(1 for s in spans if s[name]["met"]),
                      "measured": sum(1 for s in spans if s[name]["seconds"] is not None)}
               for name, goal in timings.GOALS.items()},
    )


def _spans(first: datetime, last_ok: datetime | None, opened: datetime, located: datetime | None,
           resolved: datetime | None) -> dict[str, Any]:
    """The same onset as :attr:`steadyops.core.models.Incident.onset_at`, so the list and the dashboard agree."""
    onset = min(last_ok, first) if last_ok else first
    return timings.timings(onset, opened, located, resolved)


@router.get("/notifications", response_model=list[NotificationOut], tags=["notifications"],
            summary="Recent notifications, newest first")
def notifications(
    me: Viewer,
    app: Annotated[App, Depends(get_app)],
    status: Annotated[str | None, Query(pattern="^(pending|sent|failed)$")] = None,
    incident_id: OptionalIdQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationOut]:
    """The rendered payload is left out: it carries up to 100 alerts each, which would make a
    log listing heavy; the incident view is the place to read the alerts themselves."""
    with app.store.transaction() as session:
        return [
            NotificationOut(id=r.id, group_key=r.group_key, incident_id=r.incident_id, receiver=r.receiver,
                            channel_type=r.channel_type, status=r.status, attempts=r.attempts,
                            last_error=r.last_error, created_at=r.created_at, sent_at=r.sent_at)
            for r in notifications_repo.recent(session, status=status, incident_id=incident_id, limit=limit)
        ]
