"""What the MySQL / MariaDB checks share: ask in a thread, failures → findings, counter rates.

Counters (Slow_queries, Aborted_connects, Innodb_deadlocks …) only mean something as a rate. A
check instance lives for one run, so the previous sample is module state keyed by target, with
the server's ``Uptime`` as the clock: it survives our restarts and detects the server's. With no
previous sample the rate is the average since the server started, never a lifetime total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pymysql.cursors

from steadyops.checks import Check
from steadyops.integrations.mysql.client import Failure, ask, describe_error
from steadyops.inventory import Target
from steadyops.models import CheckResult, CheckStatus, Evidence

TARGET_KIND = "mysql"


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
    basis: str

    @property
    def per_minute(self) -> float:
        return self.per_second * 60

    def describe(self, unit: str) -> str:
        return f"{self.delta:g} {unit} {self.basis} ({self.per_minute:.3g}/min over {self.window:.0f}s)"


#: a rate over less time than this is computed over this much: one event in a 1 s window is not 60/min
MIN_WINDOW_S = 60.0


class CounterMemory:
    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[float, float]] = {}

    def rate(self, target: str, counter: str, value: float, uptime: float) -> Rate:
        key = (target, counter)
        previous = self._seen.get(key)
        self._seen[key] = (value, uptime)
        if previous is not None and uptime > previous[1] and value >= previous[0]:
            window = uptime - previous[1]
            return Rate((value - previous[0]) / max(window, MIN_WINDOW_S), value - previous[0], window,
                        "since the last check")
        return Rate(value / max(uptime, MIN_WINDOW_S), value, uptime, "since start")


COUNTERS = CounterMemory()


def num(values: dict[str, str], key: str, default: float = 0.0) -> float:
    try:
        return float(values[key])
    except (KeyError, ValueError):
        return default


def values_evidence(source: str, values: dict[str, str], keys: tuple[str, ...]) -> Evidence:
    return Evidence(source=source, detail=", ".join(f"{k}={values[k]}" for k in keys if k in values)[:1000])


class MysqlCheck(Check):
    """Base: run :meth:`question` in a thread, then :meth:`judge`; a failed ask is :meth:`failed`."""

    target_kind: ClassVar[str] = TARGET_KIND
    timeout: ClassVar[float] = 15.0

    async def run(self, target: Target) -> CheckResult:
        try:
            answer = await ask(target, self.question)
        except Exception as exc:
            failure = describe_error(exc)
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

    @staticmethod
    def result(status: CheckStatus, summary: str, evidence: list[Evidence], layer: str,
               metrics: dict[str, float] | None = None) -> CheckResult:
        return CheckResult(status=status, summary=summary, evidence=evidence, metrics=metrics or {},
                           layer=layer if status.failing else "")

