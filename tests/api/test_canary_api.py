"""POST /api/v1/canary/compare: the gate over HTTP; bad samples are a 422 naming the problem."""

from __future__ import annotations

import httpx
import numpy as np


def samples(seed: int, scale: float = 1.0, n: int = 4000) -> list[float]:
    return [float(x) for x in np.random.default_rng(seed).lognormal(5.0, 0.5, n) * scale]


async def test_compare_fails_a_slower_canary(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/canary/compare", json={
        "baseline": {"latency_ms": samples(1), "errors": 2, "requests": 4000},
        "canary": {"latency_ms": samples(2, 1.25), "errors": 3, "requests": 4000}})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["verdict"] == "fail" and body["slis"][0]["ci_low"] > 1.0
    assert [s["name"] for s in body["slis"]] == ["latency p95", "error rate"]


async def test_compare_refuses_bad_samples(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/canary/compare", json={
        "baseline": {"latency_ms": samples(1, n=50)}, "canary": {"latency_ms": samples(2, n=50), "errors": 9,
                                                                 "requests": 3}})
    assert resp.status_code == 422 and "errors <= requests" in resp.text
    resp = await client.post("/api/v1/canary/compare", json={"baseline": {}, "canary": {}, "confidence": 2})
    assert resp.status_code == 422
