"""Per-GPU health: ECC and retired/remapped memory, temperature and throttling, power, memory, a hung GPU.

Thresholds are target labels (defaults in each docstring). Memory used is graded high by default
because inference servers pre-allocate most of the GPU on purpose (vLLM takes 90 %): a full GPU is
normal there, an almost-full one (≥ 99 %) is the finding.
"""

from __future__ import annotations

from typing import ClassVar

from steadyops.contracts.checks import grade, label_float
from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus
from steadyops.integrations.gpu.base import CRIT, OK, WARN, Judged, PerGpuCheck, fmt
from steadyops.integrations.gpu.model import THERMAL_THROTTLE, GpuState, NodeGpus

RB_ECC = "gpu/gpu-ecc-errors.en.md"
RB_THERMAL = "gpu/gpu-thermal.en.md"
RB_MEMORY = "gpu/gpu-memory.en.md"
RB_POWER = "gpu/gpu-power.en.md"
RB_HUNG = "gpu/gpu-hung.en.md"


class EccCheck(PerGpuCheck):
    """Uncorrectable (double-bit) ECC errors since the driver loaded, or a row-remap failure: CRITICAL.
    A pending page retirement / row remap (needs a GPU reset to take effect), any retired page for a
    double-bit error, or correctable errors at ``ecc_sbe_warn`` (100) or more: WARNING."""

    name: ClassVar[str] = "gpu.ecc"
    runbook: ClassVar[str | None] = RB_ECC
    what = "ECC"
    layer = "hardware"

    def grade_gpu(self, target: Target, gpu: GpuState) -> Judged:
        if gpu.ecc_enabled is False:
            return OK, "", gpu
        if gpu.remap_failure:
            return CRIT, "row remapping failed (spare rows exhausted: replace the GPU)", gpu
        if (gpu.ecc_dbe_volatile or 0) > 0:
            return CRIT, f"{gpu.ecc_dbe_volatile:g} uncorrectable ECC error(s) since the driver loaded", gpu
        reasons = []
        if gpu.remap_pending or gpu.retired_pending:
            reasons.append("memory row remap / page retirement pending (reset the GPU when idle)")
        if (gpu.retired_dbe or 0) > 0:
            reasons.append(f"{gpu.retired_dbe:g} page(s) retired for double-bit errors")
        if (gpu.remap_uncorrectable or 0) > 0:
            reasons.append(f"{gpu.remap_uncorrectable:g} row(s) remapped for uncorrectable errors")
        sbe_warn = label_float(target, "ecc_sbe_warn", 100)
        if (gpu.ecc_sbe_volatile or 0) >= sbe_warn:
            reasons.append(f"{gpu.ecc_sbe_volatile:g} correctable ECC errors (≥ {sbe_warn:g})")
        return (WARN, "; ".join(reasons), gpu) if reasons else (OK, "", gpu)

    def metrics(self, node: NodeGpus) -> dict[str, float]:
        return {"ecc_dbe_volatile": sum(g.ecc_dbe_volatile or 0 for g in node.gpus),
                "ecc_sbe_volatile": sum(g.ecc_sbe_volatile or 0 for g in node.gpus)}


class ThermalCheck(PerGpuCheck):
    """Temperature against ``temp_warn_c`` (83) / ``temp_crit_c`` (the board's slowdown threshold, else
    90), and thermal or hardware slowdown throttle reasons (CRITICAL: the GPU is running slower now)."""

    name: ClassVar[str] = "gpu.thermal"
    runbook: ClassVar[str | None] = RB_THERMAL
    what = "temperature and throttling"
    layer = "hardware"

    def grade_gpu(self, target: Target, gpu: GpuState) -> Judged:
        throttled = [r for r in gpu.throttle if r in THERMAL_THROTTLE]
        if throttled:
            return CRIT, f"clocks slowed by {', '.join(throttled)} at {fmt(gpu.temp_c, ' °C')}", gpu
        if gpu.temp_c is None:
            return OK, "", gpu
        crit = label_float(target, "temp_crit_c", gpu.temp_slowdown_c or 90.0)
        status = grade(gpu.temp_c, label_float(target, "temp_warn_c", min(83.0, crit - 1)), crit)
        return status, (f"{gpu.temp_c:g} °C (slowdown at {fmt(gpu.temp_slowdown_c, ' °C')})"
                        if status is not OK else ""), gpu

    def metrics(self, node: NodeGpus) -> dict[str, float]:
        temps = [g.temp_c for g in node.gpus if g.temp_c is not None]
        return {"temp_c_max": max(temps)} if temps else {}


class PowerCheck(PerGpuCheck):
    """Power draw against the enforced limit: the power brake engaged is CRITICAL; drawing at or
    above ``power_warn_ratio`` (0.98) of the limit with the software power cap active is WARNING
    (the GPU is power-limited: clocks drop under load)."""

    name: ClassVar[str] = "gpu.power"
    runbook: ClassVar[str | None] = RB_POWER
    what = "power"
    layer = "hardware"

    def grade_gpu(self, target: Target, gpu: GpuState) -> Judged:
        if "hw_power_brake_slowdown" in gpu.throttle:
            return CRIT, "hardware power brake engaged (PSU / board power fault)", gpu
        ratio = gpu.power_ratio
        if ratio is not None and ratio >= label_float(target, "power_warn_ratio", 0.98) and \
                "sw_power_cap" in gpu.throttle:
            return WARN, f"power-capped: {fmt(gpu.power_w, ' W')} of {fmt(gpu.power_limit_w, ' W')}", gpu
        return OK, "", gpu

    def metrics(self, node: NodeGpus) -> dict[str, float]:
        return {"power_w": sum(g.power_w or 0 for g in node.gpus)}


class MemoryCheck(PerGpuCheck):
    """GPU memory used against ``mem_warn_pct`` (95) / ``mem_crit_pct`` (99). Inference servers
    reserve most of it on purpose; see the runbook before lowering these."""

    name: ClassVar[str] = "gpu.memory"
    runbook: ClassVar[str | None] = RB_MEMORY
    what = "memory"
    layer = "capacity"

    def grade_gpu(self, target: Target, gpu: GpuState) -> Judged:
        pct = gpu.mem_used_pct
        if pct is None:
            return OK, "", gpu
        status = grade(pct, label_float(target, "mem_warn_pct", 95), label_float(target, "mem_crit_pct", 99))
        return status, (f"{pct:.1f} % memory used ({fmt(gpu.mem_used_mib)} of {fmt(gpu.mem_total_mib)} MiB)"
                        if status is not OK else ""), gpu

    def metrics(self, node: NodeGpus) -> dict[str, float]:
        used = [g.mem_used_pct for g in node.gpus if g.mem_used_pct is not None]
        return {"mem_used_pct_max": max(used)} if used else {}


class HungCheck(PerGpuCheck):
    """A hung GPU: utilisation at ``hung_util_pct`` (99) or more while it draws at most
    ``hung_power_ratio`` (0.35) of its power limit — busy by the counter, doing no work. Seen at two
    consecutive checks (of this registry: ``self.memory.busy_before``): CRITICAL; at one: WARNING.
    Utilisation is reported for every GPU."""

    name: ClassVar[str] = "gpu.hung"
    runbook: ClassVar[str | None] = RB_HUNG
    what = "utilisation / progress"
    layer = "hardware"

    def grade_gpu(self, target: Target, gpu: GpuState) -> Judged:
        key = (target.name, gpu.uuid or gpu.index)
        util, ratio = gpu.util_pct, gpu.power_ratio
        busy_idle = (util is not None and ratio is not None and util >= label_float(target, "hung_util_pct", 99)
                     and ratio <= label_float(target, "hung_power_ratio", 0.35))
        before = self.memory.busy_before.get(key, False)
        self.memory.busy_before[key] = busy_idle
        if not busy_idle:
            return OK, "", gpu
        status: CheckStatus = CRIT if before else WARN
        again = "again " if before else ""
        return status, (f"{again}{util:g} % busy but drawing {fmt(gpu.power_w, ' W')} of "
                        f"{fmt(gpu.power_limit_w, ' W')}: no work is getting done (hung kernel?)"), gpu

    def metrics(self, node: NodeGpus) -> dict[str, float]:
        out = {f"util_pct_gpu{g.index}": g.util_pct for g in node.gpus if g.util_pct is not None}
        return {k: float(v) for k, v in out.items()}


CHECKS = (EccCheck, ThermalCheck, PowerCheck, MemoryCheck, HungCheck)

__all__ = ["CHECKS", "EccCheck", "HungCheck", "MemoryCheck", "PowerCheck", "ThermalCheck"]
