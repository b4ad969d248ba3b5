"""Silences over HTTP: create (objects or amtool strings), list, update, expire, and their effect."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from steadyops.app import App
from steadyops.core.clock import FakeClock
from steadyops.store import alerts as alerts_repo
from steadyops.store import incidents as incidents_repo
from steadyops.testing.auth import bearer, token_for

BASE = "/api/v1/silences"


@pytest.fixture
def wakes(app: App, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts pipeline wake-ups, which every silence change must cause."""
    calls: list[int] = []
    monkeypatch.setattr(app.pipeline, "wake", lambda: calls.append(1))
    return calls


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("matchers", ["alertname=DiskFull"])
    if "ends_at" not in body:
        body.setdefault("duration", "2h")
    resp = await client.post(BASE, json=body)
    assert resp.status_code == 201, resp.text
    result: dict[str, Any] = resp.json()
    return result


async def test_create_from_strings_and_objects(client: httpx.AsyncClient, fake_clock: FakeClock,
                                               wakes: list[int]) -> None:
    s = await create(client, matchers=['severity=~"crit.*"', "instance!=db-2", {"name": "team", "value": "数据库"}],
                     comment="扩容维护")
    assert wakes == [1]
    assert [(m["name"], m["op"], m["value"]) for m in s["matchers"]] == [
        ("severity", "=~", "crit.*"), ("instance", "!=", "db-2"), ("team", "=", "数据库")]
    assert s["matchers_text"] == ['severity=~"crit.*"', 'instance!="db-2"', 'team="数据库"']
    assert at(s["starts_at"]) == fake_clock.now()
    assert at(s["ends_at"]) == fake_clock.now() + timedelta(hours=2)
    assert s["state"] == "active" and s["created_by"] == "admin" and s["comment"] == "扩容维护"
    assert len(s["id"]) == 36

    later = (fake_clock.now() + timedelta(hours=1)).isoformat()
    end = (fake_clock.now() + timedelta(hours=3)).isoformat()
    pending = await create(client, starts_at=later, ends_at=end)
    assert pending["state"] == "pending" and at(pending["ends_at"]) == at(end)
    # a time without a zone is UTC
    naive = await create(client, ends_at="2026-01-01T05:00:00")
    assert at(naive["ends_at"]) == fake_clock.now() + timedelta(hours=5)
    # duration counts from a future start
    future = await create(client, starts_at=later, duration="30m")
    assert at(future["ends_at"]) == fake_clock.now() + timedelta(minutes=90)


@pytest.mark.parametrize(("body", "status", "needle"), [
    ({"duration": "1h"}, 422, "matchers"),
    ({"matchers": [], "created_by": "a", "duration": "1h"}, 422, "matchers"),
    ({"matchers": ["alertname X"], "created_by": "a", "duration": "1h"}, 422, "cannot parse matcher"),
    ({"matchers": ['a=~"("'], "created_by": "a", "duration": "1h"}, 422, "bad regex"),
    ({"matchers": ["1a=b"], "created_by": "a", "duration": "1h"}, 422, "matcher"),
    ({"matchers": ["a=b"], "created_by": "a"}, 422, "ends_at or duration"),
    ({"matchers": ["a=b"], "created_by": "a", "duration": "1h", "ends_at": "2026-01-02T00:00:00Z"}, 422,
     "not both"),
    ({"matchers": ["a=b"], "created_by": "a", "duration": "soon"}, 422, "invalid duration"),
    ({"matchers": ["a=b"], "created_by": "a", "duration": "0s"}, 400, "not in the future"),
    ({"matchers": ["a=b"], "created_by": "a", "ends_at": "2025-12-31T00:00:00Z"}, 400, "not in the future"),
    ({"matchers": ["a=b"], "created_by": "a", "starts_at": "2026-01-03T00:00:00Z",
      "ends_at": "2026-01-02T00:00:00Z"}, 400, "after starts_at"),
])
async def test_create_rejects(client: httpx.AsyncClient, wakes: list[int], body: dict[str, Any], status: int,
                              needle: str) -> None:
    resp = await client.post(BASE, json=body)
    assert resp.status_code == status, resp.text
    assert needle in resp.text
    assert (await client.get(BASE)).json() == []
    assert wakes == []


async def test_get_and_list(client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    active = await create(client)
    pending = await create(client, starts_at="2026-01-01T06:00:00Z", duration="1h")
    expired = await create(client, duration="10m")
    fake_clock.advance(3600)
    assert (await client.get(f"{BASE}/{active['id']}")).json()["state"] == "active"
    assert (await client.get(f"{BASE}/{expired['id']}")).json()["state"] == "expired"
    everything = (await client.get(BASE)).json()
    assert {s["id"] for s in everything} == {active["id"], pending["id"], expired["id"]}
    assert [s["id"] for s in (await client.get(BASE, params={"active": "true"})).json()] == [active["id"]]
    inactive = (await client.get(BASE, params={"active": "false"})).json()
    assert {s["id"]: s["state"] for s in inactive} == {pending["id"]: "pending", expired["id"]: "expired"}
    missing = await client.get(f"{BASE}/nope")
    assert missing.status_code == 404 and missing.json()["detail"] == "silence nope does not exist"


async def test_update_keeps_what_is_not_given(client: httpx.AsyncClient, fake_clock: FakeClock,
                                              wakes: list[int], app: App) -> None:
    s = await create(client, comment="first")
    fake_clock.advance(1800)
    resp = await client.put(f"{BASE}/{s['id']}", json={"comment": "延长", "duration": "2h"})
    assert resp.status_code == 200, resp.text
    u = resp.json()
    assert u["id"] == s["id"] and u["comment"] == "延长" and u["matchers"] == s["matchers"]
    assert u["starts_at"] == s["starts_at"] and u["created_by"] == "admin"
    assert at(u["ends_at"]) == fake_clock.now() + timedelta(hours=2)  # two more hours from now
    bob = bearer(token_for(app, "bob", "responder"))  # the author is whoever changes it
    u = (await client.put(f"{BASE}/{s['id']}", json={"matchers": ["alertname=~Disk.*"], "created_by": "eve"},
                          headers=bob)).json()
    assert u["matchers_text"] == ['alertname=~"Disk.*"'] and u["created_by"] == "bob"
    assert wakes == [1, 1, 1]
    assert (await client.put(f"{BASE}/{s['id']}", json={"matchers": []})).status_code == 422
    past = await client.put(f"{BASE}/{s['id']}", json={"ends_at": "2025-01-01T00:00:00Z"})
    assert past.status_code == 400
    assert (await client.put(f"{BASE}/nope", json={"comment": "x"})).status_code == 404


async def test_expire_keeps_the_record(client: httpx.AsyncClient, fake_clock: FakeClock,
                                       wakes: list[int]) -> None:
    s = await create(client)
    fake_clock.advance(60)
    resp = await client.delete(f"{BASE}/{s['id']}")
    assert resp.status_code == 200
    gone = resp.json()
    assert gone["state"] == "expired" and at(gone["ends_at"]) == fake_clock.now()
    assert wakes == [1, 1]
    assert (await client.get(f"{BASE}/{s['id']}")).json()["state"] == "expired"
    # an expired silence is history: it cannot be revived, a new one must be created
    revive = await client.put(f"{BASE}/{s['id']}", json={"duration": "1h"})
    assert revive.status_code == 409
    # expiring a silence that has not started yet makes it expired, not pending forever
    future = await create(client, starts_at="2026-01-02T00:00:00Z", duration="1h")
    assert (await client.delete(f"{BASE}/{future['id']}")).json()["state"] == "expired"
    assert (await client.delete(f"{BASE}/nope")).status_code == 404


async def test_silence_mutes_until_expired(app: App, client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    s = await create(client, matchers=["alertname=DiskFull", 'instance=~"db-.*"'])
    alerts = [{"labels": {"alertname": "DiskFull", "instance": i}, "starts_at": fake_clock.now().isoformat()}
              for i in ("db-1", "web-1")]
    assert (await client.post("/api/v1/alerts", json={"alerts": alerts})).status_code == 200
    app.pipeline.process_sync()
    with app.store.transaction() as session:
        rows = {r.labels["instance"]: r for r in alerts_repo.list_alerts(session)}
        assert rows["db-1"].muted_by == [f"silence:{s['id']}"] and rows["db-1"].incident_id is None
        assert rows["web-1"].muted_by == [] and rows["web-1"].incident_id is not None
    listed = (await client.get("/api/v1/alerts", params={"status": "firing"})).json()
    assert {a["labels"]["instance"]: a["muted_by"] for a in listed}["db-1"] == [f"silence:{s['id']}"]

    await client.delete(f"{BASE}/{s['id']}")
    fake_clock.advance(400)  # past group_wait and group_interval: the next flush re-evaluates muting
    app.pipeline.process_sync()
    with app.store.transaction() as session:
        row = next(r for r in alerts_repo.list_alerts(session) if r.labels["instance"] == "db-1")
        assert row.muted_by == [] and row.incident_id is not None
        assert len(incidents_repo.list_rows(session)) >= 1


async def test_an_expired_silence_stops_showing_at_once(app: App, client: httpx.AsyncClient,
                                                       fake_clock: FakeClock) -> None:
    """Between flushes the stored ``muted_by`` is stale; reads must not show a silence that ended (issue 16)."""
    s = await create(client, matchers=["alertname=DiskFull"], duration="10m")
    alert = {"labels": {"alertname": "DiskFull", "instance": "db-1"}, "starts_at": fake_clock.now().isoformat()}
    assert (await client.post("/api/v1/alerts", json={"alerts": [alert]})).status_code == 200
    app.pipeline.process_sync()
    (listed,) = (await client.get("/api/v1/alerts")).json()
    assert listed["muted_by"] == [f"silence:{s['id']}"]
    fake_clock.advance(11 * 60)  # the silence ran out; no flush has re-evaluated the alert yet
    (listed,) = (await client.get("/api/v1/alerts")).json()
    assert listed["muted_by"] == []
    with app.store.transaction() as session:  # the stored value is still the old one: only reads filter
        assert alerts_repo.list_alerts(session)[0].muted_by == [f"silence:{s['id']}"]


async def test_openapi_contract(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert set(spec["paths"][BASE]) == {"get", "post"}
    assert set(spec["paths"][f"{BASE}/{{silence_id}}"]) == {"get", "put", "delete"}
    create_schema = spec["components"]["schemas"]["SilenceCreate"]
    assert {"matchers"} <= set(create_schema["required"]) and "created_by" not in create_schema["properties"]
