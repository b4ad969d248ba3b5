"""The journal's hot-path INSERT (values in stored form, through the driver) stores exactly what the
ORM stores, so replays still hit the unique key and readers see the same alerts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from steadyops.core.models import Alert, AlertStatus
from steadyops.store import Store
from steadyops.store import alerts as alerts_repo
from steadyops.store.tables import AlertEventRow

NOW = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    s = Store(url)
    with s.transaction() as session:
        session.execute(AlertEventRow.__table__.delete())  # type: ignore[arg-type]
    yield s
    s.close()


def mk(i: int, starts: datetime, status: AlertStatus = AlertStatus.FIRING) -> Alert:
    return Alert(labels={"alertname": "Down", "instance": f"10.0.0.{i}:9100", "region": "华东"},
                 annotations={"summary": "引号 \" and \\ and 'quotes'"}, status=status, starts_at=starts,
                 ends_at=None if status is AlertStatus.FIRING else starts + timedelta(minutes=1))


def test_rows_round_trip_and_match_the_orms_stored_form(store: Store) -> None:
    cet = datetime(2026, 5, 1, 14, 0, tzinfo=UTC).astimezone()  # an offset other than UTC, whole seconds
    alerts = [mk(1, NOW), mk(2, cet), mk(3, NOW, AlertStatus.RESOLVED), mk(1, NOW)]  # the last: a repeat
    with store.transaction() as session:
        assert alerts_repo.insert_events(session, alerts, NOW) == 3
    with store.transaction() as session:
        rows = alerts_repo.pending_events(session, 10)
        assert [alerts_repo.row_to_alert(r).model_copy(update={"source": "api"}) for r in rows] == alerts[:3]
        # the ORM's own write of the same times, for comparison of the stored text (SQLite keeps text)
        session.add(AlertEventRow(fingerprint="orm", status="firing", starts_at=cet, ends_at=None, labels={},
                                  annotations={}, generator_url="", source="t", received_at=NOW, processed=False))
    with store.transaction() as session:
        conn = session.connection(bind_arguments={"mapper": AlertEventRow.__mapper__})
        stored = dict(conn.execute(text("SELECT fingerprint, CAST(starts_at AS TEXT) FROM alert_events")).all())
    assert stored["orm"] == stored[alerts[1].fingerprint]
    with store.transaction() as session:  # a replay, whichever way it was first written, is no news
        assert alerts_repo.insert_events(session, alerts, NOW + timedelta(seconds=5)) == 0
        replay = alerts[1].model_copy(update={"fingerprint": "orm", "labels": {}, "annotations": {}})
        assert alerts_repo.insert_events(session, [replay], NOW) == 0


def test_more_rows_than_one_statement_holds(store: Store) -> None:
    alerts = [mk(i, NOW) for i in range(2501)]
    with store.transaction() as session:
        assert alerts_repo.insert_events(session, alerts, NOW) == 2501
    with store.transaction() as session:
        assert alerts_repo.count_events(session) == 2501


def test_the_pipelines_read_sees_what_the_orm_reads(store: Store) -> None:
    """pending_alerts (through the driver) against pending_events (the ORM), rows written both ways."""
    cet = datetime(2026, 5, 1, 14, 0, tzinfo=UTC).astimezone()
    with store.transaction() as session:
        alerts_repo.insert_events(session, [mk(1, NOW), mk(2, cet, AlertStatus.RESOLVED)], NOW)
        session.add(AlertEventRow(fingerprint="orm", status="firing", starts_at=cet, ends_at=cet + timedelta(hours=1),
                                  labels={"a": "é"}, annotations={"b": "\"q\""}, generator_url="", source="t",
                                  received_at=NOW, processed=False))
    with store.transaction() as session:
        orm = [(r.id, alerts_repo.row_to_alert(r)) for r in alerts_repo.pending_events(session, 10)]
        fast = alerts_repo.pending_alerts(session, 10)
        assert len(orm) == 3
        assert fast == orm
        assert alerts_repo.pending_alerts(session, 2) == orm[:2]
        alerts_repo.mark_processed(session, [orm[0][0]])
    with store.transaction() as session:
        assert alerts_repo.pending_alerts(session, 10) == orm[1:]


def test_each_event_is_journalled_in_its_shard(store: Store) -> None:
    """The shard comes from the labels the store shards by; a claim reads only its shards, in id order."""
    with store.transaction() as session:  # a store not told how to shard: everything in shard 0
        alerts_repo.insert_events(session, [mk(99, NOW)], NOW)
        (row,) = alerts_repo.pending_events(session, 100)
        assert row.shard == 0
        alerts_repo.mark_processed(session, [row.id])
    sharded = Store(store.url, run_migrations=False, shard_by=["instance"])
    try:
        alerts = [mk(i, NOW) for i in range(40)]
        with sharded.transaction() as session:
            alerts_repo.insert_events(session, alerts, NOW)
        expected = {a.fingerprint: alerts_repo.shard_of(a.labels, ("instance",)) for a in alerts}
        with sharded.transaction() as session:
            rows = alerts_repo.pending_events(session, 100)
            assert {r.fingerprint: r.shard for r in rows} == expected
            if sharded.journal_cursor:  # SQLite: one partition, read by cursor; a claim makes no sense there
                with pytest.raises(ValueError):
                    alerts_repo.pending_alerts(session, 100, [0])
                return
            counts = alerts_repo.pending_shards(session, 1000)
            assert sorted(counts) == sorted((s, list(expected.values()).count(s)) for s in set(expected.values()))
            first = rows[0].shard
            assert counts[0][0] == first  # the shard with the oldest pending row comes first
            picked = alerts_repo.pending_alerts(session, 100, [first])
            assert [i for i, _a in picked] == [r.id for r in rows if r.shard == first]
    finally:
        sharded.close()


def test_a_journal_file_from_before_shards_gains_the_column(tmp_path: Path) -> None:
    """SQLite's journal file is created by the store, not migrated: an old one is given the column in place,
    its rows in shard 0 and still pending."""
    import sqlite3

    old = sqlite3.connect(tmp_path / "store.journal.db")
    old.execute("CREATE TABLE alert_events (id INTEGER PRIMARY KEY, fingerprint VARCHAR(16), status VARCHAR(10), "
                "starts_at DATETIME, ends_at DATETIME, labels JSON, annotations JSON, generator_url TEXT, "
                "source VARCHAR(32), received_at DATETIME, processed BOOLEAN, "
                "CONSTRAINT uq_alert_event_key UNIQUE (fingerprint, status, starts_at))")
    old.execute("INSERT INTO alert_events VALUES (1, 'abc', 'firing', '2026-05-01 12:00:00.000000', NULL, "
                "'{\"alertname\": \"Old\"}', '{}', '', 'api', '2026-05-01 12:00:00.000000', 0)")
    old.commit()
    old.close()
    store = Store(f"sqlite:///{tmp_path / 'store.db'}", shard_by=["alertname"])
    try:
        with store.transaction() as session:
            alerts_repo.insert_events(session, [mk(1, NOW)], NOW)
        with store.transaction() as session:
            rows = alerts_repo.pending_events(session, 10)
            assert [(r.fingerprint, r.shard) for r in rows] == [
                ("abc", 0), (mk(1, NOW).fingerprint, alerts_repo.shard_of({"alertname": "Down"}, ("alertname",)))]
    finally:
        store.close()
