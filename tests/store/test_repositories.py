"""Repository tests, run against SQLite and a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from steadyops.core.errors import Conflict, NotFound, ValidationFailed
from steadyops.core.models import Alert, AlertStatus, Matcher, Silence
from steadyops.store import Store
from steadyops.store import alerts as alerts_repo
from steadyops.store import incidents as incidents_repo
from steadyops.store import silences as silences_repo
from steadyops.store.db import migrate
from steadyops.store.tables import IncidentRow

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    s = Store(url)
    # each test starts from empty tables
    with s.transaction() as session:
        for table in reversed(IncidentRow.metadata.sorted_tables):
            if table.name != "audit_log":  # append-only by a trigger on PostgreSQL; these tests never read it
                session.execute(table.delete())
    yield s
    s.close()


def mk(i: int, status: AlertStatus = AlertStatus.FIRING) -> Alert:
    return Alert(labels={"alertname": "Down", "instance": f"10.0.0.{i}:9100", "region": "华东"},
                 annotations={"summary": "主机宕机"}, status=status, starts_at=NOW)


def test_journal_is_idempotent_and_ordered(store: Store) -> None:
    with store.transaction() as s:
        assert alerts_repo.insert_events(s, [mk(1), mk(2), mk(1)], NOW) == 2
    with store.transaction() as s:
        assert alerts_repo.insert_events(s, [mk(1), mk(2), mk(3)], NOW) == 1
        assert alerts_repo.insert_events(s, [mk(1, AlertStatus.RESOLVED)], NOW) == 1
    with store.transaction() as s:
        pending = alerts_repo.pending_events(s, 10)
        assert [r.labels["instance"] for r in pending] == ["10.0.0.1:9100", "10.0.0.2:9100", "10.0.0.3:9100",
                                                           "10.0.0.1:9100"]
        assert pending[0].starts_at == NOW and pending[0].labels["region"] == "华东"
        alerts_repo.mark_processed(s, [r.id for r in pending[:2]])
    with store.transaction() as s:
        assert alerts_repo.count_pending(s) == 2
        assert alerts_repo.count_events(s) == 4


def test_failed_transaction_writes_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as s:
        alerts_repo.insert_events(s, [mk(1)], NOW)
        raise RuntimeError("crash mid-request")
    with store.transaction() as s:
        assert alerts_repo.count_events(s) == 0


def test_incident_transitions(store: Store) -> None:
    with store.transaction() as s:
        row = IncidentRow(title="t", status="open", severity="critical", labels={}, group_keys=[],
                          first_alert_at=NOW, opened_at=NOW, last_alert_at=NOW)
        s.add(row)
        s.flush()
        iid = row.id
    with store.transaction() as s:
        incidents_repo.acknowledge(s, iid, "alice", NOW + timedelta(minutes=2), "looking")
    with store.transaction() as s:
        incidents_repo.resolve(s, iid, "bob", NOW + timedelta(minutes=9))
    with store.transaction() as s:
        inc = incidents_repo.to_model(s, incidents_repo.get_row(s, iid))
        assert inc.mtta_seconds == 120 and inc.mttr_seconds == 540 and inc.acknowledged_by == "alice"
        assert [e.kind for e in incidents_repo.events(s, iid)] == ["acknowledged", "resolved"]
        with pytest.raises(Conflict):
            incidents_repo.acknowledge(s, iid, "carol", NOW)
        with pytest.raises(NotFound):
            incidents_repo.get_row(s, iid + 1000)


def test_silence_crud(store: Store) -> None:
    sil = Silence(matchers=[Matcher.parse('instance=~"10.0.0.*"')], starts_at=NOW, ends_at=NOW + timedelta(hours=1),
                  created_by="alice", comment="维护窗口")
    with store.transaction() as s:
        created = silences_repo.create(s, sil, NOW)
    with store.transaction() as s:
        assert [x.id for x in silences_repo.list_all(s, active_at=NOW + timedelta(minutes=1))] == [created.id]
        silences_repo.expire(s, created.id, NOW + timedelta(minutes=5))
    with store.transaction() as s:
        assert silences_repo.list_all(s, active_at=NOW + timedelta(minutes=6)) == []
        got = silences_repo.get(s, created.id)
        assert got.comment == "维护窗口" and got.matchers[0].op.value == "=~"
        with pytest.raises(ValidationFailed):
            silences_repo.create(s, sil.model_copy(update={"ends_at": NOW - timedelta(hours=1)}), NOW)


def test_migrations_are_rerunnable(store: Store) -> None:
    migrate(store.engine)
    migrate(store.engine)
