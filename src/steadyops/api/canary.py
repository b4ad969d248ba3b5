"""Canary gate over HTTP: POST two deployments' SLIs, get pass / fail / inconclusive with the reasons.

Stateless and read-only (nothing is stored), so any authenticated viewer may call it: a deploy
pipeline calls it as its promotion gate with a viewer token, as the CLI's ``steadyops canary
compare`` does offline. Bad samples are a 422 naming the problem.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from steadyops.auth import Viewer
from steadyops.operations.canary import Arm, compare

router = APIRouter(prefix="/api/v1/canary", tags=["canary"])

MAX_SAMPLES = 200_000


class ArmIn(BaseModel):
    model_config = ConfigDict(strict=True)  # `false` is not 0: the document says number, so must the server
    latency_ms: list[float] = Field(default_factory=list, max_length=MAX_SAMPLES, description="latency samples, ms")
    errors: int = Field(default=0, ge=0, description="failed requests in the window")
    requests: int = Field(default=0, ge=0, description="all requests in the window")
    quality: list[float] = Field(default_factory=list, max_length=MAX_SAMPLES,
                                 description="optional per-request quality score, higher is better")


class CompareIn(BaseModel):
    model_config = ConfigDict(strict=True)
    baseline: ArmIn
    canary: ArmIn
    confidence: float = Field(default=0.95, ge=0.5, lt=1)
    margin: float = Field(default=0.0, ge=0, le=10, description="allowed latency slow-down, 0.05 = 5 %")
    quantile: float = Field(default=0.95, gt=0, lt=1)
    error_margin: float = Field(default=0.0, ge=0, le=1)


class SliOut(BaseModel):
    name: str
    verdict: Literal["pass", "fail", "inconclusive"]
    baseline: float | None
    canary: float | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    detail: str


class CompareOut(BaseModel):
    verdict: Literal["pass", "fail", "inconclusive"]
    confidence: float
    slis: list[SliOut]
    reasons: list[str]


@router.post("/compare", response_model=CompareOut)
async def compare_arms(body: CompareIn, me: Viewer) -> CompareOut:
    """Compare a canary with its baseline (bootstrap CI on the latency quantile, Mann-Whitney U,
    two-proportion test on errors, bootstrap CI on quality)."""
    def arm(a: ArmIn) -> Arm:
        return Arm(latencies_ms=a.latency_ms, errors=a.errors, requests=a.requests, quality=a.quality)

    try:
        result = await run_in_threadpool(compare, arm(body.baseline), arm(body.canary), confidence=body.confidence,
                                         margin=body.margin, quantile=body.quantile, error_margin=body.error_margin)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return CompareOut.model_validate(result.as_dict())
