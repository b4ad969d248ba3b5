"""Incident pages: the filtered list (live over SSE), one incident, acknowledge / resolve / comment.

The list reads only what a row shows — incident columns, alert counts included (kept on the
row as alerts change) — so it stays cheap with thousands of incidents; the detail page reuses the API's own
assembly (``api.incidents``) so the page and ``GET /api/v1/incidents/{id}`` can never disagree.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from steadyops.api.incidents import IncidentDetail, act_on_incident, incident_detail
from steadyops.auth import Principal
from steadyops.store import incident_targets
from steadyops.store import incidents as incidents_repo
from steadyops.store.tables import IncidentRow
from steadyops.web.charts import sparkline
from steadyops.web.render import render
from steadyops.web.session import app_of, checked_form, lang_of, responder, viewer

router = APIRouter(include_in_schema=False)

#: the 1-5-10 goal: detect within 1 minute, locate within 5, recover within 10
GOALS = {"detect": 60.0, "locate": 300.0, "recover": 600.0}
SEVERITIES = ("critical", "warning", "info")
STATUSES = ("open", "acknowledged", "resolved")


def list_incidents(request: Request, *, status: str | None, severity: str | None, service: str | None,
                   since_hours: float | None, limit: int = 100) -> list[dict[str, Any]]:
    app = app_of(request)
    stmt = select(IncidentRow).order_by(IncidentRow.id.desc())
    if status in STATUSES:
        stmt = stmt.where(IncidentRow.status == status)
    elif status == "active":
        stmt = stmt.where(IncidentRow.status != "resolved")
    if severity in SEVERITIES:
        stmt = stmt.where(IncidentRow.severity == severity)
    if since_hours:
        stmt = stmt.where(IncidentRow.opened_at >= app.clock.now() - timedelta(hours=since_hours))
    wanted = (service or "").strip()
    with app.store.transaction() as s:
        rows = list(s.scalars(stmt.limit(limit * 10 if wanted else limit)))
        if wanted:
            naming = incident_targets.holding(s, [wanted], among=[r.id for r in rows]).get(wanted, set())
            rows = [r for r in rows if r.id in naming or wanted in (r.labels or {}).values()][:limit]
        targets = incident_targets.by_incident(s, [r.id for r in rows], first=incidents_repo.LIST_TARGETS)
        return [{"id": r.id, "title": r.title, "status": r.status, "severity": r.severity,
                 "targets": targets[r.id], "target_count": max(r.target_count or 0, len(targets[r.id])),
                 "opened_at": r.opened_at, "last_alert_at": r.last_alert_at,
                 "alerts": r.alert_count, "firing": r.firing_count} for r in rows]


def _filters(status: str | None, severity: str | None, service: str | None, since: str | None) -> dict[str, Any]:
    hours: float | None = None
    try:
        hours = float(since) if since else None
    except ValueError:
        hours = None
    return {"status": status or "", "severity": severity or "", "service": service or "", "since": since or "",
            "since_hours": hours}


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, me: Annotated[Principal, Depends(viewer)],
                   status: Annotated[str | None, Query()] = "active", severity: str | None = None,
                   service: str | None = None, since: str | None = None) -> HTMLResponse:
    f = _filters(status, severity, service, since)
    rows = list_incidents(request, status=f["status"], severity=f["severity"], service=f["service"],
                          since_hours=f["since_hours"])
    return render(request, "incidents.html.j2", lang=lang_of(request), rows=rows, f=f,
                  severities=SEVERITIES, statuses=STATUSES)


@router.get("/incidents/rows", response_class=HTMLResponse)
def incident_rows(request: Request, me: Annotated[Principal, Depends(viewer)], status: str | None = "active",
                  severity: str | None = None, service: str | None = None,
                  since: str | None = None) -> HTMLResponse:
    """The table body alone: what the live update swaps in when the SSE stream says "changed"."""
    f = _filters(status, severity, service, since)
    rows = list_incidents(request, status=f["status"], severity=f["severity"], service=f["service"],
                          since_hours=f["since_hours"])
    return render(request, "incident_rows.html.j2", lang=lang_of(request), rows=rows)


def _goal(seconds: float | None, goal: float) -> dict[str, Any]:
    return {"seconds": seconds, "goal": goal, "met": None if seconds is None else seconds <= goal}


def timings(detail: IncidentDetail) -> dict[str, dict[str, Any]]:
    """MTTD / MTTL / MTTR against 1-5-10; MTTL is read when the store records a locate time."""
    locate = getattr(detail, "mttl_seconds", None)
    if locate is None and detail.diagnoses:
        first = min(d.created_at for d in detail.diagnoses)
        if not any(d.inconclusive for d in detail.diagnoses):
            locate = max(0.0, (first - detail.first_alert_at).total_seconds())
    return {"detect": _goal(detail.mttd_seconds, GOALS["detect"]),
            "locate": _goal(locate, GOALS["locate"]),
            "recover": _goal(detail.mttr_seconds, GOALS["recover"])}


def _evidence_charts(detail: IncidentDetail) -> list[dict[str, Any]]:
    charts = []
    for d in detail.diagnoses:
        for e in d.evidence:
            series = e.get("series") or e.get("values")
            if isinstance(series, list) and len(series) >= 2 and all(isinstance(v, int | float) for v in series[:50]):
                charts.append({"title": str(e.get("metric") or e.get("check") or e.get("kind") or ""),
                               "svg": sparkline([float(v) for v in series[-120:]])})
    return charts[:6]


@router.get("/incidents/{incident_id:int}", response_class=HTMLResponse)
def incident_page(request: Request, incident_id: int, me: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    app = app_of(request)
    with app.store.transaction() as s:
        detail = incident_detail(s, incident_id, app.clock.now())
    return render(request, "incident.html.j2", lang=lang_of(request), inc=detail, timings=timings(detail),
                  charts=_evidence_charts(detail), catalog=set(app.registry.actions.names()))


@router.post("/incidents/{incident_id:int}/{verb}", dependencies=[Depends(checked_form)])
def incident_act(request: Request, incident_id: int, verb: Literal["ack", "resolve", "comment"],
                 me: Annotated[Principal, Depends(responder)],
                 comment: Annotated[str, Form(max_length=10_000)] = "") -> RedirectResponse:
    app = app_of(request)
    with app.store.transaction() as s:
        act_on_incident(app, s, me, incident_id, verb, comment)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
