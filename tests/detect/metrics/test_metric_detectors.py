"""The default metric detector: streaming contract, persistence, and the anomalies it must catch."""

from __future__ import annotations

import math
import pickle
import random
from datetime import UTC, datetime, timedelta

import pytest

from steadyops.detect.metrics import EnsembleConfig, EnsembleDetector, MetricDetector
from steadyops.detect.metrics.predictors import SeasonalProfile
from steadyops.detect.metrics.stats import AnomalyLikelihood, SortedWindow, TailModel, student_t_tail

STEP = 300.0  # five-minute samples
PROBATION = 300
ALARM = 0.5


def daily(n: int, seed: int = 7, noise: float = 0.3) -> list[float]:
    rng = random.Random(seed)
    return [10 + 2 * math.sin(2 * math.pi * i * STEP / 86400) + rng.gauss(0, noise) for i in range(n)]


def run(values: list[float], detector: MetricDetector | None = None, start: int = 0) -> list[float]:
    detector = detector or EnsembleDetector(probation=PROBATION)
    return [detector.update((start + i) * STEP, v) for i, v in enumerate(values)]


def test_scores_are_in_unit_interval() -> None:
    rng = random.Random(1)
    values = [rng.choice([0.0, 1.0, 1e6, -3.0]) + rng.random() for _ in range(1500)]
    assert all(0.0 <= s <= 1.0 for s in run(values))


def test_no_look_ahead_prefix_scores_do_not_change() -> None:
    values = daily(1600)
    values[1200] += 9
    full = run(values)
    prefix = run(values[:1000])
    assert full[:1000] == prefix


def test_state_round_trip_continues_identically() -> None:
    values = daily(1400)
    values[1100] += 8
    uninterrupted = run(values)
    detector = EnsembleDetector(probation=PROBATION)
    first = run(values[:700], detector)
    restored = EnsembleDetector.from_state(detector.state())
    second = run(values[700:], restored, start=700)
    assert first + second == uninterrupted
    assert pickle.loads(pickle.dumps(restored)).probation == PROBATION


def test_from_state_rejects_other_objects() -> None:
    with pytest.raises(TypeError):
        EnsembleDetector.from_state(pickle.dumps({"not": "a detector"}))


def test_probation_is_silent() -> None:
    values = daily(400)
    values[100] = 1e9
    assert max(run(values)[:PROBATION]) == 0.0


def test_level_shift_is_detected_promptly_and_quiet_before() -> None:
    values = daily(2000)
    for i in range(1500, 2000):
        values[i] += 5
    scores = run(values)
    assert sum(1 for s in scores[PROBATION:1500] if s >= ALARM) <= 1
    assert max(scores[1500:1520]) >= ALARM


def test_spike_is_detected() -> None:
    values = daily(1800)
    values[1400] += 12
    scores = run(values)
    assert max(scores[1400:1405]) >= ALARM
    assert sum(1 for s in scores[PROBATION:1400] if s >= ALARM) <= 1


def test_missing_daily_cycle_is_detected() -> None:
    """A flat line where the cycle should be: invisible to a recent-values model."""
    values = daily(2400, noise=0.1)
    level = sum(values[:288]) / 288
    for i in range(1900, 2100):
        values[i] = level
    scores = run(values)
    assert max(scores[1900:2100]) >= ALARM


def test_one_alert_per_sustained_event() -> None:
    values = daily(2000)
    for i in range(1500, 2000):
        values[i] += 5
    scores = run(values)
    alerts = [i for i in range(1500, 1560) if scores[i] >= ALARM]
    assert len(alerts) == 1


def test_accepts_datetimes() -> None:
    detector = EnsembleDetector(probation=10)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    scores = [detector.update(t0 + timedelta(minutes=5 * i), float(i % 3)) for i in range(50)]
    naive = EnsembleDetector(probation=10)
    same = [naive.update(datetime(2024, 1, 1) + timedelta(minutes=5 * i), float(i % 3)) for i in range(50)]
    assert scores == same


def test_sorted_window_and_tail_model() -> None:
    window = SortedWindow(5)
    for v in [5.0, 1.0, 4.0, 2.0, 3.0, 10.0]:
        window.add(v)
    assert len(window) == 5 and window.median() == 3.0 and window.quantile(1.0) == 10.0
    tail = TailModel(1000, 0.02)
    rng = random.Random(3)
    for _ in range(1000):
        tail.add(rng.expovariate(1.0))
    assert tail.neg_log10_tail(0.0) == pytest.approx(0.0, abs=0.01)
    assert 1.5 < tail.neg_log10_tail(6.0) < 4.0  # exp(-6) ~ 10**-2.6
    assert tail.neg_log10_tail(30.0) > tail.neg_log10_tail(10.0)


def test_likelihood_reports_a_sustained_surprise_once() -> None:
    likelihood = AnomalyLikelihood(learning=200, skip=50)
    rng = random.Random(5)
    quiet = [likelihood.update(rng.random() * 0.1) for _ in range(400)]
    loud = [likelihood.update(1.0) for _ in range(30)]
    assert max(quiet[200:]) < 0.5
    assert sum(1 for s in loud if s >= 0.5) == 1


def test_seasonal_profile_predicts_same_phase() -> None:
    profile = SeasonalProfile(period=86400, step=STEP, periods=3)
    for day in range(3):
        for i in range(288):
            profile.learn(day * 86400 + i * STEP, float(i))
    assert profile.predict(3 * 86400 + 100 * STEP) == 100.0
    assert SeasonalProfile(86400, STEP, 3).predict(0.0) is None


def test_gaps_are_skipped() -> None:
    values = daily(600)
    with_gap = [*values[:400], math.nan, *values[400:]]
    times = [i * STEP for i in range(400)] + [400 * STEP] + [(400 + i) * STEP for i in range(200)]
    detector = EnsembleDetector(probation=PROBATION)
    scores = [detector.update(t, v) for t, v in zip(times, with_gap, strict=True)]
    assert scores[400] == 0.0 and scores[401:] == run(values)[400:]



def test_a_new_range_alone_alarms_only_once_the_range_rests_on_history() -> None:
    """Right after the warm-up the range is that of a short sample: leaving it is no alarm alone.

    Uniform noise, then a value 30 % past the seen range: not surprising to the predictors, so
    only the range rule could fire. Just after the probation it must not; after
    ``spatial_after`` probations of history the same kind of value is an alarm.
    """
    rng = random.Random(3)
    detector = EnsembleDetector(probation=100)
    quiet = [detector.update(i * 60.0, rng.random()) for i in range(150)]
    assert max(quiet) < ALARM
    assert detector.update(150 * 60.0, 1.3) < ALARM
    for i in range(151, 260):
        detector.update(i * 60.0, rng.random())
    assert detector.update(260 * 60.0, 1.6) == 1.0


def test_student_t_tail_matches_scipy_far_into_the_tail() -> None:
    from scipy.stats import t as student_t

    for dof in (2.0, 3.0, 7.5, 30.0, 172.8, 1000.0):
        for x in (-3.0, -0.5, 0.0, 1.0, 4.26, 10.0, 30.0):
            assert student_t_tail(x, dof) == pytest.approx(float(student_t.sf(x, dof)), rel=1e-9)
    # Many degrees of freedom: the Gaussian tail.
    assert student_t_tail(4.0, 1e6) == pytest.approx(0.5 * math.erfc(4.0 / math.sqrt(2.0)), rel=1e-3)


def test_likelihood_t_tail_is_humble_on_short_history_and_gaussian_on_long() -> None:
    """The same surprise after a short history scores lower with the t tail; after a long one, alike."""

    def final_score(dof_points: int, history: int) -> float:
        likelihood = AnomalyLikelihood(learning=history, skip=0, dof_points=dof_points)
        rng = random.Random(11)
        for _ in range(history):
            likelihood.update(rng.random() * 0.2)
        scores = [likelihood.update(0.6) for _ in range(4)]
        return max(scores)

    assert final_score(50, 300) < final_score(0, 300) - 0.1
    assert final_score(0, 300) >= 0.5  # the Gaussian calls it a 1e-5 event ...
    assert final_score(50, 300) < 0.5  # ... on 300 correlated points the t tail does not
    assert abs(final_score(50, 8000) - final_score(0, 8000)) < 0.1


def test_skewed_noise_raises_few_false_alarms() -> None:
    """Hourly multiplicative (log-normal) noise around a daily cycle, no anomaly at all.

    The right-skewed surprise of such a series has a longer upper tail than a Gaussian fitted to a
    few hundred correlated points admits; read as Student's t it raises far fewer alarms. The
    range rule is switched off so only the predictors' surprise is measured.
    """

    def alarms(dof_points: int) -> int:
        total = 0
        for seed in range(8):
            rng = random.Random(seed)
            config = EnsembleConfig(likelihood_dof_points=dof_points, spatial_after=1000.0)
            detector = EnsembleDetector(probation=240, config=config)
            for i in range(1600):
                value = 0.5 * (1 + 0.3 * math.sin(2 * math.pi * i / 24)) * rng.lognormvariate(0, 0.35)
                total += detector.update(i * 3600.0, value) >= ALARM
        return total

    default = alarms(EnsembleConfig().likelihood_dof_points)
    assert default <= 2
    assert alarms(0) >= 3 * max(default, 1)
