"""Several ingesters share one PostgreSQL journal by shards (pipeline/ingester.py) and reach the state one
ingester reaches: no event lost or taken twice, each alert's events in order, no deadlock.

The journal: a few thousand events in 300 groups (alert name x cluster, plus a ``continue`` route that
puts the database team's alerts in a second group each), firing and resolving and firing again, one
alert name silenced. Every alert of a cluster is on one target, so a cluster's groups (spread over
many shards) converge on one incident: the ingesters meet on incidents all the time. One of them
crashes once mid-batch, holding its claims and the incident lock.

What "the same state" means: the same alerts, groups and memberships, and the same incidents told
apart by their alerts (ids and titles depend on which batch came first, as they would for one ingester
given the events in another order), with the same status, counts, targets, groups and labels.
"""

from __future__ import annotations

import os
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from steadyops.config.settings import Settings
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Inventory
from steadyops.core.models import Alert, AlertStatus, Matcher, Silence
from steadyops.pipeline.context import AlertBatch, Context, Stage
from steadyops.pipeline.ingester import Ingest, build_stages
from steadyops.pipeline.route import Route
from steadyops.store import Store, counts, incident_targets
from steadyops.store import alerts as alerts_repo
from steadyops.store import silences as silences_repo
from steadyops.store.tables import AlertEventRow, AlertRow, GroupAlertRow, GroupRow, IncidentRow

PG_ADMIN_URL = os.environ.get("STEADYOPS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CLUSTERS, NAMES, PODS = 12, 25, 8
BATCH = 8
SETTINGS = Settings.model_validate({
    "route": {"receiver": "default", "group_by": ["alertname", "cluster"], "group_wait": "30s",
              "routes": [{"matchers": ['team="db"'], "receiver": "dba", "group_by": ["alertname", "cluster", "pod"],
                          "continue": True},
                         {"matchers": ['severity="critical"'], "receiver": "pager",
                          "group_by": ["cluster", "severity", "alertname"]}]},
    "receivers": [{"name": "default"}, {"name": "dba"}, {"name": "pager"}],
})


@pytest.fixture
def databases() -> Iterator[Callable[[], str]]:
    """Throw-away PostgreSQL databases, dropped (connections and all) afterwards."""
    import psycopg

    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    made: list[str] = []

    def make() -> str:
        name = f"steadyops_shards_{uuid.uuid4().hex[:10]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    with admin:
        try:
            yield make
        finally:
            for name in made:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def journal() -> list[Alert]:
    """Every alert fires; half resolve, some of those fire again and resolve again: four phases, the alerts
    in one random order in each. Every start is older than group_wait, so a group's first flush is "now"
    whichever of its alerts created it."""
    rng = random.Random(13)
    phases: list[list[Alert]] = [[], [], [], []]
    for c in range(CLUSTERS):
        for n in range(NAMES):
            for p in range(PODS):
                labels = {"alertname": f"Alert{n}", "cluster": f"c{c}", "instance": f"node-{c}", "pod": f"p{p}",
                          "severity": rng.choice(["warning", "critical", "info"])}
                if n % 5 == 0:
                    labels["team"] = "db"
                start = NOW - timedelta(minutes=rng.randrange(10, 120))
                phases[0].append(Alert(labels=labels, starts_at=start))
                if rng.random() < 0.5:
                    phases[1].append(Alert(labels=labels, status=AlertStatus.RESOLVED, starts_at=start,
                                           ends_at=start + timedelta(minutes=5)))
                    if rng.random() < 0.3:
                        again = start + timedelta(minutes=7)
                        phases[2].append(Alert(labels=labels, starts_at=again))
                        if rng.random() < 0.5:
                            phases[3].append(Alert(labels=labels, status=AlertStatus.RESOLVED, starts_at=again,
                                                   ends_at=again + timedelta(minutes=1)))
    rank = {a.fingerprint: i for i, a in enumerate(rng.sample(phases[0], len(phases[0])))}
    return spaced([a for phase in phases for a in sorted(phase, key=lambda a: rank[a.fingerprint])])


def spaced(events: list[Alert]) -> list[Alert]:
    """``events`` less those closer than BATCH events of their shard to the previous event of their alert
    (and the alert's later ones): whatever the batches, no batch holds two events of one alert.

    Why the test needs it: a batch folds one alert's events into one change (dedup), so an alert that fires
    and resolves inside one batch is never grouped nor joins an incident, for one ingester or many; what
    a batch holds differs between one ingester and three, so such pairs would make the outcomes differ
    for a reason that has nothing to do with sharing. A batch is at most BATCH events, the oldest pending
    ones of the shards it claimed, so two events of a shard with BATCH others between never share one."""
    by = Route.build(SETTINGS.route).shard_labels()
    assert by is not None
    names = tuple(sorted(by))
    last: dict[str, int] = {}
    dropped: set[str] = set()
    position: dict[int, int] = {}
    kept = []
    for event in events:
        if event.fingerprint in dropped:
            continue
        shard = alerts_repo.shard_of(event.labels, names)
        previous = last.get(event.fingerprint)
        if previous is not None and position.get(shard, 0) - previous < BATCH:
            dropped.add(event.fingerprint)
            continue
        position[shard] = position.get(shard, 0) + 1
        last[event.fingerprint] = position[shard]
        kept.append(event)
    return kept


def fill(url: str, events: list[Alert]) -> Store:
    store = Store(url, shard_by=Route.build(SETTINGS.route).shard_labels())
    with store.transaction() as s:
        quiet = Silence(id="quiet", matchers=[Matcher.parse('alertname="Alert7"')], starts_at=NOW - timedelta(days=1),
                        ends_at=NOW + timedelta(days=1), created_by="test")
        silences_repo.create(s, quiet, NOW)
    for start in range(0, len(events), 500):
        with store.transaction() as s:
            alerts_repo.insert_events(s, events[start:start + 500], NOW)
    return store


def ingest(store: Store, stages: list[Any] | None = None) -> Ingest:
    return Ingest(store, stages or build_stages(SETTINGS, Inventory([])), FakeClock(start=NOW), SETTINGS, Inventory([]),
                  batch_size=BATCH)


class CrashOnce:
    """The incident stage, raising once after it took the incident lock and its rows: a process dying there."""

    def __init__(self, inner: Stage) -> None:
        self.inner = inner
        self.crashed = False

    def __call__(self, batch: AlertBatch, ctx: Context) -> AlertBatch | None:
        result = self.inner(batch, ctx)
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("simulated crash mid-batch")
        return result


def state(store: Store) -> dict[str, Any]:
    """The pipeline's results, with incidents named by their alerts instead of their ids."""
    with store.transaction() as s:
        incidents = {row.id: row for row in s.scalars(select(IncidentRow))}
        members: dict[int, list[str]] = {}
        alerts = {}
        for a in s.scalars(select(AlertRow)):
            alerts[a.fingerprint] = (a.status, a.starts_at, a.ends_at, a.muted_by, a.incident_id)
            if a.incident_id is not None:
                members.setdefault(a.incident_id, []).append(a.fingerprint)
        names = {i: min(fps) for i, fps in members.items()}  # an incident, told apart by its alerts
        targets = incident_targets.by_incident(s, incidents)
        assert set(names) == set(incidents)  # no incident without alerts

        def name(incident_id: int | None) -> str | None:
            return None if incident_id is None else names[incident_id]

        return {
            "alerts": {fp: (*rest, name(i)) for fp, (*rest, i) in alerts.items()},
            "groups": {g.key: (g.route_id, g.receiver, g.labels, g.next_flush_at, name(g.incident_id))
                       for g in s.scalars(select(GroupRow))},
            "members": sorted(s.execute(select(GroupAlertRow.group_key, GroupAlertRow.fingerprint)).tuples()),
            "incidents": {names[i]: (r.status, r.severity, r.labels, sorted(targets[i]), r.target_count,
                                    sorted(r.group_keys), r.alert_count, r.firing_count, r.first_alert_at,
                                    r.opened_at, r.resolved_by, sorted(members[i]))
                          for i, r in incidents.items()},
            "drift": counts.drifted(s),
            "pending": alerts_repo.count_pending(s),
        }


@pytest.mark.integration
def test_concurrent_ingesters_reach_the_state_of_one(databases: Callable[[], str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    events = journal()
    root = Route.build(SETTINGS.route)
    by = root.shard_labels()
    assert len(events) > 3500 and by == frozenset({"alertname", "cluster"})
    assert sum(a.status is AlertStatus.RESOLVED for a in events) > 1000
    # team=db and critical: two groups (the first route continues), keyed by different labels
    keys = {route.group_key(a.labels) for a in events for route in root.match(a.labels)}
    one, many = fill(databases(), events), fill(databases(), events)
    try:
        with one.transaction() as s:
            ids = sorted(s.scalars(select(AlertEventRow.id)))
            assert len({shard for shard in s.scalars(select(AlertEventRow.shard))}) > 40  # spread over the shards
        single = ingest(one)
        while single.once():
            pass
        expected = state(one)
        assert expected["pending"] == 0 and expected["drift"] == []
        assert set(expected["groups"]) == keys
        assert len(expected["incidents"]) == CLUSTERS  # one per cluster: its target

        # the journal ids each ingester marked processed, and the shards each batch claimed
        taken: dict[str, list[list[int]]] = {}
        claims: list[tuple[str, list[int]]] = []
        mark, claim = alerts_repo.mark_processed, Ingest.claim

        def marking(session: Any, done: list[int]) -> None:
            taken.setdefault(threading.current_thread().name, []).append(list(done))
            mark(session, done)

        def claiming(self: Ingest, session: Any) -> list[int] | None:
            got = claim(self, session)
            claims.append((threading.current_thread().name, list(got or [])))
            return got

        monkeypatch.setattr(alerts_repo, "mark_processed", marking)
        monkeypatch.setattr(Ingest, "claim", claiming)
        errors: list[tuple[str, BaseException]] = []
        start = threading.Barrier(3)

        def run(worker: Ingest) -> None:
            start.wait()
            idle = 0
            while idle < 3:  # done when three claims in a row found nothing to take
                try:
                    idle = 0 if worker.once() else idle + 1
                except Exception as exc:  # rolled back; replayed by whoever claims the shards next
                    errors.append((threading.current_thread().name, exc))

        crashing = build_stages(SETTINGS, Inventory([]))
        crashing[-1] = CrashOnce(crashing[-1])
        stores = [Store(many.url, run_migrations=False) for _ in range(3)]
        threads = [threading.Thread(target=run, args=(ingest(st, crashing if i == 0 else None),), name=f"ingester{i}")
                   for i, st in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert not any(t.is_alive() for t in threads), "an ingester hung (a deadlock would)"
        for st in stores:
            st.close()

        # the one injected crash, nothing else (a deadlock or a unique-key clash would show here)
        assert [(who, str(exc)) for who, exc in errors] == [("ingester0", "simulated crash mid-batch")]
        # every event taken once (the crashed batch's too: it crashed before marking, and was replayed)
        assert sorted(i for batches in taken.values() for batch in batches for i in batch) == ids
        assert len(taken) == 3 and len({who for who, got in claims if got}) == 3  # all three took part
        got = state(many)
        assert got["pending"] == 0 and got["drift"] == []
        for part in ("alerts", "groups", "members", "incidents"):
            assert got[part] == expected[part], part
    finally:
        one.close()
        many.close()


@pytest.mark.integration
def test_a_claim_is_the_batchs_until_it_ends(databases: Callable[[], str]) -> None:
    """Two batches at once never take one shard; the second takes others, or nothing when none is left."""
    store = fill(databases(), journal()[:400])
    other = Store(store.url, run_migrations=False)
    try:
        first, second = ingest(store), ingest(other)
        with store.transaction() as a, other.transaction() as b:
            mine = first.claim(a)
            assert mine
            theirs = second.claim(b)
            assert theirs is not None and not set(mine) & set(theirs)
            with store.transaction() as c:  # a third, while both hold theirs
                rest = ingest(store).claim(c)
                assert rest is not None and not set(rest) & (set(mine) | set(theirs))
        with store.transaction() as d:  # ended (here by commit): the shards are free again
            assert first.claim(d) == mine
    finally:
        other.close()
        store.close()


def test_sqlite_is_one_partition(tmp_path: Any) -> None:
    """SQLite: no claims, the whole journal is one partition read by cursor, as before."""
    store = Store(f"sqlite:///{tmp_path / 'store.db'}", shard_by=Route.build(SETTINGS.route).shard_labels())
    try:
        events = journal()[:300]
        with store.transaction() as s:
            alerts_repo.insert_events(s, events, NOW)
        worker = ingest(store)
        with store.transaction() as s:
            assert worker.claim(s) is None
        assert worker.once() == BATCH  # the oldest BATCH events, whatever their shards
    finally:
        store.close()
