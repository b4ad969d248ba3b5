"""Injectable time: production reads the wall clock, tests move a fake one by hand.

Every timer in the pipeline asks a Clock for "now" instead of calling ``datetime.now`` so a
timeline test can say "push at 2.2 s, expect a notification between 3 and 3.5 s" and run in
milliseconds, deterministically.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._offset = 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._offset)

    def monotonic(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._offset += seconds

    def set(self, seconds_since_start: float) -> None:
        self.advance(seconds_since_start - self._offset)

    @property
    def elapsed(self) -> float:
        return self._offset
