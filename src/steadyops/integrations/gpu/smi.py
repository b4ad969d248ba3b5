"""``nvidia-smi -q -x`` XML → :class:`NodeGpus`.

The schema moves between driver releases (``clocks_throttle_reasons`` became
``clocks_event_reasons`` in 535, ``power_readings`` became ``gpu_power_readings``, ECC counters
went from ``single_bit/double_bit`` to ``sram_/dram_`` fields), so every field is looked up under
each of its known names; a field no name finds stays ``None``. Output that is not XML is scanned
for the lines nvidia-smi prints when a GPU is unreachable ("Unable to determine the device handle",
"GPU is lost", "No devices were found"): that is the fell-off-the-bus evidence.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # nvidia-smi output; the parser resolves no external entities

from steadyops.integrations.gpu.model import GpuProcess, GpuState, NodeGpus, number, yes_no

#: what nvidia-smi prints instead of XML (or beside it) when the driver cannot reach a GPU
LOST_PATTERNS = re.compile(r"unable to determine the device handle|gpu is lost|no devices were found|"
                           r"nvidia-smi has failed because it couldn't communicate|fallen off the bus", re.I)


def _text(node: ET.Element | None, *paths: str) -> str | None:
    if node is None:
        return None
    for path in paths:
        found = node.find(path)
        if found is not None and found.text is not None and found.text.strip():
            return found.text.strip()
    return None


def _num(node: ET.Element | None, *paths: str) -> float | None:
    return number(_text(node, *paths))


def _sum(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _throttle(gpu: ET.Element) -> list[str]:
    reasons: list[str] = []
    for block in ("clocks_event_reasons", "clocks_throttle_reasons"):
        node = gpu.find(block)
        if node is None:
            continue
        for child in node:
            if yes_no(child.text) is True:
                reasons.append(re.sub(r"^clocks_(event|throttle)_reason_", "", child.tag))
    return reasons


def _ecc(gpu: ET.Element, state: GpuState) -> None:
    state.ecc_enabled = yes_no(_text(gpu, "ecc_mode/current_ecc"))
    for scope in ("volatile", "aggregate"):
        node = gpu.find(f"ecc_errors/{scope}")
        if node is None:
            continue
        sbe = _sum(_num(node, "sram_correctable"), _num(node, "dram_correctable"), _num(node, "single_bit/total"))
        dbe = _sum(_num(node, "sram_uncorrectable"), _num(node, "dram_uncorrectable"),
                   _num(node, "double_bit/total"))
        setattr(state, f"ecc_sbe_{scope}", sbe)
        setattr(state, f"ecc_dbe_{scope}", dbe)
    retired = gpu.find("retired_pages")
    state.retired_sbe = _num(retired, "multiple_single_bit_retirement/retired_count")
    state.retired_dbe = _num(retired, "double_bit_retirement/retired_count")
    state.retired_pending = yes_no(_text(retired, "pending_retirement", "pending_blacklist"))
    rows = gpu.find("remapped_rows")
    if rows is not None and len(rows):
        state.remap_correctable = _num(rows, "remapped_row_corr")
        state.remap_uncorrectable = _num(rows, "remapped_row_unc")
        state.remap_pending = yes_no(_text(rows, "remapped_row_pending"))
        state.remap_failure = yes_no(_text(rows, "remapped_row_failure"))


def _processes(gpu: ET.Element) -> list[GpuProcess]:
    out: list[GpuProcess] = []
    for proc in gpu.findall("processes/process_info"):
        pid = number(_text(proc, "pid"))
        if pid is not None:
            out.append(GpuProcess(pid=int(pid), name=_text(proc, "process_name") or "?",
                                  used_mib=_num(proc, "used_memory")))
    return out


def parse_gpu(gpu: ET.Element, index: int) -> GpuState:
    state = GpuState(index=_text(gpu, "minor_number") or str(index), uuid=_text(gpu, "uuid") or "",
                     name=_text(gpu, "product_name") or "", bus_id=gpu.get("id") or _text(gpu, "pci/pci_bus_id") or "")
    if state.index in {"N/A", ""}:
        state.index = str(index)
    state.temp_c = _num(gpu, "temperature/gpu_temp")
    state.temp_slowdown_c = _num(gpu, "temperature/gpu_temp_slow_threshold")
    state.temp_shutdown_c = _num(gpu, "temperature/gpu_temp_max_threshold")
    state.power_w = _num(gpu, "gpu_power_readings/power_draw", "power_readings/power_draw")
    state.power_limit_w = _num(gpu, "gpu_power_readings/current_power_limit", "power_readings/enforced_power_limit",
                               "power_readings/power_limit")
    state.mem_used_mib = _num(gpu, "fb_memory_usage/used")
    state.mem_total_mib = _num(gpu, "fb_memory_usage/total")
    state.util_pct = _num(gpu, "utilization/gpu_util")
    state.sm_clock_mhz = _num(gpu, "clocks/sm_clock")
    state.throttle = _throttle(gpu)
    state.pcie_replay = _num(gpu, "pci/replay_counter")
    state.reset_required = yes_no(_text(gpu, "gpu_reset_status/reset_required"))
    state.mig = yes_no(_text(gpu, "mig_mode/current_mig")) is True
    state.processes = _processes(gpu)
    _ecc(gpu, state)
    return state


def parse_smi_xml(text: str, source: str = "nvidia-smi -q -x") -> NodeGpus:
    """Parse what ``nvidia-smi -q -x`` printed; never raises on odd output, reports it in ``errors``."""
    lost = [line.strip() for line in text.splitlines() if LOST_PATTERNS.search(line)]
    start = text.find("<nvidia_smi_log")
    if start < 0:
        return NodeGpus(source=source, errors=lost or [text.strip()[:300] or "no output"])
    body = text[start:]
    end = body.rfind("</nvidia_smi_log>")
    if end >= 0:
        body = body[: end + len("</nvidia_smi_log>")]
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        return NodeGpus(source=source, errors=[*lost, f"unreadable nvidia-smi XML: {exc}"])
    attached = number(_text(root, "attached_gpus"))
    gpus = [parse_gpu(g, i) for i, g in enumerate(root.findall("gpu"))]
    return NodeGpus(source=source, driver=_text(root, "driver_version"), cuda=_text(root, "cuda_version"),
                    attached=int(attached) if attached is not None else None, gpus=gpus, errors=lost)


__all__ = ["LOST_PATTERNS", "parse_gpu", "parse_smi_xml"]
