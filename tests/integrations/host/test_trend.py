"""Trend: the least-squares forecast and the two histories it reads from."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from steadyops.integrations.host.trend import FETCH_LIMIT, MemoryHistory, RecordedHistory, forecast, thin


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


def test_thin_keeps_the_span_and_the_newest() -> None:
    samples = [(float(i), {"v": float(i)}) for i in range(10)]
    assert [t for t, _ in thin(samples, 4)] == [0.0, 3.0, 6.0, 9.0]
    assert [t for t, _ in thin(samples, 1)] == [9.0]
    assert thin(samples, 20) == samples


async def test_memory_history_spreads_samples_over_its_window() -> None:
    h = MemoryHistory(size=6, max_age=3600)  # one kept sample per 10 min, plus the newest
    now = time.time()
    h.observe("host.disk", "a", now - 7200, {"used:/": -1.0})  # older than max_age: never returned
    for minute in range(0, 50):  # a check every minute for 50 minutes
        h.observe("host.disk", "a", now - 3000 + minute * 60, {"used:/": float(minute)})
    kept = [s[1]["used:/"] for s in await h.recent("host.disk", "a", now - 3600, 10)]
    assert kept == [0.0, 10.0, 20.0, 30.0, 40.0, 49.0]
    assert [s[1]["used:/"] for s in await h.recent("host.disk", "a", now - 3600, 1)] == [49.0]  # the last run
    assert [s[1]["used:/"] for s in await h.recent("host.disk", "a", now - 1500, 10)] == [30.0, 40.0, 49.0]
    assert await h.recent("host.disk", "b", 0, 5) == []


async def test_recorded_history_reads_stored_rows() -> None:
    base = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    rows: list[tuple[datetime, dict[str, object]]] = [
        (base + timedelta(minutes=1), {"used:/": 20, "note": "x"}),
        (datetime(2026, 5, 1, 12, 0), {"used:/": 10}),  # newest first; naive (SQLite) means UTC
        (base - timedelta(hours=1), {"used:/": 5}),  # before `since`: a careless fetch is filtered
    ]
    asked: list[tuple[str, str, datetime, int]] = []

    def fetch(check: str, target: str, since: datetime, limit: int) -> list[tuple[datetime, dict[str, object]]]:
        asked.append((check, target, since, limit))
        return rows

    since = base.timestamp() - 60
    samples = await RecordedHistory(fetch).recent("host.disk", "web-1", since, 5)
    assert asked == [("host.disk", "web-1", datetime.fromtimestamp(since, UTC), FETCH_LIMIT)]
    assert samples == [(base.timestamp(), {"used:/": 10.0}), (base.timestamp() + 60, {"used:/": 20.0})]
