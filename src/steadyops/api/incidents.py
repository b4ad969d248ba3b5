"""Incidents: list, show (alerts, timeline, detection/response times), acknowledge, resolve.

Acknowledge and resolve are idempotent for the same target state (acknowledging twice is not an
error, so a double-click or a retried request is harmless) but refuse to go backwards: resolving
is final, and acknowledging a resolved incident answers 409 rather than silently reopening it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy.orm import Session

from steadyops.api.deps import get_app
from steadyops.api.params import MAX_ID, NEXT_CURSOR, PAGED, IncidentCursor
from steadyops.app import App
from steadyops.auth import Principal, Responder, Viewer
from steadyops.core.models import Incident, IncidentStatus, Severity
from steadyops.pipeline import diagnose, timings
from steadyops.store import alerts as alerts_repo
from steadyops.store import incidents as incidents_repo
from steadyops.store import silences as silences_repo

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

IncidentId = Annotated[int, Path(ge=1, le=MAX_ID, description="Incident number, as `steadyops incidents list` shows.")]


class IncidentSummary(BaseModel):
    """One incident as lists show it; the timing fields are in seconds."""

    id: int
    title: str
    status: IncidentStatus
    severity: Severity
    labels: dict[str, str] = Field(description="Labels every alert of the incident shares.")
    targets: list[str] = Field(description=(
        "Inventory targets (or raw instance values) involved, in the order they joined: in a list the first 20, "
        "in an incident's own view all of them."))
    target_count: int = Field(default=0, description="How many targets the incident has.")
    group_keys: list[str]
    first_alert_at: datetime = Field(description="startsAt of the earliest alert.")
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    alert_count: int
    firing_count: int
    last_ok_at: datetime | None = Field(default=None, description=(
        "Last healthy observation of the failing check: the fault began after it (null for external alerts)."))
    located_at: datetime | None = Field(default=None, description=(
        "When a conclusive diagnosis first named the root finding it still names."))
    remedied_at: datetime | None = Field(default=None, description="When a remedy was applied and verified.")
    mttd_seconds: float = Field(description=(
        "Time to detect: onset (last healthy observation, else the first alert's startsAt) → incident opened."))
    mttl_seconds: float | None = Field(default=None, description="Time to locate: onset → located; null if not.")
    mtta_seconds: float | None = Field(description="Time to acknowledge: opened → acknowledged; null if not.")
    mttr_seconds: float | None = Field(
        description="Time to recover: onset → resolved; null if not.")
    goals: dict[str, Any] = Field(default_factory=dict, description=(
        "detect / locate / recover against 1-5-10 (≤ 60 s, ≤ 300 s, ≤ 600 s): seconds, goal, met."))

    @classmethod
    def of(cls, inc: Incident) -> IncidentSummary:
        return cls(
            id=inc.id, title=inc.title, status=inc.status, severity=inc.severity, labels=inc.labels,
            targets=inc.targets, target_count=inc.target_count, group_keys=inc.group_keys,
            first_alert_at=inc.first_alert_at,
            opened_at=inc.opened_at, acknowledged_at=inc.acknowledged_at, acknowledged_by=inc.acknowledged_by,
            resolved_at=inc.resolved_at, resolved_by=inc.resolved_by, alert_count=inc.alert_count,
            firing_count=inc.firing_count, mttd_seconds=inc.mttd_seconds, mtta_seconds=inc.mtta_seconds,
            mttr_seconds=inc.mttr_seconds, last_ok_at=inc.last_ok_at, located_at=inc.located_at,
            remedied_at=inc.remedied_at, mttl_seconds=inc.mttl_seconds,
            goals=timings.timings(inc.onset_at, inc.opened_at, inc.located_at, inc.resolved_at),
        )


class IncidentAlert(BaseModel):
    fingerprint: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    muted_by: list[str] = Field(description="Silences (`silence:<id>`) or inhibitions muting it now.")


class TimelineEvent(BaseModel):
    at: datetime
    kind: str = Field(description="opened, alert_joined, acknowledged, resolved, …")
    actor: str
    detail: str


class DiagnosisOut(BaseModel):
    """A diagnosis as stored: deterministic always; an LLM explanation beside it when one is configured."""

    mode: str
    created_at: datetime
    summary: str
    confidence: float
    inconclusive: bool
    candidates: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    runbooks: list[dict[str, Any]]
    actions: list[dict[str, Any]] = Field(description="proposed remedies; never executed by diagnosis")


class IncidentDetail(IncidentSummary):
    alerts: list[IncidentAlert]
    timeline: list[TimelineEvent]
    diagnoses: list[DiagnosisOut] = Field(default_factory=list)


class IncidentAction(BaseModel):
    """Why: it lands on the incident's timeline with the authenticated actor (never a name from the body)."""

    comment: str = Field(default="", max_length=10_000)


def incident_detail(session: Session, incident_id: int, now: datetime) -> IncidentDetail:
    row = incidents_repo.get_row(session, incident_id)
    summary = IncidentSummary.of(incidents_repo.to_model(session, row))
    rows = alerts_repo.list_alerts(session, incident_id=incident_id, limit=5000)
    muted = silences_repo.current_reasons(session, [a.muted_by for a in rows], now)
    alerts = [
        IncidentAlert(fingerprint=a.fingerprint, status=a.status, labels=a.labels, annotations=a.annotations,
                      starts_at=a.starts_at, ends_at=a.ends_at, muted_by=m)
        for a, m in zip(rows, muted, strict=True)
    ]
    timeline = [TimelineEvent(at=e.at, kind=e.kind, actor=e.actor, detail=e.detail)
                for e in incidents_repo.events(session, incident_id)]
    diagnoses = [DiagnosisOut(mode=d.mode, created_at=d.created_at, summary=d.summary, confidence=d.confidence,
                              inconclusive=d.inconclusive, candidates=d.candidates, evidence=d.evidence,
                              runbooks=d.runbooks, actions=d.actions)
                 for mode in ("deterministic", "llm") if (d := diagnose.latest(session, incident_id, mode))]
    return IncidentDetail(**summary.model_dump(), alerts=alerts, timeline=timeline, diagnoses=diagnoses)


#: one serialiser for a whole page: the list is validated once (when each summary is built) and
#: dumped straight to JSON, instead of FastAPI copying, re-validating and encoding it again per row
SUMMARIES: TypeAdapter[list[IncidentSummary]] = TypeAdapter(list[IncidentSummary])


@router.get("", response_model=list[IncidentSummary], summary="List incidents, newest first", responses=PAGED)
def list_incidents(
    me: Viewer,
    app: Annotated[App, Depends(get_app)],
    status: Annotated[IncidentStatus | None, Query(description="Only incidents in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: IncidentCursor = None,
) -> Response:
    """One page (keyset: ``?cursor=`` from the previous page's ``X-Next-Cursor``): one index range over the
    incidents, alert counts read from each row (kept as alerts change), never counted per call."""
    with app.store.transaction() as session:
        rows = incidents_repo.list_rows(session, status=status.value if status else None, limit=limit, before=cursor)
        summaries = [IncidentSummary.of(inc) for inc in incidents_repo.to_models(session, rows)]
    headers = {NEXT_CURSOR: str(rows[-1].id)} if len(rows) == limit else None
    return Response(SUMMARIES.dump_json(summaries), media_type="application/json", headers=headers)


@router.get("/{incident_id}", response_model=IncidentDetail, summary="One incident with alerts and timeline",
            responses={404: {"description": "No such incident"}})
def show_incident(incident_id: IncidentId, me: Viewer, app: Annotated[App, Depends(get_app)]) -> IncidentDetail:
    with app.store.transaction() as session:
        return incident_detail(session, incident_id, app.clock.now())


Verb = Literal["ack", "resolve", "comment"]
_AUDIT_KIND = {"ack": "incident_acknowledged", "resolve": "incident_resolved", "comment": "incident_comment"}


def act_on_incident(app: App, session: Session, me: Principal, incident_id: int, verb: Verb, comment: str = "") -> bool:
    """Acknowledge, resolve or comment as ``me`` — the one path for the API, the console and signed links.

    The timeline names the authenticated actor; the tamper-evident audit log names the actor and the
    credential, in the same transaction. A repeated acknowledge or resolve changes nothing and is not
    audited again (returns False); a blank comment is ignored."""
    now = app.clock.now()
    before = incidents_repo.get_row(session, incident_id).status
    if verb == "ack":
        changed = incidents_repo.acknowledge(session, incident_id, me.name, now, comment).status != before
    elif verb == "resolve":
        changed = incidents_repo.resolve(session, incident_id, me.name, now, comment).status != before
    else:
        comment = comment.strip()
        changed = bool(comment)
        if changed:
            incidents_repo.add_event(session, incident_id, now, "comment", comment, actor=me.name)
    if changed:
        app.audit.append_by(session, me, at=now, kind=_AUDIT_KIND[verb], subject=f"incident {incident_id}",
                            payload={"comment": comment} if comment else {})
    return changed


@router.post("/{incident_id}/ack", response_model=IncidentDetail, summary="Acknowledge (someone is on it)",
             responses={404: {"description": "No such incident"}, 409: {"description": "Already resolved"}})
def acknowledge_incident(incident_id: IncidentId, body: IncidentAction, me: Responder,
                         app: Annotated[App, Depends(get_app)]) -> IncidentDetail:
    """Acknowledging again is a no-op that keeps the first acknowledger (MTTA must not move)."""
    with app.store.transaction() as session:
        act_on_incident(app, session, me, incident_id, "ack", body.comment)
        session.flush()
        return incident_detail(session, incident_id, app.clock.now())


@router.post("/{incident_id}/resolve", response_model=IncidentDetail, summary="Resolve by hand",
             responses={404: {"description": "No such incident"}})
def resolve_incident(incident_id: IncidentId, body: IncidentAction, me: Responder,
                     app: Annotated[App, Depends(get_app)]) -> IncidentDetail:
    """Resolving by hand closes the incident even if alerts still fire: a new firing episode of
    those alerts then opens a fresh incident instead of reviving a closed one."""
    with app.store.transaction() as session:
        act_on_incident(app, session, me, incident_id, "resolve", body.comment)
        session.flush()
        return incident_detail(session, incident_id, app.clock.now())
