"""Escalation on a fake clock: level 1 at once, level 2 at exactly the policy's minute, an
acknowledgement through the signed link stops it. Notifications reach a real local webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from steadyops.app import App
from steadyops.core.clock import FakeClock
from steadyops.plugins import load_plugins
from steadyops.server import create_server
from steadyops.store.operations import EscalationRow
from steadyops.store.tables import NotificationRow
from steadyops.testing.auth import admin_token, bearer
from steadyops.testing.receiver import Receiver


@pytest.fixture
def rx() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def app(make_app: Any, rx: Receiver) -> App:
    hook = {"type": "webhook", "url": rx.url("webhook")}
    built: App = make_app(registry=load_plugins(), lang="en", route={"group_wait": "0s"}, receivers=[
        {"name": "default"}, {"name": "alice-phone", "channels": [hook]}, {"name": "bob-phone", "channels": [hook]},
        {"name": "sre-lead", "channels": [hook]}],
        oncall={"users": [{"name": "alice", "receiver": "alice-phone"}, {"name": "bob", "receiver": "bob-phone"}],
                "schedules": [
                    {"name": "primary", "layers": [{"users": ["alice", "bob"], "start": "2025-12-29T00:00:00"}]},
                    {"name": "secondary", "layers": [{"users": ["bob", "alice"], "start": "2025-12-29T00:00:00"}]}],
                "policies": [{"name": "default", "levels": [
                    {"schedules": ["primary"], "escalate_after": "5m"},
                    {"schedules": ["secondary"], "receivers": ["sre-lead"], "escalate_after": "10m"}]}]})
    return built


@pytest.fixture
async def client(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_server(app, run_pipeline=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://steadyops.test",
                                 headers=bearer(admin_token(app))) as c:
        yield c


async def _fire(client: httpx.AsyncClient, app: App, name: str) -> int:
    resp = await client.post("/api/v1/alerts", json={"alerts": [
        {"labels": {"alertname": name, "severity": "critical"}, "starts_at": app.clock.now().isoformat()}]})
    assert resp.status_code == 200, resp.text
    app.pipeline.process_sync()
    return int(next(i["id"] for i in (await client.get("/api/v1/incidents")).json() if name in i["title"]))


def _levels(app: App, incident: int) -> list[tuple[int, float, list[str], list[str]]]:
    with app.store.transaction() as s:
        rows = s.scalars(select(EscalationRow).where(EscalationRow.incident_id == incident).order_by(
            EscalationRow.level))
        return [(r.level, r.notified_at.timestamp(), list(r.on_call), list(r.receivers)) for r in rows]


async def test_no_ack_escalates_to_level_2_at_minute_5(app: App, client: httpx.AsyncClient, fake_clock: FakeClock,
                                                        rx: Receiver) -> None:
    t0 = fake_clock.now().timestamp()
    incident = await _fire(client, app, "ApiDown")
    assert _levels(app, incident) == [(1, t0, ["alice"], ["alice-phone"])]
    assert await app.pipeline.dispatcher.deliver_due() == 1
    [first] = rx.wait_for(1)
    assert "[Escalation L1]" in first.text and "On call: alice" in first.text

    fake_clock.advance(5 * 60 - 1)  # 4:59 without an acknowledgement: still level 1
    app.pipeline.process_sync()
    assert [lv[0] for lv in _levels(app, incident)] == [1]
    fake_clock.advance(1)  # 5:00: level 2, whoever is on the secondary schedule, and the lead
    app.pipeline.process_sync()
    assert _levels(app, incident)[1] == (2, t0 + 300, ["bob"], ["bob-phone", "sre-lead"])
    assert await app.pipeline.dispatcher.deliver_due() == 2
    assert sum("[Escalation L2]" in r.text for r in rx.wait_for(3)) == 2
    fake_clock.advance(60 * 60)  # no more levels (repeat: 0), nothing sent twice
    app.pipeline.process_sync()
    assert [lv[0] for lv in _levels(app, incident)] == [1, 2]
    assert (await client.get("/api/v1/oncall/escalations", params={"incident_id": incident})).json()[1]["level"] == 2


async def test_ack_from_the_signed_link_stops_escalation(app: App, client: httpx.AsyncClient,
                                                         fake_clock: FakeClock) -> None:
    incident = await _fire(client, app, "DbDown")
    with app.store.transaction() as s:
        [row] = s.scalars(select(NotificationRow).where(NotificationRow.group_key == f"escalation:{incident}"))
        link = row.payload["url"]
    parts = urlsplit(link)
    assert parts.path == "/api/v1/oncall/ack"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["user"] == "alice"
    page = await client.get(parts.path, params=query)  # a link preview only looks
    assert page.status_code == 200 and "<form method=\"post\"" in page.text
    assert (await client.get(f"/api/v1/incidents/{incident}")).json()["status"] == "open"
    forged = await client.post(parts.path, params={**query, "user": "mallory"})
    assert forged.status_code == 403
    fake_clock.advance(3 * 60)
    done = await client.post(parts.path, params=query)
    assert done.status_code == 200 and "acknowledged by alice" in done.text
    detail = (await client.get(f"/api/v1/incidents/{incident}")).json()
    assert detail["status"] == "acknowledged" and detail["acknowledged_by"] == "alice"
    [audited] = [e for e in app.audit.entries() if e.kind == "incident_acknowledged"]  # the link is the credential
    assert (audited.actor, audited.payload["credential"]) == ("alice", f"ack-link:exp={query['exp']}")
    fake_clock.advance(60 * 60)
    app.pipeline.process_sync()
    assert [lv[0] for lv in _levels(app, incident)] == [1]  # never escalated
    fake_clock.advance(25 * 3600)  # the link expires after a day
    assert (await client.post(parts.path, params=query)).status_code == 403


async def test_who_is_on_call(app: App, client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    rows = (await client.get("/api/v1/oncall")).json()
    assert [(r["schedule"], r["user"]) for r in rows] == [("primary", "alice"), ("secondary", "bob")]
    later = (fake_clock.now() + timedelta(days=7)).isoformat()
    assert [r["user"] for r in (await client.get("/api/v1/oncall", params={"at": later})).json()] == ["bob", "alice"]
    shifts = (await client.get("/api/v1/oncall/schedules/primary/shifts", params={"days": 21})).json()
    assert [s["user"] for s in shifts] == ["alice", "bob", "alice", "bob"]
    assert (await client.get("/api/v1/oncall/schedules/nope/shifts")).status_code == 404
