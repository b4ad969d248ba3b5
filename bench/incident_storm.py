#!/usr/bin/env python3
"""CPU of the pipeline's ingestion when one incident collects a storm's targets.

    python bench/incident_storm.py [--alerts 20000] [--batch 5000] [--grown 0] [--postgres]

``--alerts`` alerts on distinct ``instance`` labels, one alert name (so one group, one incident),
are journalled first; then the ingestion stages (dedup → mute → group → incident, ``Ingest.once``
as the ingestion child runs it, ``--batch`` alerts a transaction: the child's ``BATCH`` by default)
drain the journal. Each batch's process CPU time (``time.process_time``: the machine is shared, so
wall time says more about the neighbours than about us) is printed; an incident whose targets are
rewritten whole every batch shows as batches that cost more the later they come. With ``--postgres``
(a throw-away database on the local server) the server's own CPU is not in the numbers. The last
line printed is one JSON object.

``--grown N`` first ingests N alerts of the same storm untimed (in batches of ``BATCH``), so the
timed batches join an incident that has N targets already: the cost of a batch against the size of
the incident it joins, without the storm's first batches in the average.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from steadyops.config.settings import Settings
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Inventory
from steadyops.core.models import Alert, AlertStatus
from steadyops.pipeline.ingester import BATCH, Ingest, build_stages
from steadyops.store import Store
from steadyops.store import alerts as alerts_repo
from steadyops.store import incidents as incidents_repo
from steadyops.store.tables import IncidentRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def journal(store: Store, n: int, first: int = 0) -> None:
    alerts = [Alert(labels={"alertname": "StormDown", "instance": f"node-{i:06d}:9100", "severity": "critical"},
                    status=AlertStatus.FIRING, starts_at=T0, source="bench") for i in range(first, first + n)]
    for start in range(0, n, 5000):
        with store.transaction() as s:
            alerts_repo.insert_events(s, alerts[start:start + 5000], T0)


def run(url: str, alerts: int, batch: int, grown: int = 0) -> dict[str, object]:
    store = Store(url)
    try:
        settings = Settings()
        clock = FakeClock(start=T0)
        if grown:
            journal(store, grown)
            warm = Ingest(store, build_stages(settings, Inventory([])), clock, settings, Inventory([]), BATCH)
            while warm.once():
                pass
        journal(store, alerts, first=grown)
        ingest = Ingest(store, build_stages(settings, Inventory([])), clock, settings, Inventory([]), batch)
        per_batch: list[float] = []
        wall = time.perf_counter()
        while True:
            cpu = time.process_time()
            n = ingest.once()
            if n == 0:
                break
            per_batch.append(time.process_time() - cpu)
        wall = time.perf_counter() - wall
        with store.transaction() as s:
            (incident,) = s.scalars(select(IncidentRow))
            targets = len(incidents_repo.to_model(s, incident).targets)
            incidents = s.scalar(select(func.count()).select_from(IncidentRow))
    finally:
        store.close()
    total = sum(per_batch)
    return {"alerts": alerts, "grown": grown, "batch": batch, "batches": len(per_batch), "incidents": incidents,
            "targets": targets, "cpu_s": round(total, 3), "cpu_us_per_alert": round(total / alerts * 1e6, 1),
            "first_batch_cpu_s": round(per_batch[0], 3), "last_batch_cpu_s": round(per_batch[-1], 3),
            "wall_s": round(wall, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--grown", type=int, default=0, help="alerts of the storm ingested untimed first")
    ap.add_argument("--postgres", action="store_true", help="a throw-away database on the local server")
    args = ap.parse_args()
    if args.postgres:
        import psycopg

        name = f"steadyops_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            result = run(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", args.alerts, args.batch, args.grown)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        result["store"] = "postgresql"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(f"sqlite:///{tmp}/storm.db", args.alerts, args.batch, args.grown)
        result["store"] = "sqlite"
    grown = f" (after {result['grown']} untimed)" if result["grown"] else ""
    print(f"{result['store']}: {result['alerts']} alerts{grown} in {result['batches']} batches of {result['batch']}: "
          f"{result['cpu_s']} s CPU ({result['cpu_us_per_alert']} us/alert), first batch "
          f"{result['first_batch_cpu_s']} s, "
          f"last {result['last_batch_cpu_s']} s; {result['incidents']} incident(s), {result['targets']} targets")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
