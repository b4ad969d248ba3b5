"""The resolve-timeout scan (``Pipeline.expire_once``, every tick) is one range of ix_alerts_status_ends_at.

Asked of the database itself: the statement the scan sends is caught on its way to the driver and
explained, on SQLite (EXPLAIN QUERY PLAN) and on PostgreSQL (EXPLAIN, after ANALYZE, over a table
shaped like a storm: thousands of firing alerts whose endsAt lies ahead, a few due).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from steadyops.app import App
from steadyops.core.clock import FakeClock
from steadyops.store.tables import AlertRow

INDEX = "ix_alerts_status_ends_at"


def _fill(app: App, fake_clock: FakeClock) -> None:
    now = fake_clock.now()
    prefix = uuid.uuid4().hex[:6]
    with app.store.transaction() as s:
        for n in range(3000):
            due = n % 100 == 0
            status = "resolved" if n % 4 == 3 else "firing"
            s.add(AlertRow(fingerprint=f"{prefix}{n:010d}", labels={"n": str(n)}, annotations={}, status=status,
                           starts_at=now - timedelta(minutes=10),
                           ends_at=now - timedelta(seconds=1) if due else now + timedelta(minutes=5),
                           source="t", updated_at=now, muted_by=[]))


def _plan(app: App) -> str:
    """The plan of the statement ``expire_once`` sends, as the database's own text."""
    sent: list[tuple[str, Any]] = []

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM alerts" in statement and "ends_at <=" in statement:
            sent.append((statement, parameters))

    event.listen(app.store.engine, "before_cursor_execute", catch)
    try:
        app.pipeline.expire_once()
    finally:
        event.remove(app.store.engine, "before_cursor_execute", catch)
    assert len(sent) == 1, sent
    statement, parameters = sent[0]
    with app.store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE alerts")
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(str(r[-1]) for r in rows)


def test_the_expiry_scan_uses_its_index_on_sqlite(make_app: Any, fake_clock: FakeClock) -> None:
    app = make_app()
    _fill(app, fake_clock)
    plan = _plan(app)
    assert f"SEARCH alerts USING INDEX {INDEX} (status=? AND ends_at" in plan, plan


def test_the_expiry_scan_uses_its_index_on_postgresql(make_app: Any, pg_url_own: str,
                                                      fake_clock: FakeClock) -> None:
    app = make_app(database_url=pg_url_own)  # its own: the firing alerts it leaves are no other test's
    _fill(app, fake_clock)
    plan = _plan(app)
    assert INDEX in plan and "Seq Scan" not in plan, plan
