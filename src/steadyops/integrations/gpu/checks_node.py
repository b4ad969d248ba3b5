"""Node-level GPU questions: Xid errors, a GPU that fell off the bus, NVLink errors, and whether the
driver / CUDA versions agree across a node group.

Xids come from the kernel log for the ``nvidia-smi``/``nvml`` sources (only those within
``xid_window_s``, 3600 s, of now count) and from ``DCGM_FI_DEV_XID_ERRORS`` (the last Xid) for the
``dcgm``/``prometheus`` sources. The driver check compares this node with the addresses in the
label ``peers`` (read the same way) and with the pins ``expected_driver`` / ``expected_cuda``.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from steadyops.contracts.checks import label_float, label_int, verdict, worst
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.gpu.base import CRIT, OK, UNKNOWN, WARN, GpuCheck, combine, unanswered
from steadyops.integrations.gpu.model import GpuState, NodeGpus
from steadyops.integrations.gpu.source import GpuUnanswered, source_of
from steadyops.integrations.gpu.xid import XidEvent, describe, recent

RB_XID = "gpu/gpu-xid-errors.en.md"
RB_BUS = "gpu/gpu-fallen-off-bus.en.md"
RB_NVLINK = "gpu/gpu-nvlink.en.md"
RB_DRIVER = "gpu/gpu-driver-mismatch.en.md"
NVLINK_XIDS = frozenset({74, 144, 145, 146, 147, 148, 149, 150})


def judge_xids(events: list[XidEvent], where: str) -> CheckResult:
    """Pure verdict over Xid events: the worst code decides; each distinct code is one evidence line."""
    if not events:
        return verdict(OK, "no Xid errors in the window", [Evidence(source=where, detail="no NVRM: Xid lines")])
    statuses: list[CheckStatus] = []
    evidence: list[Evidence] = []
    seen: dict[int, int] = {}
    for e in events:
        seen[e.code] = seen.get(e.code, 0) + 1
    for code, count in sorted(seen.items()):
        info = describe(code)
        sample = next(e for e in events if e.code == code)
        status = WARN if info.status is CRIT and code in NVLINK_XIDS and all(
            e.nonfatal for e in events if e.code == code) else info.status
        statuses.append(status)
        who = f" ({sample.process}, pid {sample.pid})" if sample.pid else ""
        evidence.append(Evidence(source=where, value=code, detail=(
            f"Xid {code} ×{count} on PCI {sample.pci}{who}: {info.meaning} — blame: {info.blame}; {info.action}. "
            f"Line: {sample.line[:300]}")))
    status = worst(*statuses)
    top = max(seen, key=lambda c: (describe(c).status.rank, c))
    info = describe(top)
    layer = {"app": "process", "driver": "driver", "hardware": "hardware", "nvlink": "hardware"}.get(info.blame,
                                                                                                     "hardware")
    summary = f"Xid {top} ({info.meaning}, {info.blame})" + (f" and {len(seen) - 1} other code(s)" if len(seen) > 1
                                                              else "")
    result = verdict(status, summary, evidence, layer, {"xid_events": float(len(events)), "xid_worst": float(top)})
    result.labels["xid"] = str(top)
    result.labels["pci"] = next(e.pci for e in events if e.code == top)
    return result


class XidCheck(GpuCheck):
    """Recent Xid errors, graded by what the code means: hardware (48, 64, 79, 95 …) CRITICAL,
    application faults (13, 31, 43) WARNING, cleanup (45) alone OK; the blame is in the evidence."""

    name: ClassVar[str] = "gpu.xid"
    runbook: ClassVar[str | None] = RB_XID

    async def run(self, target: Target) -> CheckResult:
        try:
            if source_of(target) in ("dcgm", "prometheus"):
                node = await self.memory.read_node(target)
                return await self.judge(target, node)
            events, uptime, where = await self.memory.read_kernel_xids(target)
        except GpuUnanswered as exc:
            return unanswered(exc)
        return judge_xids(recent(events, uptime, label_float(target, "xid_window_s", 3600)), where)

    async def judge(self, target: Target, node: NodeGpus) -> CheckResult:
        events = [XidEvent(code=g.xid_last, pci=g.bus_id or f"gpu {g.index}", line=f"DCGM_FI_DEV_XID_ERRORS"
                           f"{{gpu=\"{g.index}\"}} {g.xid_last}") for g in node.gpus if g.xid_last]
        return judge_xids(events, node.source)


class BusCheck(GpuCheck):
    """A GPU the driver cannot reach: nvidia-smi's "Unable to determine the device handle" / "GPU is
    lost", fewer GPUs than the label ``expected_gpus``, or a GPU reporting "reset required"."""

    name: ClassVar[str] = "gpu.bus"
    runbook: ClassVar[str | None] = RB_BUS

    async def judge(self, target: Target, node: NodeGpus) -> CheckResult:
        evidence = [Evidence(source=node.source, detail=line[:300]) for line in node.errors]
        expected = label_int(target, "expected_gpus", 0)
        seen = len(node.gpus)
        metrics = {"gpus_visible": float(seen), "gpus_expected": float(expected)}
        problems: list[str] = []
        if node.errors:
            problems.append(f"the driver cannot reach a GPU: {node.errors[0][:160]}")
        if expected and seen < expected:
            problems.append(f"{seen} of {expected} expected GPUs visible")
        resets = [g for g in node.gpus if g.reset_required]
        if resets:
            problems.append("reset required on " + ", ".join(g.label for g in resets))
        evidence.append(Evidence(source=node.source, detail=f"{seen} GPU(s) visible: "
                                 + (", ".join(g.label for g in node.gpus) or "none")))
        if not problems:
            return verdict(OK, f"{seen} GPU(s) on the bus", evidence, "", metrics)
        return verdict(CRIT, "; ".join(problems), evidence, "hardware", metrics)


class NvlinkCheck(GpuCheck):
    """NVLink error counters (CRC, replay, recovery; DCGM/NVML sources) growing, or NVLink Xids
    (74, 144-150) in the kernel log."""

    name: ClassVar[str] = "gpu.nvlink"
    runbook: ClassVar[str | None] = RB_NVLINK

    async def judge(self, target: Target, node: NodeGpus) -> CheckResult:
        extra: list[Evidence] = []
        link_xids: list[XidEvent] = []
        if source_of(target) in ("nvidia-smi", "nvml"):
            try:
                events, uptime, where = await self.memory.read_kernel_xids(target)
                link_xids = [e for e in recent(events, uptime, label_float(target, "xid_window_s", 3600))
                             if e.code in NVLINK_XIDS]
                extra = [Evidence(source=where, detail=e.line[:300], value=e.code) for e in link_xids[:5]]
            except GpuUnanswered as exc:
                extra = [Evidence(source="kernel log", detail=f"not read: {exc}")]

        def grade_gpu(g: GpuState) -> tuple[CheckStatus, str, GpuState]:
            errors = {k: v for k, v in g.nvlink_errors.items() if v > 0}
            if errors:
                return WARN, "NVLink errors " + ", ".join(f"{k}={v:g}" for k, v in sorted(errors.items())), g
            return OK, "", g

        result = combine([grade_gpu(g) for g in node.gpus], node, "NVLink", "hardware",
                         {"nvlink_errors": sum(sum(g.nvlink_errors.values()) for g in node.gpus)}, extra)
        if link_xids:
            fatal = [e for e in link_xids if not e.nonfatal]
            last = link_xids[-1]
            result = verdict(CRIT if fatal else worst(WARN, result.status),
                             f"NVLink Xid {last.code} in the kernel log ({describe(last.code).meaning})",
                             result.evidence, "hardware", result.metrics)
        return result


def driver_mismatch(nodes: dict[str, NodeGpus], expected_driver: str = "",
                    expected_cuda: str = "") -> tuple[CheckStatus, str, list[Evidence]]:
    """Pure: do all nodes run one driver and one CUDA version (and the pinned ones, if given)?"""
    evidence = [Evidence(source=n.source, detail=f"{name}: driver {n.driver or '?'}, CUDA {n.cuda or '?'}")
                for name, n in nodes.items()]
    drivers = {n.driver for n in nodes.values() if n.driver}
    cudas = {n.cuda for n in nodes.values() if n.cuda}
    problems = []
    if len(drivers) > 1:
        problems.append(f"driver versions differ across the group: {', '.join(sorted(drivers))}")
    if len(cudas) > 1:
        problems.append(f"CUDA versions differ across the group: {', '.join(sorted(cudas))}")
    if expected_driver and drivers and drivers != {expected_driver}:
        problems.append(f"expected driver {expected_driver}, found {', '.join(sorted(drivers))}")
    if expected_cuda and cudas and cudas != {expected_cuda}:
        problems.append(f"expected CUDA {expected_cuda}, found {', '.join(sorted(cudas))}")
    if problems:
        return WARN, "; ".join(problems), evidence
    if not drivers:
        return UNKNOWN, "no node reported a driver version", evidence
    return OK, f"{len(nodes)} node(s) on driver {next(iter(drivers))}" + (
        f", CUDA {next(iter(cudas))}" if cudas else ""), evidence


class DriverCheck(GpuCheck):
    """This node and its ``peers`` run one driver and one CUDA version (and the pinned ones)."""

    name: ClassVar[str] = "gpu.driver"
    runbook: ClassVar[str | None] = RB_DRIVER

    async def judge(self, target: Target, node: NodeGpus) -> CheckResult:
        peers = [p.strip() for p in target.labels.get("peers", "").split(",") if p.strip()]
        nodes: dict[str, NodeGpus] = {target.name: node}
        unread: list[Evidence] = []

        async def read_peer(address: str) -> None:
            peer = target.model_copy(update={"name": f"{target.name}@peer:{address}", "address": address})
            try:
                nodes[address] = await self.memory.read_node(peer)
            except GpuUnanswered as exc:
                unread.append(Evidence(source=f"peer {address}", detail=f"not read: {exc}"))

        await asyncio.gather(*(read_peer(p) for p in peers))
        status, summary, evidence = driver_mismatch(nodes, target.labels.get("expected_driver", ""),
                                                    target.labels.get("expected_cuda", ""))
        return verdict(status, summary, [*evidence, *unread], "config", {"nodes_compared": float(len(nodes))})


CHECKS = (XidCheck, BusCheck, NvlinkCheck, DriverCheck)

__all__ = ["CHECKS", "NVLINK_XIDS", "BusCheck", "DriverCheck", "NvlinkCheck", "XidCheck", "driver_mismatch",
           "judge_xids"]
