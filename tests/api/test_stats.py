"""Statistics and the notification log over HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx

from steadyops.app import App
from steadyops.core.clock import FakeClock


async def send(client: httpx.AsyncClient, clock: FakeClock, name: str, *instances: str, ago: float = 0) -> None:
    start = (clock.now() - timedelta(seconds=ago)).isoformat()
    body = [{"labels": {"alertname": name, "instance": i}, "starts_at": start} for i in instances]
    assert (await client.post("/api/v1/alerts", json=body)).status_code == 200


async def test_empty(client: httpx.AsyncClient) -> None:
    stats = (await client.get("/api/v1/stats")).json()
    assert stats == {
        "alerts_received": 0, "notifications_out": 0, "noise_reduction_ratio": 0.0,
        "incidents": {"open": 0, "acknowledged": 0, "resolved": 0}, "pending_journal": 0,
        "notifications": {}, "mttd_seconds": None, "mtta_seconds": None, "mttr_seconds": None,
        "mttl_seconds": None,
        "goals": {name: {"goal_seconds": goal, "measured": 0, "met": 0}
                  for name, goal in (("detect", 60.0), ("locate", 300.0), ("recover", 600.0))},
    }
    assert (await client.get("/api/v1/notifications")).json() == []


async def test_counts_ratio_and_means(app: App, client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    # ten alerts of one name are one group, one incident and one notification
    await send(client, fake_clock, "DiskFull", *(f"db-{i}" for i in range(10)), ago=20)
    assert (await client.get("/api/v1/stats")).json()["pending_journal"] == 10
    app.pipeline.process_sync()
    await send(client, fake_clock, "Down", "web-1", ago=40)
    app.pipeline.process_sync()
    fake_clock.advance(31)  # past the default group_wait
    await app.pipeline.tick()

    fake_clock.advance(9)
    await client.post("/api/v1/incidents/1/ack", json={"by": "alice"})  # 40 s after it opened
    fake_clock.advance(20)
    await client.post("/api/v1/incidents/2/resolve", json={"by": "bob"})  # 100 s after its first alert

    stats = (await client.get("/api/v1/stats")).json()
    assert stats["alerts_received"] == 11
    assert stats["notifications_out"] == 2
    assert stats["noise_reduction_ratio"] == 5.5
    assert stats["incidents"] == {"open": 0, "acknowledged": 1, "resolved": 1}
    assert stats["pending_journal"] == 0
    assert stats["notifications"] == {"sent": 2}
    assert stats["mttd_seconds"] == 30.0  # (20 + 40) / 2
    assert stats["mtta_seconds"] == 40.0  # only the acknowledged one counts
    assert stats["mttr_seconds"] == 100.0  # only the resolved one counts


async def test_notification_log(app: App, client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    await send(client, fake_clock, "DiskFull", "db-1")
    app.pipeline.process_sync()
    fake_clock.advance(31)
    app.pipeline.process_sync()
    (row,) = (await client.get("/api/v1/notifications")).json()
    assert row["incident_id"] == 1 and row["receiver"] == "default" and row["channel_type"] == "log"
    assert row["status"] == "sent" and row["attempts"] == 0 and row["last_error"] == ""
    assert row["sent_at"] == row["created_at"]
    assert row["group_key"].startswith("0:{alertname=DiskFull}")
    assert "payload" not in row
    assert (await client.get("/api/v1/notifications", params={"status": "failed"})).json() == []
    assert len((await client.get("/api/v1/notifications", params={"incident_id": 1})).json()) == 1
    assert (await client.get("/api/v1/notifications", params={"incident_id": 2})).json() == []
    assert (await client.get("/api/v1/notifications", params={"status": "lost"})).status_code == 422


async def test_ratio_is_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "max(notifications_out, 1)" in spec["paths"]["/api/v1/stats"]["get"]["description"]
    props = spec["components"]["schemas"]["Stats"]["properties"]
    assert "max(notifications_out, 1)" in props["noise_reduction_ratio"]["description"]
