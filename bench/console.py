#!/usr/bin/env python3
"""Console page cost: server time per page with a large store, against Alertmanager's UI budget.

    python bench/console.py [--incidents 10000] [--alerts-per-incident 5] [--repeat 20]

Seeds a SQLite store (a temporary data dir) with ``--incidents`` incidents, their alerts and
timeline rows, then requests every console page ``--repeat`` times over ASGI (no network, so the
figure is the server's own time: routing, queries, rendering) as a signed-in admin, and prints
p50 / p95 / max per page. The goal stated in the issue is < 150 ms per page at 10,000 incidents;
the last line is one JSON object with the figures. The peer figure printed for scale is the cost
of the JSON list the API serves for the same rows (the console must not be much dearer than it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from steadyops.app import build_app
from steadyops.auth import Role
from steadyops.config.settings import Settings
from steadyops.server import create_server
from steadyops.store import incident_targets
from steadyops.store.tables import AlertRow, IncidentEventRow, IncidentRow
from steadyops.testing.auth import token_for

PAGES = ["/", "/incidents", "/incidents?status=all", "/incidents/rows", "/incidents/{mid}", "/approvals",
         "/audit", "/inspections", "/topology", "/silences", "/kb", "/chat", "/silences/new"]
PEER = "/api/v1/incidents?limit=100"


def seed(app: object, incidents: int, per: int) -> None:
    store = app.store  # type: ignore[attr-defined]
    now = app.clock.now()  # type: ignore[attr-defined]
    sev = ["critical", "warning", "info"]
    with store.transaction() as s:
        for i in range(incidents):
            opened = now - timedelta(minutes=incidents - i)
            row = IncidentRow(title=f"Alert{i % 97} on web-{i % 50}",
                              status=["open", "acknowledged", "resolved"][i % 3],
                              severity=sev[i % 3], labels={"alertname": f"Alert{i % 97}"}, group_keys=[f"g{i}"],
                              target_count=0, first_alert_at=opened, opened_at=opened, last_alert_at=opened)
            s.add(row)
            s.flush()
            incident_targets.add(s, row, [f"web-{i % 50}"], opened)
        ids = [r for (r,) in s.execute(IncidentRow.__table__.select().with_only_columns(IncidentRow.id))]
        for n, incident_id in enumerate(ids):
            for k in range(per):
                s.add(AlertRow(fingerprint=f"{n:08x}{k:08x}", labels={"alertname": f"Alert{n % 97}",
                                                                   "instance": f"web-{k}"},
                               annotations={"summary": "seeded"}, status="firing" if k % 2 else "resolved",
                               starts_at=now, ends_at=None, generator_url="", source="bench", updated_at=now,
                               muted_by=[], incident_id=incident_id))
            s.add(IncidentEventRow(incident_id=incident_id, at=now, kind="opened", actor="system", detail=""))


async def measure(client: httpx.AsyncClient, path: str, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = await client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{path}: HTTP {r.status_code}: {r.text[:200]}")
    return out


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--alerts-per-incident", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Settings(data_dir=Path(tmp)))
        t0 = time.perf_counter()
        seed(app, args.incidents, args.alerts_per_incident)
        print(f"seeded {args.incidents} incidents, {args.incidents * args.alerts_per_incident} alerts "
              f"in {time.perf_counter() - t0:.1f}s")
        token = token_for(app, "bench", Role.ADMIN)
        api = create_server(app, run_pipeline=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://bench",
                                     cookies={"steadyops_session": token}, headers={"Accept": "text/html"}) as c:
            with app.store.transaction() as s:
                mid = s.query(IncidentRow.id).order_by(IncidentRow.id).offset(args.incidents // 2).limit(1).scalar()
            results = {}
            for page in [*PAGES, PEER]:
                path = page.format(mid=mid)
                await measure(c, path, 2)  # warm caches and templates
                ms = await measure(c, path, args.repeat)
                results[page] = {"p50_ms": round(statistics.median(ms), 1),
                                 "p95_ms": round(sorted(ms)[int(0.95 * (len(ms) - 1))], 1),
                                 "max_ms": round(max(ms), 1)}
        app.close()
    peer = results[PEER]["p50_ms"]
    print(f"{'page':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'vs API list':>12}")
    for page, r in results.items():
        ok = "" if r["p95_ms"] < 150 else "  > 150 ms"
        print(f"{page:34} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['max_ms']:8.1f} {r['p50_ms'] / peer:11.2f}x{ok}")
    print(json.dumps({"incidents": args.incidents, "pages": results,
                      "all_under_150ms_p95": all(r["p95_ms"] < 150 for p, r in results.items() if p != PEER)}))


if __name__ == "__main__":
    asyncio.run(main())
