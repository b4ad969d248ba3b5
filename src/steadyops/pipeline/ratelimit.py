"""Sliding-window rate limiting for notification channels.

Vendors state limits as "N per window" (DingTalk 20/min, Feishu 5/s *and* 100/min) and punish
overshoot harshly (DingTalk mutes a robot for ten minutes), so a channel must never exceed any
of its windows. A sliding window of send timestamps is exact where a token bucket would allow a
burst across a window edge. The caller passes ``now`` (a monotonic float) so timeline tests run
on a fake clock and the limiter itself never reads the time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from steadyops.contracts.notifiers import RateLimit


class RateLimiter:
    """Answers "may I send now, and if not, how long until I may?" for one channel."""

    def __init__(self, limits: Sequence[RateLimit]) -> None:
        for limit in limits:
            if limit.count < 1 or limit.per_seconds <= 0:
                raise ValueError(f"a rate limit needs count >= 1 and per_seconds > 0, got {limit}")
        self._windows: list[tuple[RateLimit, deque[float]]] = [(limit, deque()) for limit in limits]

    def delay(self, now: float) -> float:
        """Return 0.0 and record a send if every window allows one at ``now``.

        Otherwise return the seconds until the most constrained window frees a slot, and record
        nothing: a postponed message must not use up capacity it did not get.
        """
        wait = 0.0
        for limit, sent in self._windows:
            # A send at t occupies its window during [t, t + per_seconds).
            while sent and sent[0] <= now - limit.per_seconds:
                sent.popleft()
            if len(sent) >= limit.count:
                wait = max(wait, sent[-limit.count] + limit.per_seconds - now)
        if wait > 0.0:
            return wait
        for _, sent in self._windows:
            sent.append(now)
        return 0.0
