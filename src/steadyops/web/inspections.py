"""Inspections (巡检) in the console: schedule status per target and check, "run now", the report
history, and a report shown inline (the same self-contained HTML the CLI writes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select

from steadyops.api.inspections import audit_inspection
from steadyops.auth import Principal
from steadyops.reports import load_report, recent_runs, resolve_scope
from steadyops.reports import render as render_report
from steadyops.reports.history import get_run, previous_run
from steadyops.store.tables import CheckResultRow
from steadyops.web.render import render
from steadyops.web.session import app_of, checked_form, lang_of, responder, viewer

router = APIRouter(include_in_schema=False)


def schedule(request: Request) -> list[dict[str, Any]]:
    """One row per (target, check) of the inventory: last run, its state, and when it is next due."""
    app = app_of(request)
    jobs = app.checks.jobs()
    with app.store.transaction() as s:
        latest_ids = select(func.max(CheckResultRow.id)).group_by(CheckResultRow.check, CheckResultRow.target)
        found = s.scalars(select(CheckResultRow).where(CheckResultRow.id.in_(latest_ids)))
        last = {(r.target, r.check): r for r in found}
        s.expunge_all()
    rows = []
    for job in jobs:
        r = last.get((job.target.name, job.check.name))
        interval = float(getattr(job.check, "interval", 60.0))
        rows.append({"target": job.target.name, "kind": job.target.kind, "check": job.check.name,
                     "status": r.status if r else "", "summary": r.summary if r else "",
                     "last": r.started_at if r else None, "interval": interval,
                     "next": (r.started_at + timedelta(seconds=interval)) if r else None})
    order = {"critical": 0, "warning": 1, "unknown": 2, "ok": 3, "": 4}
    return sorted(rows, key=lambda x: (order.get(x["status"], 5), x["target"], x["check"]))


@router.get("/inspections", response_class=HTMLResponse)
def inspections_page(request: Request, me: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    app = app_of(request)
    return render(request, "inspections.html.j2", lang=lang_of(request), rows=schedule(request),
                  runs=recent_runs(app.store, limit=30), now=app.clock.now(),
                  targets=sorted(app.inventory.targets))


@router.post("/inspections/run", dependencies=[Depends(checked_form)])
async def run_now(request: Request, me: Annotated[Principal, Depends(responder)],
                  target: Annotated[str, Form(max_length=256)] = "") -> RedirectResponse:
    app = app_of(request)
    scope, jobs = resolve_scope(app.checks, targets=[target] if target else [])
    run_id, findings = await app.checks.inspect(jobs, trigger="console", scope=scope.as_dict())
    await run_in_threadpool(audit_inspection, app, me, run_id, scope.as_dict(), len(findings))
    return RedirectResponse(f"/inspections/{run_id}", status_code=303)


@router.get("/inspections/{run_id:int}", response_class=HTMLResponse)
def run_page(request: Request, run_id: int, me: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    app = app_of(request)
    lang = lang_of(request)
    run = get_run(app.store, run_id)
    report = load_report(app.store, run_id, inventory=app.inventory, sections=app.registry.sections())
    body = render_report(report, "html", lang)
    return render(request, "inspection.html.j2", lang=lang, run=run, report_html=body,
                  previous=previous_run(app.store, run))
