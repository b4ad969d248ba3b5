"""Alert intake. Persist first, answer fast: the pipeline picks the journal up asynchronously."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, TypeAdapter

from steadyops.api.deps import get_app
from steadyops.api.params import NEXT_CURSOR, PAGED, AlertCursor, OptionalIdQuery, alert_cursor, parse_alert_cursor
from steadyops.app import App
from steadyops.auth import Ingest, Viewer
from steadyops.config.settings import IntakeConfig
from steadyops.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from steadyops.core.models import Alert
from steadyops.pipeline.intake import AlertmanagerWebhook, GenericAlerts, parse_alertmanager, parse_generic
from steadyops.store import alerts as alerts_repo
from steadyops.store import silences as silences_repo

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


class IntakeResult(BaseModel):
    received: int
    new: int
    duplicates: int


class AlertOut(BaseModel):
    fingerprint: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    muted_by: list[str]
    incident_id: int | None


async def read_limited(request: Request, limits: IntakeConfig) -> bytes:
    """Read the body but stop at the limit, so a huge upload costs us no memory."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise PayloadTooLarge(f"body is {declared} bytes; the limit is {limits.max_body_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise PayloadTooLarge(f"body exceeds the limit of {limits.max_body_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _persist(app: App, alerts: list[Alert]) -> IntakeResult:
    with app.store.transaction() as session:
        new = alerts_repo.insert_events(session, alerts, app.clock.now())
    app.pipeline.wake()
    return IntakeResult(received=len(alerts), new=new, duplicates=len(alerts) - new)


Parser = Callable[[bytes, IntakeConfig, datetime], list[Alert]]


def require_json(request: Request) -> None:
    """JSON only: a browser cannot send ``application/json`` cross-site without a CORS preflight,
    so a web page cannot post forged alerts as a form or ``text/plain``."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise UnsupportedMediaType(f"Content-Type must be application/json, not {media or 'missing'!r}")


async def _intake(request: Request, app: App, parse: Parser) -> IntakeResult:
    require_json(request)
    raw = await read_limited(request, app.settings.intake)
    alerts = parse(raw, app.settings.intake, app.clock.now())
    return await run_in_threadpool(_persist, app, alerts)


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The body is read raw (to enforce the size limit first), so its schema is declared by hand."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}},
            "responses": {"415": {"description": "Content-Type is not application/json (nothing stored)"}}}


@router.post(
    "/alertmanager",
    response_model=IntakeResult,
    summary="Alertmanager webhook (version 4)",
    openapi_extra=_body_schema(AlertmanagerWebhook),
)
async def alertmanager_webhook(request: Request, me: Ingest, app: Annotated[App, Depends(get_app)]) -> IntakeResult:
    """Point an Alertmanager ``webhook_configs`` receiver here. 4xx: bad body, nothing stored;
    503: transient storage failure, Alertmanager will retry."""
    return await _intake(request, app, parse_alertmanager)


@router.post(
    "",
    response_model=IntakeResult,
    summary="Generic JSON alerts",
    openapi_extra=_body_schema(GenericAlerts),
)
async def generic_alerts(request: Request, me: Ingest, app: Annotated[App, Depends(get_app)]) -> IntakeResult:
    """``{"alerts": [{"labels": {...}, "annotations": {...}, "status": "firing", "starts_at": "..."}], "source": "x"}``
    (a bare list of alerts is accepted too)."""
    return await _intake(request, app, parse_generic)


#: the page is built validated and dumped to JSON once (see api/incidents.py SUMMARIES)
ALERTS_OUT: TypeAdapter[list[AlertOut]] = TypeAdapter(list[AlertOut])


@router.get("", response_model=list[AlertOut], summary="Current alerts, most recently updated first",
            responses=PAGED)
def list_alerts(
    me: Viewer,
    app: Annotated[App, Depends(get_app)],
    status: Annotated[str | None, Query(pattern="^(firing|resolved)$")] = None,
    incident_id: OptionalIdQuery = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    cursor: AlertCursor = None,
) -> Response:
    """One page; ``?cursor=`` (the previous page's ``X-Next-Cursor``) continues it, at any depth in one index range."""
    after = parse_alert_cursor(cursor) if cursor else None
    with app.store.transaction() as session:
        rows = alerts_repo.list_alerts(session, status=status, incident_id=incident_id, limit=limit, after=after)
        muted = silences_repo.current_reasons(session, [r.muted_by for r in rows], app.clock.now())
        page = [
            AlertOut(fingerprint=r.fingerprint, status=r.status, labels=r.labels, annotations=r.annotations,
                     starts_at=r.starts_at, ends_at=r.ends_at, muted_by=m, incident_id=r.incident_id)
            for r, m in zip(rows, muted, strict=True)
        ]
    headers = {NEXT_CURSOR: alert_cursor(rows[-1].updated_at, rows[-1].fingerprint)} if len(rows) == limit else None
    return Response(ALERTS_OUT.dump_json(page), media_type="application/json", headers=headers)


__all__ = ["ValidationFailed", "router"]
