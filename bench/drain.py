#!/usr/bin/env python3
"""How fast serve's ingestion children drain a journalled storm, by how many there are (PostgreSQL).

    python bench/drain.py [--alerts 40000] [--processes 1 2 4]

For each count a throw-away PostgreSQL database and that many ingestion children
(``pipeline.ingester.IngestProcess``, what ``serve`` starts for ``pipeline_processes``: spawned,
each with its file lock and its batches of 5,000), started on the empty journal. Then ``--alerts``
distinct alerts shaped like ``bench/intake.py``'s (120 groups: 6 alert names x 40 jobs; one
instance each) are journalled through the intake's own parser and insert in one transaction, so the
whole storm appears at once; the children are woken at its commit, and the journal is sampled every
50 ms until nothing is pending. Printed per count: seconds from the wake-up to an empty
backlog, alerts drained per second, the ratio to one child, and the CPU the children and the
database's backends spent per alert (both from /proc, so the client/server split is visible on a
machine where they share the cores). The last line is one JSON object.

Nothing else runs meanwhile (no intake, no benchmark client): this is the pipeline's own ceiling,
which ``bench/intake.py`` then shares with the intake and the client.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bench.intake import STEADYOPS_CONFIG, make_alerts, throwaway_pg, webhook_body
from steadyops.config.settings import Settings
from steadyops.core.inventory import Inventory
from steadyops.pipeline.ingester import IngestProcess
from steadyops.pipeline.intake import parse_alertmanager
from steadyops.pipeline.route import Route
from steadyops.store import Store
from steadyops.store import alerts as alerts_repo
from steadyops.store.tables import AlertRow, IncidentRow


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def _backends(database: str) -> list[psutil.Process]:
    """The PostgreSQL backends serving ``database`` (their process title names it)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(database in part for part in proc.info["cmdline"] or []):
                found.append(proc)
        except psutil.Error:
            pass
    return found


def run(count: int, alerts: int) -> dict[str, Any]:
    with throwaway_pg() as url, tempfile.TemporaryDirectory(prefix="steadyops-drain-") as tmp:
        db_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        settings = Settings.model_validate({**STEADYOPS_CONFIG, "database_url": db_url, "data_dir": tmp,
                                            "pipeline_processes": count})
        store = Store(db_url, shard_by=Route.build(settings.route).shard_labels())
        now = datetime.now(UTC)
        storm = make_alerts(alerts, f"drain-{count}")
        bodies = [parse_alertmanager(webhook_body(storm[start:start + 100]), settings.intake, now)
                  for start in range(0, alerts, 100)]
        children = [IngestProcess(settings, Inventory([]), slot) for slot in range(count)]
        for child in children:
            child.start()
        time.sleep(3.0)  # imports and first connections, on an empty journal
        procs = [psutil.Process(child.pid) for child in children if child.pid is not None]
        database = db_url.rsplit("/", 1)[1]
        # the whole storm becomes visible at once: journalled in one transaction while the children idle
        with store.transaction() as session:
            for parsed in bodies:
                alerts_repo.insert_events(session, parsed, now)
        backends = _backends(database)
        cpu0, db0 = _cpu(procs), _cpu(backends)
        started = time.perf_counter()
        for child in children:
            child.wake()
        try:
            while True:
                with store.transaction() as session:
                    if not alerts_repo.has_pending(session):
                        break
                time.sleep(0.05)
            wall = time.perf_counter() - started
            backends = _backends(database)  # connections opened during the run count too
            cpu, db = _cpu(procs) - cpu0, _cpu(backends) - db0
            with store.transaction() as session:  # the work was done, not just the journal marked
                stored = session.scalar(select(func.count()).select_from(AlertRow))
                incidents = session.scalar(select(func.count()).select_from(IncidentRow))
            if stored != alerts:
                raise SystemExit(f"{count} children: {stored} alerts stored of {alerts}")
        finally:
            for child in children:
                child.stop()
            store.close()
    return {"processes": count, "alerts": alerts, "incidents": incidents, "wall_s": round(wall, 2),
            "per_s": round(alerts / wall), "children_cpu_us": round(cpu / alerts * 1e6, 1),
            "database_cpu_us": round(db / alerts * 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=40_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    rows = [run(count, args.alerts) for count in args.processes]
    base = rows[0]["per_s"]
    print(f"{'children':>8} {'drained s':>10} {'alerts/s':>10} {'vs first':>9} {'children us/alert':>18} "
          f"{'database us/alert':>18}")
    for row in rows:
        row["ratio"] = round(row["per_s"] / base, 2)
        print(f"{row['processes']:>8} {row['wall_s']:>10.2f} {row['per_s']:>10,} {row['ratio']:>8.2f}x "
              f"{row['children_cpu_us']:>18.1f} {row['database_cpu_us']:>18.1f}")
    print(json.dumps({"bench": "drain", "cpus": psutil.cpu_count(), "rows": rows}))


if __name__ == "__main__":
    main()
