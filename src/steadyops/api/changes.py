"""Changes (变更): intake from CI/CD webhooks or plain JSON, listing, and risk assessment.

Intake is idempotent per sender key (a re-delivered hook changes nothing; a later status of the
same pipeline updates it). An approved change with a planned end silences its targets while it
runs (see ``changes.maintenance``). ``?target=`` on a hook URL names the inventory targets the
change touches when the CI payload cannot (GitLab, Jenkins and Argo CD know projects, jobs and
applications, not hosts).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from steadyops.api.alerts import read_limited, require_json
from steadyops.api.deps import get_app
from steadyops.app import App
from steadyops.auth import Ingest, Principal, Viewer
from steadyops.core.errors import NotFound
from steadyops.core.i18n import normalise
from steadyops.operations.changes import repo
from steadyops.operations.changes.maintenance import apply_window
from steadyops.operations.changes.model import ChangeIn, ChangeOut
from steadyops.operations.changes.risk import assess
from steadyops.operations.changes.webhooks import (
    Parser,
    loads,
    parse_argocd,
    parse_generic,
    parse_gitlab,
    parse_jenkins,
)
from steadyops.store import silences as silences_repo

router = APIRouter(prefix="/api/v1/changes", tags=["changes"])

Targets = Annotated[list[str] | None, Query(alias="target", max_length=100,
                                            description="inventory targets the change touches (repeatable)")]


class IntakeOut(BaseModel):
    change: ChangeOut
    stored: bool = Field(description="false when this delivery repeated what was known")
    silences: list[str] = Field(description="maintenance silences for the change")


class FactorOut(BaseModel):
    name: str
    points: int
    explanation: str
    detail: dict[str, Any]


class AssessmentOut(BaseModel):
    score: int = Field(description="0-100, the sum of the factors' points (capped)")
    level: str = Field(description="low, medium, high, or blocked (inside a freeze)")
    factors: list[FactorOut]
    missing_fields: list[str]
    assessed_at: datetime


def _body(model: type[BaseModel] | None, what: str) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema() if model else {"type": "object", "description": what}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": {"415": {"description": "Content-Type is not application/json (nothing stored)"}}}


def _muting(session: Session, silence_id: str, now: datetime) -> bool:
    try:
        return silences_repo.get(session, silence_id).ends_at > now
    except NotFound:
        return False


def _store(app: App, me: Principal, source: str, change: ChangeIn) -> IntakeOut:
    now = app.clock.now()
    with app.store.transaction() as session:
        stored, changed = repo.upsert(session, source, change, now)
        muting = [sid for sid in stored.silences if _muting(session, sid, now)]
        silences = apply_window(session, stored, app.inventory, now) if app.settings.changes.maintenance_silences \
            else []
        created = [sid for sid in silences if sid not in stored.silences]
        ended = muting if stored.status.finished else []
        if created or ended:  # a change that mutes (or unmutes) alerts set a silence: audited as one
            app.audit.append_by(session, me, at=now, kind="maintenance_silences", subject=f"change {stored.id}",
                                payload={"created": created, "expired": ended, "status": stored.status.value,
                                         "source": source})
        stored = repo.get(session, stored.id)
    if silences:
        app.pipeline.wake()
    return IntakeOut(change=stored, stored=changed, silences=silences)


async def _intake(request: Request, app: App, me: Principal, source: str, parse: Parser,
                  targets: list[str] | None) -> IntakeOut:
    require_json(request)  # as alert intake: a web page cannot post a form or text/plain change cross-site
    raw = await read_limited(request, app.settings.intake)
    change = parse(loads(raw), list(targets or []))
    return await run_in_threadpool(_store, app, me, source, change)


@router.post("", response_model=IntakeOut, status_code=201, summary="Record a change (generic JSON)",
             openapi_extra=_body(ChangeIn, ""))
async def generic(me: Ingest, request: Request, app: Annotated[App, Depends(get_app)],
                  target: Targets = None) -> IntakeOut:
    return await _intake(request, app, me, "generic", parse_generic, target)


@router.post("/gitlab", response_model=IntakeOut, status_code=201, summary="GitLab Pipeline / Deployment hook",
             openapi_extra=_body(None, "GitLab webhook body (object_kind pipeline or deployment)"))
async def gitlab(me: Ingest, request: Request, app: Annotated[App, Depends(get_app)],
                 target: Targets = None) -> IntakeOut:
    return await _intake(request, app, me, "gitlab", parse_gitlab, target)


@router.post("/jenkins", response_model=IntakeOut, status_code=201, summary="Jenkins Notification plugin",
             openapi_extra=_body(None, "Notification plugin JSON (name, build{number, phase, status, …})"))
async def jenkins(me: Ingest, request: Request, app: Annotated[App, Depends(get_app)],
                  target: Targets = None) -> IntakeOut:
    return await _intake(request, app, me, "jenkins", functools.partial(parse_jenkins, now=app.clock.now()), target)


@router.post("/argocd", response_model=IntakeOut, status_code=201, summary="Argo CD notifications webhook",
             openapi_extra=_body(None, 'Body template {"app": {{toJson .app}}}'))
async def argocd(me: Ingest, request: Request, app: Annotated[App, Depends(get_app)],
                 target: Targets = None) -> IntakeOut:
    return await _intake(request, app, me, "argocd", parse_argocd, target)


@router.get("", response_model=list[ChangeOut], summary="Changes, newest first")
def list_changes(me: Viewer, app: Annotated[App, Depends(get_app)], since: datetime | None = None,
                 until: datetime | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[ChangeOut]:
    with app.store.transaction() as session:
        return repo.list_changes(session, since=since, until=until, limit=limit)


@router.post("/assess", response_model=AssessmentOut, summary="Risk of a proposed change, each factor explained")
def assess_change(me: Viewer, body: ChangeIn, app: Annotated[App, Depends(get_app)],
                  lang: Annotated[str, Query(pattern="^(zh|en)")] = "") -> AssessmentOut:
    with app.store.transaction() as session:
        result = assess(session, body, app.inventory, app.settings.changes, app.clock.now(),
                        normalise(lang or app.settings.lang))
    return AssessmentOut.model_validate(result.to_dict())


@router.get("/{change_id}", response_model=ChangeOut, summary="One change")
def get_change(me: Viewer, change_id: Annotated[str, Path(min_length=1, max_length=36)],
               app: Annotated[App, Depends(get_app)]) -> ChangeOut:
    with app.store.transaction() as session:
        return repo.get(session, change_id)
