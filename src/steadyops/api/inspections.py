"""Inspections over HTTP: run one now, list runs, read a run's findings, its report, and result history.

The same scope resolution, report model and renderers as ``steadyops inspect`` sit behind these
endpoints, so a report fetched from the API and one written by the CLI for the same run are the
same document. Running is synchronous (the answer carries the findings): inspections are bounded
by the runner's timeouts and concurrency limits, and a caller that wants it in the background
already has the scheduled runner.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from steadyops.api.deps import get_app
from steadyops.api.params import RunId
from steadyops.app import App
from steadyops.auth import Principal, Responder, Viewer
from steadyops.core.models import Finding
from steadyops.reports import MEDIA_TYPES, load_report, recent_runs, render, resolve_scope, result_history
from steadyops.reports.history import ResultOut, RunSummary, get_run, run_findings

router = APIRouter(prefix="/api/v1", tags=["inspections"])


class InspectIn(BaseModel):
    kinds: list[str] = Field(default_factory=list, examples=[["redis"]], description="empty: every kind")
    targets: list[str] = Field(default_factory=list, description="names or addresses; empty or 'all': every target")
    checks: list[str] = Field(default_factory=list, description="check names; empty: every check of those kinds")
    trigger: str = Field(default="api", min_length=1, max_length=32)


class InspectionOut(BaseModel):
    run: RunSummary
    findings: list[Finding]


def audit_inspection(app: App, me: Principal, run_id: int, scope: dict[str, Any], findings: int) -> None:
    """An on-demand run probes real systems and can raise alerts, so who ran it is audited (API and console)."""
    app.audit.record_by(me, at=app.clock.now(), kind="inspection_run", subject=f"inspection {run_id}",
                        payload={"scope": scope, "findings": findings})


def _worst_first(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.status.rank, f.target, f.check))


@router.post("/inspections", response_model=InspectionOut, status_code=201,
             summary="Run an inspection now and return its findings")
async def run_inspection(me: Responder, body: InspectIn, app: Annotated[App, Depends(get_app)]) -> InspectionOut:
    scope, jobs = resolve_scope(app.checks, kinds=body.kinds, targets=body.targets, checks=body.checks)
    run_id, findings = await app.checks.inspect(jobs, trigger=body.trigger, scope=scope.as_dict())
    await run_in_threadpool(audit_inspection, app, me, run_id, scope.as_dict(), len(findings))
    return InspectionOut(run=get_run(app.store, run_id), findings=_worst_first(findings))


@router.get("/inspections", response_model=list[RunSummary], summary="Recent inspection runs, newest first")
def list_inspections(me: Viewer, app: Annotated[App, Depends(get_app)], limit: Annotated[int, Query(ge=1, le=500)] = 50,
                     trigger: str | None = None) -> list[RunSummary]:
    return recent_runs(app.store, limit=limit, trigger=trigger)


@router.get("/inspections/{run_id}", response_model=InspectionOut, summary="One run with its findings")
def show_inspection(me: Viewer, run_id: RunId, app: Annotated[App, Depends(get_app)]) -> InspectionOut:
    run = get_run(app.store, run_id)
    return InspectionOut(run=run, findings=_worst_first(run_findings(app.store, run_id)))


@router.get("/inspections/{run_id}/report", summary="The run's report: Markdown, self-contained HTML, or JSON",
            responses={200: {"content": {"text/markdown": {}, "text/html": {}, "application/json": {}}}})
def inspection_report(me: Viewer, run_id: RunId, app: Annotated[App, Depends(get_app)],
                      fmt: Annotated[Literal["md", "html", "json"], Query(alias="format")] = "html",
                      lang: Literal["zh", "en"] | None = None) -> Response:
    report = load_report(app.store, run_id, inventory=app.inventory, sections=app.registry.sections())
    body = render(report, fmt, lang or app.settings.lang)
    return Response(content=body, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'inline; filename="inspection-{run_id}.{fmt}"'})


@router.get("/checks/history", response_model=list[ResultOut], summary="Stored results of a check and/or target")
def check_history(me: Viewer, app: Annotated[App, Depends(get_app)], check: str | None = None,
                  target: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[ResultOut]:
    name = (app.inventory.resolve(target) or target) if target else None
    return result_history(app.store, check=check, target=name, limit=limit)
