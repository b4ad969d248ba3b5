"""What every GPU source is read into: one :class:`NodeGpus` per node, one :class:`GpuState` per GPU.

nvidia-smi XML, NVML and DCGM exporter name the same facts differently (``dram_uncorrectable`` vs
``DCGM_FI_DEV_ECC_DBE_VOL_TOTAL`` vs ``nvmlDeviceGetTotalEccErrors``); the parsers translate into
these types so each check is written once and judges every source the same way. ``None`` always
means "this source does not report it" (a GeForce has no ECC, DCGM's default counters have no
throttle reasons), never zero, so a check can say UNKNOWN instead of a false OK.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: throttle reasons that only say the GPU is idle or set that way: not a finding
BENIGN_THROTTLE = frozenset({"gpu_idle", "applications_clocks_setting", "display_clocks_setting", "sync_boost",
                             "none"})
#: throttle reasons that mean heat or the power supply is slowing the GPU down
THERMAL_THROTTLE = frozenset({"hw_slowdown", "hw_thermal_slowdown", "sw_thermal_slowdown",
                              "hw_power_brake_slowdown"})


@dataclass
class GpuProcess:
    pid: int
    name: str
    used_mib: float | None = None


@dataclass
class GpuState:
    """One GPU as a source saw it. Counters are lifetime or since-driver-load totals, as reported."""

    index: str
    uuid: str = ""
    name: str = ""
    bus_id: str = ""
    temp_c: float | None = None
    temp_slowdown_c: float | None = None
    temp_shutdown_c: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    mem_used_mib: float | None = None
    mem_total_mib: float | None = None
    util_pct: float | None = None
    sm_clock_mhz: float | None = None
    throttle: list[str] = field(default_factory=list)
    ecc_enabled: bool | None = None
    ecc_sbe_volatile: float | None = None
    ecc_dbe_volatile: float | None = None
    ecc_sbe_aggregate: float | None = None
    ecc_dbe_aggregate: float | None = None
    retired_sbe: float | None = None
    retired_dbe: float | None = None
    retired_pending: bool | None = None
    remap_correctable: float | None = None
    remap_uncorrectable: float | None = None
    remap_pending: bool | None = None
    remap_failure: bool | None = None
    xid_last: int | None = None
    nvlink_errors: dict[str, float] = field(default_factory=dict)
    pcie_replay: float | None = None
    reset_required: bool | None = None
    mig: bool = False
    processes: list[GpuProcess] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How evidence names a GPU: ``GPU 0 (NVIDIA A100-SXM4-80GB, 00000000:01:00.0)``."""
        extra = ", ".join(x for x in (self.name, self.bus_id) if x)
        return f"GPU {self.index}" + (f" ({extra})" if extra else "")

    @property
    def mem_used_pct(self) -> float | None:
        if self.mem_used_mib is None or not self.mem_total_mib:
            return None
        return 100.0 * self.mem_used_mib / self.mem_total_mib

    @property
    def power_ratio(self) -> float | None:
        if self.power_w is None or not self.power_limit_w:
            return None
        return self.power_w / self.power_limit_w

    @property
    def bad_throttle(self) -> list[str]:
        return [r for r in self.throttle if r not in BENIGN_THROTTLE]


@dataclass
class NodeGpus:
    """Everything one source said about one node's GPUs, plus what it could not say."""

    source: str
    driver: str | None = None
    cuda: str | None = None
    attached: int | None = None
    gpus: list[GpuState] = field(default_factory=list)
    #: lines the tool printed about GPUs it could not reach ("Unable to determine the device handle …")
    errors: list[str] = field(default_factory=list)


def number(text: str | None) -> float | None:
    """``"67.03 W"`` → 67.03, ``"81920 MiB"`` → 81920, ``"N/A"`` / ``"[N/A]"`` / empty → None."""
    if text is None:
        return None
    head = text.strip().split(" ")[0].strip()
    if not head or head.upper() in {"N/A", "[N/A]", "NONE", "[NOT", "UNKNOWN"}:
        return None
    try:
        return float(head)
    except ValueError:
        return None


def yes_no(text: str | None) -> bool | None:
    """``Yes``/``No``/``Enabled``/``Disabled``/``Active``/``Not Active`` → bool; N/A → None."""
    if text is None:
        return None
    value = text.strip().lower()
    if value in {"yes", "enabled", "active", "true", "1"}:
        return True
    if value in {"no", "disabled", "not active", "false", "0"}:
        return False
    return None


__all__ = ["BENIGN_THROTTLE", "THERMAL_THROTTLE", "GpuProcess", "GpuState", "NodeGpus", "number", "yes_no"]
