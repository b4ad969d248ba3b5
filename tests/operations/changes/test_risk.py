"""Change risk: each factor present for its reason, explained, and the level that follows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from steadyops.app import App
from steadyops.config.operations import ChangesSettings, FreezeWindow
from steadyops.core.clock import FakeClock
from steadyops.operations.changes.model import ChangeIn
from steadyops.operations.changes.risk import assess, dependents
from steadyops.store import incident_targets
from steadyops.store.tables import CheckStateRow, IncidentRow

COMPLETE = {"ticket": "OPS-1", "rollback_plan": "redeploy previous tag", "description": "bump", "author": "alice"}


def _factors(result: Any) -> dict[str, int]:
    return {f.name: f.points for f in result.factors}


def test_blast_radius_follows_dependents_transitively(app: App) -> None:
    assert dependents(app.inventory, ["db"]) == ["api", "web"]
    assert dependents(app.inventory, ["web"]) == []


def test_a_complete_quiet_change_on_a_leaf_at_night_is_low(app: App) -> None:
    night = datetime(2026, 1, 6, 2, 0, tzinfo=UTC)  # Tuesday 02:00
    change = ChangeIn(title="web config", targets=["web"], planned_start=night,
                      planned_end=night + timedelta(hours=1), **COMPLETE)
    with app.store.transaction() as s:
        result = assess(s, change, app.inventory, ChangesSettings(), night)
    assert result.factors == [] and (result.score, result.level) == (0, "low")


def test_risky_change_names_every_factor(app: App, fake_clock: FakeClock) -> None:
    now = datetime(2026, 1, 9, 10, 0, tzinfo=UTC)  # Friday 10:00, business hours
    with app.store.transaction() as s:
        down = IncidentRow(title="db down", status="resolved", severity="critical", labels={},
                           first_alert_at=now - timedelta(days=2), opened_at=now - timedelta(days=2),
                           last_alert_at=now - timedelta(days=2))
        s.add(down)
        s.flush()
        incident_targets.add(s, down, ["db"], down.opened_at)
        s.add(CheckStateRow(check="host.disk", target="api", status="warning", alert_labels={},
                            since=now, updated_at=now))
    change = ChangeIn(title="db schema migration", targets=["db", "unknown-box"])
    with app.store.transaction() as s:
        result = assess(s, change, app.inventory, ChangesSettings(), now, "en")
    points = _factors(result)
    assert points == {"blast_radius": 16, "many_targets": 5, "unknown_targets": 10, "recent_incidents": 10,
                      "failing_checks": 10, "business_hours": 10, "missing_ticket": 10,
                      "missing_rollback_plan": 15, "missing_description": 5, "missing_planned_window": 5,
                      "missing_author": 5}
    assert result.score == 100 and result.level == "high"
    text = {f.name: f.explanation for f in result.factors}
    assert text["blast_radius"] == "2 target(s) depend on what changes: api, web"
    assert text["failing_checks"].endswith("host.disk@api")
    assert text["missing_rollback_plan"] == "ticket incomplete: no rollback plan"
    with app.store.transaction() as s:
        zh = assess(s, change, app.inventory, ChangesSettings(), now, "zh")
    assert {f.name: f.explanation for f in zh.factors}["missing_rollback_plan"] == "工单不完整：缺少回滚方案"


def test_freeze_blocks_whatever_the_score(app: App) -> None:
    friday_evening = datetime(2026, 1, 9, 20, 0, tzinfo=UTC)
    settings = ChangesSettings(timezone="Asia/Shanghai",  # Saturday 04:00 there
                               freeze=[FreezeWindow(name="weekend", weekdays=[5, 6], start="00:00", end="23:59"),
                                       FreezeWindow(name="year-end", starts_at=datetime(2026, 12, 20, tzinfo=UTC),
                                                    ends_at=datetime(2027, 1, 3, tzinfo=UTC))])
    change = ChangeIn(title="web", targets=["web"], planned_start=friday_evening,
                      planned_end=friday_evening + timedelta(hours=1), **COMPLETE)
    with app.store.transaction() as s:
        result = assess(s, change, app.inventory, settings, friday_evening)
    assert _factors(result) == {"freeze": 40, "off_days": 5}
    assert result.level == "blocked"


async def test_assess_over_http(app: App, client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/changes/assess", params={"lang": "zh"},
                             json={"title": "db", "targets": ["db"], **COMPLETE})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["level"] in ("low", "medium", "high")
    assert any(f["explanation"].startswith("有 2 个目标依赖") for f in body["factors"])
    assert (await client.post("/api/v1/changes/assess", json={"title": "x"})).status_code in (400, 422)
