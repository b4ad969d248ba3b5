"""Inspections over HTTP: run, list, show, report (md/html/json) and result history; errors as 4xx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi.routing import APIRoute

from steadyops.api.inspections import router
from steadyops.app import App
from steadyops.contracts.checks import Check
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus
from steadyops.plugins import Registry
from steadyops.server import create_server
from steadyops.testing.auth import admin_token, bearer

VERDICT: dict[tuple[str, str], CheckStatus] = {}


class _Fake(Check):
    async def run(self, target: Target) -> CheckResult:
        status = VERDICT.get((self.name, target.name), CheckStatus.OK)
        return CheckResult(status=status, summary=f"{self.name}: {status}", metrics={"used_pct": 42.0})


class RedisMemory(_Fake):
    name: ClassVar[str] = "redis.memory"
    target_kind: ClassVar[str] = "redis"
    runbook: ClassVar[str | None] = "redis/redis-memory-evictions.en.md"


class HostLoad(_Fake):
    name: ClassVar[str] = "host.load"
    target_kind: ClassVar[str] = "host"


@pytest.fixture
def core(make_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    VERDICT.clear()
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("targets:\n  - {name: r1, kind: redis, address: '10.0.0.1:6379'}\n"
                         "  - {name: r2, kind: redis, address: '10.0.0.2:6379'}\n"
                         "  - {name: h1, kind: host, address: 10.0.0.9}\n")
    registry = Registry()
    registry.add_check(RedisMemory)
    registry.add_check(HostLoad)
    app: App = make_app(registry=registry, inventory=inventory)
    return app


@pytest.fixture
async def client(core: App) -> AsyncIterator[httpx.AsyncClient]:
    api = create_server(core, run_pipeline=False)
    if not any(isinstance(r, APIRoute) and r.path == "/api/v1/inspections" for r in api.routes):
        api.include_router(router)  # until the router is wired into create_server
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://steadyops.test",
                                 headers=bearer(admin_token(core))) as c:
        yield c


async def test_run_list_show(client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    r = await client.post("/api/v1/inspections", json={"kinds": ["redis"]})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["run"]["status"] == "ok" and first["run"]["scope"] == {"kinds": ["redis"], "targets": [],
                                                                       "checks": []}
    assert first["run"]["counts"] == {"ok": 2} and first["run"]["trigger"] == "api"
    VERDICT[("redis.memory", "r2")] = CheckStatus.CRITICAL
    fake_clock.advance(60)
    second = (await client.post("/api/v1/inspections", json={"kinds": ["redis"], "trigger": "chatops"})).json()
    assert second["run"]["status"] == "critical"
    assert [(f["target"], f["status"]) for f in second["findings"]] == [("r2", "critical"), ("r1", "ok")]

    runs = (await client.get("/api/v1/inspections", params={"limit": 5})).json()
    assert [r["id"] for r in runs] == [second["run"]["id"], first["run"]["id"]]
    assert [r["id"] for r in (await client.get("/api/v1/inspections", params={"trigger": "chatops"})).json()] == [
        second["run"]["id"]]
    shown = (await client.get(f"/api/v1/inspections/{second['run']['id']}")).json()
    assert shown["findings"][0]["summary"] == "redis.memory: critical"
    r = await client.get("/api/v1/inspections/999")
    assert r.status_code == 404 and r.json()["error"] == "NotFound"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_report_formats(client: httpx.AsyncClient, fake_clock: FakeClock, lang: str) -> None:
    await client.post("/api/v1/inspections", json={"targets": ["r1", "r2"]})
    VERDICT[("redis.memory", "r1")] = CheckStatus.WARNING
    fake_clock.advance(60)
    run_id = (await client.post("/api/v1/inspections", json={"targets": ["r2", "10.0.0.1:6379"]})).json()["run"]["id"]

    r = await client.get(f"/api/v1/inspections/{run_id}/report", params={"format": "md", "lang": lang})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    assert ("### 新增异常 (1)" if lang == "zh" else "### New failures (1)") in r.text
    assert ("redis/redis-memory-evictions.zh.md" if lang == "zh" else "redis-memory-evictions.en.md") in r.text

    r = await client.get(f"/api/v1/inspections/{run_id}/report", params={"lang": lang})
    assert r.headers["content-type"].startswith("text/html") and f'filename="inspection-{run_id}.html"' in \
        r.headers["content-disposition"]
    assert r.text.startswith("<!doctype html>") and "<svg" in r.text
    assert "http://" not in r.text and "https://" not in r.text

    report = (await client.get(f"/api/v1/inspections/{run_id}/report", params={"format": "json"})).json()
    assert report["status"] == "warning" and report["diff"]["changes"][0]["kind"] == "new_failure"
    assert (await client.get(f"/api/v1/inspections/{run_id}/report", params={"format": "pdf"})).status_code == 422
    assert (await client.get("/api/v1/inspections/999/report")).status_code == 404


async def test_history(client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    for status in (CheckStatus.OK, CheckStatus.CRITICAL, CheckStatus.OK):
        VERDICT[("redis.memory", "r1")] = status
        fake_clock.advance(60)
        await client.post("/api/v1/inspections", json={})
    rows = (await client.get("/api/v1/checks/history", params={"check": "redis.memory",
                                                               "target": "10.0.0.1:6379"})).json()
    assert [r["finding"]["status"] for r in rows] == ["ok", "critical", "ok"]
    assert rows[0]["run_id"] == 3 and rows[0]["finding"]["metrics"] == {"used_pct": 42.0}
    assert len((await client.get("/api/v1/checks/history", params={"target": "h1", "limit": 2})).json()) == 2
    assert len((await client.get("/api/v1/checks/history")).json()) == 9


async def test_bad_requests_are_4xx_with_a_reason(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/inspections", json={"targets": ["r3"]})
    assert r.status_code == 400 and "did you mean" in r.json()["detail"]
    r = await client.post("/api/v1/inspections", json={"checks": ["redis.memroy"]})
    assert r.status_code == 400 and "redis.memory" in r.json()["detail"]
    r = await client.post("/api/v1/inspections", json={"kinds": ["mysql"]})
    assert r.status_code == 400 and "kinds in the inventory: host, redis" in r.json()["detail"]
    assert (await client.post("/api/v1/inspections", json={"kinds": "redis"})).status_code == 422
    assert (await client.get("/api/v1/inspections")).json() == []  # nothing was run or stored
