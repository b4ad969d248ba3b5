"""Scoring of event-like and failure metrics: what the normal window says health is.

Why these rules exist: a metric that sits at one value (availability at 100 %) departs from it in
events, and one unhealthy episode inside the window labelled normal must not become the unit every
later incident is measured in; and a first failure on a metric that never failed is news however
small a share of the traffic one failed request is. Synthetic series only, no data set.
"""

from __future__ import annotations

import numpy as np

from steadyops.rca import RcaConfig, ScoringConfig, rank_root_causes, score_metric

N_NORMAL = 300
OLD = ScoringConfig(recurring=False, flat_failures=False)


def _with_episodes(level: float, episodes: list[tuple[int, float]], length: int = 10) -> list[float]:
    """``level`` throughout the normal window, except ``length`` samples at each (start, value)."""
    values = [level] * N_NORMAL
    for start, value in episodes:
        values[start : start + length] = [value] * length
    return values


def _score(
    normal: list[float], incident: list[float], kind: str = "availability", cfg: ScoringConfig | None = None
) -> float:
    scored = score_metric(f"svc:{kind}", normal, incident, service="svc", kind=kind, config=cfg or ScoringConfig())
    assert scored is not None
    return scored.score


def test_one_episode_in_the_normal_window_is_not_the_unit_of_health() -> None:
    normal = _with_episodes(100.0, [(0, 97.0)])  # the window opens in the tail of an earlier incident
    incident = [97.0, 97.0, 97.0]
    assert _score(normal, incident) == 3.0  # 3 points below a level it otherwise never left
    assert _score(normal, incident, cfg=OLD) == 1.0  # the episode as the unit: "as bad as healthy"


def test_an_excursion_made_twice_is_health() -> None:
    normal = _with_episodes(100.0, [(0, 97.0), (150, 98.0)])
    assert _score(normal, [97.0, 97.0, 97.0]) == 1.5  # calibrated by the smaller of the two episodes


def test_a_wandering_gauge_keeps_its_largest_excursion() -> None:
    # a drifting memory level wanders in long runs; its largest run is what health looks like, and
    # calibrating it by a smaller one would let drift outrank a real fault elsewhere
    rng = np.random.default_rng(7)
    normal = list(400.0 + np.cumsum(rng.normal(0.0, 2.0, N_NORMAL)))
    incident = [max(normal) + 5.0] * 3
    assert _score(normal, incident, kind="memory_mb") == _score(normal, incident, kind="memory_mb", cfg=OLD)


def test_a_first_failure_on_a_flat_failure_metric_is_clear_evidence() -> None:
    flat = [100.0] * N_NORMAL
    one_failure = [100.0 - 100.0 / 133, 100.0 - 100.0 / 133, 100.0]  # one failed request of 133, twice
    cfg = ScoringConfig()
    assert _score(flat, one_failure) == cfg.flat_evidence
    assert _score(flat, one_failure, cfg=OLD) < 1.0  # the share of a quiet component's traffic
    assert _score(flat, [85.0, 85.0, 85.0]) == 15.0  # larger falls still score by their size
    assert _score([1.0] * N_NORMAL, [1.0, 1.0, 1.0], kind="up") == 0.0  # no change, no evidence
    # not a failure metric: a pool of 200 threads growing by one is not news
    assert _score([200.0] * N_NORMAL, [201.0] * 3, kind="threads") == 0.5


def test_a_backend_behind_a_proxy_is_found_though_both_failed_once_while_healthy() -> None:
    """The caller reaches the backend directly and through a proxy (a leaf beside it). Both failed
    together once in the normal window; now the backend fails again, a little more than then, and the
    proxy, carrying few requests, shows the same failures as a larger share."""
    topology = {"front": ["proxy", "backend"], "backend": ["store"]}
    normal = {
        "store_availability": [100.0] * N_NORMAL,
        "front_availability": _with_episodes(100.0, [(0, 97.0)]),
        "proxy_availability": _with_episodes(100.0, [(0, 93.0)]),
        "backend_availability": _with_episodes(100.0, [(0, 97.0)]),
    }
    incident = {
        "store_availability": [100.0, 100.0, 100.0],
        "front_availability": [97.7, 96.3, 99.4],
        "proxy_availability": [88.3, 83.9, 100.0],
        "backend_availability": [97.2, 96.7, 99.6],
    }

    def first(config: RcaConfig) -> str:
        ranked = rank_root_causes(
            normal, incident, topology, config=config, symptom="front", symptom_metric="availability"
        )
        return ranked.services()[0]

    assert first(RcaConfig()) == "backend"
    assert first(RcaConfig(scoring=OLD)) == "proxy"  # the episode mutes the backend; the proxy's share looks worse


def test_a_first_failure_outranks_a_few_trial_ratio_at_its_usual_worst() -> None:
    """A quiet component that never failed fails one request in 133; a component whose ratio comes
    from three or four calls a sample (0, 25, 50 … 100 %) hits 0 %, as it did while healthy."""
    rng = np.random.default_rng(5)
    few = [float(v) for v in rng.choice([0.0, 33.3, 50.0, 66.7, 100.0], N_NORMAL)]
    normal = {"quiet_availability": [100.0] * N_NORMAL, "few_availability": few}
    incident = {"quiet_availability": [97.8, 99.25, 100.0], "few_availability": [40.0, 0.0, 0.0]}
    assert rank_root_causes(normal, incident).services()[0] == "quiet"
    assert rank_root_causes(normal, incident, config=RcaConfig(scoring=OLD)).services()[0] == "few"


def test_a_lone_blip_does_not_set_the_unit_of_a_rare_event_count() -> None:
    """Two services log the same surge of a new error; one of them once wrote a rare line while
    healthy. That line must not turn its surge into 132 units while the other's stays "it changed"."""
    never = [0.0] * N_NORMAL
    once = [0.0] * N_NORMAL
    once[120] = 1.0
    surge = [111.0, 126.0, 132.0]
    cfg = ScoringConfig()
    assert _score(never, surge, kind="log_new_templates") == cfg.flat_evidence
    assert _score(once, surge, kind="log_new_templates") == cfg.flat_evidence
    assert _score(once, surge, kind="log_new_templates", cfg=ScoringConfig(isolated_blips=False)) == 126.0
    # an excursion that lasts (two samples in a row) is health the smoothing sees: it sets the unit
    lasting = [0.0] * N_NORMAL
    lasting[120:122] = [2.0, 2.0]
    assert _score(lasting, surge, kind="log_new_templates") == 63.0


def test_a_callee_that_is_gone_explains_its_callers_failures_wholly() -> None:
    """``db`` stops reporting; ``api``, which calls it, fails hundreds of times its usual error ratio.
    A tenth of that surge (the soft discount) would still outrank the bounded silence that caused it."""
    rng = np.random.default_rng(3)
    normal = {
        "api:error_ratio": list(0.001 + 0.0005 * np.abs(rng.standard_normal(N_NORMAL))),
        "api:cpu_usage": list(0.3 + 0.01 * rng.standard_normal(N_NORMAL)),
        "db:cpu_usage": list(0.2 + 0.01 * rng.standard_normal(N_NORMAL)),
    }
    incident = {
        "api:error_ratio": [0.36, 0.35, 0.37],
        "api:cpu_usage": [0.3, 0.3, 0.3],
        "db:cpu_usage": [float("nan")] * 3,  # not scraped any more
    }
    topology = {"api": ["db"]}

    def ranked(config: RcaConfig) -> list[str]:
        return rank_root_causes(normal, incident, topology, service_of_metric=lambda m: m.split(":")[0],
                                config=config).services()

    assert ranked(RcaConfig()) == ["db", "api"]
    assert ranked(RcaConfig(gone_wholly=False)) == ["api", "db"]


def test_a_callee_whose_errors_stayed_healthy_does_not_explain_its_callers_errors() -> None:
    """``web`` starts failing (its error ratio leaves a flat zero); its callee ``db`` kept its own
    error ratio at zero and only wobbles in memory a little more than usual. A callee that reports
    the same metric and kept it healthy is not failing: the wobble must not take the blame."""
    rng = np.random.default_rng(11)
    walk = list(500.0 + np.cumsum(rng.normal(0.0, 1.0, N_NORMAL)))
    swing = max(walk) - float(np.median(walk))
    normal = {"web:error_ratio": [0.0] * N_NORMAL, "db:error_ratio": [0.0] * N_NORMAL, "db:memory_mb": walk}
    incident = {
        "web:error_ratio": [0.05, 0.06, 0.05],
        "db:error_ratio": [0.0, 0.0, 0.0],
        "db:memory_mb": [float(np.median(walk)) + 1.6 * swing] * 3,  # 1.6x its healthy excursion
    }

    def ranked(config: RcaConfig) -> list[str]:
        return rank_root_causes(normal, incident, {"web": ["db"]}, service_of_metric=lambda m: m.split(":")[0],
                                config=config).services()

    assert ranked(RcaConfig()) == ["web", "db"]
    assert ranked(RcaConfig(quiet_callees=False)) == ["db", "web"]


def test_what_a_steady_caller_keeps_after_its_callees_change_carries_the_callees_noise() -> None:
    """``table`` gets 6 s slower at p99; ``search``, which calls it, 7.2 s. The 1.2 s left over is a
    difference of two changes and carries the table's everyday p99 noise (0.15 s) as well as the
    search service's: in units of the search service's very steady p99 alone (20 ms) it would be a
    change of 60 and outrank the table's own."""
    rng = np.random.default_rng(13)
    normal = {
        "table:latency_p99": list(1.0 + 0.15 * rng.standard_normal(N_NORMAL)),
        "search:latency_p99": list(2.0 + 0.002 * rng.standard_normal(N_NORMAL)),
    }
    incident = {"table:latency_p99": [7.0, 7.1, 6.9], "search:latency_p99": [9.2, 9.2, 9.2]}

    def ranked(config: RcaConfig) -> list[str]:
        return rank_root_causes(normal, incident, {"search": ["table"]}, service_of_metric=lambda m: m.split(":")[0],
                                config=config).services()

    assert ranked(RcaConfig()) == ["table", "search"]
    assert ranked(RcaConfig(residual_noise=False)) == ["search", "table"]
