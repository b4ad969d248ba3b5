"""Sliding-window limiter: vendors' documented limits, on a hand-moved float clock."""

from __future__ import annotations

import pytest

from steadyops.contracts.notifiers import RateLimit
from steadyops.pipeline.ratelimit import RateLimiter

DINGTALK = (RateLimit(20, 60.0),)
FEISHU = (RateLimit(5, 1.0), RateLimit(100, 60.0))


def test_dingtalk_21st_message_in_a_minute_waits_until_the_first_leaves_the_window() -> None:
    limiter = RateLimiter(DINGTALK)
    for i in range(20):
        assert limiter.delay(100.0 + i) == 0.0  # one a second: 100 … 119
    wait = limiter.delay(130.0)
    assert wait == pytest.approx(30.0)  # the send at 100 frees its slot at 160
    assert limiter.delay(159.9) == pytest.approx(0.1)
    assert limiter.delay(160.0) == 0.0
    assert limiter.delay(160.5) == pytest.approx(0.5)  # next slot: the send at 101


def test_a_refused_send_records_nothing() -> None:
    limiter = RateLimiter((RateLimit(1, 10.0),))
    assert limiter.delay(0.0) == 0.0
    for now in (1.0, 2.0, 9.0):
        assert limiter.delay(now) == pytest.approx(10.0 - now)
    assert limiter.delay(10.0) == 0.0  # refusals at 1, 2, 9 did not push the window out


def test_feishu_five_per_second_within_one_hundred_per_minute() -> None:
    limiter = RateLimiter(FEISHU)
    assert [limiter.delay(0.0) for _ in range(5)] == [0.0] * 5
    assert limiter.delay(0.5) == pytest.approx(0.5)  # the per-second window binds
    sent, now = 5, 1.0
    while sent < 100:
        wait = limiter.delay(now)
        if wait:
            now += wait
        else:
            sent += 1
    assert now < 60.0  # 100 sends fitted in the minute at 5/s
    # The per-minute window binds now: the first five (at 0.0) leave at 60.0.
    assert limiter.delay(now) == pytest.approx(60.0 - now)
    assert limiter.delay(60.0) == 0.0


def test_the_longest_wait_of_all_windows_is_returned() -> None:
    limiter = RateLimiter((RateLimit(1, 1.0), RateLimit(2, 100.0)))
    assert limiter.delay(0.0) == 0.0
    assert limiter.delay(1.0) == 0.0
    assert limiter.delay(2.0) == pytest.approx(98.0)


def test_no_limits_never_delays() -> None:
    limiter = RateLimiter(())
    assert all(limiter.delay(0.0) == 0.0 for _ in range(1000))


@pytest.mark.parametrize("limit", [RateLimit(0, 1.0), RateLimit(1, 0.0)])
def test_nonsense_limits_are_refused(limit: RateLimit) -> None:
    with pytest.raises(ValueError):
        RateLimiter((limit,))
