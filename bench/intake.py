#!/usr/bin/env python3
"""Alert intake: steadyops (SQLite, PostgreSQL) against a real Alertmanager, same alerts, same run.

    python bench/intake.py [--alerts 100000] [--batch 100] [--clients 4]

Every target is started by this script on a free loopback port and stopped at the end:

* steadyops on SQLite (a temporary data dir) and on PostgreSQL (a throw-away database on the
  local server, dropped afterwards), each as its own ``python -m steadyops serve`` process, fed
  through its Alertmanager webhook endpoint (``POST /api/v1/alerts/alertmanager``, version 4);
* the Debian package's Alertmanager, fed through ``POST /api/v2/alerts`` (what Prometheus uses).

The alerts are distinct (no two share a fingerprint) and posted in batches of ``--batch`` from
``--clients`` threads, each with its own keep-alive connection. For steadyops "persisted" means
rows in the intake journal, counted in the database afterwards: a 2xx is only sent after the
commit, so that count over the posting time is the durable intake rate. Alertmanager keeps alerts
in memory, so its figure is alerts accepted (2xx). Latency is per request (one batch).

The steadyops route uses group_wait=1h: the benchmark measures intake, not notification. The
pipeline still drains the journal (dedup, grouping, incidents) concurrently on the same cores, as it
would in production (``serve`` runs ingestion in its own child process). The bench samples the journal's backlog
once a second from its own connection, keeps sampling after the posting until the backlog is
zero (or ``--drain-limit``), and prints the pipeline's own rate (events processed per second from
the first post until it caught up) beside the intake rate, with the backlog over time.
``--pipeline-processes N`` runs N ingestion children on PostgreSQL (``pipeline_processes``).
``--pipeline off`` starts steadyops with the pipeline disabled (a diagnostic: intake alone, the
journal is left unprocessed).

Each target gets at most ``--time-limit`` seconds of posting (default 120) so the run always ends
in a few minutes; a target that hits it is marked partial and its rate is over what was posted.

The last line printed is one JSON object (figures and the ratios against Alertmanager).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.harness

from steadyops.core.models import fingerprint
from steadyops.store import Store
from steadyops.store import alerts as alerts_repo
from tests.harness.services import ServiceError, start_alertmanager, start_steadyops

PG_ADMIN_URL = os.environ.get("STEADYOPS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

STEADYOPS_CONFIG: dict[str, Any] = {
    "route": {"receiver": "default", "group_by": ["alertname", "job"], "group_wait": "1h",
              "group_interval": "1h", "repeat_interval": "4h"},
    "receivers": [{"name": "default"}],
    "lang": "en",
}
#: ``--pipeline off``: the same app, served without the in-process pipeline.
INTAKE_ONLY = (
    "import uvicorn\n"
    "from steadyops.server import create_server\n"
    "from steadyops.app import build_app\n"
    "from steadyops.core import heap\n"
    "core = build_app()\n"
    "server = create_server(core, run_pipeline=False)\n"
    "heap.settle()  # as serve does\n"
    "uvicorn.run(server, host=core.settings.host, port=core.settings.port, log_level='warning')\n"
)
ALERTMANAGER_CONFIG: dict[str, Any] = {
    "route": {"receiver": "null", "group_by": ["alertname", "job"], "group_wait": "1h",
              "group_interval": "1h", "repeat_interval": "4h"},
    "receivers": [{"name": "null"}],
}


@dataclass
class Result:
    target: str
    alerts: int = 0
    accepted: int = 0
    persisted: int | None = None
    requests: int = 0
    errors: int = 0
    wall_s: float = 0.0
    alerts_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    note: str = ""
    #: the pipeline behind the journal (steadyops only): events processed per second from the first
    #: post until the backlog drained (or the drain limit), and the backlog sampled over that time
    pipeline_per_s: float | None = None
    drained_after_s: float | None = None
    backlog: list[tuple[float, int]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("latencies")
        data.pop("backlog")
        for key in ("wall_s", "alerts_per_s", "p50_ms", "p99_ms"):
            data[key] = round(data[key], 2)
        return data


# -- the alerts ---------------------------------------------------------------------------------------
def make_alerts(n: int, run_id: str) -> list[dict[str, Any]]:
    """``n`` distinct alerts shaped like Prometheus sends them (labels, annotations, times)."""
    now = datetime.now(UTC)
    starts = (now - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    ends = (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    names = ("HighCPU", "DiskFull", "ServiceDown", "HighLatency", "ErrorRate", "MemoryPressure")
    alerts = []
    for i in range(n):
        labels = {
            "alertname": names[i % len(names)],
            "job": f"svc-{i % 40}",
            "instance": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}:9100",
            "severity": "critical" if i % 10 == 0 else "warning",
            "bench": run_id,
        }
        alerts.append({
            "labels": labels,
            "annotations": {"summary": f"{labels['alertname']} on {labels['instance']}",
                            "runbook_url": "https://runbooks.example/alerts"},
            "startsAt": starts,
            "endsAt": ends,
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        })
    return alerts


def batches(alerts: Sequence[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [list(alerts[i : i + size]) for i in range(0, len(alerts), size)]


def webhook_body(batch: list[dict[str, Any]]) -> bytes:
    """An Alertmanager webhook (version 4) as Alertmanager itself would send the batch."""
    alerts = [{"status": "firing", **a, "fingerprint": fingerprint(a["labels"])} for a in batch]
    return json.dumps({
        "version": "4", "groupKey": '{}:{alertname="bench"}', "truncatedAlerts": 0, "status": "firing",
        "receiver": "steadyops", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093", "alerts": alerts,
    }).encode()


def am_v2_body(batch: list[dict[str, Any]]) -> bytes:
    return json.dumps(batch).encode()


# -- the load -----------------------------------------------------------------------------------------
#: request headers for steadyops (its admin token, set once the server is up); Alertmanager ignores them
AUTH: dict[str, str] = {}


def post_all(target: str, url: str, bodies: Sequence[bytes], sizes: Sequence[int], clients: int,
             time_limit: float) -> Result:
    """Post every body once from ``clients`` keep-alive connections; time each request.

    No new request starts after ``time_limit`` seconds; ``alerts`` is then what was posted.
    """
    result = Result(target=target)
    posted = [0]
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    failures: list[str] = []

    def worker() -> None:
        latencies: list[float] = []
        accepted = errors = 0
        with httpx.Client(timeout=60, headers={"content-type": "application/json", **AUTH},
                          limits=httpx.Limits(max_keepalive_connections=1, max_connections=1)) as client:
            while True:
                with lock:
                    index = next(cursor, None) if time.perf_counter() < deadline else None
                    if index is not None:
                        posted[0] += sizes[index]
                if index is None:
                    break
                t0 = time.perf_counter()
                try:
                    resp = client.post(url, content=bodies[index])
                    ok = resp.is_success
                    if not ok and len(failures) < 5:
                        failures.append(f"HTTP {resp.status_code}: {resp.text[:200]}")
                except httpx.HTTPError as exc:
                    ok = False
                    if len(failures) < 5:
                        failures.append(type(exc).__name__)
                latencies.append(time.perf_counter() - t0)
                if ok:
                    accepted += sizes[index]
                else:
                    errors += 1
        with lock:
            result.latencies.extend(latencies)
            result.accepted += accepted
            result.errors += errors

    threads = [threading.Thread(target=worker, name=f"client-{i}") for i in range(clients)]
    started = time.perf_counter()
    deadline = started + time_limit
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.wall_s = time.perf_counter() - started
    result.requests = len(result.latencies)
    result.alerts = posted[0]
    if result.alerts < sum(sizes):
        failures.insert(0, f"PARTIAL: time limit {time_limit:g}s reached after {result.alerts:,} of "
                           f"{sum(sizes):,} alerts")
    if result.latencies:
        ordered = sorted(result.latencies)
        result.p50_ms = statistics.median(ordered) * 1000
        result.p99_ms = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    if failures:
        result.note = "; ".join(failures)
    return result


def warm_up(url: str, body: bytes) -> None:
    """One request before the clock starts (imports, first connection, prepared statements)."""
    with httpx.Client(timeout=60, headers={"content-type": "application/json", **AUTH}) as client:
        client.post(url, content=body).raise_for_status()


# -- the targets --------------------------------------------------------------------------------------
@contextmanager
def throwaway_pg() -> Iterator[str]:
    import psycopg

    name = f"steadyops_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def journal_rows(db_url: str) -> int:
    store = Store(db_url, run_migrations=False)
    try:
        with store.transaction() as session:
            return alerts_repo.count_events(session)
    finally:
        store.close()


class Backlog:
    """Samples the journal (rows, unprocessed rows) once a second from its own connection while the
    posting runs and afterwards, until the pipeline has caught up or ``--drain-limit`` passed."""

    def __init__(self, db_url: str) -> None:
        self.store = Store(db_url, run_migrations=False)
        self.samples: list[tuple[float, int, int]] = []  # (perf_counter, journal rows, pending)

    def sample(self) -> tuple[int, int]:
        with self.store.transaction() as session:
            rows, pending = alerts_repo.count_events(session), alerts_repo.count_pending(session)
        self.samples.append((time.perf_counter(), rows, pending))
        return rows, pending

    def during(self, stop: threading.Event) -> None:
        while not stop.wait(1.0):
            self.sample()

    def drain(self, limit: float) -> float | None:
        """Seconds after the posting ended until nothing is pending; None if not within ``limit``."""
        ended = time.perf_counter()
        while True:
            _rows, pending = self.sample()
            if pending == 0:
                return self.samples[-1][0] - ended
            if time.perf_counter() - ended > limit:
                return None
            time.sleep(1.0)


def run_steadyops(name: str, db_url: str | None, workdir: Path, alerts: list[dict[str, Any]],
                  args: argparse.Namespace) -> Result:
    batch, clients = args.batch, args.clients
    data_dir = workdir / name
    env = {"STEADYOPS_DATABASE_URL": db_url} if db_url else {}
    if db_url and args.pipeline_processes > 1:  # SQLite is ingested by one process whatever is asked
        env["STEADYOPS_PIPELINE_PROCESSES"] = str(args.pipeline_processes)
    url = db_url or f"sqlite:///{(data_dir / 'steadyops.db').as_posix()}"
    warm = make_alerts(batch, f"warmup-{name}")
    parts = batches(alerts, batch)
    bodies = [webhook_body(b) for b in parts]
    command = [sys.executable, "-c", INTAKE_ONLY] if args.pipeline == "off" else None
    with start_steadyops(STEADYOPS_CONFIG, data_dir=data_dir, env=env, command=command) as svc:
        endpoint = f"{svc.url}/api/v1/alerts/alertmanager"
        AUTH.update({"Authorization": f"Bearer {svc.token}"} if svc.token else {})
        warm_up(endpoint, webhook_body(warm))
        if args.pipeline == "on":  # the warm-up batch processed: the pipeline starts from zero
            wait_drained(url, args.drain_limit)
        before = journal_rows(url)
        backlog = Backlog(url)
        stop = threading.Event()
        sampler = threading.Thread(target=backlog.during, args=(stop,), name="backlog")
        try:
            t0, base_rows, base_pending = time.perf_counter(), *backlog.sample()
            sampler.start()
            result = post_all(name, endpoint, bodies, [len(b) for b in parts], clients, args.time_limit)
            stop.set()
            sampler.join()
            result.persisted = journal_rows(url) - before
            if args.pipeline == "on":
                result.drained_after_s = backlog.drain(args.drain_limit)
            else:
                backlog.sample()
        finally:
            stop.set()
            backlog.store.close()
    result.alerts_per_s = result.persisted / result.wall_s if result.wall_s else 0.0
    t_end, rows_end, pending_end = backlog.samples[-1]
    processed = (rows_end - pending_end) - (base_rows - base_pending)
    result.pipeline_per_s = processed / (t_end - t0) if t_end > t0 else 0.0
    result.backlog = [(round(t - t0, 1), p) for t, _r, p in backlog.samples]
    drained = "not drained" if result.drained_after_s is None else f"drained {result.drained_after_s:.1f}s after"
    result.note = (result.note + "; " if result.note else "") + \
        f"pipeline backlog at the end of posting: {_at(backlog.samples, t0 + result.wall_s)} events, {drained}"
    return result


def _at(samples: Sequence[tuple[float, int, int]], when: float) -> int:
    """The backlog of the first sample at or after ``when``."""
    return next((p for t, _r, p in samples if t >= when - 0.01), samples[-1][2])


def wait_drained(db_url: str, limit: float) -> None:
    store = Store(db_url, run_migrations=False)
    try:
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            with store.transaction() as session:
                if alerts_repo.count_pending(session) == 0:
                    return
            time.sleep(0.2)
    finally:
        store.close()


def run_alertmanager(alerts: list[dict[str, Any]], args: argparse.Namespace) -> Result:
    batch, clients = args.batch, args.clients
    parts = batches(alerts, batch)
    bodies = [am_v2_body(b) for b in parts]
    with start_alertmanager(ALERTMANAGER_CONFIG) as am:
        endpoint = f"{am.url}/api/v2/alerts"
        warm_up(endpoint, am_v2_body(make_alerts(batch, "warmup-am")))
        result = post_all("alertmanager", endpoint, bodies, [len(b) for b in parts], clients, args.time_limit)
    result.alerts_per_s = result.accepted / result.wall_s if result.wall_s else 0.0
    result.note = (result.note + "; " if result.note else "") + "accepted (2xx), held in memory"
    return result


# -- reporting ----------------------------------------------------------------------------------------
def print_table(results: Sequence[Result], reference: Result | None) -> None:
    header = f"{'target':<22}{'alerts/s':>11}{'persisted':>11}{'accepted':>10}{'errors':>8}" \
             f"{'p50 ms':>9}{'p99 ms':>9}{'wall s':>8}{'vs AM':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r.alerts_per_s / reference.alerts_per_s:.2f}x" if reference and reference.alerts_per_s else "-"
        persisted = "-" if r.persisted is None else str(r.persisted)
        print(f"{r.target:<22}{r.alerts_per_s:>11,.0f}{persisted:>11}{r.accepted:>10}{r.errors:>8}"
              f"{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}{r.wall_s:>8.1f}{ratio:>8}")
    for r in results:
        if r.note:
            print(f"  {r.target}: {r.note}")
    piped = [r for r in results if r.pipeline_per_s is not None]
    if piped:
        print()
        print(f"{'pipeline':<22}{'events/s':>11}{'vs intake':>11}{'drained after':>15}")
        for r in piped:
            rate = r.pipeline_per_s or 0.0
            vs = f"{rate / r.alerts_per_s:.2f}x" if r.alerts_per_s else "-"
            drained = "-" if r.drained_after_s is None else f"{r.drained_after_s:.1f}s"
            print(f"{r.target:<22}{rate:>11,.0f}{vs:>11}{drained:>15}")
        for r in piped:
            print(f"  {r.target} backlog (s: events): " + ", ".join(f"{t:g}: {p}" for t, p in _thin(r.backlog)))


def _thin(samples: Sequence[tuple[float, int]], every: float = 5.0) -> list[tuple[float, int]]:
    """One sample per ``every`` seconds (and the last), so a long drain stays one readable line."""
    kept: list[tuple[float, int]] = []
    for t, p in samples:
        if not kept or t - kept[-1][0] >= every - 0.05:
            kept.append((t, p))
    if samples and kept[-1] != samples[-1]:
        kept.append(samples[-1])
    return kept


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--alerts", type=int, default=100_000, help="distinct alerts per target (default 100000)")
    parser.add_argument("--batch", type=int, default=100, help="alerts per request (default 100)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent keep-alive connections (default 4)")
    parser.add_argument("--targets", default="sqlite,postgresql,alertmanager",
                        help="comma-separated subset of sqlite, postgresql, alertmanager")
    parser.add_argument("--time-limit", type=float, default=120.0,
                        help="seconds of posting per target at most (default 120); beyond it: partial")
    parser.add_argument("--drain-limit", type=float, default=120.0,
                        help="seconds to wait after posting for the pipeline to drain the journal (default 120)")
    parser.add_argument("--pipeline-processes", type=int, default=1,
                        help="ingestion children of serve on PostgreSQL (pipeline_processes; default 1)")
    parser.add_argument("--pipeline", choices=("on", "off"), default="on",
                        help="run steadyops' in-process pipeline during the benchmark (default on)")
    args = parser.parse_args(argv)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(targets) - {"sqlite", "postgresql", "alertmanager"}
    if unknown or args.alerts < 1 or args.batch < 1 or args.clients < 1 or args.time_limit <= 0:
        parser.error(f"bad arguments (unknown targets: {sorted(unknown)})" if unknown else "counts must be >= 1")

    run_id = uuid.uuid4().hex[:8]
    alerts = make_alerts(args.alerts, run_id)
    print(f"intake benchmark: {args.alerts:,} distinct alerts, batches of {args.batch}, {args.clients} client "
          f"connections, {os.cpu_count()} CPUs")
    if args.pipeline == "on":
        print("steadyops route: group_wait=1h (measures intake; the pipeline drains the journal "
              "concurrently on the same cores).")
    else:
        print("steadyops pipeline OFF (--pipeline off): intake alone, the journal is left unprocessed.")
    print(f"steadyops alerts/s = journal rows persisted / posting time; at most {args.time_limit:g}s "
          "of posting per target.")
    print()

    results: list[Result] = []
    runners: dict[str, Callable[[Path], Result]] = {
        "sqlite": lambda wd: run_steadyops("steadyops-sqlite", None, wd, alerts, args),
        "alertmanager": lambda wd: run_alertmanager(alerts, args),
    }
    with tempfile.TemporaryDirectory(prefix="steadyops-bench-") as tmp:
        for target in targets:
            print(f"... {target}", flush=True)
            try:
                if target == "postgresql":
                    with throwaway_pg() as pg:
                        results.append(run_steadyops("steadyops-postgresql", pg, Path(tmp), alerts, args))
                else:
                    results.append(runners[target](Path(tmp)))
            except (ServiceError, OSError, httpx.HTTPError) as exc:
                print(f"    {target} skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
            except Exception as exc:  # psycopg not reachable, and the like: report, go on
                print(f"    {target} skipped: {type(exc).__name__}: {exc}", file=sys.stderr)
    print()

    reference = next((r for r in results if r.target == "alertmanager"), None)
    print_table(results, reference)
    ratios = {
        r.target: round(r.alerts_per_s / reference.alerts_per_s, 3)
        for r in results if reference and reference.alerts_per_s and r is not reference
    }
    sqlite = next((r for r in results if r.target == "steadyops-sqlite"), None)
    summary = {
        "benchmark": "intake",
        "alerts": args.alerts,
        "batch": args.batch,
        "clients": args.clients,
        "pipeline": args.pipeline,
        "time_limit_s": args.time_limit,
        "cpus": os.cpu_count(),
        "results": {r.target: r.summary() for r in results},
        "ratio_vs_alertmanager": ratios,
        "sqlite_target_5000_per_s_met": (sqlite.alerts_per_s >= 5000) if sqlite else None,
        "pipeline_keeps_up": {r.target: bool(r.pipeline_per_s and r.pipeline_per_s >= r.alerts_per_s)
                              for r in results if r.pipeline_per_s is not None},
    }
    print()
    print(json.dumps(summary, separators=(",", ":")))
    complete = all(r.errors == 0 and r.accepted == r.alerts == args.alerts for r in results) \
        and len(results) == len(targets)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
