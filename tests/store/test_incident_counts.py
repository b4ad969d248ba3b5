"""Stored incident counts (store/counts.py) stay equal to a fresh count of the alerts, whatever moves them.

Incident lists read ``alert_count`` / ``firing_count`` from the row; these tests drive every way an
alert moves — joins, re-sends, resolves, a new episode, a hand resolve, a flapping reopen, a
convergence across groups, a silence that ends, a rolled-back transaction, the migration's
backfill — and compare the row with a count taken from the alerts themselves.
"""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from steadyops.core.clock import FakeClock
from steadyops.core.models import AlertStatus, Matcher, Silence
from steadyops.server import create_server
from steadyops.store import Store, counts
from steadyops.store import incidents as incidents_repo
from steadyops.store import silences as silences_repo
from steadyops.store.db import alembic_config, migrate
from steadyops.store.tables import AlertRow, IncidentRow
from steadyops.testing.auth import bearer, token_for
from tests.harness.timeline import alert, push, run_until

INVENTORY = """
targets:
  - {name: db, kind: mysql, address: 10.0.0.5}
  - {name: api, kind: http, address: 10.0.1.7, depends_on: [db]}
  - {name: cache, kind: redis, address: 10.0.3.3}
"""
INSTANCES = {"db": "10.0.0.5:9104", "api": "10.0.1.7:8080", "cache": "10.0.3.3:6379"}


def build(make_app: Any, tmp_path: Path, **convergence: Any) -> Any:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY)
    return make_app(inventory=inv, route={"group_by": ["alertname", "instance"], "group_wait": "1s",
                                          "group_interval": "2s", "repeat_interval": "1h"},
                    convergence={"window": "5m", "reopen_window": "2m", **convergence})


def stored(app: Any) -> dict[int, tuple[int, int]]:
    with app.store.transaction() as s:
        return {r.id: (r.alert_count, r.firing_count) for r in s.scalars(select(IncidentRow))}


def assert_no_drift(app: Any) -> None:
    with app.store.transaction() as s:
        assert counts.drifted(s) == []


def fire(app: Any, clock: FakeClock, name: str, target: str, status: AlertStatus = AlertStatus.FIRING,
         started: float | None = None) -> None:
    a = alert(clock, name, status, instance=INSTANCES[target])
    if started is not None:  # the same episode: Alertmanager re-sends it with its first startsAt
        a = a.model_copy(update={"starts_at": clock.now() + timedelta(seconds=started - clock.elapsed)})
    push(app, clock, a)


async def test_counts_follow_joins_resends_resolves_and_new_episodes(
        make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> None:
    app = build(make_app, tmp_path)
    fire(app, fake_clock, "MySQLDown", "db", started=0)
    fire(app, fake_clock, "Slow", "api", started=0)   # linked: converges into the same incident
    await run_until(app, fake_clock, 1.0)
    [iid] = stored(app)
    assert stored(app) == {iid: (2, 2)}
    fire(app, fake_clock, "MySQLDown", "db", started=0)  # re-sent: changes nothing
    await run_until(app, fake_clock, 2.0)
    assert stored(app) == {iid: (2, 2)}
    fire(app, fake_clock, "Slow", "api", AlertStatus.RESOLVED, started=0)
    await run_until(app, fake_clock, 3.0)
    assert stored(app) == {iid: (2, 1)}
    fire(app, fake_clock, "Slow", "api", started=3.0)  # a new episode leaves the old count, joins again
    await run_until(app, fake_clock, 4.0)
    assert stored(app) == {iid: (2, 2)}
    assert_no_drift(app)

    # through the API: the list shows the stored counts, the detail agrees with its alert list
    client = TestClient(create_server(app, run_pipeline=False))
    client.headers.update(bearer(token_for(app, "ops", "responder")))
    [row] = client.get("/api/v1/incidents").json()
    assert (row["alert_count"], row["firing_count"]) == (2, 2)
    detail = client.get(f"/api/v1/incidents/{iid}").json()
    assert (detail["alert_count"], len(detail["alerts"])) == (2, 2)

    # a hand resolve keeps the counts; the next episode opens a fresh incident and counts there
    assert client.post(f"/api/v1/incidents/{iid}/resolve", json={}).status_code == 200
    fire(app, fake_clock, "MySQLDown", "db", AlertStatus.RESOLVED, started=0)
    await run_until(app, fake_clock, 5.0)
    fire(app, fake_clock, "MySQLDown", "db", started=5.0)
    await run_until(app, fake_clock, 6.0)
    after = stored(app)
    assert len(after) == 2 and after[iid] == (1, 1)  # only the still-firing Slow is left on the old one
    [new] = set(after) - {iid}
    assert after[new] == (1, 1)
    assert_no_drift(app)


async def test_a_flapping_fault_reopens_with_its_counts(make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> None:
    app = build(make_app, tmp_path)
    for i in range(3):
        start = 10.0 * i
        fire(app, fake_clock, "RedisDown", "cache", started=start)
        await run_until(app, fake_clock, start + 3)
        [(iid, (total, firing))] = stored(app).items()
        assert (total, firing) == (1, 1)
        fire(app, fake_clock, "RedisDown", "cache", AlertStatus.RESOLVED, started=start)
        await run_until(app, fake_clock, start + 6)
        assert stored(app) == {iid: (1, 0)}  # auto-resolved, then reopened by the next failure
    with app.store.transaction() as s:
        assert [e.kind for e in incidents_repo.events(s, iid)].count("reopened") == 2
    assert_no_drift(app)


async def test_an_alert_counts_once_its_silence_ends(make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> None:
    """A muted alert belongs to no incident; when the silence ends the flush attaches it (no batch
    context on that path) and the count follows."""
    app = build(make_app, tmp_path)
    with app.store.transaction() as s:
        silences_repo.create(s, Silence(matchers=[Matcher(name="alertname", value="RedisDown")],
                                        starts_at=fake_clock.now(), ends_at=fake_clock.now() + timedelta(seconds=5),
                                        created_by="ops"), fake_clock.now())
    fire(app, fake_clock, "RedisDown", "cache", started=0)
    await run_until(app, fake_clock, 3.0)
    assert stored(app) == {}
    await run_until(app, fake_clock, 12.0)
    assert list(stored(app).values()) == [(1, 1)]
    assert_no_drift(app)


async def test_random_storms_never_drift(make_app: Any, fake_clock: FakeClock, tmp_path: Path) -> None:
    """Any interleaving of fires, re-sends, resolves and hand resolves: stored counts equal recounts."""
    app = build(make_app, tmp_path)
    rnd = random.Random(10)
    names = ["Down", "Slow", "Errors", "Full"]
    episode: dict[tuple[str, str], float] = {}
    t = 0.0
    for _ in range(60):
        for _ in range(rnd.randint(1, 6)):
            name, target = rnd.choice(names), rnd.choice(list(INSTANCES))
            key = (name, target)
            roll = rnd.random()
            if key not in episode or roll < 0.2:
                episode[key] = t  # a new episode
                fire(app, fake_clock, name, target, started=t)
            elif roll < 0.6:
                fire(app, fake_clock, name, target, AlertStatus.RESOLVED, started=episode[key])
            else:
                fire(app, fake_clock, name, target, started=episode[key])  # a re-send
        if rnd.random() < 0.1:
            with app.store.transaction() as s:
                open_ids = [r.id for r in incidents_repo.list_rows(s, status="open")]
                if open_ids:
                    incidents_repo.resolve(s, rnd.choice(open_ids), "ops", fake_clock.now())
        t += rnd.choice([0.5, 1.0, 3.0, 40.0])
        await run_until(app, fake_clock, t, step=0.5)
        assert_no_drift(app)
    with app.store.transaction() as s:
        total = s.scalar(select(func.count()).select_from(AlertRow).where(AlertRow.incident_id.is_not(None)))
    assert total and sum(n for n, _ in stored(app).values()) == total
    assert len(stored(app)) > 3  # the storm opened, resolved and reopened several incidents


def test_a_rolled_back_transaction_rolls_the_counts_back(make_app: Any, fake_clock: FakeClock,
                                                         tmp_path: Path) -> None:
    app = build(make_app, tmp_path)
    now = fake_clock.now()
    with app.store.transaction() as s:
        inc = IncidentRow(title="t", status="open", severity="warning", labels={}, group_keys=[],
                          first_alert_at=now, opened_at=now, last_alert_at=now)
        s.add(inc)
        s.flush()
        s.add(AlertRow(fingerprint="a1", labels={}, annotations={}, status="firing", starts_at=now, source="t",
                       updated_at=now, muted_by=[], incident_id=inc.id))
        iid = inc.id
    assert stored(app) == {iid: (1, 1)}
    with pytest.raises(RuntimeError), app.store.transaction() as s:
        row = s.get(AlertRow, "a1")
        assert row is not None
        row.status = "resolved"
        s.flush()
        assert s.get(IncidentRow, iid).firing_count == 0  # type: ignore[union-attr]  # visible in the transaction
        raise RuntimeError("crash mid-batch")
    assert stored(app) == {iid: (1, 1)}
    with app.store.transaction() as s:  # deleting an alert takes it off the count
        s.delete(s.get(AlertRow, "a1"))
    assert stored(app) == {iid: (0, 0)}


def test_the_migration_backfills_counts(tmp_path: Path, fake_clock: FakeClock) -> None:
    """A database at 0009 with alerts gets its counts from the backfill on upgrade."""
    store = Store(f"sqlite:///{tmp_path / 'old.db'}", run_migrations=False)
    try:
        command.upgrade(alembic_config(store.engine), "0009_i10b")
        now = fake_clock.now().replace(tzinfo=None)
        with store.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO incidents (id, title, status, severity, labels, group_keys, targets, first_alert_at,"
                " opened_at, last_alert_at) VALUES (1,'a','open','warning','{}','[]','[]',?,?,?),"
                " (2,'b','open','warning','{}','[]','[]',?,?,?), (3,'c','open','warning','{}','[]','[]',?,?,?)",
                (now,) * 9)
            for n, (incident_id, status) in enumerate([(1, "firing"), (1, "resolved"), (1, "firing"), (2, "resolved"),
                                                       (None, "firing")]):
                conn.exec_driver_sql(
                    "INSERT INTO alerts (fingerprint, labels, annotations, status, starts_at, generator_url, source,"
                    " updated_at, muted_by, incident_id) VALUES (?, '{}', '{}', ?, ?, '', 't', ?, '[]', ?)",
                    (f"f{n}", status, now, now, incident_id))
        migrate(store.engine)
        with store.transaction() as s:
            assert {r.id: (r.alert_count, r.firing_count) for r in s.scalars(select(IncidentRow))} == {
                1: (3, 2), 2: (1, 0), 3: (0, 0)}
            assert counts.drifted(s) == []
    finally:
        store.close()


def test_concurrent_writers_lose_no_count_on_postgresql(make_app: Any, pg_url: str, fake_clock: FakeClock) -> None:
    """Two writers attaching alerts to one incident at once: the counts are SQL increments, so the
    row lock serialises them and none is lost (a read-modify-write in Python would lose some)."""
    app = make_app(database_url=pg_url)
    now = fake_clock.now()
    with app.store.transaction() as s:
        inc = IncidentRow(title="shared", status="open", severity="warning", labels={}, group_keys=[],
                          first_alert_at=now, opened_at=now, last_alert_at=now)
        s.add(inc)
        s.flush()
        iid = inc.id
    prefix = uuid.uuid4().hex[:8]

    def writer(w: int) -> None:
        for n in range(40):
            with app.store.transaction() as s:
                s.add(AlertRow(fingerprint=f"{prefix}{w}{n:07d}", labels={}, annotations={},
                               status="firing" if n % 2 else "resolved", starts_at=now, source="t", updated_at=now,
                               muted_by=[], incident_id=iid))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app.store.transaction() as s:
        row = s.get(IncidentRow, iid)
        assert row is not None and (row.alert_count, row.firing_count) == (80, 40)
