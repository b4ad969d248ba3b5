"""What every Redis check shares: ask INFO once, turn "could not ask" into UNKNOWN, rates of counters.

Counters such as ``evicted_keys`` are judged as a rate since the last check (the check's ``memory``: one
:class:`~steadyops.sources.counters.CounterMemory` per registry, made by :func:`.register`), with
``uptime_in_seconds`` as the clock: with no previous sample — the first run, a one-shot ``steadyops
inspect``, or Redis restarted — the rate is the average since Redis started, never a lifetime total
judged as if it were new.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import redis.asyncio as aioredis

from steadyops.contracts.checks import Check, verdict
from steadyops.contracts.memory import Remembers
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.redis.client import connect, describe_error, fetch_info
from steadyops.sources.counters import CounterMemory

TARGET_KIND = "redis"


def info_evidence(info: dict[str, str], keys: tuple[str, ...], command: str = "INFO") -> Evidence:
    """Only the INFO fields a verdict used (the full answer is ~200 lines), as ``redis-cli`` shows them."""
    detail = ", ".join(f"{k}={info[k]}" for k in keys if k in info) or "(fields absent)"
    return Evidence(source=f"redis-cli {command}", detail=detail[:1000])


class RedisCheck(Remembers[CounterMemory], Check):
    """Base: connect, fetch INFO, call :meth:`judge`; every failure to ask becomes UNKNOWN with its layer.
    ``self.memory`` holds the previous counter samples (its registry's)."""

    target_kind: ClassVar[str] = TARGET_KIND
    memory_type = CounterMemory
    timeout: ClassVar[float] = 10.0

    async def run(self, target: Target) -> CheckResult:
        try:
            async with connect(target) as client:
                info = await fetch_info(client)
                return await self.judge(target, client, info)
        except Exception as exc:  # classified below; an unexpected one is a bug the runner reports
            layer, what, _ = describe_error(exc, target)
            if not layer:
                raise
            return self.unreachable(target, layer, what)

    def unreachable(self, target: Target, layer: str, what: str) -> CheckResult:
        return CheckResult(status=CheckStatus.UNKNOWN, summary=f"cannot ask Redis at {target.address}: {what}",
                           evidence=[Evidence(source=f"connect {target.address}", detail=what)], layer=layer)

    @abstractmethod
    async def judge(self, target: Target, client: aioredis.Redis, info: dict[str, str]) -> CheckResult:
        """Turn one INFO answer (plus any extra question) into a verdict."""

    result = staticmethod(verdict)


__all__ = ["TARGET_KIND", "RedisCheck", "info_evidence"]
