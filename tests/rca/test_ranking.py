"""Root-cause ranking on synthetic incidents: the injected service wins, the graph finds the upstream
root, flat data is inconclusive. No dataset needed; every case is seeded and takes milliseconds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from steadyops.rca import (
    find_change_point,
    personalised_pagerank,
    rank_root_causes,
    score_metric,
    service_of,
    split_at_change_point,
)

SERVICES = ("front-end", "orders", "payment", "carts", "user")


def healthy(rng: np.random.Generator, n: int) -> dict[str, list[float]]:
    """Per-service CPU (%), memory (bytes) and latency (ms) with realistic levels and noise."""
    out: dict[str, list[float]] = {}
    for i, svc in enumerate(SERVICES):
        out[f"{svc}_cpu"] = list(rng.normal(5 + i, 0.5, n))
        out[f"{svc}_mem"] = list(rng.normal(3e8 + 1e7 * i, 2e6, n))
        out[f"{svc}_latency"] = list(rng.normal(20 + 3 * i, 1.0, n))
    return out


def shift(series: dict[str, list[float]], metric: str, by: float) -> None:
    series[metric] = [v + by for v in series[metric]]


def test_the_injected_service_ranks_first() -> None:
    rng = np.random.default_rng(1)
    normal, anomalous = healthy(rng, 200), healthy(rng, 100)
    shift(anomalous, "payment_cpu", 40.0)  # a CPU hog
    result = rank_root_causes(normal, anomalous)
    assert result.services()[0] == "payment"
    assert not result.inconclusive, result.reason
    assert result.candidates[0].evidence[0] == "payment_cpu"
    assert result.candidates[0].score > 10 * result.candidates[1].score


def test_a_memory_leak_beats_byte_jitter_on_a_flat_gauge() -> None:
    """A gauge flat in normal times that moves by a few pages must not outrank a real leak."""
    rng = np.random.default_rng(2)
    normal, anomalous = healthy(rng, 200), healthy(rng, 100)
    normal["user_mem"] = [4.3e8] * 200
    anomalous["user_mem"] = [4.3e8 + 8192] * 100
    anomalous["carts_mem"] = list(np.linspace(3.3e8, 4.5e8, 100))  # leaking
    result = rank_root_causes(normal, anomalous)
    assert result.services()[0] == "carts"
    assert not result.inconclusive


def test_flat_data_is_inconclusive() -> None:
    rng = np.random.default_rng(3)
    result = rank_root_causes(healthy(rng, 200), healthy(rng, 100))
    assert result.inconclusive
    assert result.candidates  # a ranking is still returned
    assert "noise" in result.reason or "separated" in result.reason


def test_two_equal_suspects_are_inconclusive() -> None:
    rng = np.random.default_rng(4)
    normal, anomalous = healthy(rng, 200), healthy(rng, 100)
    shift(anomalous, "orders_cpu", 30.0)
    shift(anomalous, "carts_cpu", 30.0)
    result = rank_root_causes(normal, anomalous)
    assert set(result.services()[:2]) == {"orders", "carts"}
    assert result.inconclusive
    assert "separated" in result.reason


def test_topology_prefers_the_upstream_root() -> None:
    """payment slows down; orders and front-end, which call it, show bigger latency jumps."""
    rng = np.random.default_rng(5)
    normal, anomalous = healthy(rng, 200), healthy(rng, 100)
    shift(anomalous, "payment_latency", 8.0)
    shift(anomalous, "orders_latency", 12.0)
    shift(anomalous, "front-end_latency", 15.0)
    topology = {"front-end": ["orders", "carts", "user"], "orders": ["payment", "user"]}

    blind = rank_root_causes(normal, anomalous)
    assert blind.services()[0] == "front-end"  # victims look loudest without the graph

    informed = rank_root_causes(normal, anomalous, topology)
    assert informed.services()[0] == "payment"
    assert not informed.inconclusive, informed.reason
    top = informed.candidates[0]
    assert top.anomaly < blind.candidates[0].anomaly  # it won on the graph, not on raw anomaly


def test_topology_keeps_a_caller_whose_dependencies_are_healthy() -> None:
    rng = np.random.default_rng(6)
    normal, anomalous = healthy(rng, 200), healthy(rng, 100)
    shift(anomalous, "front-end_cpu", 30.0)
    topology = {"front-end": ["orders", "carts", "user"], "orders": ["payment", "user"]}
    result = rank_root_causes(normal, anomalous, topology)
    assert result.services()[0] == "front-end"
    assert not result.inconclusive


def test_pagerank_conserves_total_anomaly() -> None:
    anomaly = {"a": 10.0, "b": 6.0, "c": 4.0, "d": 1.0}
    ranked = personalised_pagerank(anomaly, {"a": ["b"], "b": ["c"]})
    assert math.isclose(sum(ranked.values()), sum(anomaly.values()), rel_tol=1e-6)
    assert max(ranked, key=lambda s: ranked[s]) == "c"
    assert personalised_pagerank({"a": 0.0}, {}) == {"a": 0.0}


def test_metrics_missing_a_window_or_with_gaps_are_handled() -> None:
    rng = np.random.default_rng(7)
    normal, anomalous = healthy(rng, 200), healthy(rng, 100)
    normal["orphan_cpu"] = [1.0] * 200  # absent from the incident window
    anomalous["payment_cpu"] = [math.nan if i % 3 == 0 else v + 40 for i, v in enumerate(anomalous["payment_cpu"])]
    result = rank_root_causes(normal, anomalous)
    assert "orphan" not in result.services()
    assert result.services()[0] == "payment"
    assert score_metric("x_cpu", [1.0, 2.0], [5.0]) is None  # too few normal samples
    assert rank_root_causes({}, {}).inconclusive


@pytest.mark.parametrize(
    ("metric", "service"),
    [
        ("carts_cpu", "carts"),
        ("front-end_mem", "front-end"),
        ("carts_lat_90", "carts"),
        ("ts-auth-service_latency-90", "ts-auth-service"),
        ("redis.memory.used", "redis"),
        ("plain", "plain"),
    ],
)
def test_service_of(metric: str, service: str) -> None:
    assert service_of(metric) == service


def test_change_point_finds_the_incident_start() -> None:
    rng = np.random.default_rng(8)
    series = healthy(rng, 150)
    shift_at = 90
    series["orders_cpu"] = series["orders_cpu"][:shift_at] + [v + 20 for v in series["orders_cpu"][shift_at:]]
    cut = find_change_point(series)
    assert cut is not None and abs(cut - shift_at) <= 2
    split = split_at_change_point(series)
    assert split is not None
    normal, anomalous = split
    assert rank_root_causes(normal, anomalous).services()[0] == "orders"
    assert find_change_point({"a": [1.0, 2.0]}) is None
    with pytest.raises(ValueError):
        find_change_point({"a": [1.0] * 20, "b": [1.0] * 21})
