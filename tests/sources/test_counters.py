"""Counter rates between check runs: since the last check, else since the server started."""

from __future__ import annotations

import pytest

from steadyops.sources.counters import MIN_WINDOW_S, CounterMemory, Rate


def test_first_sample_is_the_average_since_start_with_a_floored_window() -> None:
    memory = CounterMemory()
    first = memory.rate("t", "c", 6, uptime=1)
    assert first.basis == "since start" and first.delta == 6
    assert first.per_second == pytest.approx(6 / MIN_WINDOW_S)  # 6 over a 60 s floor, not 6/s


def test_rate_since_the_last_check_per_target_and_counter() -> None:
    memory = CounterMemory()
    memory.rate("a", "c", 100, uptime=1000)
    memory.rate("b", "c", 5, uptime=1000)  # another target does not disturb a's memory
    later = memory.rate("a", "c", 700, uptime=1060)
    assert (later.basis, later.delta, later.window) == ("since the last check", 600, 60)
    assert later.per_second == pytest.approx(10) and later.per_minute == pytest.approx(600)
    short = memory.rate("a", "c", 706, uptime=1061)  # a 1 s window is floored to MIN_WINDOW_S
    assert short.per_second == pytest.approx(6 / MIN_WINDOW_S)


@pytest.mark.parametrize(("value", "uptime"), [(3, 1010), (150, 10), (100, 999)])
def test_a_restart_falls_back_to_since_start(value: float, uptime: float) -> None:
    memory = CounterMemory()
    memory.rate("t", "c", 100, uptime=1000)
    after = memory.rate("t", "c", value, uptime=uptime)  # counter or uptime went down
    assert after.basis == "since start" and after.delta == value


def test_two_checks_within_one_second_of_uptime_are_the_same_server() -> None:
    # MySQL's Uptime and Redis's uptime_in_seconds are whole seconds: a fault injected and seen
    # within one second must still count as "since the last check", not as a restart.
    memory = CounterMemory()
    memory.rate("t", "c", 0, uptime=5)
    same = memory.rate("t", "c", 3, uptime=5)
    assert (same.basis, same.delta) == ("since the last check", 3)


def test_describe_per_second_or_per_minute() -> None:
    rate = Rate(per_second=0.5, delta=30, window=60, basis="since the last check")
    assert rate.describe("keys evicted") == "30 keys evicted since the last check (0.5/s over 60s)"
    assert rate.describe("slow queries", per="min") == "30 slow queries since the last check (30/min over 60s)"
