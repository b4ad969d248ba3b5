"""The generalising ranker on synthetic cases: flat baselines, directions from names, cause vs symptom
through the call graph, logs and traces as evidence, the one case format. No dataset needed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from steadyops.rca import (
    Direction,
    LogRecord,
    RcaCase,
    RcaConfig,
    ScoringConfig,
    Span,
    component_of,
    direction_of,
    discover_cases,
    explain_by_callees,
    explains,
    is_local,
    opaque_hop_peers,
    rank_case,
    rank_root_causes,
    reachable_from,
    score_metric,
    score_metrics,
    separate_causes,
    write_case,
)

N_NORMAL, N_INCIDENT = 120, 30


def series(rng: np.random.Generator, level: float, noise: float, n: int) -> list[float]:
    return list(rng.normal(level, noise, n))


def test_directions_come_from_general_words() -> None:
    assert direction_of("latency_p90") is Direction.UP
    assert direction_of("cpu") is Direction.UP
    assert direction_of("availability_average") is Direction.DOWN
    assert direction_of("success_rate") is Direction.DOWN
    assert direction_of("error_rate") is Direction.UP
    assert direction_of("mem_free") is Direction.DOWN
    assert direction_of("qps") is Direction.BOTH
    assert direction_of("requestsTotal") is Direction.BOTH
    assert direction_of("some_gauge") is Direction.UP  # unknown: increases, as BARO/NSigma assume
    assert is_local("cpu") and is_local("span_self_ms_p90") and not is_local("latency_p90")


def test_component_names_may_contain_colons() -> None:
    assert component_of("petInfo_AWS::DynamoDB::Table:latency_p90") == "petInfo_AWS::DynamoDB::Table"
    assert component_of("carts:cpu") == "carts"


def test_a_change_from_a_flat_zero_line_is_bounded_evidence() -> None:
    flat = [0.0] * N_NORMAL
    scored = score_metric("svc:availability", flat, [100.0] * N_INCIDENT, service="svc", kind="availability")
    assert scored is not None and scored.score <= 0.0  # availability rising is not a fault
    scored = score_metric("svc:errors", flat, [3.0] * N_INCIDENT, service="svc", kind="errors")
    cfg = ScoringConfig()
    assert scored is not None and scored.score == cfg.flat_evidence  # not 3e9
    legacy = score_metric(
        "svc:errors", flat, [3.0] * N_INCIDENT, service="svc", kind="errors",
        config=ScoringConfig(flat_handling=False),
    )
    assert legacy is not None and legacy.score > 1e8  # what the old 1e-9 floor did


def test_a_fall_in_availability_is_seen() -> None:
    rng = np.random.default_rng(3)
    normal = {f"{s}:latency": series(rng, 20, 1, N_NORMAL) for s in ("a", "b", "c")}
    incident = {f"{s}:latency": series(rng, 20, 1, N_INCIDENT) for s in ("a", "b", "c")}
    normal["b:availability"] = [100.0] * N_NORMAL
    incident["b:availability"] = [100.0] * 5 + [92.0] * (N_INCIDENT - 5)
    normal["c:cpu"] = series(rng, 50, 2, N_NORMAL)
    incident["c:cpu"] = series(rng, 35, 2, N_INCIDENT)  # a fall in CPU is a consequence, not a cause
    result = rank_root_causes(normal, incident, service_of_metric=component_of)
    assert result.services()[0] == "b"
    off = rank_root_causes(
        normal, incident, service_of_metric=component_of,
        config=RcaConfig(scoring=ScoringConfig(directional=False)),
    )
    assert off.services()[0] != "b"


def chain_case(rng: np.random.Generator) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, list[str]]]:
    """front → api → db; db slows down, so api and front (its callers) slow down more, in z units."""
    normal = {
        "front:latency": series(rng, 100, 2, N_NORMAL),
        "api:latency": series(rng, 60, 1, N_NORMAL),
        "db:latency": series(rng, 20, 2, N_NORMAL),
        "cache:latency": series(rng, 5, 0.5, N_NORMAL),
    }
    incident = {
        "front:latency": series(rng, 160, 2, N_INCIDENT),
        "api:latency": series(rng, 120, 1, N_INCIDENT),
        "db:latency": series(rng, 80, 2, N_INCIDENT),
        "cache:latency": series(rng, 5, 0.5, N_INCIDENT),
    }
    topology = {"front": ["api", "cache"], "api": ["db"]}
    return normal, incident, topology


def test_the_call_graph_separates_the_cause_from_its_callers() -> None:
    normal, incident, topology = chain_case(np.random.default_rng(4))
    flat = rank_root_causes(normal, incident, service_of_metric=component_of)
    assert flat.services()[0] == "api"  # loudest in z units, but only a victim
    result = rank_root_causes(normal, incident, topology, service_of_metric=component_of, symptom="front")
    assert result.services()[0] == "db"


def test_local_evidence_is_not_explained_by_a_callee() -> None:
    scores = separate_causes({"api": 50.0, "db": 0.0}, {"api": 5.0, "db": 3.0}, {"api": ["db"]})
    assert scores["api"] > scores["db"]  # a CPU hog on api stays api's, whatever db's latency does


def test_services_the_symptom_cannot_reach_rank_after() -> None:
    assert reachable_from("front", {"front": ["api"], "api": ["db"], "batch": ["db"]}) == {"front", "api", "db"}
    rng = np.random.default_rng(5)
    normal, incident, topology = chain_case(rng)
    topology["batch"] = []
    normal["batch:cpu"] = series(rng, 10, 1, N_NORMAL)
    incident["batch:cpu"] = series(rng, 90, 1, N_INCIDENT)  # loud, but cannot slow front down
    result = rank_root_causes(normal, incident, topology, service_of_metric=component_of, symptom="front")
    assert result.services()[0] == "db"
    assert result.services()[-1] == "batch"


def _case(rng: np.random.Generator) -> RcaCase:
    times = [float(i * 60) for i in range(N_NORMAL + N_INCIDENT)]
    metrics = {f"{s}:cpu": series(rng, 10, 1, len(times)) for s in ("front", "api", "db")}
    return RcaCase(
        name="synthetic",
        times=times,
        metrics=metrics,
        normal=(0.0, times[N_NORMAL - 1]),
        fault_start=times[N_NORMAL],
        topology={"front": ["api"], "api": ["db"]},
        symptom_component="front",
        root_cause="db",
    )


def test_trace_self_time_blames_the_slow_callee_not_its_caller() -> None:
    rng = np.random.default_rng(6)
    case = _case(rng)
    case.topology = {}  # read from the spans instead
    spans: list[Span] = []
    for i, t in enumerate(np.arange(0.0, case.times[-1], 10.0)):
        slow = t >= case.fault_start
        db = float(rng.normal(200 if slow else 20, 3))
        api = db + float(rng.normal(30, 2))
        front = api + float(rng.normal(15, 1))
        tid = f"t{i}"
        spans += [
            Span(float(t), tid, "f", "", "front", "GET /", front, "OK"),
            Span(float(t), tid, "a", "f", "api", "list", api, "OK"),
            Span(float(t), tid, "d", "a", "db", "query", db, "OK"),
        ]
    case.spans = spans
    result = rank_case(case)
    assert result.services()[0] == "db", result.candidates[:3]
    assert any("span_self" in e for e in result.candidates[0].evidence)
    assert rank_case(case, RcaConfig(use_traces=False)).inconclusive  # metrics alone show nothing


def test_new_error_templates_in_logs_point_at_their_component() -> None:
    rng = np.random.default_rng(7)
    case = _case(rng)
    logs: list[LogRecord] = []
    for t in np.arange(0.0, case.times[-1], 5.0):
        for svc in ("front", "api", "db"):
            message = f"handled request {int(rng.integers(1000))} in {int(rng.integers(9))} ms"
            logs.append(LogRecord(float(t), svc, message))
        if t >= case.fault_start:
            logs.append(LogRecord(float(t), "api", f"ERROR connection to 10.0.0.{int(rng.integers(9))}:5432 refused"))
    case.logs = logs
    result = rank_case(case)
    assert result.services()[0] == "api"
    assert any("log_" in e for e in result.candidates[0].evidence)


def test_the_case_format_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    case = _case(rng)
    case.logs = [LogRecord(1.0, "api", "started, pid 12")]
    case.spans = [Span(2.0, "t", "s", "", "api", "op", 3.5, "OK")]
    write_case(
        tmp_path / "one",
        times=case.times,
        metrics=case.metrics,
        meta={"normal": list(case.normal), "fault_start": case.fault_start, "root_cause": "db",
              "symptom": {"component": "front", "metric": "cpu"}, "labels": {"fault": "cpu"}},
        topology=case.topology,
        logs=case.logs,
        spans=case.spans,
    )
    (loaded,) = discover_cases(tmp_path)
    assert loaded.name == "one" and loaded.root_cause == "db" and loaded.labels == {"fault": "cpu"}
    assert loaded.topology == case.topology and loaded.symptom_component == "front"
    assert loaded.logs == case.logs and loaded.spans == case.spans
    normal, incident = loaded.windows()
    assert len(normal["api:cpu"]) == N_NORMAL and len(incident["api:cpu"]) == N_INCIDENT


def test_a_regime_present_before_the_fault_is_not_its_cause() -> None:
    """Normal data recorded at another time: a shift already there before the fault start is context."""
    rng = np.random.default_rng(9)
    normal = {"a:latency": series(rng, 20, 1, N_NORMAL), "b:latency": series(rng, 20, 1, N_NORMAL)}
    incident = {"a:latency": series(rng, 50, 1, N_INCIDENT), "b:latency": series(rng, 35, 1, N_INCIDENT)}
    before = {"a:latency": series(rng, 50, 1, 10), "b:latency": series(rng, 20, 1, 10)}  # a was already high
    plain = score_metric("a:latency", normal["a:latency"], incident["a:latency"], kind="latency")
    assert plain is not None and plain.score > 5 and plain.prior == 0.0
    result = rank_root_causes(normal, incident, service_of_metric=component_of, before=before)
    assert result.services()[0] == "b"
    scored = score_metric("a:latency", normal["a:latency"], incident["a:latency"], kind="latency",
                          before=before["a:latency"])
    assert scored is not None and scored.prior > 10


def test_only_evidence_that_can_produce_the_symptom_counts() -> None:
    assert explains("cpu", "latency_p90") and explains("latency_average", "latency_p90")
    assert not explains("availability", "latency_p90") and not explains("requests", "availability")
    assert explains("errors", "availability") and explains("anything", "queue_depth_other")
    rng = np.random.default_rng(10)
    normal = {f"{s}:latency": series(rng, 20, 1, N_NORMAL) for s in ("a", "b")}
    incident = {"a:latency": series(rng, 30, 1, N_INCIDENT), "b:latency": series(rng, 20, 1, N_INCIDENT)}
    normal["b:availability"] = [100.0] * N_NORMAL
    incident["b:availability"] = [0.0] * N_INCIDENT  # loud, but an outage does not make a caller slow
    result = rank_root_causes(normal, incident, service_of_metric=component_of, symptom_metric="latency")
    assert result.services()[0] == "a"


def test_a_callee_explains_only_its_own_share_of_a_shared_metric() -> None:
    rng = np.random.default_rng(11)
    normal = {f"{s}:latency": series(rng, 50, 2, N_NORMAL) for s in ("api", "db")}
    # api slowed by 300 ms on its own; db by 20 ms, which api's latency includes
    incident = {"api:latency": series(rng, 370, 2, N_INCIDENT), "db:latency": series(rng, 70, 2, N_INCIDENT)}
    scores = score_metrics(normal, incident, service_of_metric=component_of)
    kept = explain_by_callees(scores, {"api": ["db"]})
    # most of it is kept; what is kept is a difference of two changes as noisy as each other, so it
    # is measured against both noises (√2 of one: ``residual_noise``)
    assert kept["api"] > 0.8 * max(s.score for s in scores if s.service == "api") / math.sqrt(2.0)
    assert explain_by_callees(scores, {"api": ["db"]}, residual_noise=False)["api"] > 0.8 * max(
        s.score for s in scores if s.service == "api")
    result = rank_root_causes(normal, incident, {"api": ["db"]}, service_of_metric=component_of)
    assert result.services()[0] == "api"


def _availability(rng: np.random.Generator, drop: float) -> tuple[list[float], list[float]]:
    normal = list(np.minimum(100.0, rng.normal(99.9, 0.05, N_NORMAL)))
    incident = list(np.minimum(100.0, rng.normal(99.9 - drop, 0.05, N_INCIDENT)))
    return normal, incident


def test_a_leaf_in_front_of_a_failing_backend_is_not_blamed() -> None:
    """The caller sees the backend directly and through a proxy the graph shows as a leaf beside it;
    the proxy's view (retries, its own error pages) drops more than the backend's own."""
    rng = np.random.default_rng(3)
    topology = {"front": ["lb", "backend", "cache"], "backend": ["store"]}
    drops = {"front": 3.0, "lb": 8.0, "backend": 3.0, "cache": 0.0, "store": 0.0}
    normal, incident = {}, {}
    for svc, drop in drops.items():
        normal[f"{svc}_availability"], incident[f"{svc}_availability"] = _availability(rng, drop)
    on = rank_root_causes(normal, incident, topology, symptom="front", symptom_metric="availability")
    off = rank_root_causes(normal, incident, topology, symptom="front", symptom_metric="availability",
                           config=RcaConfig(opaque_hops=False))
    assert on.services()[0] == "backend"
    assert off.services()[0] == "lb"  # what the flag changes


def test_a_slow_leaf_with_calm_peers_keeps_its_blame() -> None:
    rng = np.random.default_rng(4)
    topology = {"front": ["db", "auth"]}
    normal = {f"{s}_latency": series(rng, 50.0, 2.0, N_NORMAL) for s in ("front", "db", "auth")}
    incident = {"front_latency": series(rng, 90.0, 2.0, N_INCIDENT), "db_latency": series(rng, 85.0, 2.0, N_INCIDENT),
                "auth_latency": series(rng, 50.0, 2.0, N_INCIDENT)}
    result = rank_root_causes(normal, incident, topology, symptom="front", symptom_metric="latency")
    assert result.services()[0] == "db"
    assert opaque_hop_peers(topology) == {"db": {"auth"}, "auth": {"db"}}


def test_a_peer_that_reaches_the_leaf_cannot_explain_it() -> None:
    # backend calls the cache itself: a slow cache explains the backend, never the other way round
    assert opaque_hop_peers({"front": ["cache", "backend", "auth"], "backend": ["cache"]}) == {
        "cache": {"auth"}, "auth": {"cache", "backend"}}
