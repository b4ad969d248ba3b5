"""A weekly report from a seeded store, every number checked against a hand computation.

Week of Monday 2026-01-05 (UTC). Incidents (onset = last healthy observation, else first alert):

====  ==========  =========  ==========  =========  ========  ===========
 #    onset       opened     acked       located    resolved  detect/locate/recover (s)
====  ==========  =========  ==========  =========  ========  ===========
 A    Tue 08:59:30 09:00:20  09:01:20    09:03:30   09:08:30  50 / 240 / 540   (all met)
 B    Wed 14:00:00 14:02:00  14:05:00    14:10:00   14:40:00  120 / 600 / 2400 (none met)
 C    Sat 03:00:00 03:00:30  -           -          -         30 / - / -
====  ==========  =========  ==========  =========  ========  ===========

MTTD (50+120+30)/3 = 66.667 s, met 2/3; MTTL (240+600)/2 = 420 s, met 1/2; MTTR (540+2400)/2 = 1470 s,
met 1/2; MTTA (60+180)/2 = 120 s. Two incidents just outside the week are left out. Two changes, one
named by A's diagnosis: change failure rate 50 %. 14 alert events (12 firing: ApiDown 7, DiskFull 4,
Slow 1) for 4 notification decisions: noise reduction 3.5. Findings 2 critical, 1 warning, 5 ok
(previous week: 1 critical, 3 ok). Actions: one succeeded, one rejected.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from steadyops.app import App
from steadyops.core.clock import FakeClock
from steadyops.operations.changes import repo as changes_repo
from steadyops.operations.changes.model import ChangeIn
from steadyops.reports.periodic import build, period_bounds
from steadyops.reports.periodic_render import render_html, render_markdown, render_short
from steadyops.server import create_server
from steadyops.store import incident_targets
from steadyops.store.tables import (
    ActionRunRow,
    AlertEventRow,
    CheckResultRow,
    DiagnosisRow,
    IncidentRow,
    InspectionRunRow,
    NotificationRow,
)
from steadyops.testing.auth import admin_token, bearer

UTCZ = ZoneInfo("UTC")


def at(day: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(2026, 1, day, hh, mm, ss, tzinfo=UTC)


def _incident(**kw: Any) -> IncidentRow:
    base: dict[str, Any] = {"status": "open", "severity": "critical", "labels": {}}
    base.update(kw)
    base.setdefault("last_alert_at", base["opened_at"])
    return IncidentRow(**base)


@pytest.fixture
def seeded(make_app: Any, fake_clock: FakeClock) -> App:
    app: App = make_app(lang="en")
    fake_clock.set((at(13, 10) - fake_clock.now()).total_seconds())
    with app.store.transaction() as s:
        chg1, _ = changes_repo.upsert(s, "generic", ChangeIn(id="CHG-1", title="web v2", targets=["web"],
                                                            author="alice", started_at=at(6, 8, 55)), at(6, 8, 55))
        changes_repo.upsert(s, "generic", ChangeIn(id="CHG-2", title="db patch", targets=["db"], author="bob",
                                                  started_at=at(8, 22)), at(8, 22))
        a = _incident(title="A", first_alert_at=at(6, 9), last_ok_at=at(6, 8, 59, 30), opened_at=at(6, 9, 0, 20),
                      acknowledged_at=at(6, 9, 1, 20), acknowledged_by="alice", located_at=at(6, 9, 3, 30),
                      resolved_at=at(6, 9, 8, 30), status="resolved")
        b = _incident(title="B", severity="warning", first_alert_at=at(7, 14), opened_at=at(7, 14, 2),
                      acknowledged_at=at(7, 14, 5), located_at=at(7, 14, 10), resolved_at=at(7, 14, 40),
                      status="resolved")
        c = _incident(title="C", first_alert_at=at(10, 3), opened_at=at(10, 3, 0, 30))
        before = _incident(title="before", first_alert_at=at(4, 23, 59), opened_at=at(4, 23, 59, 59))
        after = _incident(title="after", first_alert_at=at(12, 0), opened_at=at(12, 0, 0, 1))
        s.add_all([a, b, c, before, after])
        s.flush()
        for inc in (a, b, c, before, after):
            incident_targets.add(s, inc, ["web"], inc.opened_at)
        s.add(DiagnosisRow(incident_id=a.id, created_at=at(6, 9, 3, 30), mode="deterministic", summary="web",
                           confidence=0.9, inconclusive=False, candidates=[], runbooks=[], actions=[],
                           evidence=[{"kind": "change", "target": "web", "change_id": chg1.id}]))
        for i in range(4):
            s.add(NotificationRow(dedup_key=f"g{i}|0", group_key=f"g{i}", receiver="ops", channel=0,
                                  channel_type="webhook", payload={}, status="sent", next_attempt_at=at(6 + i, 9),
                                  created_at=at(6 + i, 9)))
        s.add(NotificationRow(dedup_key="g0|1", group_key="g0", receiver="ops", channel=1, channel_type="slack",
                              payload={}, status="sent", next_attempt_at=at(6, 9), created_at=at(6, 9)))
        s.add(NotificationRow(dedup_key="esc|1", group_key="escalation:1", receiver="ops", channel=0,
                              channel_type="webhook", payload={}, status="sent", next_attempt_at=at(6, 9),
                              created_at=at(6, 9)))
        s.add(InspectionRunRow(started_at=at(6, 1), scope={}, counts={}))
        for day, status, n in ((6, "critical", 2), (7, "warning", 1), (8, "ok", 5), (1, "critical", 1),
                               (2, "ok", 3)):
            for k in range(n):
                s.add(CheckResultRow(check="http_probe.status", target="web", target_kind="http_probe",
                                     status=status, summary="", started_at=at(day, 1, k)))
        for status in ("succeeded", "rejected"):
            s.add(ActionRunRow(action="host.clean_logs", target="web", params={}, plan={}, plan_hash="x",
                               risk="low", status=status, requested_by="alice", created_at=at(8, 10),
                               updated_at=at(8, 10), outcome={}))
    with app.store.transaction() as s:
        events = [("ApiDown", "firing")] * 7 + [("DiskFull", "firing")] * 4 + [("Slow", "firing"),
                                                                               ("ApiDown", "resolved"),
                                                                               ("DiskFull", "resolved")]
        for i, (name, status) in enumerate(events):
            s.add(AlertEventRow(fingerprint=f"{i:016x}", status=status, starts_at=at(6, 9, i),
                                labels={"alertname": name}, annotations={}, source="api",
                                received_at=at(6, 9, i), processed=True))
        s.add(AlertEventRow(fingerprint="f" * 16, status="firing", starts_at=at(3, 9), labels={"alertname": "Old"},
                            annotations={}, source="api", received_at=at(3, 9), processed=True))
    return app


def test_weekly_numbers_match_the_hand_computation(seeded: App, fake_clock: FakeClock) -> None:
    start, end = period_bounds("weekly", fake_clock.now(), UTCZ)
    assert (start, end) == (at(5, 0), at(12, 0))
    with seeded.store.transaction() as s:
        r = build(s, "weekly", start, end, fake_clock.now(), UTCZ)
    assert [i.title for i in r.incidents] == ["A", "B", "C"]
    assert {k: (v.mean_seconds, v.met, v.measured) for k, v in r.mttx.items()} == {
        "detect": (66.667, 2, 3), "locate": (420.0, 1, 2), "recover": (1470.0, 1, 2)}
    assert r.mtta_seconds == 120.0
    assert [(i.timings["detect"]["seconds"], i.timings["locate"]["seconds"], i.timings["recover"]["seconds"])
            for i in r.incidents] == [(50.0, 240.0, 540.0), (120.0, 600.0, 2400.0), (30.0, None, None)]
    assert r.incidents_by_severity == {"critical": 2, "warning": 1}
    assert r.incidents_per_day == [("2026-01-05", 0), ("2026-01-06", 1), ("2026-01-07", 1), ("2026-01-08", 0),
                                   ("2026-01-09", 0), ("2026-01-10", 1), ("2026-01-11", 0)]
    assert [(c.title, c.incidents) for c in r.changes] == [("web v2", [r.incidents[0].id]), ("db patch", [])]
    assert r.change_failure_rate == 0.5
    assert (r.alerts_received, r.notifications_out, r.noise_reduction_ratio) == (14, 4, 3.5)
    assert [(n.alertname, n.events) for n in r.noisy_alerts] == [("ApiDown", 7), ("DiskFull", 4), ("Slow", 1)]
    assert r.findings == {"critical": 2, "warning": 1, "ok": 5}
    assert r.findings_previous == {"critical": 1, "ok": 3}
    assert r.inspections == 1
    assert r.actions == {"succeeded": 1, "rejected": 1}


def test_renderings(seeded: App, fake_clock: FakeClock) -> None:
    start, end = period_bounds("weekly", fake_clock.now(), UTCZ)
    with seeded.store.transaction() as s:
        r = build(s, "weekly", start, end, fake_clock.now(), UTCZ)
    md = render_markdown(r, "en")
    assert md.startswith("# Weekly report 2026-01-05 – 2026-01-11")
    assert "| Detect | 1m07s | 1m00s | 2/3 |" in md and "| Recover | 24m30s | 10m00s | 1/2 |" in md
    assert "change failure rate 50%" in md and "(ratio 3.5)" in md
    zh = render_markdown(r, "zh")
    assert zh.startswith("# 周报 2026-01-05 – 2026-01-11") and "| 定位 | 7m00s | 5m00s | 1/2 |" in zh
    html = render_html(r, "en")
    assert html.count("<svg") == 3 and "<script" not in html and "http://" not in html and "https://" not in html
    title, text = render_short(r, "zh")
    assert title.startswith("周报") and "事件：3 起（严重 2 起）" in text and "降噪比 3.5" in text


async def test_report_over_http_and_scheduled_send(seeded: App, fake_clock: FakeClock) -> None:
    transport = httpx.ASGITransport(app=create_server(seeded, run_pipeline=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t",
                                 headers=bearer(admin_token(seeded))) as c:
        md = await c.get("/api/v1/reports/weekly", params={"date": "2026-01-07", "lang": "en"})
        assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
        assert "| Detect | 1m07s |" in md.text
        data = (await c.get("/api/v1/reports/weekly", params={"format": "json"})).json()
        assert data["mttx"]["locate"]["mean_seconds"] == 420.0
        html = await c.get("/api/v1/reports/daily", params={"format": "html", "date": "2026-01-06"})
        assert html.headers["content-type"].startswith("text/html") and "<svg" in html.text
        assert (await c.get("/api/v1/reports/yearly")).status_code == 422
        assert (await c.get("/api/v1/reports/weekly", params={"tz": "Mars/Base"})).status_code == 400


def test_scheduled_weekly_report_goes_out_once(make_app: Any, fake_clock: FakeClock) -> None:
    from steadyops.reports.rhythm import ReportScheduler
    from steadyops.store.operations import ReportRunRow

    app: App = make_app(lang="zh", receivers=[{"name": "default"}, {"name": "ops"}],
                        reports={"timezone": "Asia/Shanghai",
                                 "schedules": [{"period": "weekly", "receiver": "ops", "at": "09:00"}]})
    fake_clock.set((datetime(2026, 1, 12, 0, 30, tzinfo=UTC) - fake_clock.now()).total_seconds())  # 08:30 CST
    scheduler = ReportScheduler(app.settings, app.store, fake_clock)
    assert scheduler.tick() == 0
    fake_clock.advance(31 * 60)  # 09:01 Monday in Shanghai: last week's report is due
    assert scheduler.tick() == 1
    fake_clock.advance(3600)
    assert scheduler.tick() == 0  # once per period
    with app.store.transaction() as s:
        [run] = s.query(ReportRunRow).all()
        assert run.period_start == datetime(2026, 1, 4, 16, 0, tzinfo=UTC)  # Monday 00:00 CST
        [note] = s.query(NotificationRow).filter(NotificationRow.group_key.like("report:%")).all()
        assert note.payload["title"].startswith("周报 2026-01-05") and note.receiver == "ops"
    assert timedelta(0) < fake_clock.now() - datetime(2026, 1, 12, 1, 0, tzinfo=UTC)
