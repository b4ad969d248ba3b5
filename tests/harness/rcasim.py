"""A small microservice simulator that writes root-cause cases with metrics, logs and traces.

Why a simulator: the ranker must find a culprit from any one modality and from all of them fused,
on systems it has never seen. Public multimodal cases are scarce (and the held-out ones must not be
looked at), so tests generate their own, with the mechanics a real system has and no shortcut the
ranker could learn:

* **requests** arrive at the entry service as a Poisson stream; every service runs its own code
  (self time, lognormal) and then calls its callees (a router picks one of several, a worker calls
  all of them), so a caller's duration is its self time plus its callees' durations (inclusion);
* **metrics** per service and step come from *all* requests: p90 latency, error ratio, request
  rate, CPU (load-proportional, noisy), memory (a noisy walk) and ``up``;
* **logs**: an access line per sampled request, periodic housekeeping lines, rare warnings in
  normal times; the faulty service writes error templates it never wrote before, its callers write
  their own upstream-failure and time-out templates;
* **traces**: a sampled share of requests becomes spans (component, parent, duration, status); a
  failed call marks the caller's span failed too (errors propagate), and a call to a crashed
  service fails fast with no span of the callee.

Faults, injected into one service from ``fault_start``: ``cpu`` (a hog: its CPU jumps and its code
runs slower), ``latency`` (a network delay: its responses are late, nothing in its own CPU or logs),
``error`` (a share of its requests fail with a new exception) and ``crash`` (it is gone: no
metrics but ``up`` = 0, no spans, no logs; callers fail fast with "connection refused").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from steadyops.rca.cases import LogRecord, RcaCase, Span

__all__ = ["FAULTS", "GRAPH", "SimConfig", "simulate", "variant"]

FAULTS = ("cpu", "latency", "error", "crash")

#: caller → callees; ``frontend`` is the entry. Routers (several callees, one per request) vs workers.
GRAPH: dict[str, list[str]] = {
    "frontend": ["orders", "catalogue", "users"],
    "orders": ["payment", "shipping", "orders-db"],
    "catalogue": ["catalogue-db"],
    "users": ["users-db"],
    "shipping": ["queue"],
}
ROUTERS: dict[str, list[float]] = {"frontend": [0.45, 0.35, 0.2]}
SELF_MS: dict[str, float] = {
    "frontend": 8.0, "orders": 15.0, "catalogue": 10.0, "users": 6.0, "payment": 25.0,
    "shipping": 12.0, "orders-db": 5.0, "catalogue-db": 4.0, "users-db": 3.0, "queue": 2.0,
}
TIMEOUT_MS = 400.0


@dataclass(frozen=True, slots=True)
class SimConfig:
    rate: float = 2.0
    """Requests per second at the entry service."""
    sample: float = 0.3
    """Share of requests traced and access-logged."""
    step: float = 30.0
    normal_s: float = 2400.0
    incident_s: float = 600.0
    graph: Mapping[str, Sequence[str]] = field(default_factory=lambda: GRAPH)


@dataclass
class _Call:
    service: str
    start: float
    duration: float
    failed: bool
    refused: bool  # the callee did not answer (crashed): no span of its own
    children: list[_Call]
    operation: str = "handle"


class _World:
    def __init__(self, rng: np.random.Generator, cfg: SimConfig, culprit: str, fault: str, t0: float) -> None:
        self.rng, self.cfg, self.culprit, self.fault, self.t0 = rng, cfg, culprit, fault, t0

    def faulty(self, service: str, t: float) -> bool:
        return service == self.culprit and t >= self.t0

    def call(self, service: str, t: float) -> _Call:
        rng = self.rng
        if self.faulty(service, t) and self.fault == "crash":
            return _Call(service, t, float(rng.uniform(0.5, 2.0)), True, True, [])
        own = float(rng.lognormal(math.log(SELF_MS.get(service, 5.0)), 0.35))
        if self.faulty(service, t) and self.fault == "cpu":
            own *= float(rng.uniform(3.0, 6.0))
        delay = float(rng.normal(250.0, 40.0)) if self.faulty(service, t) and self.fault == "latency" else 0.0
        failed = bool(self.faulty(service, t) and self.fault == "error" and rng.random() < 0.3)
        children: list[_Call] = []
        callees = list(self.cfg.graph.get(service, ()))
        operation = "handle"
        if service in ROUTERS and callees:  # the request's path picks the route
            callees = [callees[int(rng.choice(len(callees), p=ROUTERS[service]))]]
            operation = f"GET /api/{callees[0]}"
        if callees and not failed:
            clock = t + own / 2e3
            for callee in callees:
                child = self.call(callee, clock)
                children.append(child)
                clock += child.duration / 1e3
                if child.failed:
                    failed = True
                    break
        duration = own + sum(c.duration for c in children) + delay
        return _Call(service, t, duration, failed, False, children, operation)


def _access(rng: np.random.Generator, service: str, call: _Call) -> str:
    status = 500 if call.failed else 200
    return f"GET /{service}/items/{int(rng.integers(1, 99999))} {status} {call.duration:.1f}ms"


def simulate(seed: int, culprit: str, fault: str, cfg: SimConfig | None = None) -> RcaCase:
    """One case with every modality; ``variant`` strips it down to one."""
    cfg = cfg or SimConfig()
    rng = np.random.default_rng(seed)
    services = sorted(set(cfg.graph) | {c for cs in cfg.graph.values() for c in cs})
    t0 = cfg.normal_s
    end = cfg.normal_s + cfg.incident_s
    world = _World(rng, cfg, culprit, fault, t0)
    n_steps = int(end // cfg.step)
    durations: dict[tuple[str, int], list[float]] = {}
    fails: dict[tuple[str, int], list[bool]] = {}
    logs: list[LogRecord] = []
    spans: list[Span] = []
    arrivals = np.cumsum(rng.exponential(1.0 / cfg.rate, int(cfg.rate * end * 1.2)))
    for n, t in enumerate(float(a) for a in arrivals if a < end):
        root = world.call("frontend", t)
        sampled = rng.random() < cfg.sample
        stack: list[tuple[_Call, str]] = [(root, "")]
        while stack:
            call, parent = stack.pop()
            bucket = int(call.start // cfg.step)
            if not call.refused:
                durations.setdefault((call.service, bucket), []).append(call.duration)
                fails.setdefault((call.service, bucket), []).append(call.failed)
            span_id = f"{n:x}.{call.service}"
            if sampled and not call.refused:
                status = "ERROR" if call.failed else "OK"
                spans.append(Span(call.start, f"{n:08x}", span_id, parent, call.service, call.operation,
                                  call.duration, status))
                logs.append(LogRecord(call.start, call.service, _access(rng, call.service, call)))
                own_failure = call.failed and not any(c.failed for c in call.children)
                if own_failure:
                    logs.append(LogRecord(call.start, call.service,
                                          f"ERROR request failed: java.lang.IllegalStateException: "
                                          f"invariant violated for key {rng.integers(1 << 32):08x}"))
                for child in call.children:
                    if child.refused:
                        logs.append(LogRecord(child.start, call.service,
                                              f"ERROR connection refused: {child.service}:"
                                              f"{8000 + len(child.service)} (attempt 1)"))
                    elif child.failed:
                        logs.append(LogRecord(child.start, call.service,
                                              f"WARN upstream {child.service} returned 500 after "
                                              f"{child.duration:.0f} ms"))
                    elif child.duration > TIMEOUT_MS:
                        logs.append(LogRecord(child.start, call.service,
                                              f"WARN call to {child.service} timed out after {child.duration:.0f} ms"))
            for child in call.children:
                stack.append((child, span_id))
    # housekeeping and rare warnings, per service, independent of the fault
    for svc in services:
        for t in np.arange(float(rng.uniform(0, 60)), end, 60.0):
            if world.faulty(svc, float(t)) and fault == "crash":
                continue
            logs.append(LogRecord(float(t), svc, f"pool stats: active={rng.integers(1, 20)} idle={rng.integers(0, 8)}"))
            if rng.random() < 0.05:
                logs.append(LogRecord(float(t) + 1, svc,
                                      f"WARN client closed connection early (request {rng.integers(1 << 20)})"))
            if world.faulty(svc, float(t)) and fault == "cpu":
                logs.append(LogRecord(float(t) + 2, svc,
                                      f"WARN worker pool saturated: {rng.integers(50, 500)} tasks queued"))
    if fault == "crash":
        logs.append(LogRecord(t0 + 0.1, culprit, "received signal 9, shutting down"))
    # metrics on the step grid, from every request
    times = [i * cfg.step for i in range(n_steps)]
    metrics: dict[str, list[float]] = {}
    mem_walk = {svc: 300.0 + 50.0 * i for i, svc in enumerate(services)}
    for svc in services:
        lat, err, qps, cpu, mem, up = [], [], [], [], [], []
        base_cpu = 5.0 + SELF_MS.get(svc, 5.0) / 2
        for i in range(n_steps):
            t = times[i]
            down = world.faulty(svc, t) and fault == "crash"
            d = durations.get((svc, i), [])
            f = fails.get((svc, i), [])
            mem_walk[svc] += float(rng.normal(0.0, 1.5))
            if down:
                lat.append(math.nan)
                err.append(math.nan)
                qps.append(math.nan)
                cpu.append(math.nan)
                mem.append(math.nan)
                up.append(0.0)
                continue
            lat.append(float(np.percentile(d, 90)) if d else math.nan)
            err.append(float(np.mean(f)) if f else 0.0)
            qps.append(len(d) / cfg.step)
            hog = float(rng.normal(60.0, 5.0)) if world.faulty(svc, t) and fault == "cpu" else 0.0
            cpu.append(max(base_cpu + 4.0 * len(d) / cfg.step + float(rng.normal(0.0, 1.5)) + hog, 0.0))
            mem.append(mem_walk[svc])
            up.append(1.0)
        metrics[f"{svc}:latency_p90"] = lat
        metrics[f"{svc}:error_ratio"] = err
        metrics[f"{svc}:requests_per_second"] = qps
        metrics[f"{svc}:cpu_usage"] = cpu
        metrics[f"{svc}:memory_mb"] = mem
        metrics[f"{svc}:up"] = up
    return RcaCase(
        name=f"{fault}-{culprit}-{seed}",
        times=[float(t) for t in times],
        metrics=metrics,
        normal=(0.0, t0 - cfg.step),
        fault_start=t0,
        end=end - 1.0,
        topology={k: list(v) for k, v in cfg.graph.items()},
        root_cause=culprit,
        labels={"fault": fault},
        logs=sorted(logs, key=lambda r: r.time),
        spans=spans,
    )


def variant(case: RcaCase, modality: str, *, topology: bool = True) -> RcaCase:
    """The case with only ``metrics``, ``logs`` or ``traces`` (or ``fused``: all of them)."""
    keep_metrics = modality in ("metrics", "fused")
    return RcaCase(
        name=f"{case.name}/{modality}",
        times=list(case.times),
        metrics=dict(case.metrics) if keep_metrics else {},
        normal=case.normal,
        fault_start=case.fault_start,
        end=case.end,
        topology=dict(case.topology) if topology else {},
        root_cause=case.root_cause,
        labels=dict(case.labels),
        logs=list(case.logs) if modality in ("logs", "fused") else [],
        spans=list(case.spans) if modality in ("traces", "fused") else [],
    )
