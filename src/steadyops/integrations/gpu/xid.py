"""Xid errors: what the common codes mean, who is to blame, and reading them from kernel log lines.

The meaning and the first response follow NVIDIA's Xid catalogue; ``blame`` decides between "fix
the job" (``app``) and "drain the GPU" (``hardware``), which is the one decision an on-call engineer
needs from an Xid. An unknown code is reported with its number and graded WARNING, never ignored.

Kernel lines look like ``NVRM: Xid (PCI:0000:01:00): 79, pid=…, GPU has fallen off the bus.``
with an optional ``[ 1843.308145]`` / ``[Fri Aug 30 11:43:09 2024]`` / ``kernel:`` prefix; the
multi-line "has fallen off the bus" message newer drivers print without an Xid is read as Xid 79.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from steadyops.core.models import CheckStatus

Blame = Literal["app", "driver", "hardware", "nvlink", "unknown"]


@dataclass(frozen=True)
class XidInfo:
    code: int
    meaning: str
    blame: Blame
    status: CheckStatus
    action: str


_OK, _WARN, _CRIT = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL

_CATALOGUE = (
    XidInfo(8, "GPU stopped processing (timeout)", "driver", _WARN, "check the job; reset the GPU if it repeats"),
    XidInfo(13, "graphics engine exception", "app", _WARN, "application fault (bad kernel, out-of-bounds); "
            "check the job, run compute-sanitizer"),
    XidInfo(31, "GPU memory page fault (MMU fault)", "app", _WARN, "usually an illegal address in the job; "
            "repeats on the same GPU across jobs point at hardware"),
    XidInfo(32, "invalid or corrupted push buffer stream", "driver", _WARN, "driver or PCIe; check the bus and driver"),
    XidInfo(43, "GPU stopped processing (channel reset)", "app", _WARN, "application fault; the GPU stays usable"),
    XidInfo(45, "preemptive cleanup after a previous error", "app", _OK, "follow-on of another Xid or a killed "
            "process: look at the earlier Xid"),
    XidInfo(48, "double-bit ECC error (uncorrectable)", "hardware", _CRIT, "drain the GPU, reset it, check "
            "retired pages / remapped rows"),
    XidInfo(61, "internal micro-controller breakpoint/warning", "driver", _WARN, "reset the GPU; update the driver"),
    XidInfo(62, "internal micro-controller halt (GSP/PMU)", "driver", _CRIT, "drain and reset the GPU"),
    XidInfo(63, "ECC page retirement or row remapping recorded", "hardware", _WARN, "reset the GPU when idle so the "
            "remap takes effect; watch for 64"),
    XidInfo(64, "ECC page retirement or row remapping failure", "hardware", _CRIT, "drain the GPU; it needs a reset "
            "and, if it repeats, replacement (RMA)"),
    XidInfo(69, "graphics engine class error", "driver", _WARN, "reset the GPU if it repeats"),
    XidInfo(74, "NVLink error", "nvlink", _CRIT, "drain the GPU; check the NVLink bridge/cabling, run dcgmi diag"),
    XidInfo(79, "GPU has fallen off the bus", "hardware", _CRIT, "drain the node; the GPU is gone until a reboot "
            "or power cycle (PCIe, power, heat)"),
    XidInfo(92, "high single-bit ECC error rate", "hardware", _WARN, "hardware degrading; plan a replacement"),
    XidInfo(94, "contained ECC error", "hardware", _WARN, "the affected application died; the GPU stays usable, "
            "reset it when idle"),
    XidInfo(95, "uncontained ECC error", "hardware", _CRIT, "every application on the GPU is affected; drain and "
            "reset the GPU"),
    XidInfo(109, "context switch timeout", "app", _WARN, "a kernel did not yield; check the job"),
    XidInfo(119, "GSP RPC timeout", "driver", _CRIT, "drain and reset the GPU; update driver/firmware"),
    XidInfo(120, "GSP error", "driver", _CRIT, "drain and reset the GPU"),
    XidInfo(154, "GPU recovery action changed (reset or reboot required)", "hardware", _CRIT, "drain and do the "
            "recovery action the driver names (GPU reset / node reboot)"),
    *(XidInfo(code, f"NVLink {name} error", "nvlink", _CRIT,
              "check the NVLink fabric (fabric manager, NVSwitch); drain if fatal")
      for code, name in ((144, "SAW"), (145, "RLW"), (146, "TLW"), (147, "TREX"), (148, "NVLPW"), (149, "NETIR"),
                         (150, "MSE"))),
)
XID_CODES: dict[int, XidInfo] = {x.code: x for x in _CATALOGUE}


def describe(code: int) -> XidInfo:
    return XID_CODES.get(code, XidInfo(code, "Xid not in the catalogue", "unknown", _WARN,
                                       "look the code up in NVIDIA's Xid catalogue"))


@dataclass(frozen=True)
class XidEvent:
    code: int
    pci: str
    line: str
    #: seconds since boot from a ``[ 1843.30]`` prefix, when the line has one
    uptime_s: float | None = None
    pid: int | None = None
    process: str = ""

    @property
    def info(self) -> XidInfo:
        return describe(self.code)

    @property
    def nonfatal(self) -> bool:
        """NVLink Xids 144-150 say ``Nonfatal`` in the text when the link recovered."""
        return "nonfatal" in self.line.lower()


_XID = re.compile(r"NVRM: Xid \(PCI:(?P<pci>[0-9a-fA-F:.]+)\): (?P<code>\d+)(?P<rest>.*)")
_UPTIME = re.compile(r"\[\s*(?P<s>\d+\.\d+)\]")
_PID = re.compile(r"pid=(?P<pid>\d+), name=(?P<name>[^,]+)")
_BUS = re.compile(r"NVRM: The NVIDIA GPU (?P<pci>[0-9a-fA-F:.]+)")


def parse_kernel_log(text: str) -> list[XidEvent]:
    """Every Xid in ``text`` in order, plus "fallen off the bus" without an Xid (as code 79)."""
    events: list[XidEvent] = []
    pending_bus: tuple[str, float | None, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        up = _UPTIME.search(line)
        uptime = float(up.group("s")) if up else None
        match = _XID.search(line)
        if match:
            pid = _PID.search(match.group("rest"))
            events.append(XidEvent(code=int(match.group("code")), pci=match.group("pci"), line=line, uptime_s=uptime,
                                   pid=int(pid.group("pid")) if pid else None,
                                   process=pid.group("name").strip() if pid else ""))
            continue
        bus = _BUS.search(line)
        if bus:
            pending_bus = (bus.group("pci"), uptime, line)
        if pending_bus and "fallen off the bus" in line.lower():
            pci, when, first = pending_bus
            already = any(e.code == 79 and e.pci.lower().startswith(pci.lower()[:12]) for e in events)
            if not already:
                events.append(XidEvent(code=79, pci=pci, line=f"{first} … fallen off the bus", uptime_s=when))
            pending_bus = None
    return events


def recent(events: list[XidEvent], now_uptime_s: float | None, window_s: float) -> list[XidEvent]:
    """Events within ``window_s`` of now; lines without a boot-relative time are kept (cannot tell)."""
    if now_uptime_s is None:
        return events
    return [e for e in events if e.uptime_s is None or now_uptime_s - e.uptime_s <= window_s]


__all__ = ["XID_CODES", "XidEvent", "XidInfo", "describe", "parse_kernel_log", "recent"]
