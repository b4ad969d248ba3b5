"""On-call: who is on call now (or at a time), the shifts ahead, escalations of an incident, and the
signed acknowledgement link sent in escalation notifications.

The ack link is the one route here that carries its own credential (the HMAC in the query): the
person holding the notification may not have a token at hand at 3 a.m. Opening it (GET) only shows
a confirmation page; POST acknowledges.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from markupsafe import escape
from pydantic import BaseModel
from sqlalchemy import select

from steadyops.api.deps import get_app
from steadyops.api.incidents import act_on_incident
from steadyops.api.params import IdQuery
from steadyops.app import App
from steadyops.auth import Principal, Public, Role, Viewer
from steadyops.core.errors import NotFound, ValidationFailed
from steadyops.core.i18n import normalise, t
from steadyops.operations.oncall.ack import load_key, verify
from steadyops.operations.oncall.schedule import Shift, on_call, timeline
from steadyops.store import incidents as incidents_repo
from steadyops.store.operations import EscalationRow

router = APIRouter(prefix="/api/v1/oncall", tags=["oncall"])


class ShiftOut(BaseModel):
    schedule: str
    user: str
    layer: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, s: Shift) -> ShiftOut:
        return cls(schedule=s.schedule, user=s.user, layer=s.layer, start=s.start, end=s.end)


class EscalationOut(BaseModel):
    incident_id: int
    policy: str
    level: int
    notified_at: datetime
    on_call: list[str]
    receivers: list[str]


def _aware(at: datetime | None, app: App) -> datetime:
    if at is None:
        return app.clock.now()
    if at.tzinfo is None:
        raise ValidationFailed("give the time with a zone (e.g. 2026-01-01T09:00:00+08:00)")
    return at


@router.get("", response_model=list[ShiftOut], summary="Who is on call, per schedule (now, or at ?at=)")
def who(me: Viewer, app: Annotated[App, Depends(get_app)], at: datetime | None = None) -> list[ShiftOut]:
    when = _aware(at, app)
    return [ShiftOut.of(s) for s in (on_call(sch, when) for sch in app.settings.oncall.schedules) if s is not None]


@router.get("/schedules/{name}/shifts", response_model=list[ShiftOut], summary="A schedule's shifts ahead")
def shifts(me: Viewer, name: str, app: Annotated[App, Depends(get_app)], start: datetime | None = None,
           days: Annotated[int, Query(ge=1, le=90)] = 14) -> list[ShiftOut]:
    schedule = next((s for s in app.settings.oncall.schedules if s.name == name), None)
    if schedule is None:
        raise NotFound(f"no schedule {name!r}")
    begin = _aware(start, app)
    return [ShiftOut.of(s) for s in timeline(schedule, begin, begin + timedelta(days=days))]


@router.get("/escalations", response_model=list[EscalationOut], summary="Escalation levels reached by an incident")
def escalations(me: Viewer, app: Annotated[App, Depends(get_app)], incident_id: IdQuery) -> list[EscalationOut]:
    with app.store.transaction() as session:
        rows = session.scalars(select(EscalationRow).where(EscalationRow.incident_id == incident_id)
                               .order_by(EscalationRow.level))
        return [EscalationOut(incident_id=r.incident_id, policy=r.policy, level=r.level, notified_at=r.notified_at,
                              on_call=list(r.on_call), receivers=list(r.receivers)) for r in rows]


AckQuery = Annotated[int, Query(ge=1, alias="incident")]


# Public on purpose: the HMAC-signed, expiring link (sent to that one person) is the credential.
@router.get("/ack", response_class=HTMLResponse, summary="Confirmation page behind a signed ack link")
def ack_page(_: Public, app: Annotated[App, Depends(get_app)], incident: AckQuery,
             user: Annotated[str, Query(max_length=200)], exp: int,
             sig: Annotated[str, Query(max_length=128)]) -> HTMLResponse:
    verify(load_key(app.settings.data_dir), incident, user, exp, sig, app.clock.now())
    lang = normalise(app.settings.lang)
    question = escape(t("oncall.ack_page", lang, id=incident, user=user))
    action = escape(f"?incident={incident}&user={user}&exp={exp}&sig={sig}")
    return HTMLResponse(f'<!doctype html><meta charset="utf-8"><title>steadyops</title><p>{question}</p>'
                        f'<form method="post" action="{action}"><button>{escape(t("oncall.ack_button", lang))}'
                        "</button></form>")


@router.post("/ack", response_class=HTMLResponse, summary="Acknowledge through a signed link")
def ack(_: Public, app: Annotated[App, Depends(get_app)], incident: AckQuery,
        user: Annotated[str, Query(max_length=200)], exp: int,
        sig: Annotated[str, Query(max_length=128)]) -> HTMLResponse:
    now = app.clock.now()
    verify(load_key(app.settings.data_dir), incident, user, exp, sig, now)
    # the link is the credential: the audit entry names the person it was sent to and which link (its expiry)
    holder = Principal(id=0, name=user, kind="link", role=Role.RESPONDER, credential=f"ack-link:exp={exp}")
    with app.store.transaction() as session:
        act_on_incident(app, session, holder, incident, "ack", "via signed link")
        who_acked = incidents_repo.get_row(session, incident).acknowledged_by or user
    return HTMLResponse(f'<!doctype html><meta charset="utf-8"><p>'
                        f'{escape(t("oncall.acked", normalise(app.settings.lang), id=incident, user=who_acked))}</p>')
