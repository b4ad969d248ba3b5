"""SLOs: error budget status per SLO (computed from Prometheus) and the generated rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from steadyops.api.deps import get_app
from steadyops.app import App
from steadyops.auth import Viewer
from steadyops.core.errors import Conflict, NotFound
from steadyops.operations.slo.exporter import exposition
from steadyops.operations.slo.rules import render_rules
from steadyops.operations.slo.spec import ServiceSpec, load_specs
from steadyops.operations.slo.status import SLOStatus, budget_status, find
from steadyops.sources.promql import PromQL

router = APIRouter(prefix="/api/v1/slos", tags=["slos"])
metrics_router = APIRouter(tags=["slos"])


@metrics_router.get("/metrics", response_class=PlainTextResponse,
                    summary="Prometheus metrics: check results by check, target and status (probe SLIs)")
async def metrics(me: Viewer, app: Annotated[App, Depends(get_app)]) -> PlainTextResponse:
    body = await run_in_threadpool(exposition, app.store)
    return PlainTextResponse(body.decode(), media_type="text/plain; version=0.0.4; charset=utf-8")


class SLOStatusOut(BaseModel):
    slo_id: str
    service: str
    slo: str
    objective: float = Field(description="percent, e.g. 99.9")
    window: str = Field(description="the SLO period, e.g. 30d")
    budget: float = Field(description="error budget as a ratio (1 - objective/100)")
    error_ratio: float | None = Field(description="bad/total over the period; null without data")
    budget_remaining: float | None = Field(description="1 - error_ratio/budget; negative when overspent")
    budget_consumed: float | None
    burn_rate: float | None = Field(description="error ratio over the last hour / budget")
    exhaustion_at: str | None = Field(description="when the budget runs out at the last hour's burn")
    state: str = Field(description="ok, burning, exhausted or no_data")

    @classmethod
    def of(cls, s: SLOStatus) -> SLOStatusOut:
        return cls.model_validate(s.to_dict())


def _specs(app: App) -> list[ServiceSpec]:
    return load_specs(list(app.settings.slo.specs))


def _promql(app: App) -> PromQL:
    p = app.settings.prometheus
    if p is None:
        raise Conflict("no Prometheus is configured (prometheus.url); SLO status is computed from it")
    return PromQL(p.url, p.bearer_token.get_secret_value() if p.bearer_token else None, p.timeout)


@router.get("", response_model=list[SLOStatusOut], summary="Every configured SLO with its error budget status")
async def list_slos(me: Viewer, app: Annotated[App, Depends(get_app)]) -> list[SLOStatusOut]:
    specs = _specs(app)
    if not specs:
        return []
    promql = _promql(app)
    now = app.clock.now()

    def compute() -> list[SLOStatusOut]:
        return [SLOStatusOut.of(budget_status(s, o, promql, now)) for s in specs for o in s.slos]

    return await run_in_threadpool(compute)


@router.get("/rules", response_class=PlainTextResponse, summary="The generated Prometheus rules (YAML)",
            responses={200: {"content": {"application/yaml": {"schema": {
                "type": "object", "properties": {"groups": {"type": "array"}}}}}}})
def rules(me: Viewer, app: Annotated[App, Depends(get_app)],
          time_scale: Annotated[float, Query(ge=1, le=10_000, description="compress windows (tests only)")] = 1.0,
          ) -> PlainTextResponse:
    return PlainTextResponse(render_rules(_specs(app), time_scale=time_scale), media_type="application/yaml")


@router.get("/{slo_id}", response_model=SLOStatusOut, summary="One SLO's error budget status")
async def get_slo(me: Viewer, slo_id: Annotated[str, Path(min_length=1, max_length=300)],
                  app: Annotated[App, Depends(get_app)]) -> SLOStatusOut:
    found = find(_specs(app), slo_id)
    if found is None:
        raise NotFound(f"no SLO {slo_id!r} in the configured specs")
    promql = _promql(app)
    now = app.clock.now()
    return SLOStatusOut.of(await run_in_threadpool(budget_status, found[0], found[1], promql, now))
