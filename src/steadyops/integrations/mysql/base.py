"""What the MySQL / MariaDB checks share: ask in a thread, failures → findings, counter rates.

Counters (Slow_queries, Aborted_connects, Innodb_deadlocks …) only mean something as a rate:
:attr:`MysqlCheck.memory` (a :class:`~steadyops.sources.counters.CounterMemory`, one per registry, made by
:func:`.register`) keeps the previous sample per target, with the
server's ``Uptime`` as the clock, so it survives our restarts and detects the server's. With no
previous sample the rate is the average since the server started, never a lifetime total.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pymysql.cursors

from steadyops.contracts.checks import Check, verdict
from steadyops.contracts.memory import Remembers
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.mysql.client import Failure, ask, describe_error
from steadyops.sources.counters import CounterMemory

TARGET_KIND = "mysql"


def num(values: dict[str, str], key: str, default: float = 0.0) -> float:
    try:
        return float(values[key])
    except (KeyError, ValueError):
        return default


def values_evidence(source: str, values: dict[str, str], keys: tuple[str, ...]) -> Evidence:
    return Evidence(source=source, detail=", ".join(f"{k}={values[k]}" for k in keys if k in values)[:1000])


class MysqlCheck(Remembers[CounterMemory], Check):
    """Base: run :meth:`question` in a thread, then :meth:`judge`; a failed ask is :meth:`failed`.
    ``self.memory`` holds the previous counter samples (its registry's)."""

    target_kind: ClassVar[str] = TARGET_KIND
    memory_type = CounterMemory
    timeout: ClassVar[float] = 15.0

    async def run(self, target: Target) -> CheckResult:
        try:
            answer = await ask(target, self.question)
        except Exception as exc:
            failure = describe_error(exc, target)
            if failure is None:
                raise
            return self.failed(target, failure)
        return self.judge(target, answer)

    def question(self, cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
        raise NotImplementedError

    def judge(self, target: Target, answer: dict[str, Any]) -> CheckResult:
        raise NotImplementedError

    def failed(self, target: Target, failure: Failure) -> CheckResult:
        """Could not ask: UNKNOWN located by why (subclasses judge the failures that are their answer)."""
        return CheckResult(status=CheckStatus.UNKNOWN, summary=f"cannot ask {target.address}: {failure.what}",
                           evidence=[Evidence(source=f"connect {target.address}", detail=failure.what)],
                           layer=failure.layer)

    result = staticmethod(verdict)

