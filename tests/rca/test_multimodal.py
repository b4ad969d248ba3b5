"""Metrics, logs and traces as evidence, alone and fused, on cases from a small simulated system
(``tests/harness/rcasim.py``: ten services, four kinds of fault, effects that travel to callers).

What each kind of evidence can see is part of the test, not a tolerance: logs cannot see a network
delay that makes nobody fail or log (the callers' time-outs are the only trace of it), so logs are
held to errors and crashes; metrics and traces see all four faults. Fused must be at least as good
as the best single kind for every fault, and missing, gappy or odd inputs must neither crash the
ranker nor take the lead.
"""

from __future__ import annotations

import math
import zlib
from functools import cache

import numpy as np
import pytest

from steadyops.rca import RcaCase, Span, rank_case, rank_root_causes, trace_signals
from tests.harness.rcasim import FAULTS, SimConfig, simulate, variant

CULPRITS = ("frontend", "orders", "catalogue-db", "payment", "shipping", "users")
MODALITIES = ("metrics", "logs", "traces", "fused")


@cache
def _case(culprit: str, fault: str) -> RcaCase:
    return simulate(100 + zlib.crc32(f"{fault}{culprit}".encode()) % 97, culprit, fault)


@cache
def _hits() -> dict[tuple[str, str], list[bool]]:
    hits: dict[tuple[str, str], list[bool]] = {}
    for fault in FAULTS:
        for culprit in CULPRITS:
            case = _case(culprit, fault)
            for modality in MODALITIES:
                ranked = rank_case(variant(case, modality)).services()
                hits.setdefault((fault, modality), []).append(bool(ranked) and ranked[0] == culprit)
    return hits


def _ac1(fault: str, modality: str) -> float:
    row = _hits()[(fault, modality)]
    return sum(row) / len(row)


@pytest.mark.parametrize("fault", FAULTS)
def test_metrics_alone_find_every_kind_of_fault(fault: str) -> None:
    assert _ac1(fault, "metrics") >= 0.8, _hits()[(fault, "metrics")]


@pytest.mark.parametrize("fault", FAULTS)
def test_traces_alone_find_every_kind_of_fault(fault: str) -> None:
    assert _ac1(fault, "traces") >= 0.8, _hits()[(fault, "traces")]


@pytest.mark.parametrize("fault", ["error", "crash"])
def test_logs_alone_find_errors_and_crashes(fault: str) -> None:
    """A failing component writes new error templates; a crashed one falls silent while its callers
    log refused connections, which its silence explains."""
    assert _ac1(fault, "logs") >= 0.8, _hits()[(fault, "logs")]


@pytest.mark.parametrize("fault", FAULTS)
def test_fusing_is_never_worse_than_the_best_single_kind(fault: str) -> None:
    best = max(_ac1(fault, m) for m in ("metrics", "logs", "traces"))
    assert _ac1(fault, "fused") >= best, {m: _ac1(fault, m) for m in MODALITIES}
    assert _ac1(fault, "fused") == 1.0


def test_without_a_topology_every_kind_still_ranks() -> None:
    """No call graph: traces give one (parent/child spans); logs and metrics rank without one."""
    case = _case("payment", "error")
    for modality in MODALITIES:
        result = rank_case(variant(case, modality, topology=False))
        assert result.candidates, modality
    assert rank_case(variant(case, "fused", topology=False)).services()[0] == "payment"


def test_logs_or_traces_without_any_metric_or_time_grid() -> None:
    """The live path may have no Prometheus at all: the grid then comes from the events themselves."""
    case = variant(_case("shipping", "error"), "fused")
    case.metrics = {}
    case.times = []
    result = rank_case(case)
    assert result.services()[0] == "shipping", result.candidates[:3]


def _battered(case: RcaCase, rng: np.random.Generator) -> RcaCase:
    """Gaps, a dead column, constant columns, a huge counter and a coarser sampled column added."""
    metrics = {}
    for name, values in case.metrics.items():
        arr = np.asarray(values, dtype=np.float64).copy()
        arr[rng.random(arr.size) < 0.15] = math.nan  # scrape gaps
        metrics[name] = arr.tolist()
    n = len(case.times)
    metrics["frontend:build_info"] = [1.0] * n
    metrics["orders:threads_max"] = [200.0] * n
    metrics["queue:disk_total_bytes"] = [math.nan] * n
    counter = np.cumsum(rng.poisson(3e6, n)).astype(np.float64) + 8.0e15
    metrics["users-db:bytes_sent"] = counter.tolist()
    coarse = [float(rng.normal(40.0, 3.0)) if i % 4 == 0 else math.nan for i in range(n)]
    metrics["catalogue:gc_pause_ms"] = coarse
    case.metrics = metrics
    case.name += "/battered"
    return case


@pytest.mark.parametrize("fault", FAULTS)
def test_gaps_constants_and_huge_counters_neither_crash_nor_lead(fault: str) -> None:
    culprit = "payment"
    case = _battered(variant(_case(culprit, fault), "fused"), np.random.default_rng(3))
    result = rank_case(case)
    assert result.services()[0] == culprit, result.candidates[:3]
    top_metrics = {m.metric for m in result.metrics[:10]}
    assert not top_metrics & {"frontend:build_info", "orders:threads_max", "users-db:bytes_sent"}
    assert all(math.isfinite(c.score) for c in result.candidates)


def test_a_crashed_service_that_leaves_no_metrics_is_seen() -> None:
    """Its series stop (no `up` to say so): a component that stopped reporting while others still
    do is evidence, and it explains its callers' failures."""
    case = variant(_case("orders", "crash"), "metrics")
    case.metrics = {k: v for k, v in case.metrics.items() if not k.endswith(":up")}
    result = rank_case(case)
    assert result.services()[0] == "orders", result.candidates[:3]
    assert "orders:no_data" in result.candidates[0].evidence


def test_different_sampling_of_logs_and_traces_than_metrics() -> None:
    """Metrics every 30 s, logs and spans at arbitrary instants: the events are bucketed on the
    metrics' grid, whatever their own rhythm."""
    case = simulate(11, "catalogue-db", "latency", SimConfig(rate=1.3, sample=0.5))
    result = rank_case(case)
    assert result.services()[0] == "catalogue-db", result.candidates[:3]


def _span(t: float, trace: str, sid: str, parent: str, component: str, status: str = "OK",
          operation: str = "op", ms: float = 10.0) -> Span:
    return Span(t, trace, sid, parent, component, operation, ms, status)


def _arrivals(seed: int) -> list[float]:
    """A Poisson stream of requests, one every 5 s on average, over 50 minutes."""
    times = np.cumsum(np.random.default_rng(seed).exponential(5.0, 800))
    return [float(t) for t in times if t < 3000.0]


def _chain(t: float, i: int, *, callee_up: bool, caller_fails_first: bool = False) -> list[Span]:
    tid = f"t{i}"
    if caller_fails_first:
        return [_span(t, tid, "a", "", "api", "ERROR")]
    if not callee_up:
        return [_span(t, tid, "a", "", "api", "ERROR", ms=2.0)]
    return [_span(t, tid, "a", "", "api", ms=30.0), _span(t + 0.001, tid, "d", "a", "db", ms=20.0)]


def test_a_call_that_left_no_span_is_the_silent_callees_error() -> None:
    """api always calls db; db is gone, so api's spans fail with no child: the error began at db."""
    spans: list[Span] = []
    for i, t in enumerate(_arrivals(1)):
        spans += _chain(t, i, callee_up=t < 2400.0)
    case = RcaCase(name="gone", times=[float(t) for t in range(0, 3000, 30)], metrics={},
                   normal=(0.0, 2370.0), fault_start=2400.0, end=2999.0, spans=spans)
    _, incident = trace_signals(case)
    assert max(v for v in incident["db:span_error_origin_rate"] if math.isfinite(v)) == 1.0
    assert all(v == 0.0 for v in incident["api:span_error_origin_rate"] if math.isfinite(v))
    assert rank_case(case).services()[0] == "db"


def test_a_callee_called_now_and_then_that_is_gone_owns_the_failures_and_their_time() -> None:
    """api calls db on a third of its requests; db is gone, and those calls fail after a 500 ms
    connect timeout with no db span. The failures are db's, and the time spent waiting on a callee
    that answered nobody is not api's own work. db answered none of the calls made to it: it is
    gone, which explains api's slower requests too."""
    spans: list[Span] = []
    for i, t in enumerate(_arrivals(3)):
        tid = f"t{i}"
        if i % 3:
            spans.append(_span(t, tid, "a", "", "api", ms=10.0))
        elif t < 2400.0:
            spans += [_span(t, tid, "a", "", "api", ms=30.0), _span(t + 0.001, tid, "d", "a", "db", ms=20.0)]
        else:
            spans.append(_span(t, tid, "a", "", "api", "ERROR", ms=510.0))
    case = RcaCase(name="sometimes", times=[float(t) for t in range(0, 3000, 30)], metrics={},
                   normal=(0.0, 2370.0), fault_start=2400.0, end=2999.0, spans=spans)
    _, incident = trace_signals(case)
    assert max(v for v in incident["db:span_error_origin_rate"] if math.isfinite(v)) == 1.0
    assert all(v == 0.0 for v in incident["api:span_error_origin_rate"] if math.isfinite(v))
    assert max(v for v in incident["api:span_self_ms_p90"] if math.isfinite(v)) <= 10.0
    assert all(v == 0.0 for v in incident["db:span_answered"] if math.isfinite(v))
    assert rank_case(case).services()[0] == "db"


def _thinning(slowdown: float, seed: int) -> RcaCase:
    """svc answers ~200 calls a minute while healthy and ~20 in the incident (its callers shed load)."""
    rng = np.random.default_rng(seed)
    spans: list[Span] = []
    for minute in range(50):
        calls = 200 if minute < 40 else 20
        for j in range(calls):
            t = minute * 60.0 + j * 60.0 / calls
            ms = float(10.0 * np.exp(0.3 * rng.standard_normal())) * (slowdown if minute >= 40 else 1.0)
            spans.append(_span(t, f"t{minute}-{j}", "s", "", "svc", ms=ms))
    return RcaCase(name="thin", times=[float(t) for t in range(0, 3000, 30)], metrics={},
                   normal=(0.0, 2370.0), fault_start=2400.0, end=2999.0, spans=spans)


def test_fewer_spans_do_not_make_a_component_look_slower() -> None:
    """A p90 of 20 spans strays further than one of 200: sampling noise is not a slowdown, and a
    real one is still seen at the thinner traffic."""
    def score(case: RcaCase) -> float:
        normal, incident = trace_signals(case)
        ranked = rank_root_causes(normal, incident, service_of_metric=lambda m: m.rsplit(":", 1)[0])
        return max(m.score for m in ranked.metrics if m.metric == "svc:span_self_ms_p90")

    # within the healthy excursion (score 1); unshrunk, the same five reach 1.9
    assert max(score(_thinning(1.0, seed)) for seed in range(5)) < 1.0
    assert min(score(_thinning(3.0, seed)) for seed in range(5)) >= 2.0


def _client_server(*, wire_ms: float, web_self_ms: float, seed: int = 4) -> RcaCase:
    """web's server span makes a client span to cart, whose server span is its child (OpenTelemetry's
    shape). From the fault start ``wire_ms`` is added between the client and the server span (a
    network delay at cart's interface) and ``web_self_ms`` is web's own work."""
    rng = np.random.default_rng(seed)
    spans: list[Span] = []
    for i, t in enumerate(_arrivals(seed)):
        tid = f"t{i}"
        late = t >= 2400.0
        cart = float(8.0 * np.exp(0.2 * rng.standard_normal()))
        client = cart + float(rng.uniform(0.5, 1.5)) + (wire_ms if late else 0.0)
        web = client + float(5.0 * np.exp(0.2 * rng.standard_normal())) * (web_self_ms / 5.0 if late else 1.0)
        spans += [_span(t, tid, "w", "", "web", ms=web),
                  _span(t + 0.001, tid, "c", "w", "web", operation="call cart", ms=client),
                  _span(t + 0.002, tid, "s", "c", "cart", ms=cart)]
    return RcaCase(name="wire", times=[float(t) for t in range(0, 3000, 30)], metrics={},
                   normal=(0.0, 2370.0), fault_start=2400.0, end=2999.0, spans=spans)


def test_time_on_the_wire_to_a_callee_is_the_callees_not_the_callers_own() -> None:
    """A client span's time outside its callee's server span is the network to the callee: a delay
    there must not read as the caller's own work, while the caller's real own work still does."""
    delayed = _client_server(wire_ms=100.0, web_self_ms=5.0)
    normal, incident = trace_signals(delayed)
    assert max(v for v in incident["web:span_self_ms_p90"] if math.isfinite(v)) < 10.0
    assert min(v for v in incident["cart:span_wire_ms_p90"] if math.isfinite(v)) > 50.0
    assert max(v for v in normal["cart:span_wire_ms_p90"] if math.isfinite(v)) < 2.0
    assert rank_case(delayed).services()[0] == "cart"
    assert rank_case(_client_server(wire_ms=0.0, web_self_ms=50.0)).services()[0] == "web"


def test_a_caller_failing_before_its_call_keeps_its_error() -> None:
    """db still answers other calls in the same minutes, so api's failures without a db span are api's."""
    spans: list[Span] = []
    for i, t in enumerate(_arrivals(2)):
        spans += _chain(t, i, callee_up=True, caller_fails_first=t >= 2400.0 and i % 2 == 0)
    case = RcaCase(name="early", times=[float(t) for t in range(0, 3000, 30)], metrics={},
                   normal=(0.0, 2370.0), fault_start=2400.0, end=2999.0, spans=spans)
    _, incident = trace_signals(case)
    assert min(v for v in incident["api:span_error_origin_rate"] if math.isfinite(v)) > 0.0
    assert rank_case(case).services()[0] == "api"


def test_a_fault_free_system_is_mostly_inconclusive_even_fused() -> None:
    """Summing the kinds must not turn everyday noise into a finding: the strongest single change
    still has to stand out (``min_score``), whatever the sum."""
    verdicts = [rank_case(variant(simulate(500 + seed, "nobody", "cpu"), "fused")).inconclusive for seed in range(5)]
    assert sum(verdicts) >= 4, verdicts


@pytest.mark.parametrize(("fault", "kind"), [("crash", "logs"), ("error", "traces"), ("error", "logs")])
def test_metrics_scraped_every_second_do_not_make_event_buckets_that_fine(fault: str, kind: str) -> None:
    """A 1 s metrics grid would leave a quiet service's log lines and spans at zero or one per bucket;
    events are bucketed by the minute at least, so logs and traces see what they saw at 30 s."""
    case = variant(_case("payment", fault), kind)
    case.times = [float(t) for t in range(3000)]
    case.normal = (0.0, 2399.0)
    assert rank_case(case).services()[0] == "payment"
