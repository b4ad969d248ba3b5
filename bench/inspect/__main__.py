"""Inspection throughput: checks per second of the in-process check runner on many targets.

    python bench/inspect [--http-targets 500] [--concurrency 16 64]

(A folder, not ``bench/inspect.py``: a file of that name beside the other benchmarks would be
imported by them in place of the standard library's ``inspect``.)

Targets: N HTTP-probe targets served by a real nginx on loopback, plus the real Redis, PostgreSQL
and MariaDB running on this machine. Each configuration runs every check on every target once
(one inspection); the baseline is the same sweep one check at a time (concurrency 1) on a sample,
so the printed ratio says what the runner's concurrency buys. Prints a table and a JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: tests.harness

from steadyops.app import build_app
from steadyops.config.settings import Settings
from steadyops.runner.checks import CheckRunner
from tests.harness.middleware import start_nginx

SERVICES: list[dict[str, Any]] = [
    {"name": "redis-local", "kind": "redis", "address": "127.0.0.1:6379"},
    {"name": "pg-local", "kind": "postgres", "address": "127.0.0.1:5432", "labels": {"user": "postgres",
                                                                                     "database": "postgres"}},
    {"name": "mariadb-local", "kind": "mysql", "address": "127.0.0.1:3306", "labels": {"user": "root"}},
]


def inventory(http_port: int, n: int) -> list[dict[str, Any]]:
    probes = [{"name": f"web-{i:04d}", "kind": "http_probe", "address": f"http://127.0.0.1:{http_port}/?t={i}",
               "labels": {"tries": "1", "expect_keyword": "nginx"}} for i in range(n)]
    return probes + SERVICES


async def sweep(runner: CheckRunner, jobs: list[Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    _run_id, findings = await runner.inspect(jobs, trigger="bench")
    wall = time.perf_counter() - t0
    durations = sorted(f.duration_seconds for f in findings)
    by_status: dict[str, int] = {}
    for f in findings:
        by_status[f.status.value] = by_status.get(f.status.value, 0) + 1
    return {"checks": len(findings), "wall_s": round(wall, 2), "checks_per_s": round(len(findings) / wall, 1),
            "p50_ms": round(1000 * statistics.median(durations), 1),
            "p99_ms": round(1000 * durations[int(0.99 * (len(durations) - 1))], 1), "status": by_status}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--http-targets", type=int, default=500)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--baseline-sample", type=int, default=60, help="jobs timed one at a time for the baseline")
    args = ap.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, start_nginx(worker_connections=1024) as web:
        inv = Path(tmp) / "inventory.yaml"
        inv.write_text(yaml.safe_dump({"targets": inventory(web.port, args.http_targets)}))
        app = build_app(Settings(data_dir=Path(tmp), inventory=inv, lang="en"))
        try:
            jobs = app.checks.jobs()
            print(f"inspect benchmark: {len(app.inventory.targets)} targets, {len(jobs)} checks per sweep, "
                  f"{os.cpu_count()} CPUs; nginx on 127.0.0.1:{web.port} serves the HTTP probes")
            for c in [1, *args.concurrency]:
                runner = CheckRunner(app.registry, app.inventory, app.store, app.clock, concurrency=c,
                                     per_target=2)
                sample = jobs[:: max(1, len(jobs) // args.baseline_sample)] if c == 1 else jobs
                results[f"concurrency={c}"] = asyncio.run(sweep(runner, sample))
        finally:
            app.close()
    base = results["concurrency=1"]["checks_per_s"]
    print(f"\n{'runner':<18}{'checks':>8}{'wall s':>9}{'checks/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs serial':>11}")
    for name, r in results.items():
        print(f"{name:<18}{r['checks']:>8}{r['wall_s']:>9}{r['checks_per_s']:>10}{r['p50_ms']:>9}{r['p99_ms']:>9}"
              f"{r['checks_per_s'] / base:>10.1f}x")
    print(json.dumps({"benchmark": "inspect", "http_targets": args.http_targets, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
