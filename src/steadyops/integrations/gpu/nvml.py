"""NVML (``nvidia-ml-py``, the optional extra ``steadyops[gpu]``) → :class:`NodeGpus`, this machine only.

NVML is what nvidia-smi itself calls; reading it in-process avoids forking nvidia-smi every minute.
The package is optional because most steadyops installations have no GPU: asking for this source
without it is a clear configuration finding naming the extra, not an ImportError.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from steadyops.core.errors import Unanswered
from steadyops.integrations.gpu.model import GpuProcess, GpuState, NodeGpus

EXTRA_HINT = "the NVML source needs the optional extra: pip install 'steadyops[gpu]' (package nvidia-ml-py)"


class NvmlMissing(Unanswered):
    """NVML cannot be asked on this machine: the extra is missing or the driver would not start."""

    layer = "config"


def load_pynvml() -> Any:
    try:
        return importlib.import_module("pynvml")
    except ImportError as exc:
        raise NvmlMissing(EXTRA_HINT) from exc


def _try(fn: Callable[[], Any]) -> Any:
    """NVML raises NVMLError_NotSupported for fields a board lacks: that is None, not a failure."""
    try:
        return fn()
    except Exception:  # pynvml's NVMLError family; any of them means "not available here"
        return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def read_device(nv: Any, i: int) -> GpuState:
    h = nv.nvmlDeviceGetHandleByIndex(i)
    state = GpuState(index=str(i), uuid=_text(_try(lambda: nv.nvmlDeviceGetUUID(h)) or ""),
                     name=_text(_try(lambda: nv.nvmlDeviceGetName(h)) or ""))
    pci = _try(lambda: nv.nvmlDeviceGetPciInfo(h))
    state.bus_id = _text(getattr(pci, "busId", "") or "")
    state.temp_c = _try(lambda: float(nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU)))
    state.temp_slowdown_c = _try(lambda: float(nv.nvmlDeviceGetTemperatureThreshold(
        h, nv.NVML_TEMPERATURE_THRESHOLD_SLOWDOWN)))
    state.temp_shutdown_c = _try(lambda: float(nv.nvmlDeviceGetTemperatureThreshold(
        h, nv.NVML_TEMPERATURE_THRESHOLD_SHUTDOWN)))
    mw = _try(lambda: nv.nvmlDeviceGetPowerUsage(h))
    state.power_w = mw / 1000.0 if mw is not None else None
    limit = _try(lambda: nv.nvmlDeviceGetEnforcedPowerLimit(h))
    state.power_limit_w = limit / 1000.0 if limit is not None else None
    mem = _try(lambda: nv.nvmlDeviceGetMemoryInfo(h))
    if mem is not None:
        state.mem_used_mib, state.mem_total_mib = mem.used / 2**20, mem.total / 2**20
    util = _try(lambda: nv.nvmlDeviceGetUtilizationRates(h))
    state.util_pct = float(util.gpu) if util is not None else None
    state.sm_clock_mhz = _try(lambda: float(nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM)))
    mask = _try(lambda: nv.nvmlDeviceGetCurrentClocksThrottleReasons(h))
    if mask is not None:
        from steadyops.integrations.gpu.dcgm import throttle_names

        state.throttle = throttle_names(int(mask))
    state.ecc_sbe_volatile = _try(lambda: float(nv.nvmlDeviceGetTotalEccErrors(
        h, nv.NVML_MEMORY_ERROR_TYPE_CORRECTED, nv.NVML_VOLATILE_ECC)))
    state.ecc_dbe_volatile = _try(lambda: float(nv.nvmlDeviceGetTotalEccErrors(
        h, nv.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, nv.NVML_VOLATILE_ECC)))
    rows = _try(lambda: nv.nvmlDeviceGetRemappedRows(h))  # (corr, unc, pending, failure)
    if rows is not None:
        state.remap_correctable, state.remap_uncorrectable = float(rows[0]), float(rows[1])
        state.remap_pending, state.remap_failure = bool(rows[2]), bool(rows[3])
    for link in range(getattr(nv, "NVML_NVLINK_MAX_LINKS", 0)):
        for key, counter in (("crc_flit", "NVML_NVLINK_ERROR_DL_CRC_FLIT"), ("replay", "NVML_NVLINK_ERROR_DL_REPLAY"),
                             ("recovery", "NVML_NVLINK_ERROR_DL_RECOVERY")):
            value = _try(functools.partial(nv.nvmlDeviceGetNvLinkErrorCounter, h, link, getattr(nv, counter, 0)))
            if value is not None:
                state.nvlink_errors[key] = state.nvlink_errors.get(key, 0.0) + float(value)
    procs = _try(lambda: nv.nvmlDeviceGetComputeRunningProcesses(h)) or []
    state.processes = [GpuProcess(pid=int(p.pid), name=str(p.pid),
                                  used_mib=(p.usedGpuMemory / 2**20) if p.usedGpuMemory else None) for p in procs]
    return state


def read_nvml() -> NodeGpus:
    """All GPUs of this machine through NVML; raises :class:`NvmlMissing` without the extra."""
    nv = load_pynvml()
    try:
        nv.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound / DriverNotLoaded: no usable driver here
        raise NvmlMissing(f"NVML could not start: {exc}") from exc
    try:
        node = NodeGpus(source="NVML", driver=_text(_try(nv.nvmlSystemGetDriverVersion) or "") or None)
        cuda = _try(nv.nvmlSystemGetCudaDriverVersion)
        node.cuda = f"{cuda // 1000}.{cuda % 1000 // 10}" if isinstance(cuda, int) else None
        count = int(nv.nvmlDeviceGetCount())
        node.attached = count
        for i in range(count):
            try:
                node.gpus.append(read_device(nv, i))
            except Exception as exc:  # NVMLError_GpuIsLost on a GPU that fell off the bus
                node.errors.append(f"GPU {i}: {exc}")
        return node
    finally:
        _try(nv.nvmlShutdown)


__all__ = ["EXTRA_HINT", "NvmlMissing", "load_pynvml", "read_nvml"]
