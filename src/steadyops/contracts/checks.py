"""The Check contract: one class answers one question about one kind of target.

The check runner owns scheduling, timeouts, concurrency, retries and turning results into alerts,
so a check only asks and judges. A check that cannot get an answer returns ``UNKNOWN`` (or raises;
the runner converts), never ``OK``.

Below the contract are the helpers every check uses (thresholds from target labels, grading a
value against them, combining verdicts, building a result), so that every integration reads a
label, grades a number and locates a failure the same way.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import ClassVar

from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence


class Check(ABC):
    name: ClassVar[str]  # "zookeeper.ruok"
    target_kind: ClassVar[str]  # "zookeeper"
    runbook: ClassVar[str | None] = None
    #: how often the runner schedules it by default, seconds
    interval: ClassVar[float] = 60.0
    #: how long one run may take before it counts as UNKNOWN
    timeout: ClassVar[float] = 10.0
    #: a liveness check ("can we ask this target at all?"): the scheduler runs it first and, when it
    #: fails or hangs, reports the target's other checks as "blocked by" it at once instead of
    #: letting each of them time out into its own UNKNOWN alert
    liveness: ClassVar[bool] = False

    @abstractmethod
    async def run(self, target: Target) -> CheckResult:
        """Answer the question for ``target``."""

    #: runbooks for failures in a particular layer, where one check fails in different ways
    #: (``nginx.http``: down → nginx-down, ``upstream`` 502/504 → nginx-5xx); else :attr:`runbook`
    layer_runbooks: ClassVar[dict[str, str]] = {}

    @classmethod
    def runbook_for(cls, layer: str, metrics: Mapping[str, float] | None = None) -> str | None:
        """The runbook that matches a failure of this check in ``layer`` (with these ``metrics``:
        a check whose failures differ by more than the layer overrides this)."""
        return cls.layer_runbooks.get(layer, cls.runbook)


# --- Helpers every check uses -------------------------------------------------------------------
#
# Labels are strings an operator typed. A missing or malformed one falls back to the check's
# default, so a typo never disables a check (an integration that wants a malformed label to be the
# finding, as the host checks do, validates it itself).

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def label_float(target: Target, name: str, default: float) -> float:
    """The target label ``name`` as a number (``latency_warn_ms: "800"``), else ``default``.

    Missing, empty, not a number or NaN: ``default``. ``inf`` is kept, so a threshold can be
    switched off on purpose (``latency_crit_ms: "inf"`` never grades CRITICAL).
    """
    try:
        value = float(target.labels[name])
    except (KeyError, ValueError):
        return default
    return default if math.isnan(value) else value


def label_int(target: Target, name: str, default: int) -> int:
    """The target label ``name`` as a whole number (``tries: "3"``; ``"3.0"`` is 3), else ``default``.

    Missing, empty, fractional (``"2.5"``), infinite or not a number: ``default``.
    """
    raw = target.labels.get(name, "").strip()
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        return default
    return int(value) if math.isfinite(value) and value.is_integer() else default


def label_bool(target: Target, name: str, default: bool) -> bool:
    """The target label ``name`` as a flag: ``1/true/yes/on`` or ``0/false/no/off`` (any case), else ``default``."""
    raw = target.labels.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    return default


def grade(value: float, warn: float, crit: float) -> CheckStatus:
    """Higher is worse (used %, latency, lag): CRITICAL at ``crit`` or above, WARNING at ``warn`` or above."""
    if value >= crit:
        return CheckStatus.CRITICAL
    if value >= warn:
        return CheckStatus.WARNING
    return CheckStatus.OK


def grade_low(value: float, warn: float, crit: float) -> CheckStatus:
    """Lower is worse (available memory %, certificate days left): CRITICAL at ``crit`` or below,
    WARNING at ``warn`` or below."""
    if value <= crit:
        return CheckStatus.CRITICAL
    if value <= warn:
        return CheckStatus.WARNING
    return CheckStatus.OK


def worst(*statuses: CheckStatus) -> CheckStatus:
    """The most severe status by :attr:`CheckStatus.rank` (CRITICAL > WARNING > UNKNOWN > OK); OK for none."""
    return max(statuses, key=lambda s: s.rank, default=CheckStatus.OK)


def verdict(status: CheckStatus, summary: str, evidence: Iterable[Evidence] = (), layer: str = "",
            metrics: dict[str, float] | None = None) -> CheckResult:
    """A :class:`CheckResult` that keeps ``layer`` only when it is failing: a healthy result points
    at no layer, so "which layer failed" only ever names a failure."""
    return CheckResult(status=status, summary=summary, evidence=list(evidence), metrics=metrics or {},
                       layer=layer if status.failing else "")
