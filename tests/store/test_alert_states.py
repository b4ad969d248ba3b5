"""The pipeline's batch writer for alert state: what it writes reads back through the ORM exactly as
an ORM-written alert does (values, the stored text of times, ordering), and it keeps the incidents'
stored counts as the ORM's flush hook would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from steadyops.store import Store, alert_states, counts
from steadyops.store.alert_states import AlertState
from steadyops.store.tables import AlertRow, IncidentRow

NOW = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    s = Store(url)
    with s.transaction() as session:
        for table in ("alerts", "incident_events", "incidents"):
            session.execute(text(f"DELETE FROM {table}"))
    yield s
    s.close()


def state(fp: str, starts: datetime, incident: int | None, status: str = "firing") -> AlertState:
    return AlertState(fingerprint=fp, labels={"alertname": "Down", "region": "华东", "q": "\" \\ '"},
                      annotations={"summary": "引号"}, status=status, starts_at=starts,
                      ends_at=None if status == "firing" else starts + timedelta(minutes=1),
                      generator_url="http://x", source="api", updated_at=NOW, muted_by=["silence:s1"],
                      incident_id=incident, stored=False)


def test_new_alerts_read_back_like_orm_rows(store: Store) -> None:
    cet = datetime(2026, 5, 1, 14, 0, tzinfo=UTC).astimezone()  # an offset other than UTC
    with store.transaction() as session:
        incident = IncidentRow(title="t", status="open", severity="critical", labels={}, group_keys=[],
                               first_alert_at=NOW, opened_at=NOW, last_alert_at=NOW)
        session.add(incident)
        session.flush()
        batch = [state("a", NOW, incident.id), state("b", cet, incident.id, "resolved"), state("c", NOW, None)]
        assert alert_states.save(session, batch) == 3
        assert alert_states.save(session, batch) == 0  # nothing changed since
        session.add(AlertRow(fingerprint="orm", labels={}, annotations={}, status="firing", starts_at=cet,
                             ends_at=None, generator_url="", source="api", updated_at=NOW, muted_by=[]))
    with store.transaction() as session:
        rows = {r.fingerprint: r for r in session.scalars(select(AlertRow))}
        for s in batch:
            r = rows[s.fingerprint]
            assert (r.labels, r.annotations, r.status, r.starts_at, r.ends_at, r.generator_url, r.source,
                    r.updated_at, r.muted_by, r.incident_id) == (
                s.labels, s.annotations, s.status, s.starts_at, s.ends_at, s.generator_url, s.source,
                s.updated_at, s.muted_by, s.incident_id)
        stored = {str(fp): str(t) for fp, t in session.execute(text("SELECT fingerprint, CAST(starts_at AS TEXT) "
                                                                      "FROM alerts"))}
        assert stored["orm"] == stored["b"]  # the same text as the ORM's: comparisons and ordering agree
        ended = select(AlertRow.fingerprint).where(AlertRow.ends_at <= cet + timedelta(minutes=1))
        assert list(session.scalars(ended)) == ["b"]
        assert counts.drifted(session) == []
        assert session.get(IncidentRow, incident.id).alert_count == 2  # type: ignore[union-attr]


def test_moves_between_incidents_keep_counts(store: Store) -> None:
    with store.transaction() as session:
        a, b = (IncidentRow(title=t, status="open", severity="warning", labels={}, group_keys=[],
                            first_alert_at=NOW, opened_at=NOW, last_alert_at=NOW) for t in "ab")
        session.add_all([a, b])
        session.flush()
        alert_states.save(session, [state(f"f{i}", NOW, a.id) for i in range(3)])
    with store.transaction() as session:
        loaded = alert_states.load(session, ["f0", "f1", "f2", "missing"])
        assert sorted(s.fingerprint for s in loaded) == ["f0", "f1", "f2"]
        loaded[0].incident_id = b.id
        loaded[1].status = "resolved"
        loaded[2].updated_at = NOW + timedelta(seconds=1)  # a refresh: written, no count moves
        assert alert_states.save(session, loaded) == 3
    with store.transaction() as session:
        assert counts.drifted(session) == []
        got = {i.title: (i.alert_count, i.firing_count) for i in session.scalars(select(IncidentRow))}
        assert got == {"a": (2, 1), "b": (1, 1)}
