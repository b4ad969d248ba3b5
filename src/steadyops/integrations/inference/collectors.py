"""Read-only facts about an inference server for the agent: its ``/metrics`` reading, and one probe."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

from steadyops.contracts.collectors import GatheringCollector
from steadyops.core.inventory import Target
from steadyops.integrations.inference.client import InferenceUnanswered, UsesReadings
from steadyops.integrations.inference.probe import run_probe


class MetricsCollector(UsesReadings, GatheringCollector):
    name: ClassVar[str] = "inference.metrics"
    target_kind: ClassVar[str] = "inference"
    description: ClassVar[str] = ("The server's flavour and /metrics reading: running/waiting requests, KV-cache "
                                  "usage, preemptions, failed requests, generated tokens, TTFT p95")
    unanswered = (InferenceUnanswered,)

    async def gather(self, target: Target) -> dict[str, Any]:
        flavour, now, history = await self.memory.flavour_and_metrics(target)
        reading = asdict(now) if now else None
        if reading:
            reading.pop("names", None)
            reading.pop("ttft_buckets", None)
        return {"flavour": flavour.name, "metrics": reading, "earlier_readings": len(history)}


class ProbeCollector(UsesReadings, GatheringCollector):
    name: ClassVar[str] = "inference.probe_once"
    target_kind: ClassVar[str] = "inference"
    description: ClassVar[str] = "Send one tiny streamed chat request and report TTFT, inter-token latency, tokens/s"
    unanswered = (InferenceUnanswered,)

    async def gather(self, target: Target) -> dict[str, Any]:
        flavour, _now, _h = await self.memory.flavour_and_metrics(target)
        probe = await run_probe(target, flavour)
        return {"url": probe.url, "model": probe.model, "status": probe.status, "ttft_ms": probe.ttft_ms,
                "itl_mean_ms": probe.itl_mean_ms, "itl_p95_ms": probe.itl_p95_ms, "tokens": probe.tokens,
                "tokens_per_s": probe.tokens_per_s, "total_ms": probe.total_ms, "error": probe.error}


COLLECTORS = (MetricsCollector, ProbeCollector)

__all__ = ["COLLECTORS", "MetricsCollector", "ProbeCollector"]
