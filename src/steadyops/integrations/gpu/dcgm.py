"""DCGM exporter ``/metrics`` (or the same series from Prometheus) → :class:`NodeGpus`.

Field names are DCGM's (``DCGM_FI_DEV_*``, see dcgm-exporter's ``default-counters.csv``); each
sample carries ``gpu``, ``UUID``, ``modelName``, ``pci_bus_id``, ``Hostname`` and, on recent
exporters, ``DCGM_FI_DRIVER_VERSION``. Which fields exist depends on the exporter's counters file,
so anything absent stays ``None``. MIG slices (``GPU_I_ID``) are folded into their physical GPU.
"""

from __future__ import annotations

import math

from steadyops.integrations.gpu.model import GpuState, NodeGpus
from steadyops.sources.exposition import Sample, parse_exposition

#: DCGM field → GpuState attribute, for plain gauges/counters
FIELDS: dict[str, str] = {
    "DCGM_FI_DEV_GPU_TEMP": "temp_c",
    "DCGM_FI_DEV_POWER_USAGE": "power_w",
    "DCGM_FI_DEV_POWER_MGMT_LIMIT": "power_limit_w",
    "DCGM_FI_DEV_FB_USED": "mem_used_mib",
    "DCGM_FI_DEV_GPU_UTIL": "util_pct",
    "DCGM_FI_DEV_SM_CLOCK": "sm_clock_mhz",
    "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL": "ecc_sbe_volatile",
    "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL": "ecc_dbe_volatile",
    "DCGM_FI_DEV_ECC_SBE_AGG_TOTAL": "ecc_sbe_aggregate",
    "DCGM_FI_DEV_ECC_DBE_AGG_TOTAL": "ecc_dbe_aggregate",
    "DCGM_FI_DEV_RETIRED_SBE": "retired_sbe",
    "DCGM_FI_DEV_RETIRED_DBE": "retired_dbe",
    "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS": "remap_correctable",
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS": "remap_uncorrectable",
    "DCGM_FI_DEV_PCIE_REPLAY_COUNTER": "pcie_replay",
}
#: NVLink error counters (summed over links); any growth is a finding
NVLINK_FIELDS = ("DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", "DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL",
                 "DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", "DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL")
#: DCGM_FI_DEV_CLOCK_THROTTLE_REASONS / _CLOCKS_EVENT_REASONS bit mask (nvml.h nvmlClocksEventReason*)
THROTTLE_BITS: dict[int, str] = {0x1: "gpu_idle", 0x2: "applications_clocks_setting", 0x4: "sw_power_cap",
                                 0x8: "hw_slowdown", 0x10: "sync_boost", 0x20: "sw_thermal_slowdown",
                                 0x40: "hw_thermal_slowdown", 0x80: "hw_power_brake_slowdown",
                                 0x100: "display_clocks_setting"}
#: DCGM reports "blank" (no value) as these sentinels
BLANK = (9.223372036854776e18, 2147483647.0, 2147483632.0)


def _blank(value: float) -> bool:
    return not math.isfinite(value) or any(abs(value - b) < 1.0 for b in BLANK)


def throttle_names(mask: int) -> list[str]:
    return [name for bit, name in THROTTLE_BITS.items() if mask & bit]


def from_samples(samples: list[Sample], source: str) -> NodeGpus:
    """Fold samples (from ``/metrics`` or a Prometheus query) into one NodeGpus per call."""
    gpus: dict[str, GpuState] = {}
    node = NodeGpus(source=source)
    for s in samples:
        if not s.name.startswith("DCGM_FI_"):
            continue
        key = s.labels.get("gpu") or s.labels.get("UUID") or "?"
        gpu = gpus.get(key)
        if gpu is None:
            gpu = gpus[key] = GpuState(index=key, uuid=s.labels.get("UUID", ""), name=s.labels.get("modelName", ""),
                                       bus_id=s.labels.get("pci_bus_id", ""))
        if "GPU_I_ID" in s.labels:
            gpu.mig = True
        node.driver = node.driver or s.labels.get("DCGM_FI_DRIVER_VERSION") or None
        if _blank(s.value):
            continue
        attr = FIELDS.get(s.name)
        if attr is not None:
            # MIG slices repeat a physical GPU's counters; keep the largest rather than add them up
            current = getattr(gpu, attr)
            setattr(gpu, attr, s.value if current is None else max(current, s.value))
        elif s.name == "DCGM_FI_DEV_FB_FREE":
            gpu.mem_total_mib = (gpu.mem_total_mib or 0.0) + s.value  # used is added below
        elif s.name == "DCGM_FI_DEV_XID_ERRORS":
            gpu.xid_last = int(s.value) if s.value else (gpu.xid_last or 0)
        elif s.name in NVLINK_FIELDS:
            short = s.name.removeprefix("DCGM_FI_DEV_NVLINK_").removesuffix("_COUNT_TOTAL").lower()
            gpu.nvlink_errors[short] = gpu.nvlink_errors.get(short, 0.0) + s.value
        elif s.name in ("DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "DCGM_FI_DEV_CLOCKS_EVENT_REASONS"):
            gpu.throttle = throttle_names(int(s.value))
    for gpu in gpus.values():
        if gpu.mem_total_mib is not None and gpu.mem_used_mib is not None:
            gpu.mem_total_mib += gpu.mem_used_mib  # DCGM gives used and free; total is their sum
        elif gpu.mem_total_mib is not None:
            gpu.mem_total_mib = None
    node.gpus = sorted(gpus.values(), key=lambda g: (len(g.index), g.index))
    node.attached = len(node.gpus)
    return node


def parse_dcgm_metrics(text: str, source: str = "DCGM exporter /metrics") -> NodeGpus:
    return from_samples(parse_exposition(text), source)


__all__ = ["FIELDS", "NVLINK_FIELDS", "THROTTLE_BITS", "from_samples", "parse_dcgm_metrics", "throttle_names"]
