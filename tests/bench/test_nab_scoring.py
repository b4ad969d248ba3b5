"""NAB scoring (bench/nab_scoring.py): the properties the published scorer has, and its own unit-test numbers."""

from __future__ import annotations

import pytest
from nab_scoring import (
    PROFILES,
    ThresholdScore,
    _score_by_threshold,
    probation_length,
    scaled_sigmoid,
    score_corpus,
    score_profiles,
    window_rows,
)

STANDARD = PROFILES["standard"]
N = 1000
WINDOW = (400, 499)


def corpus(scores: list[float]) -> dict[str, tuple[list[float], list[tuple[int, int]]]]:
    return {"a/one.csv": (scores, [WINDOW]), "a/two.csv": ([0.0] * N, [])}


def with_alarm_at(*rows: int) -> list[float]:
    scores = [0.0] * N
    for row in rows:
        scores[row] = 1.0
    return scores


def test_profiles_match_nab_config() -> None:
    assert (STANDARD.tp, STANDARD.fp, STANDARD.fn) == (1.0, 0.11, 1.0)
    low_fp, low_fn = PROFILES["reward_low_FP_rate"], PROFILES["reward_low_FN_rate"]
    assert (low_fp.tp, low_fp.fp, low_fp.fn) == (1.0, 0.22, 1.0)
    assert (low_fn.tp, low_fn.fp, low_fn.fn) == (1.0, 0.11, 2.0)


@pytest.mark.parametrize(("rows", "percent", "expected"),
                         [(100, 0.0, 0), (100, 1.0, 100), (100, 0.15, 15), (5000, 0.1, 500), (6000, 0.1, 500)])
def test_probation_length_like_nab(rows: int, percent: float, expected: int) -> None:
    assert probation_length(rows, percent) == expected


def test_scaled_sigmoid_shape() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0


@pytest.mark.parametrize("name", list(PROFILES))
def test_null_detector_scores_zero_and_perfect_scores_hundred(name: str) -> None:
    null = score_corpus(corpus([0.0] * N), PROFILES[name])
    perfect = score_corpus(corpus(with_alarm_at(WINDOW[0])), PROFILES[name])
    assert null.normalised == pytest.approx(0.0)
    assert perfect.normalised == pytest.approx(100.0)
    assert perfect.counts["windows_detected"] == 1
    assert perfect.counts["fp"] == 0


def test_earlier_detection_in_window_scores_more() -> None:
    early = score_corpus(corpus(with_alarm_at(410)), STANDARD, threshold=0.5).raw
    middle = score_corpus(corpus(with_alarm_at(450)), STANDARD, threshold=0.5).raw
    late = score_corpus(corpus(with_alarm_at(495)), STANDARD, threshold=0.5).raw
    assert early > middle > late > -STANDARD.fn


def test_false_positives_cost_less_right_after_a_window() -> None:
    miss = score_corpus(corpus([0.0] * N), STANDARD, threshold=0.5).raw
    far_before = score_corpus(corpus(with_alarm_at(200)), STANDARD, threshold=0.5).raw
    just_after = score_corpus(corpus(with_alarm_at(505)), STANDARD, threshold=0.5).raw
    assert far_before == pytest.approx(miss - STANDARD.fp)
    assert miss - STANDARD.fp < just_after < miss


def test_probationary_rows_are_ignored() -> None:
    assert score_corpus(corpus(with_alarm_at(10)), STANDARD, threshold=0.5).counts["fp"] == 0


def test_only_the_first_detection_in_a_window_counts() -> None:
    once = score_corpus(corpus(with_alarm_at(410)), STANDARD, threshold=0.5).raw
    many = score_corpus(corpus(with_alarm_at(410, 420, 480)), STANDARD, threshold=0.5).raw
    assert many == pytest.approx(once)


def test_threshold_is_optimised_over_the_corpus() -> None:
    scores = [0.0] * N
    scores[300] = 0.6  # a false positive
    scores[410] = 0.7  # the detection
    result = score_profiles(corpus(scores))["standard"]
    assert 0.6 < result.threshold <= 0.7
    assert result.counts["fp"] == 0 and result.counts["windows_detected"] == 1


def test_threshold_sweep_matches_nab_sweeper_unit_test() -> None:
    """NAB tests/integration/sweeper_test.py::testCalcScoreByThresholdReturnsExpectedScores."""
    fn = 5.0
    profile = STANDARD.__class__("t", tp=1.0, fp=1.0, fn=fn)
    rows = [(0.5, 5.0, 1), (0.5, -3.0, -1), (0.3, 10.0, 0), (0.2, 20.0, 0), (0.0, -3.0, -1)]
    got = _score_by_threshold(rows, [r[2] for r in rows], 2, profile)
    assert got == [
        ThresholdScore(1.1, -2 * fn, 0, 2, 0, 3),
        ThresholdScore(0.5, 5 - 3 - fn, 1, 1, 1, 2),
        ThresholdScore(0.3, 5 - 3 + 10, 2, 1, 1, 1),
        ThresholdScore(0.2, 5 - 3 + 20, 3, 1, 1, 0),
        ThresholdScore(0.0, 5 - 3 + 20 - 3, 3, 0, 2, 0),
    ]


def test_window_rows_follow_exact_timestamps_even_out_of_order() -> None:
    times = [0.0, 1.0, 2.0, 3.0, 2.5, 4.0, 5.0]
    assert window_rows(times, [(1.0, 4.0)]) == [(1, 5)]
    assert window_rows(times, [(0.5, 1.5), (9.0, 10.0)]) == [(1, 1)]
