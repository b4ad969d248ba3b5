"""What every inference check shares: the target kind, "could not ask" as a verdict, the SLO labels."""

from __future__ import annotations

from typing import ClassVar

from steadyops.contracts.checks import Check, verdict
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.inference.client import InferenceUnanswered, UsesReadings

TARGET_KIND = "inference"
OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN


def unanswered(exc: InferenceUnanswered, busy: CheckStatus = CRIT) -> CheckResult:
    """Down or hung is the finding itself (CRITICAL); a configuration gap is UNKNOWN; saturated (the
    request queued while the server answers otherwise) is ``busy`` — CRITICAL for what a user waits
    on, WARNING for liveness, which a busy server still has (its other checks must still run)."""
    status = UNKNOWN if exc.layer == "config" else busy if exc.busy else CRIT
    result = verdict(status, str(exc), [Evidence(source="inference server", detail=str(exc))], exc.layer)
    if exc.hung:
        result.labels["hung"] = "true"
    if exc.busy:
        result.labels["saturated"] = "true"
    return result


class InferenceCheck(UsesReadings, Check):
    target_kind: ClassVar[str] = TARGET_KIND
    timeout: ClassVar[float] = 40.0
    result = staticmethod(verdict)


__all__ = ["CRIT", "OK", "TARGET_KIND", "UNKNOWN", "WARN", "InferenceCheck", "unanswered"]
