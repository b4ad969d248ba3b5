#!/usr/bin/env python3
"""Time and peak memory of ``load_case`` + ``rank_case`` on large multimodal RCA cases.

Usage::

    bench/rca_scale.py                      # 6 cases (cpu, latency, error, crash, memory, netdelay)
    bench/rca_scale.py --faults cpu --services 60 --logs 1000000 --spans 1000000
    bench/rca_scale.py --measure DIR [DIR …] # existing case folders (each in a fresh process)
    bench/rca_scale.py --measure DIR --profile OUT.prof
    bench/rca_scale.py --src ../before/src   # the same cases, loaded and ranked by another checkout's code

Why: the held-out public benchmarks (RCAEval-style Online Boutique, Sock Shop, Train Ticket) are far
larger than the cases we score on: tens of metrics per service at 1 s over an hour or two, and
hundreds of thousands of log lines and spans. A ranker that is right on small cases but needs ten
minutes or ten gigabytes per case is no ranker there. The generator writes such cases in the one case
format (``bench/README.md``), with the untidiness a converter plausibly leaves (empty cells, an
empty column, constant columns, unsorted and duplicated rows, quoted messages with commas, quotes
and newlines, a few very long lines and bytes that are not UTF-8, OpenTelemetry and HTTP status
codes, spans whose parent was not sampled). The system: ``--services`` services in a random call
tree (one entry, each service called by one or two earlier ones), request rates and latencies that
flow along it (a caller's latency includes its callees'), one fault in one service from the fault
start: ``cpu`` (a hog: CPU up, own work slower), ``latency`` (a network delay), ``error`` (a share of
its requests fail), ``crash`` (no metrics, logs or spans; callers fail fast) or ``memory`` (a leak: the
heap grows 60 MB over the incident, a few times the healthy drift of every service's memory, and
collections and work get slower with it) or ``netdelay`` (150 ms on the network into one service:
its own server-side latency and spans never see it, its callers' latency and client spans do; the
case is written with OpenTelemetry's client spans, a caller's record of each call around the
callee's server span, since that is where such a delay shows in traces). Each case is then
loaded and ranked in a fresh process (so the peak RSS is that case's), and the script prints the
seconds of each step, the peak RSS and where the true cause ranked. Cases are written once into
``.bench-out/rca-scale/`` (delete it to regenerate).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import json
import math
import random
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

FAULTS = ("cpu", "latency", "error", "crash", "memory", "netdelay")
EPOCH = 1_700_000_000
WORDS = (
    "frontend", "gateway", "auth", "user", "order", "cart", "checkout", "payment", "shipping", "catalogue",
    "recommendation", "ad", "currency", "email", "inventory", "pricing", "review", "search", "session",
    "notification", "travel", "route", "station", "train", "seat", "ticket", "food", "consign", "security",
    "contacts", "config", "basic", "preserve", "cancel", "rebook", "assurance", "delivery", "voucher", "admin",
    "verification",
)
METRICS = (
    "cpu_usage", "cpu_throttled", "cpu_limit", "memory_usage_bytes", "memory_rss_bytes", "memory_cache_bytes",
    "memory_limit_bytes", "network_receive_bytes", "network_transmit_bytes", "network_receive_packets",
    "network_transmit_packets", "network_receive_errors", "network_transmit_dropped", "fs_reads_bytes",
    "fs_writes_bytes", "fs_usage_bytes", "threads", "open_fds", "gc_pause_ms", "sockets", "latency_p50",
    "latency_p90", "latency_p95", "latency_p99", "latency_mean", "requests_per_second", "error_ratio",
    "http_5xx_count", "http_4xx_count", "gpu_usage",
)
"""Thirty metrics a container exporter plus a service mesh report; ``gpu_usage`` is left empty (a
column a converter writes for every service whether or not it exists)."""


@dataclass(frozen=True)
class Scale:
    services: int = 40
    seconds: int = 3600
    logs: int = 500_000
    spans: int = 500_000
    rate: float = 40.0
    """Requests per second at the entry."""
    fault_at: float = 0.75
    """The fault starts this far into the recording; the normal window ends just before it."""


WIRE_DELAY_MS = 150.0
"""``netdelay``: what a delay on the culprit's network interface adds to every call into it."""


class World:
    """Services, their call tree, per-second rates and latencies, and one fault."""

    def __init__(self, scale: Scale, fault: str, seed: int) -> None:
        self.scale, self.fault = scale, fault
        self.rng = np.random.default_rng(seed)
        n = scale.services
        self.names = ["frontend", *(f"{WORDS[i % len(WORDS)]}{'' if i < len(WORDS) else i}-service"
                                    for i in range(1, n))]
        self.callees: list[list[tuple[int, float]]] = [[] for _ in range(n)]  # (callee, call probability)
        for i in range(1, n):
            callers = {int(self.rng.integers(0, i))}
            if i > 2 and self.rng.random() < 0.3:
                callers.add(int(self.rng.integers(0, i)))
            for c in callers:
                self.callees[c].append((i, float(self.rng.uniform(0.3, 1.0))))
        self.culprit = int(self.rng.integers(1, n))
        self.t = np.arange(scale.seconds, dtype=np.float64)
        self.fault_start = int(scale.seconds * scale.fault_at)
        self.faulty = self.t >= self.fault_start
        #: 0 before the fault, rising to 1 at the end: how far a leak has got (``memory`` only)
        self.pressure = np.clip((self.t - self.fault_start) / max(scale.seconds - self.fault_start, 1), 0.0, 1.0)
        rates = np.zeros((n, scale.seconds))
        wave = 1.0 + 0.15 * np.sin(2 * np.pi * self.t / 1200.0)
        rates[0] = scale.rate * wave * (1.0 + 0.05 * self.rng.standard_normal(scale.seconds))
        for c in range(n):  # callers come before callees
            for callee, p in self.callees[c]:
                rates[callee] += rates[c] * p
        self.rates = rates
        self.self_ms = self.rng.uniform(2.0, 30.0, n)
        own = self.self_ms[:, None] * np.exp(0.2 * self.rng.standard_normal((n, scale.seconds)))
        err = np.clip(0.001 + 0.0005 * self.rng.standard_normal((n, scale.seconds)), 0.0, None)
        k = self.culprit
        if fault == "cpu":
            own[k, self.faulty] *= 4.0
        elif fault == "latency":
            own[k, self.faulty] += 200.0
        elif fault == "error":
            err[k, self.faulty] = 0.3
        elif fault == "crash":
            err[k, self.faulty] = 1.0
            own[k, self.faulty] = 0.0
        elif fault == "memory":  # a leak: the heap grows, collections get longer and the work a little slower
            own[k, self.faulty] *= 1.0 + 0.2 * self.pressure[self.faulty]
        #: time on the network into each service, outside its own (server-side) latency
        self.wire = np.zeros((n, scale.seconds))
        if fault == "netdelay":  # the other faults' cases stay as they were written before it
            self.wire += 1.0
            self.wire[k, self.faulty] += WIRE_DELAY_MS
        latency, errors = own.copy(), err.copy()
        for c in reversed(range(n)):  # callees first: a caller waits for its callees and fails with them
            ok = 1.0 - err[c]
            for callee, p in self.callees[c]:
                latency[c] += p * (latency[callee] + self.wire[callee])
                ok *= 1.0 - p * errors[callee]
            errors[c] = 1.0 - ok
        self.latency, self.errors = latency, errors

    def topology(self) -> str:
        return "".join(f"{self.names[c]} -> {self.names[d]}\n" for c in range(len(self.names))
                       for d, _ in self.callees[c])


def _metric_columns(world: World) -> dict[str, np.ndarray]:
    rng, n, secs = world.rng, world.scale.services, world.scale.seconds
    noise = lambda scale=1.0: scale * rng.standard_normal(secs)  # noqa: E731
    out: dict[str, np.ndarray] = {}
    for s, name in enumerate(world.names):
        load = world.rates[s]
        hog = 0.8 * world.faulty if world.fault == "cpu" and s == world.culprit else 0.0
        cpu = np.clip(0.02 + load * world.self_ms[s] / 4000.0 + noise(0.01) + hog, 0.0, None)
        mem = 3e8 + 2e7 * s + np.cumsum(noise(2e5))
        leak = world.fault == "memory" and s == world.culprit
        if leak:
            mem = mem + 6e7 * world.pressure  # 60 MB over the incident, a few times the healthy drift
        lat = world.latency[s]
        cols = {
            "cpu_usage": cpu, "cpu_throttled": np.clip(cpu - 0.9, 0.0, None), "cpu_limit": np.full(secs, 1.0),
            "memory_usage_bytes": mem, "memory_rss_bytes": 0.8 * mem + noise(1e5),
            "memory_cache_bytes": 5e7 + np.cumsum(noise(1e5)), "memory_limit_bytes": np.full(secs, 2.0**31),
            "network_receive_bytes": load * 900.0 * (1 + noise(0.05)),
            "network_transmit_bytes": load * 2400.0 * (1 + noise(0.05)),
            "network_receive_packets": load * 3.0 * (1 + noise(0.05)),
            "network_transmit_packets": load * 4.0 * (1 + noise(0.05)),
            "network_receive_errors": rng.poisson(0.001, secs).astype(np.float64),
            "network_transmit_dropped": rng.poisson(0.002, secs).astype(np.float64),
            "fs_reads_bytes": rng.poisson(0.2, secs) * 4096.0, "fs_writes_bytes": load * 60.0 * (1 + noise(0.1)),
            "fs_usage_bytes": 1e9 + np.cumsum(np.abs(noise(1e3))), "threads": 40.0 + rng.poisson(3.0, secs),
            "open_fds": 100.0 + rng.poisson(load / 4.0),
            "gc_pause_ms": rng.gamma(2.0, 1.5, secs) * (1.0 + (world.pressure if leak else 0.0)),
            "sockets": 10.0 + rng.poisson(load / 10.0),
            "latency_p50": 0.8 * lat * np.exp(noise(0.05)), "latency_p90": 1.6 * lat * np.exp(noise(0.08)),
            "latency_p95": 2.0 * lat * np.exp(noise(0.1)), "latency_p99": 3.0 * lat * np.exp(noise(0.15)),
            "latency_mean": lat * np.exp(noise(0.05)), "requests_per_second": load * (1 + noise(0.03)),
            # a copy: the crashed culprit's columns are blanked below, and World's own series must stay
            "error_ratio": world.errors[s].copy(),
            "http_5xx_count": rng.poisson(world.errors[s] * load).astype(np.float64),
            "http_4xx_count": rng.poisson(0.01 * load).astype(np.float64), "gpu_usage": np.full(secs, np.nan),
        }
        if world.fault == "crash" and s == world.culprit:
            for values in cols.values():
                values[world.faulty] = np.nan  # not scraped any more
        for metric in METRICS:
            values = cols[metric].astype(np.float64)
            values[rng.random(secs) < 0.005] = np.nan  # lost scrapes
            out[f"{name}:{metric}"] = values
    assert len(out) == n * len(METRICS)
    return out


def _write_metrics(world: World, path: Path) -> None:
    columns = _metric_columns(world)
    names = list(columns)
    matrix = np.column_stack([columns[c] for c in names])
    order = np.arange(world.scale.seconds)
    for start in range(0, len(order), 97):  # exports append per scrape batch: rows out of order
        order[start:start + 97] = order[start:start + 97][::-1]
    dups = world.rng.choice(len(order), size=len(order) // 200, replace=False)
    with path.open("w", newline="") as handle:
        handle.write(",".join(["time", *names]) + "\n")
        text = np.char.mod("%.6g", matrix).astype(object)
        text[np.isnan(matrix)] = ""
        for i in [*order.tolist(), *dups.tolist()]:  # a few rows twice (an overlapping export)
            handle.write(f"{EPOCH + i}," + ",".join(text[i]) + "\n")


_NORMAL_LOGS = (
    lambda r, s: f"GET /api/{s}/items/{r.randrange(99999)} 200 {r.uniform(1, 90):.1f}ms",
    lambda r, s: f'POST /api/{s}/orders 201 {r.uniform(5, 200):.1f}ms user="{r.choice(("ann", "bo, jr"))}"',
    lambda r, s: f"cache hit ratio={r.random():.3f} size={r.randrange(1 << 20)}",
    lambda r, s: f"pool stats: active={r.randrange(1, 20)} idle={r.randrange(8)}",
    lambda r, s: f"processed batch id={r.randrange(1 << 30):x} items={r.randrange(1, 500)}, took {r.randrange(900)} ms",
    lambda r, s: f"user {r.randrange(10**6)} logged in from 10.0.{r.randrange(255)}.{r.randrange(255)}",
    lambda r, s: f'{{"level":"info","msg":"request done","path":"/api/{s}","status":200,"ms":{r.randrange(300)}}}',
    lambda r, s: (f"WARN slow query \"SELECT * FROM items WHERE id = {r.randrange(10**5)}, LIMIT 1\" "
                  f"took {r.randrange(200, 900)} ms"),
)


def _fault_log(world: World, r: random.Random, s: int, t: float) -> str | None:
    """A line the fault makes ``s`` write, or None."""
    name = world.names[s]
    if s == world.culprit:
        if world.fault == "error":
            return (f"ERROR request {r.randrange(1 << 32):08x} failed: java.lang.IllegalStateException: "
                    f"invariant violated\n\tat com.example.{name.replace('-', '')}.Handler.handle(Handler.java:"
                    f"{r.randrange(400)})\n\tat com.example.Server.dispatch(Server.java:88)")
        if world.fault == "cpu":
            return f"WARN worker pool saturated: {r.randrange(50, 500)} tasks queued"
        if world.fault == "memory" and r.random() < world.pressure[min(int(t), len(world.pressure) - 1)]:
            return f"WARN GC overhead: heap {r.randrange(80, 99)}% used after full collection"
        return None
    bad = [d for d, _ in world.callees[s] if world.errors[d][world.fault_start:].mean() > 0.05]
    if bad and world.fault in ("error", "crash"):
        callee = world.names[bad[0]]
        if world.fault == "crash":
            return f"ERROR connection refused: {callee}:8080 (attempt {r.randrange(1, 4)})"
        return f"WARN upstream {callee} returned 500 after {r.randrange(5, 90)} ms"
    return None


def _write_logs(world: World, path: Path, count: int, seed: int, tidy: bool) -> None:
    r = random.Random(seed)
    n, secs = world.scale.services, world.scale.seconds
    weights = world.rates.sum(axis=1) + world.scale.rate  # busy services log more; every one logs
    share = weights / weights.sum()
    rng = np.random.default_rng(seed)
    services = rng.choice(n, size=count, p=share)
    times = np.sort(rng.uniform(0, secs, count))
    rng.shuffle(times[: count // 50])  # the head of the file out of order (a merge of several pods)
    kinds = rng.integers(0, len(_NORMAL_LOGS), count)
    with path.open("w", newline="", encoding="utf-8", errors="surrogateescape") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "service", "message", "level"])
        rows = []
        for t, s, k in zip(times.tolist(), services.tolist(), kinds.tolist(), strict=True):
            down = world.fault == "crash" and s == world.culprit and t >= world.fault_start
            if down:
                continue
            message = _NORMAL_LOGS[k](r, world.names[s])
            if t >= world.fault_start and r.random() < 0.3:
                message = _fault_log(world, r, s, t) or message
            if tidy:
                pass
            elif r.random() < 2e-5:
                message = "payload dump: " + "x" * 200_000  # a very long line
            elif r.random() < 1e-4:
                message = "caf\udce9 latin-1 bytes in a message"  # written as the byte 0xE9
            # epoch nanoseconds, as log stores export them
            rows.append((f"{(EPOCH + t) * 1e9:.0f}", world.names[s], message, "info"))
            if len(rows) >= 50_000:
                writer.writerows(rows)
                rows.clear()
        writer.writerows(rows)


def _write_spans(world: World, path: Path, count: int, seed: int) -> None:
    r = random.Random(seed)
    secs = world.scale.seconds
    names, callees, k = world.names, world.callees, world.culprit
    ids = iter(range(1, 1 << 62))
    operations = [f"GET /api/{name}" for name in names]
    rows: list[tuple[str, ...]] = []

    client_spans = world.fault == "netdelay"

    def call(d: int, t: float, trace: str, caller: int, parent: str) -> tuple[float, bool]:
        """A call from ``caller`` to ``d``: with client spans (OpenTelemetry's shape), the caller's
        client span around the callee's server span, the wire time between them."""
        if not client_spans:
            return visit(d, t, trace, parent)
        span = f"{next(ids):016x}"
        wire = r.uniform(0.3, 1.7) + (WIRE_DELAY_MS if d == k and t >= world.fault_start else 0.0)
        ms, bad = visit(d, t + wire / 2e3, trace, span)
        total = ms + wire
        status = ("STATUS_CODE_ERROR", "Error", "500")[len(rows) % 3] if bad else "STATUS_CODE_UNSET"
        rows.append((f"{(EPOCH + t) * 1e6:.0f}", trace, span, parent, names[caller], f"call {names[d]}",
                     f"{total:.3f}", status))
        return total, bad

    def visit(s: int, t: float, trace: str, parent: str) -> tuple[float, bool]:
        """One call of service ``s`` at time ``t``: appends its span and its callees'; (ms, failed)."""
        faulty = s == k and t >= world.fault_start
        if faulty and world.fault == "crash":
            return r.uniform(0.5, 2.0), True  # refused: no span
        span = f"{next(ids):016x}"
        own = world.self_ms[s] * math.exp(0.3 * r.gauss(0.0, 1.0))
        if faulty and world.fault == "cpu":
            own *= 4.0
        if faulty and world.fault == "latency":
            own += 200.0
        if faulty and world.fault == "memory":
            own *= 1.0 + 0.2 * float(world.pressure[min(int(t), secs - 1)])
        failed = faulty and world.fault == "error" and r.random() < 0.3
        total, clock = own, t + own / 2e3
        if not failed:
            for d, p in callees[s]:
                if r.random() < p:
                    ms, bad = call(d, clock, trace, s, span)
                    total += ms
                    clock += ms / 1e3
                    if bad:
                        failed = True
                        break
        status = ("STATUS_CODE_ERROR", "Error", "500")[len(rows) % 3] if failed else \
            ("STATUS_CODE_UNSET", "OK", "200", "")[len(rows) % 4]
        # jaeger's start in microseconds; a few parents were not sampled (orphan spans)
        rows.append((f"{(EPOCH + t) * 1e6:.0f}", trace, span, "" if r.random() < 0.002 else parent,
                     names[s], operations[s], f"{total:.3f}", status))
        return total, failed

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", "traceID", "spanID", "parentSpanID", "serviceName", "operationName",
                         "duration_ms", "statusCode"])
        written = 0
        while written < count:
            before = len(rows)
            visit(0, r.uniform(0, secs), f"{r.getrandbits(128):032x}", "")
            written += len(rows) - before
            if len(rows) >= 50_000:
                writer.writerows(rows)
                rows.clear()
        writer.writerows(rows)


def generate(folder: Path, scale: Scale, fault: str, seed: int, tidy: bool = False) -> None:
    """Write one case (metrics, logs, spans, topology, case.json) into ``folder``."""
    world = World(scale, fault, seed * 10 + FAULTS.index(fault))
    folder.mkdir(parents=True, exist_ok=True)
    _write_metrics(world, folder / "metrics.csv")
    _write_logs(world, folder / "logs.csv", scale.logs, seed, tidy)
    _write_spans(world, folder / "traces.csv", scale.spans, seed)
    (folder / "topology").write_text(world.topology())
    meta = {
        "normal": [EPOCH, EPOCH + world.fault_start - 1], "fault_start": EPOCH + world.fault_start,
        "root_cause": world.names[world.culprit], "labels": {"fault": fault}, "source": "bench/rca_scale.py",
    }
    (folder / "case.json").write_text(json.dumps(meta, indent=1) + "\n")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_one(folder: Path, profile: Path | None) -> dict[str, object]:
    """Load and rank one case in this process: seconds of each step, peak RSS after each."""
    from steadyops.rca import load_case, rank_case

    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    started = time.perf_counter()
    case = load_case(folder)
    loaded = time.perf_counter()
    rss_loaded = _peak_mb()
    result = rank_case(case)
    ranked = time.perf_counter()
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(str(profile))
    services = result.services()
    truth = case.root_cause
    return {
        "case": str(folder), "load_s": round(loaded - started, 2), "rank_s": round(ranked - loaded, 2),
        "total_s": round(ranked - started, 2), "peak_rss_mb_load": round(rss_loaded), "peak_rss_mb": round(_peak_mb()),
        "columns": len(case.metrics), "rows": len(case.times), "logs": len(case.logs), "spans": len(case.spans),
        "truth": truth, "top3": services[:3], "rank": services.index(truth) + 1 if truth in services else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", type=Path, nargs="+", help="measure these case folders (no generation)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--src", type=Path, help="load and rank with the steadyops under this src/ (code before)")
    parser.add_argument("--profile", type=Path, help="cProfile the (first) case's load and rank into this file")
    parser.add_argument("--out", type=Path, default=ROOT / ".bench-out" / "rca-scale")
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--services", type=int, default=Scale.services)
    parser.add_argument("--seconds", type=int, default=Scale.seconds)
    parser.add_argument("--logs", type=int, default=Scale.logs)
    parser.add_argument("--spans", type=int, default=Scale.spans)
    parser.add_argument("--tidy", action="store_true", help="no very long log lines and no bytes that are not UTF-8")
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, str(args.src.resolve()))
    if args.one:
        print(json.dumps(measure_one(args.one, args.profile)))
        return 0
    folders: list[Path] = list(args.measure or [])
    if not folders:
        scale = Scale(services=args.services, seconds=args.seconds, logs=args.logs, spans=args.spans)
        for fault in args.faults.split(","):
            folder = args.out / (f"{fault}-s{scale.services}-t{scale.seconds}-l{scale.logs}-"
                                 f"p{scale.spans}-seed{args.seed}{'-tidy' if args.tidy else ''}")
            if not (folder / "case.json").is_file():
                started = time.perf_counter()
                generate(folder, scale, fault, args.seed, args.tidy)
                print(f"generated {folder.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            folders.append(folder)
    header = f"{'case':<44} {'load s':>7} {'rank s':>7} {'total s':>8} {'peak MB':>8} {'truth at':>8}"
    print(header)
    print("-" * len(header))
    lines = []
    for i, folder in enumerate(folders):
        command = [sys.executable, __file__, "--one", str(folder), *(["--src", str(args.src)] if args.src else [])]
        if args.profile and i == 0:
            command += ["--profile", str(args.profile)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            print(f"{folder.name:<44} failed:\n{done.stderr[-2000:]}")
            continue
        line = json.loads(done.stdout.strip().splitlines()[-1])
        lines.append(line)
        print(f"{folder.name[:44]:<44} {line['load_s']:>7.2f} {line['rank_s']:>7.2f} {line['total_s']:>8.2f} "
              f"{line['peak_rss_mb']:>8} {line['rank']!s:>8}")
    print(json.dumps({"bench": "rca_scale", "src": str(args.src or ROOT / "src"), "cases": lines}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
