"""The Check contract: one class answers one question about one kind of target.

The check runner owns scheduling, timeouts, concurrency, retries and turning results into alerts,
so a check only asks and judges. A check that cannot get an answer returns ``UNKNOWN`` (or raises;
the runner converts), never ``OK``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from steadyops.inventory import Target
from steadyops.models import CheckResult


class Check(ABC):
    name: ClassVar[str]  # "zookeeper.ruok"
    target_kind: ClassVar[str]  # "zookeeper"
    runbook: ClassVar[str | None] = None
    #: how often the runner schedules it by default, seconds
    interval: ClassVar[float] = 60.0
    #: how long one run may take before it counts as UNKNOWN
    timeout: ClassVar[float] = 10.0

    @abstractmethod
    async def run(self, target: Target) -> CheckResult:
        """Answer the question for ``target``."""
