"""Several processes share the pipeline's outbox and diagnoses on PostgreSQL (distributed mode):
a due notification is handed to one deliverer, an incident to one diagnoser, never both."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from steadyops.core.clock import FakeClock
from steadyops.pipeline.diagnose import needing_diagnosis
from steadyops.pipeline.notify import CLAIM_LEASE, Dispatcher
from steadyops.store import Store
from steadyops.store.tables import IncidentRow, NotificationRow

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    s = Store(pg_url)
    yield s
    s.close()


def dispatcher(store: Store, clock: FakeClock) -> Dispatcher:
    return Dispatcher(store, {}, clock, max_attempts=3, backoff=1.0, backoff_max=10.0)


def test_a_due_notification_is_claimed_by_one_deliverer(store: Store) -> None:
    clock = FakeClock(start=NOW)
    with store.transaction() as s:
        row = NotificationRow(dedup_key=f"claim-{uuid.uuid4().hex}", group_key="g", receiver="default", channel=0,
                              channel_type="webhook", payload={}, status="pending", attempts=0,
                              next_attempt_at=NOW - timedelta(seconds=1), created_at=NOW)
        s.add(row)
        s.flush()
        row_id = row.id
    first, second = dispatcher(store, clock), dispatcher(store, clock)
    assert row_id in [r.id for r in first._due(1000)]
    assert row_id not in [r.id for r in second._due(1000)]  # leased to the first
    clock.advance(CLAIM_LEASE + 1)  # the first died without recording: the lease runs out
    assert row_id in [r.id for r in second._due(1000)]


def test_an_incident_is_diagnosed_by_one_process_at_a_time(store: Store) -> None:
    with store.transaction() as s:
        inc = IncidentRow(title=f"claim {uuid.uuid4().hex}", status="open", severity="critical", labels={},
                          first_alert_at=NOW, opened_at=NOW, last_alert_at=NOW)
        s.add(inc)
        s.flush()
        inc_id = inc.id
    with store.transaction() as a:
        assert inc_id in [i.id for i in needing_diagnosis(a, limit=1000)]
        with store.transaction() as b:  # another worker while the first still diagnoses it
            assert inc_id not in [i.id for i in needing_diagnosis(b, limit=1000)]
    with store.transaction() as c:  # the first ended without storing a diagnosis: it is needed again
        assert inc_id in [i.id for i in needing_diagnosis(c, limit=1000)]
