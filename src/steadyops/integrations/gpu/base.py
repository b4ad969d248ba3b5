"""What every GPU check shares: read the node once, turn "could not ask" into UNKNOWN, judge per GPU.

Each GPU is graded on its own; the check's verdict is the worst GPU's, its summary names every
failing GPU (``GPU 3 (…): 2 uncorrectable ECC errors``) and the failing GPUs' indexes go into the
alert's ``gpu`` label, so the drain action knows which one to take out of service.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from typing import ClassVar

from steadyops.contracts.checks import Check, verdict, worst
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.gpu.model import GpuState, NodeGpus
from steadyops.integrations.gpu.source import GpuUnanswered, UsesGpuMemory

TARGET_KIND = "gpu"
OK, WARN, CRIT, UNKNOWN = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL, CheckStatus.UNKNOWN

#: (status, one-line reason, GPU) for one GPU; reason "" when OK
Judged = tuple[CheckStatus, str, GpuState]


def fmt(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:g}{unit}"


def unanswered(exc: GpuUnanswered) -> CheckResult:
    return verdict(UNKNOWN, str(exc), [Evidence(source="gpu source", detail=str(exc))], exc.layer or "network")


def combine(judged: Iterable[Judged], node: NodeGpus, what: str, layer: str,
            metrics: dict[str, float] | None = None, extra: Iterable[Evidence] = ()) -> CheckResult:
    """One result from per-GPU verdicts: worst status, failing GPUs named, evidence per GPU."""
    items = list(judged)
    evidence = [Evidence(source=node.source, detail=f"{g.label}: {reason}" if reason else f"{g.label}: ok",
                         value=status.value) for status, reason, g in items]
    evidence.extend(extra)
    if not items:
        return verdict(UNKNOWN, f"{node.source} reported no GPU to judge {what} on", evidence, "host", metrics)
    status = worst(*(s for s, _r, _g in items))
    bad = [(s, r, g) for s, r, g in items if s.failing]
    if not bad:
        result = verdict(OK, f"{len(items)} GPU(s): {what} ok", evidence, "", metrics)
    else:
        summary = "; ".join(f"{g.label}: {r}" for _s, r, g in bad[:4]) + (f"; +{len(bad) - 4} more" if len(bad) > 4
                                                                          else "")
        result = verdict(status, summary, evidence, layer, metrics)
        result.labels["gpu"] = ",".join(g.index for _s, _r, g in bad)
    return result


class GpuCheck(UsesGpuMemory, Check):
    target_kind: ClassVar[str] = TARGET_KIND
    timeout: ClassVar[float] = 20.0

    async def run(self, target: Target) -> CheckResult:
        try:
            node = await self.memory.read_node(target)
        except GpuUnanswered as exc:
            return unanswered(exc)
        return await self.judge(target, node)

    @abstractmethod
    async def judge(self, target: Target, node: NodeGpus) -> CheckResult:
        """Turn the node's GPUs into a verdict."""


class PerGpuCheck(GpuCheck):
    """A check that grades each GPU with :meth:`grade_gpu` and combines them."""

    what: ClassVar[str]
    layer: ClassVar[str] = "gpu"

    async def judge(self, target: Target, node: NodeGpus) -> CheckResult:
        judged = [self.grade_gpu(target, g) for g in node.gpus]
        return combine(judged, node, self.what, self.layer, self.metrics(node))

    @abstractmethod
    def grade_gpu(self, target: Target, gpu: GpuState) -> Judged: ...

    def metrics(self, node: NodeGpus) -> dict[str, float]:
        return {"gpus": float(len(node.gpus))}


__all__ = ["CRIT", "OK", "TARGET_KIND", "UNKNOWN", "WARN", "GpuCheck", "Judged", "PerGpuCheck", "combine", "fmt",
           "unanswered"]
