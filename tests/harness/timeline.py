"""Timeline helpers: push alerts into an App's journal and run its pipeline on a fake clock.

They let a test read like Alertmanager's acceptance tests: "push at 2.2 s, expect a notification
between 3 and 3.5 s", deterministically and in milliseconds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from steadyops.app import App
from steadyops.core.clock import FakeClock
from steadyops.core.models import Alert, AlertStatus
from steadyops.store import alerts as alerts_repo
from steadyops.store.tables import NotificationRow


def push(app: App, clock: FakeClock, *alerts: Alert) -> int:
    """Journal alerts exactly as the intake API would; returns how many were new."""
    with app.store.transaction() as s:
        return alerts_repo.insert_events(s, list(alerts), clock.now())


def alert(clock: FakeClock, name: str = "Down", status: AlertStatus = AlertStatus.FIRING, **labels: str) -> Alert:
    return Alert(labels={"alertname": name, **labels}, status=status, starts_at=clock.now(),
                 ends_at=clock.now() if status is AlertStatus.RESOLVED else None)


async def run_until(app: App, clock: FakeClock, until: float,
                    step: float = 0.1) -> list[tuple[float, dict[str, Any]]]:
    """Advance the clock in ``step``s to ``until`` (seconds since its start), ticking the pipeline.

    Returns (time, payload) for every notification decided so far, in order.
    """
    seen: dict[int, tuple[float, dict[str, Any]]] = {}
    while True:
        await app.pipeline.tick()
        with app.store.transaction() as s:
            for row in s.scalars(select(NotificationRow)):
                seen.setdefault(row.id, (round(clock.elapsed, 3), row.payload))
        if clock.elapsed >= until - 1e-9:
            break
        clock.advance(step)
    return [seen[k] for k in sorted(seen)]
