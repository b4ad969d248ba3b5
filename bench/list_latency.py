#!/usr/bin/env python3
"""List latency at scale: ``GET /api/v1/incidents`` and ``GET /api/v1/alerts`` at 10,000 incidents / 1 M alerts.

    python bench/list_latency.py [--incidents 10000] [--alerts-each 100] [--calls 60] [--postgres]

A store (SQLite in a temporary dir, or a throw-away PostgreSQL database with ``--postgres``) is
migrated and filled with ``--incidents`` incidents of ``--alerts-each`` alerts each (the default is
1,000,000 alerts), bulk-inserted, and the incidents' stored alert counts are computed the way the
migration backfills them (``store.counts.recount``). Then each list call is made ``--calls`` times,
round-robin, through the real HTTP API in-process (FastAPI over ASGI in one running TestClient, as a
server keeps one event loop; authenticated with a bearer token, JSON encoded) and timed end to end:
first pages, filtered pages, and a page deep in the list reached with the cursor.

The named peers, measured in the same run on the same data. Over the same HTTP path, interleaved
with ours: the incident list route as i10b served it (``peer: i10b route``: a grouped count over
the page's alerts on every call, and FastAPI's response_model serialisation), mounted beside ours.
Directly against the store (no HTTP, so these peers are flattered): the list as it was before i10b
(``peer: load-every-alert``: every incident of the page loads all its alerts to count them, and a
deep alerts page is reached with ``OFFSET``), and the i10b store step (``peer: count aggregate``:
the page's rows plus one grouped count over their alerts), beside the same step of ours
(``store only``: the page's rows, which carry their counts since 0010_i10c). The target is
< 20 ms per list call. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Response
from fastapi.testclient import TestClient
from sqlalchemy import case, func, insert, select

from steadyops.api.deps import get_app
from steadyops.api.incidents import IncidentSummary
from steadyops.api.params import NEXT_CURSOR
from steadyops.app import App, build_app
from steadyops.auth import Viewer
from steadyops.config.settings import Settings
from steadyops.server import create_server
from steadyops.store import counts
from steadyops.store import incidents as incidents_repo
from steadyops.store.tables import AlertRow, IncidentRow, IncidentTargetRow
from steadyops.testing.auth import bearer, token_for

T0 = datetime(2026, 1, 1, tzinfo=UTC)
I10B_PEER = "peer: i10b route, over HTTP (100)"
TARGET_MS = 20.0
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def fill(app: Any, incidents: int, alerts_each: int) -> None:
    """Bulk rows: incidents 1..N, each with its alerts (half firing), updated_at spread over a day."""
    batch: list[dict[str, Any]] = []
    engine = app.store.engine
    with engine.begin() as conn:
        conn.execute(insert(IncidentRow.__table__), [  # type: ignore[arg-type]
            {"id": i, "title": f"disk full on db-{i}", "status": ("open", "acknowledged", "resolved")[i % 3],
             "severity": "critical" if i % 5 == 0 else "warning", "labels": {"alertname": "DiskFull"},
             "group_keys": [f"g{i}"], "target_count": 1, "first_alert_at": T0, "opened_at": T0,
             "last_alert_at": T0} for i in range(1, incidents + 1)])
        conn.execute(insert(IncidentTargetRow.__table__), [  # type: ignore[arg-type]
            {"incident_id": i, "target": f"db-{i}", "position": 0, "first_seen_at": T0}
            for i in range(1, incidents + 1)])
    n = 0
    for i in range(1, incidents + 1):
        for j in range(alerts_each):
            n += 1
            batch.append({"fingerprint": f"{n:016x}", "labels": {"alertname": "DiskFull", "instance": f"db-{i}:9100",
                                                                 "mount": f"/data{j}"},
                          "annotations": {"summary": "disk usage above 90%"},
                          "status": "firing" if j % 2 else "resolved", "starts_at": T0, "ends_at": None,
                          "generator_url": "", "source": "bench", "updated_at": T0 + timedelta(seconds=n % 86400),
                          "muted_by": [], "incident_id": i})
            if len(batch) == 50_000:
                with engine.begin() as conn:
                    conn.execute(insert(AlertRow.__table__), batch)  # type: ignore[arg-type]
                batch.clear()
    if batch:
        with engine.begin() as conn:
            conn.execute(insert(AlertRow.__table__), batch)  # type: ignore[arg-type]
    with app.store.transaction() as session:  # Core inserts bypass the flush hook: count as the backfill does
        counts.recount(session)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def _summary(samples: list[float], cpu: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {"median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
            "cpu_ms": round(statistics.median(cpu), 2)}


def timed(cases: dict[str, Callable[[], Any]], calls: int) -> dict[str, dict[str, float]]:
    """Each case ``calls`` times, round-robin: a burst of load from elsewhere on the machine lands on every
    case alike instead of on whichever one happened to run then. Besides wall time, the process's CPU
    time per call (every thread: client, event loop, thread pool): what a call costs the server, which
    waiting for a busy machine's CPUs does not inflate."""
    for fn in cases.values():
        fn()  # warm: caches, prepared statements
    samples: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(calls):
        for name, fn in cases.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            samples[name].append((time.perf_counter() - t) * 1000)
            cpu[name].append((time.process_time() - c) * 1000)
    return {name: _summary(got, cpu[name]) for name, got in samples.items()}


def peer_incidents(app: Any, limit: int) -> Callable[[], Any]:
    """The list before i10b: per incident of the page, load every alert to count them."""
    def run() -> Any:
        with app.store.transaction() as s:
            rows = list(s.scalars(select(IncidentRow).order_by(IncidentRow.id.desc()).limit(limit)))
            return [(r.id, len(alerts := list(s.scalars(select(AlertRow).where(AlertRow.incident_id == r.id)))),
                     sum(a.status == "firing" for a in alerts)) for r in rows]
    return run


def peer_count_aggregate(app: Any, limit: int) -> Callable[[], Any]:
    """The list as i10b left it: the page's rows, then one grouped count over their alerts."""
    def run() -> Any:
        with app.store.transaction() as s:
            rows = list(s.scalars(select(IncidentRow).order_by(IncidentRow.id.desc()).limit(limit)))
            firing = func.sum(case((AlertRow.status == "firing", 1), else_=0))
            return rows, s.execute(select(AlertRow.incident_id, func.count(), firing).where(
                AlertRow.incident_id.in_([r.id for r in rows])).group_by(AlertRow.incident_id)).all()
    return run


def store_only_incidents(app: Any, limit: int) -> Callable[[], Any]:
    """Ours without HTTP, to set beside the aggregate peer: the page's rows, which carry their counts."""
    def run() -> Any:
        with app.store.transaction() as s:
            return [(r.id, r.alert_count, r.firing_count) for r in incidents_repo.list_rows(s, limit=limit)]
    return run


I10B_ROUTE = "/bench/i10b/incidents"


def add_i10b_route(api: FastAPI) -> None:
    """The incident list route exactly as i10b served it, mounted beside ours so both are timed over the
    same HTTP path, interleaved: rows, one grouped count over their alerts, the domain model with those
    counts, and FastAPI's ``response_model`` serialisation of the returned list."""

    @api.get(I10B_ROUTE, response_model=list[IncidentSummary])
    def i10b_incidents(me: Viewer, app: Annotated[App, Depends(get_app)], response: Response,
                       limit: int = 100) -> list[IncidentSummary]:
        with app.store.transaction() as session:
            rows = incidents_repo.list_rows(session, limit=limit)
            firing = func.sum(case((AlertRow.status == "firing", 1), else_=0))
            counted = {int(i): (int(n), int(f or 0)) for i, n, f in session.execute(
                select(AlertRow.incident_id, func.count(), firing)
                .where(AlertRow.incident_id.in_([r.id for r in rows])).group_by(AlertRow.incident_id))}
            if len(rows) == limit:
                response.headers[NEXT_CURSOR] = str(rows[-1].id)
            return [IncidentSummary.of(incidents_repo.to_model(session, r).model_copy(update=dict(zip(
                ("alert_count", "firing_count"), counted.get(r.id, (0, 0)), strict=True)))) for r in rows]


def peer_alerts_offset(app: Any, limit: int, offset: int) -> Callable[[], Any]:
    def run() -> Any:
        with app.store.transaction() as s:
            return list(s.scalars(select(AlertRow).order_by(AlertRow.updated_at.desc()).offset(offset).limit(limit)))
    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--alerts-each", type=int, default=100)
    ap.add_argument("--calls", type=int, default=60)
    ap.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL database instead of SQLite")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="steadyops-bench-lists-"))
    db_name, admin = None, None
    settings: dict[str, Any] = {"data_dir": tmp / "data"}
    if args.postgres:
        import psycopg

        db_name = f"steadyops_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
        admin.execute(f'CREATE DATABASE "{db_name}"')
        settings["database_url"] = PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
    app = build_app(Settings(**settings))
    running = contextlib.ExitStack()
    try:
        t = time.perf_counter()
        fill(app, args.incidents, args.alerts_each)
        total = args.incidents * args.alerts_each
        print(f"filled {args.incidents} incidents / {total} alerts on {app.store.engine.dialect.name} "
              f"in {time.perf_counter() - t:.0f}s", file=sys.stderr)
        # entered: one event loop for every call, as a server has (not a new loop thread per call)
        api = create_server(app, run_pipeline=False)
        add_i10b_route(api)
        client = running.enter_context(TestClient(api))
        client.headers.update(bearer(token_for(app, "bench", "viewer")))

        def get(path: str, **params: Any) -> Callable[[], Any]:
            def run() -> Any:
                resp = client.get(path, params=params)
                resp.raise_for_status()
                return resp
            return run

        mid_incident = args.incidents // 2
        deep = client.get("/api/v1/alerts", params={"limit": 100})
        cursor = deep.headers["x-next-cursor"]
        for _ in range(min(4999, total // 200)):  # walk ~half way down the alert list by cursor
            cursor = client.get("/api/v1/alerts", params={"limit": 100, "cursor": cursor}).headers["x-next-cursor"]
        half = min(4999, total // 200) * 100
        rows = timed({
            "incidents, first page (100)": get("/api/v1/incidents", limit=100),
            "incidents, status=open (100)": get("/api/v1/incidents", limit=100, status="open"),
            f"incidents, page at id {mid_incident} (cursor)": get("/api/v1/incidents", limit=100, cursor=mid_incident),
            "alerts, first page (100)": get("/api/v1/alerts", limit=100),
            "alerts, status=firing (100)": get("/api/v1/alerts", limit=100, status="firing"),
            "alerts, incident_id (100)": get("/api/v1/alerts", limit=100, incident_id=mid_incident),
            f"alerts, page {half // 100 + 1} (cursor)": get("/api/v1/alerts", limit=100, cursor=cursor),
            I10B_PEER: get(I10B_ROUTE, limit=100),  # interleaved with ours; reported with the peers
        }, args.calls)
        peer_i10b = rows.pop(I10B_PEER)
        assert client.get(I10B_ROUTE).json() == client.get("/api/v1/incidents").json(), "the peer answers the same"
        peers = {
            I10B_PEER: peer_i10b,
            **timed({"peer: load-every-alert incidents (100)": peer_incidents(app, 100),
                     f"peer: alerts OFFSET {half} (100)": peer_alerts_offset(app, 100, half)},
                    max(5, args.calls // 3)),
            **timed({"peer: count aggregate incidents (100)": peer_count_aggregate(app, 100),
                     "store only: incidents with stored counts (100)": store_only_incidents(app, 100)}, args.calls),
        }
        width = max(len(k) for k in (*rows, *peers))
        print(f"{'list call':<{width}}  median ms   p95 ms   cpu ms")
        for name, r in {**rows, **peers}.items():
            print(f"{name:<{width}}  {r['median_ms']:>9.2f} {r['p95_ms']:>8.2f} {r['cpu_ms']:>8.2f}")
        worst = max(r["p95_ms"] for r in rows.values())
        ratios = {"incidents_vs_i10b_route": round(peer_i10b["median_ms"]
                                                   / rows["incidents, first page (100)"]["median_ms"], 1),
                  "incidents_vs_peer": round(peers["peer: load-every-alert incidents (100)"]["median_ms"]
                                             / rows["incidents, first page (100)"]["median_ms"], 1),
                  "store_incidents_vs_aggregate_peer": round(
                      peers["peer: count aggregate incidents (100)"]["median_ms"]
                      / peers["store only: incidents with stored counts (100)"]["median_ms"], 1),
                  "deep_alerts_vs_offset_peer": round(peers[f"peer: alerts OFFSET {half} (100)"]["median_ms"]
                                                      / rows[f"alerts, page {half // 100 + 1} (cursor)"]["median_ms"],
                                                      1)}
        print(f"worst p95 {worst:.2f} ms (target < {TARGET_MS:g} ms: {'met' if worst < TARGET_MS else 'NOT met'}); "
              f"ratios (peer / ours): {ratios}")
        print(json.dumps({"backend": app.store.engine.dialect.name, "incidents": args.incidents, "alerts": total,
                          "lists": rows, "peers": peers, "ratios": ratios, "worst_p95_ms": worst,
                          "target_ms": TARGET_MS}))
        return 0
    finally:
        running.close()
        app.close()
        shutil.rmtree(tmp, ignore_errors=True)  # ~0.5 GB of SQLite at the default size
        if admin is not None and db_name is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            admin.close()


if __name__ == "__main__":
    sys.exit(main())
