"""An incident's targets as rows (``incident_targets``, migration 0014_i13t), on SQLite and PostgreSQL.

A target is inserted once, in the order it joined; a batch writes only its own new targets, not the
incident's whole list (the quadratic cost of a storm on distinct instances); convergence still sees
targets that joined in earlier batches and earlier in the same batch; and the migration moves the
old JSON lists over, in order, without touching what refers to the incidents.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import bindparam, event, func, inspect, select, text

from steadyops.config.settings import Settings
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Inventory
from steadyops.core.models import Alert, AlertStatus
from steadyops.pipeline.ingester import Ingest, build_stages
from steadyops.store import Store, incident_targets
from steadyops.store import alerts as alerts_repo
from steadyops.store import incidents as incidents_repo
from steadyops.store.db import alembic_config, migrate
from steadyops.store.tables import IncidentEventRow, IncidentRow, IncidentTargetRow, UTCDateTime

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'state.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url_own")
    s = Store(url)
    yield s
    s.close()


def _alert(name: str, instance: str, **labels: str) -> Alert:
    return Alert(labels={"alertname": name, "instance": instance, **labels}, status=AlertStatus.FIRING,
                 starts_at=NOW - timedelta(minutes=1), source="test")


def _ingest(store: Store, clock: FakeClock, alerts: list[Alert], batch: int = 1000) -> None:
    """Journal ``alerts`` and run the ingestion stages over them, ``batch`` a transaction."""
    with store.transaction() as s:
        alerts_repo.insert_events(s, alerts, clock.now())
    settings = Settings()
    ingest = Ingest(store, build_stages(settings, Inventory([])), clock, settings, Inventory([]), batch)
    while ingest.once():
        pass


def _incidents_of(store: Store, name_prefix: str) -> dict[str, list[str]]:
    """title -> targets of the incidents whose title starts with ``name_prefix``."""
    with store.transaction() as s:
        rows = list(s.scalars(select(IncidentRow).where(IncidentRow.title.startswith(name_prefix))))
        return {m.title: m.targets for m in (incidents_repo.to_model(s, r) for r in rows)}  # every target


def test_a_target_joins_once_and_the_order_is_kept(store: Store) -> None:
    clock = FakeClock(start=NOW)
    name = f"Storm{uuid.uuid4().hex[:8]}"
    first = [_alert(name, "c", mount="/1"), _alert(name, "a", mount="/1"), _alert(name, "a", mount="/2"),
             _alert(name, "b", mount="/1")]
    _ingest(store, clock, first)
    clock.advance(5)
    _ingest(store, clock, [_alert(name, "a", mount="/3"), _alert(name, "d", mount="/1"),
                           _alert(name, "c", mount="/2"), _alert(name, "e", mount="/1")])
    assert _incidents_of(store, name) == {f"{name} @ c": ["c", "a", "b", "d", "e"]}
    with store.transaction() as s:
        (row,) = s.scalars(select(IncidentRow).where(IncidentRow.title == f"{name} @ c"))
        assert row.target_count == 5 and row.alert_count == 8
        stored = list(s.execute(select(IncidentTargetRow.target, IncidentTargetRow.position,
                                       IncidentTargetRow.first_seen_at)
                                .where(IncidentTargetRow.incident_id == row.id)
                                .order_by(IncidentTargetRow.position)))
        later = NOW + timedelta(seconds=5)
        assert [(t, when) for t, _position, when in stored] == [("c", NOW), ("a", NOW), ("b", NOW), ("d", later),
                                                                ("e", later)]
        positions = [position for _t, position, _when in stored]
        assert positions[:3] == [0, 1, 2] and positions == sorted(set(positions))  # "a" again: a gap, no row
        # the store's own helper: what the incident has is left alone, the new one continues the order
        assert incident_targets.add(s, row, ["a", "f", "f", ""], NOW) == 1
        assert incident_targets.of(s, row.id) == ["c", "a", "b", "d", "e", "f"] and row.target_count == 6
        assert s.scalar(select(IncidentRow.target_count).where(IncidentRow.id == row.id)) == 6
        assert incident_targets.holding(s, ["f", "zz"], open_only=True) == {"f": {row.id}}
        assert incident_targets.holding(s, ["f"], among=[row.id + 1000]) == {}


def test_a_batch_writes_only_its_own_targets(store: Store) -> None:
    """What a batch writes to the incident and its targets is its own new targets: the sixth batch
    of a storm writes about as much as the second (rewriting the incident's whole list, it wrote
    2.9 times as much: 27 kB against 9 kB of statements and values)."""
    clock = FakeClock(start=NOW)
    name = f"Storm{uuid.uuid4().hex[:8]}"
    sent: list[int] = []

    def measure(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().startswith(("UPDATE incidents ", "INSERT INTO incident_targets ")):
            sent[-1] += len(statement) + len(repr(parameters))

    event.listen(store.engine, "before_cursor_execute", measure)
    try:
        for n in range(6):
            sent.append(0)
            _ingest(store, clock, [_alert(name, f"node-{n}-{i:04d}") for i in range(300)], batch=300)
            clock.advance(1)
    finally:
        event.remove(store.engine, "before_cursor_execute", measure)
    (targets,) = _incidents_of(store, name).values()
    assert len(targets) == 1800 and targets[:2] == ["node-0-0000", "node-0-0001"] and targets[-1] == "node-5-0299"
    assert sent[5] < 1.3 * sent[1], sent


def test_convergence_sees_targets_of_earlier_batches_and_of_its_own(store: Store) -> None:
    """Alerts routed to different groups (different alert names, grouped by name) on the same
    instance are one incident, whether the instance joined in an earlier batch or earlier in this one."""
    clock = FakeClock(start=NOW)
    p = f"C{uuid.uuid4().hex[:8]}"
    _ingest(store, clock, [_alert(f"{p}A", f"{p}-host-1")])
    clock.advance(2)
    _ingest(store, clock, [_alert(f"{p}B", f"{p}-host-1"),  # host-1 joined in the batch before
                           _alert(f"{p}C", f"{p}-host-2"), _alert(f"{p}D", f"{p}-host-2"),  # D: C's, this batch
                           _alert(f"{p}E", f"{p}-host-3")])
    assert _incidents_of(store, p) == {f"{p}A @ {p}-host-1": [f"{p}-host-1"],
                                       f"{p}C @ {p}-host-2": [f"{p}-host-2"],
                                       f"{p}E @ {p}-host-3": [f"{p}-host-3"]}
    with store.transaction() as s:
        rows = s.scalars(select(IncidentRow).where(IncidentRow.title.startswith(p)))
        by_title = {r.title: r.alert_count for r in rows}
    assert by_title == {f"{p}A @ {p}-host-1": 2, f"{p}C @ {p}-host-2": 2, f"{p}E @ {p}-host-3": 1}


# -- the migration -------------------------------------------------------------------------------

OLD_INCIDENT = text(
    "INSERT INTO incidents (id, title, status, severity, labels, group_keys, targets, first_alert_at, opened_at,"
    " last_alert_at) VALUES (:id, :title, 'open', 'warning', :labels, :keys, :targets, :t, :t, :t)"
).bindparams(bindparam("labels", type_=sa.JSON), bindparam("keys", type_=sa.JSON),
             bindparam("targets", type_=sa.JSON), bindparam("t", type_=UTCDateTime()))
OLD_LISTS = {1: ["web-2", "db-1", "web-1"], 2: [], 3: ["x", "", "y"]}


def _check_the_migration(url: str) -> None:
    """A database at 0013_i13t with targets in JSON lists: upgraded, the lists are rows in their order
    (blanks dropped, positions dense), counted, dated by the incident's opening; the incidents keep
    their timelines; a downgrade gives the lists back and a second upgrade the same rows."""
    store = Store(url, run_migrations=False)
    try:
        command.upgrade(alembic_config(store.engine), "0013_i13t")
        with store.engine.begin() as conn:
            for incident_id, targets in OLD_LISTS.items():
                conn.execute(OLD_INCIDENT, {"id": incident_id, "title": f"i{incident_id}", "labels": {}, "keys": [],
                                            "targets": targets, "t": NOW - timedelta(hours=incident_id)})
            conn.execute(sa.insert(IncidentEventRow.__table__), [  # type: ignore[arg-type]
                {"incident_id": 1, "at": NOW, "kind": "opened", "actor": "system", "detail": ""}])
        migrate(store.engine)
        want = {1: ["web-2", "db-1", "web-1"], 2: [], 3: ["x", "y"]}

        def check() -> None:
            with store.transaction() as s:
                assert incident_targets.by_incident(s, [1, 2, 3]) == want
                assert {r.id: r.target_count for r in s.scalars(select(IncidentRow))} == {1: 3, 2: 0, 3: 2}
                rows = s.execute(select(IncidentTargetRow.incident_id, IncidentTargetRow.target,
                                        IncidentTargetRow.position, IncidentTargetRow.first_seen_at)
                                 .where(IncidentTargetRow.incident_id == 3).order_by(IncidentTargetRow.position)).all()
                opened = NOW - timedelta(hours=3)
                assert [tuple(r) for r in rows] == [(3, "x", 0, opened), (3, "y", 1, opened)]
                assert s.scalar(select(func.count()).select_from(IncidentEventRow)) == 1
                assert incidents_repo.to_model(s, incidents_repo.get_row(s, 1)).targets == want[1]
            assert "targets" not in {c["name"] for c in inspect(store.engine).get_columns("incidents")}

        check()
        command.downgrade(alembic_config(store.engine), "0013_i13t")
        with store.engine.begin() as conn:
            old = sa.table("incidents", sa.column("id", sa.Integer), sa.column("targets", sa.JSON))
            assert dict(conn.execute(sa.select(old.c.id, old.c.targets)).all()) == want  # type: ignore[arg-type]
            assert "incident_targets" not in inspect(conn).get_table_names()
        migrate(store.engine)
        check()
    finally:
        store.close()


def test_the_migration_moves_the_lists_on_sqlite(tmp_path: Any) -> None:
    _check_the_migration(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.integration
def test_the_migration_moves_the_lists_on_postgresql(pg_url_own: str) -> None:
    _check_the_migration(pg_url_own)

