"""Read-only GPU facts for the agent and reports: the node's GPUs as the source sees them, and the
Xid lines of its kernel log with their meaning."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

from steadyops.contracts.collectors import GatheringCollector
from steadyops.core.inventory import Target
from steadyops.integrations.gpu.source import GpuUnanswered, UsesGpuMemory


class GpuStateCollector(UsesGpuMemory, GatheringCollector):
    name: ClassVar[str] = "gpu.state"
    target_kind: ClassVar[str] = "gpu"
    description: ClassVar[str] = ("Per-GPU temperature, power, memory, utilisation, throttle reasons, ECC, "
                                  "retired/remapped rows, NVLink counters, processes; driver and CUDA versions")
    unanswered = (GpuUnanswered,)

    async def gather(self, target: Target) -> dict[str, Any]:
        node = await self.memory.read_node(target)
        return asdict(node)


class GpuXidCollector(UsesGpuMemory, GatheringCollector):
    name: ClassVar[str] = "gpu.xid_log"
    target_kind: ClassVar[str] = "gpu"
    description: ClassVar[str] = "Xid error lines from the node's kernel log, each with its meaning and who is to blame"
    unanswered = (GpuUnanswered,)

    async def gather(self, target: Target) -> dict[str, Any]:
        events, uptime, where = await self.memory.read_kernel_xids(target)
        return {"where": where, "uptime_s": uptime, "events": [
            {"xid": e.code, "pci": e.pci, "meaning": e.info.meaning, "blame": e.info.blame, "action": e.info.action,
             "uptime_s": e.uptime_s, "pid": e.pid, "process": e.process, "line": e.line[:300]} for e in events[-50:]]}


COLLECTORS = (GpuStateCollector, GpuXidCollector)

__all__ = ["COLLECTORS", "GpuStateCollector", "GpuXidCollector"]
