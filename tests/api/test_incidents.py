"""Incidents over HTTP: list, show with timeline and timings, acknowledge, resolve."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from steadyops.app import App
from steadyops.core.clock import FakeClock
from steadyops.pipeline.diagnose import summarise
from steadyops.testing.auth import bearer, token_for

BASE = "/api/v1/incidents"


async def fire(client: httpx.AsyncClient, app: App, *names: str, ago: float = 0.0) -> None:
    """Send one alert per name (started ``ago`` seconds before now) and run the pipeline."""
    start = (app.clock.now() - timedelta(seconds=ago)).isoformat()
    body = {"alerts": [{"labels": {"alertname": n, "instance": f"{n.lower()}-1", "severity": "critical"},
                        "annotations": {"summary": f"{n} 故障"}, "starts_at": start} for n in names]}
    resp = await client.post("/api/v1/alerts", json=body)
    assert resp.status_code == 200, resp.text
    app.pipeline.process_sync()


async def test_list_filter_and_limit(app: App, client: httpx.AsyncClient) -> None:
    assert (await client.get(BASE)).json() == []
    await fire(client, app, "DiskFull", "HighCPU", "Down")
    rows = (await client.get(BASE)).json()
    assert [r["id"] for r in rows] == [3, 2, 1]  # newest first
    assert rows[2]["title"] == "DiskFull @ diskfull-1"
    assert rows[2]["status"] == "open" and rows[2]["severity"] == "critical"
    assert rows[2]["alert_count"] == 1 and rows[2]["firing_count"] == 1
    assert len((await client.get(BASE, params={"limit": 2})).json()) == 2
    await client.post(f"{BASE}/2/ack", json={})
    acked = (await client.get(BASE, params={"status": "acknowledged"})).json()
    assert [r["id"] for r in acked] == [2]
    assert [r["id"] for r in (await client.get(BASE, params={"status": "open"})).json()] == [3, 1]
    assert (await client.get(BASE, params={"status": "closed"})).status_code == 422
    assert (await client.get(BASE, params={"limit": 0})).status_code == 422


async def test_show_has_alerts_timeline_and_timings(app: App, client: httpx.AsyncClient,
                                                    fake_clock: FakeClock) -> None:
    fake_clock.advance(120)
    await fire(client, app, "DiskFull", ago=90)
    inc = (await client.get(f"{BASE}/1")).json()
    assert inc["mttd_seconds"] == 90.0
    assert inc["mtta_seconds"] is None and inc["mttr_seconds"] is None
    (alert,) = inc["alerts"]
    assert alert["labels"]["alertname"] == "DiskFull" and alert["status"] == "firing"
    assert alert["annotations"]["summary"] == "DiskFull 故障"
    assert [e["kind"] for e in inc["timeline"]] == ["opened", "alert_joined"]
    assert inc["targets"] == ["diskfull-1"]


async def test_ack_then_resolve(app: App, client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    """The actor is whoever the token belongs to; a ``by`` in the body changes nothing."""
    alice = bearer(token_for(app, "alice", "responder"))
    bob = bearer(token_for(app, "bob", "responder"))
    await fire(client, app, "DiskFull")
    fake_clock.advance(30)
    resp = await client.post(f"{BASE}/1/ack", json={"by": "mallory", "comment": "我来看"}, headers=alice)
    assert resp.status_code == 200, resp.text
    inc = resp.json()
    assert inc["status"] == "acknowledged" and inc["acknowledged_by"] == "alice"
    assert inc["mtta_seconds"] == 30.0
    assert inc["timeline"][-1] == {"at": inc["acknowledged_at"], "kind": "acknowledged", "actor": "alice",
                                   "detail": "我来看"}
    # a second acknowledgement is harmless and does not move MTTA
    fake_clock.advance(10)
    again = (await client.post(f"{BASE}/1/ack", json={}, headers=bob)).json()
    assert again["acknowledged_by"] == "alice" and again["mtta_seconds"] == 30.0
    assert len(again["timeline"]) == len(inc["timeline"])

    fake_clock.advance(60)
    done = (await client.post(f"{BASE}/1/resolve", json={"comment": "扩容完成"}, headers=alice)).json()
    assert done["status"] == "resolved" and done["resolved_by"] == "alice"
    assert done["mttr_seconds"] == 100.0
    assert done["timeline"][-1]["kind"] == "resolved"
    assert (await client.post(f"{BASE}/1/resolve", json={}, headers=bob)).status_code == 200

    late = await client.post(f"{BASE}/1/ack", json={}, headers=bob)
    assert late.status_code == 409
    assert late.json() == {"error": "Conflict", "detail": "incident 1 is already resolved"}


async def test_errors(client: httpx.AsyncClient, app: App) -> None:
    for method, path, body in (("GET", f"{BASE}/42", None), ("POST", f"{BASE}/42/ack", {"by": "a"}),
                               ("POST", f"{BASE}/42/resolve", {"by": "a"})):
        resp = await client.request(method, path, json=body)
        assert resp.status_code == 404
        assert resp.json()["detail"] == "incident 42 does not exist"
    await fire(client, app, "DiskFull")
    bad: list[Any] = [{"comment": 3}, [], "x", {"comment": "x" * 10_001}]
    for body in bad:
        assert (await client.post(f"{BASE}/1/ack", json=body)).status_code == 422
    assert (await client.get(f"{BASE}/abc")).status_code == 422
    assert (await client.get(f"{BASE}/1")).json()["status"] == "open"


async def test_openapi_contract(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/api/v1/incidents", "/api/v1/incidents/{incident_id}", "/api/v1/incidents/{incident_id}/ack",
            "/api/v1/incidents/{incident_id}/resolve"} <= set(spec["paths"])
    detail = spec["components"]["schemas"]["IncidentDetail"]["properties"]
    assert {"alerts", "timeline", "mttd_seconds", "mtta_seconds", "mttr_seconds"} <= set(detail)
    ack = spec["paths"]["/api/v1/incidents/{incident_id}/ack"]["post"]
    assert ack["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/IncidentAction")
    assert {"404", "409"} <= set(ack["responses"])


async def test_a_storm_incident_is_listed_with_its_first_targets_and_shown_with_all(
        app: App, client: httpx.AsyncClient) -> None:
    """A list carries the first 20 targets of each incident and how many there are (a storm's incident
    has thousands: a page of them was hundreds of kB); the incident's own view lists every one, and its
    diagnosis keeps the head of its rankings (pipeline/diagnose.py MAX_*), every one counted."""
    body = {"alerts": [{"labels": {"alertname": "NodeDown", "instance": f"node-{i:03d}", "severity": "critical"}}
                       for i in range(120)]}
    assert (await client.post("/api/v1/alerts", json=body)).status_code == 200
    app.pipeline.process_sync()
    (row,) = (await client.get(BASE)).json()
    assert row["target_count"] == 120 and row["targets"] == [f"node-{i:03d}" for i in range(20)]
    inc = (await client.get(f"{BASE}/{row['id']}")).json()
    assert inc["target_count"] == 120 and len(inc["targets"]) == 120 and len(inc["alerts"]) == 120
    (d,) = inc["diagnoses"]
    assert len(d["candidates"]) == 50 and d["candidates"][0]["ranked"] == 120
    assert d["candidates"][0]["co_causes"] == 119  # every host is down alike: tied with the leader
    alerts = [e for e in d["evidence"] if e["kind"] == "alert"]
    assert len(alerts) == 51 and alerts[-1]["detail"] == "more" and alerts[-1]["count"] == 70
    assert d["summary"].endswith("and 114 more") and d["summary"].count("node-") == 6
    assert summarise(d["candidates"], d["inconclusive"], [], "en") == d["summary"]  # the CLI's --lang re-render
    page = (await client.get(f"/incidents/{row['id']}")).text  # the console: the first 50 targets, the rest counted
    assert "node-049" in page and "node-050, " not in page and "and 70 more" in page
    listing = (await client.get("/incidents")).text
    assert "node-004" in listing and "node-005" not in listing and "and 115 more" in listing
