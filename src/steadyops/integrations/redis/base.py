"""What every Redis check shares: ask INFO once, turn "could not ask" into UNKNOWN, rates of counters.

A check instance lives for one run, so the memory of the previous counter values (to turn
``evicted_keys`` into "evictions per second since the last check") is module state keyed by target.
When there is no previous sample — the first run, a one-shot ``steadyops inspect``, or Redis
restarted — the rate falls back to the average since Redis started (``uptime_in_seconds``), which
is still a rate, never a lifetime total judged as if it were new.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import redis.asyncio as aioredis

from steadyops.checks import Check
from steadyops.integrations.redis.client import connect, describe_error, fetch_info, label_float
from steadyops.inventory import Target
from steadyops.models import CheckResult, CheckStatus, Evidence

TARGET_KIND = "redis"


def grade(value: float, warn: float, crit: float) -> CheckStatus:
    if value >= crit:
        return CheckStatus.CRITICAL
    if value >= warn:
        return CheckStatus.WARNING
    return CheckStatus.OK


def worst(*statuses: CheckStatus) -> CheckStatus:
    return max(statuses, key=lambda s: s.rank, default=CheckStatus.OK)


@dataclass(frozen=True)
class Rate:
    per_second: float
    delta: float
    window: float
    basis: str  # "since the last check" / "since start"

    def describe(self, unit: str) -> str:
        return f"{self.delta:g} {unit} {self.basis} ({self.per_second:.3g}/s over {self.window:.0f}s)"


#: a rate over less time than this is computed over this much: one event in a 1 s window is not 1/s
MIN_WINDOW_S = 60.0


class CounterMemory:
    """Last value of each cumulative counter per target, to compute a rate since the previous check."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[float, float]] = {}

    def rate(self, target: str, counter: str, value: float, uptime: float) -> Rate:
        """Rate of ``counter`` since the last call for ``target`` (server uptime is the clock)."""
        key = (target, counter)
        previous = self._seen.get(key)
        self._seen[key] = (value, uptime)
        if previous is not None:
            last_value, last_uptime = previous
            if uptime > last_uptime and value >= last_value:
                window = uptime - last_uptime
                return Rate((value - last_value) / max(window, MIN_WINDOW_S), value - last_value, window,
                            "since the last check")
        return Rate(value / max(uptime, MIN_WINDOW_S), value, uptime, "since start")


COUNTERS = CounterMemory()


def info_evidence(info: dict[str, str], keys: tuple[str, ...], command: str = "INFO") -> Evidence:
    """Only the INFO fields a verdict used (the full answer is ~200 lines), as ``redis-cli`` shows them."""
    detail = ", ".join(f"{k}={info[k]}" for k in keys if k in info) or "(fields absent)"
    return Evidence(source=f"redis-cli {command}", detail=detail[:1000])


class RedisCheck(Check):
    """Base: connect, fetch INFO, call :meth:`judge`; every failure to ask becomes UNKNOWN with its layer."""

    target_kind: ClassVar[str] = TARGET_KIND
    timeout: ClassVar[float] = 10.0

    async def run(self, target: Target) -> CheckResult:
        try:
            async with connect(target) as client:
                info = await fetch_info(client)
                return await self.judge(target, client, info)
        except Exception as exc:  # classified below; an unexpected one is a bug the runner reports
            layer, what, _ = describe_error(exc)
            if not layer:
                raise
            return self.unreachable(target, layer, what)

    def unreachable(self, target: Target, layer: str, what: str) -> CheckResult:
        return CheckResult(status=CheckStatus.UNKNOWN, summary=f"cannot ask Redis at {target.address}: {what}",
                           evidence=[Evidence(source=f"connect {target.address}", detail=what)], layer=layer)

    @abstractmethod
    async def judge(self, target: Target, client: aioredis.Redis, info: dict[str, str]) -> CheckResult:
        """Turn one INFO answer (plus any extra question) into a verdict."""

    @staticmethod
    def result(status: CheckStatus, summary: str, evidence: list[Evidence], layer: str,
               metrics: dict[str, float] | None = None) -> CheckResult:
        return CheckResult(status=status, summary=summary, evidence=evidence, metrics=metrics or {},
                           layer=layer if status.failing else "")


__all__ = ["COUNTERS", "TARGET_KIND", "CounterMemory", "Rate", "RedisCheck", "grade", "info_evidence",
           "label_float", "worst"]
