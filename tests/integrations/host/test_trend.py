"""Trend: the least-squares forecast and the two histories it reads from."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from steadyops.integrations.host.trend import MemoryHistory, RecordedHistory, forecast


def test_forecast_of_a_straight_line() -> None:
    fc = forecast([(0, 100.0), (3600, 200.0), (7200, 300.0)], remaining=300.0)
    assert fc is not None
    assert fc.rate_per_hour == pytest.approx(100.0)
    assert fc.hours_to_full == pytest.approx(3.0)
    assert (fc.samples, fc.span_seconds) == (3, 7200)


def test_forecast_needs_a_rising_trend_and_enough_points() -> None:
    falling = forecast([(0, 300.0), (60, 299.0), (120, 298.0)], remaining=10.0)
    assert falling is not None and falling.seconds_to_full is None
    assert forecast([(0, 1.0), (60, 2.0)], remaining=10.0) is None
    assert forecast([(5, 1.0), (5, 2.0), (5, 3.0)], remaining=10.0) is None  # no time between samples
    assert forecast([(0, 1.0), (60, 2.0)], remaining=10.0, min_samples=2) is not None


def test_forecast_starts_again_after_a_cleanup() -> None:
    points = [(0, 500.0), (60, 600.0), (120, 700.0), (180, 100.0), (240, 110.0)]
    assert forecast(points, remaining=1000.0) is None  # two points since the drop
    fc = forecast([*points, (300, 120.0)], remaining=1000.0)
    assert fc is not None and fc.rate_per_hour == pytest.approx(600.0)


def test_forecast_tolerates_noise() -> None:
    fc = forecast([(0, 100.0), (60, 104.0), (120, 103.0), (180, 110.0)], remaining=1000.0)
    assert fc is not None and fc.seconds_to_full is not None and fc.rate_per_hour > 0


async def test_memory_history_window() -> None:
    h = MemoryHistory(size=3, max_age=3600)
    now = time.time()
    h.observe("host.disk", "a", now - 7200, {"used:/": 1.0})  # too old
    for i in range(4):
        h.observe("host.disk", "a", now - 10 + i, {"used:/": float(i)})
    assert [s[1]["used:/"] for s in await h.recent("host.disk", "a", 10)] == [1.0, 2.0, 3.0]
    assert [s[1]["used:/"] for s in await h.recent("host.disk", "a", 2)] == [2.0, 3.0]
    assert await h.recent("host.disk", "b", 5) == []


async def test_recorded_history_reads_stored_rows() -> None:
    base = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    rows: list[tuple[datetime, dict[str, object]]] = [(base + timedelta(minutes=1), {"used:/": 20, "note": "x"}),
            (datetime(2026, 5, 1, 12, 0), {"used:/": 10})]  # newest first, one naive (SQLite): UTC
    asked: list[tuple[str, str, int]] = []

    def fetch(check: str, target: str, limit: int) -> list[tuple[datetime, dict[str, object]]]:
        asked.append((check, target, limit))
        return rows

    samples = await RecordedHistory(fetch).recent("host.disk", "web-1", 5)
    assert asked == [("host.disk", "web-1", 5)]
    assert samples == [(base.timestamp(), {"used:/": 10.0}), (base.timestamp() + 60, {"used:/": 20.0})]
