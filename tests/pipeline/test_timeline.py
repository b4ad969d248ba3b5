"""Timeline tests on a fake clock, in the style of Alertmanager's acceptance tests."""

from __future__ import annotations

from typing import Any

from steadyops.core.clock import FakeClock
from steadyops.core.models import AlertStatus
from steadyops.store import alerts as alerts_repo
from tests.harness.timeline import alert, push, run_until


async def test_group_wait_then_group_interval(make_app: Any, fake_clock: FakeClock) -> None:
    app = make_app(route={"group_by": ["alertname"], "group_wait": "1s", "group_interval": "2s",
                          "repeat_interval": "1h"})
    fake_clock.advance(2.2)
    push(app, fake_clock, alert(fake_clock, instance="a"))
    notes = await run_until(app, fake_clock, 3.6)
    assert len(notes) == 1
    at, payload = notes[0]
    assert 3.0 <= at <= 3.5
    assert payload["status"] == "firing"
    # a second alert in the same group waits for group_interval, not group_wait
    push(app, fake_clock, alert(fake_clock, instance="b"))
    notes = await run_until(app, fake_clock, 6.0)
    assert len(notes) == 2
    assert 5.1 <= notes[1][0] <= 5.5
    assert len(notes[1][1]["alerts"]) == 2


async def test_resolution_notifies_and_resolves_incident(make_app: Any, fake_clock: FakeClock) -> None:
    app = make_app(route={"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"})
    fired = alert(fake_clock, instance="a")
    push(app, fake_clock, fired)
    await run_until(app, fake_clock, 1.5)
    fake_clock.advance(0.5)
    push(app, fake_clock, fired.model_copy(update={"status": AlertStatus.RESOLVED, "ends_at": fake_clock.now()}))
    notes = await run_until(app, fake_clock, 5.0)
    assert [n[1]["status"] for n in notes] == ["firing", "resolved"]
    from steadyops.store import incidents as inc_repo
    with app.store.transaction() as s:
        (row,) = inc_repo.list_rows(s)
        assert row.status == "resolved" and row.resolved_by == "auto"


async def test_redelivery_changes_nothing(make_app: Any, fake_clock: FakeClock) -> None:
    app = make_app(route={"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"})
    a = alert(fake_clock, instance="a")
    push(app, fake_clock, a)
    push(app, fake_clock, a)
    with app.store.transaction() as s:
        assert alerts_repo.count_events(s) == 1
    notes = await run_until(app, fake_clock, 10)
    assert len(notes) == 1
