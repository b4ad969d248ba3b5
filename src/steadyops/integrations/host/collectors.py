"""Read-only snapshots of a host: ``host.facts`` and ``host.top``. Also the agent's tools.

Facts without a verdict. A host that cannot be asked is a fact too, so the failure is returned in
the snapshot (``ok: false`` and why) rather than raised: an agent reading "host key mismatch"
learns more than from an exception. Facts reuse the checks' parsers and allow-listed sources.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import psutil

from steadyops.contracts.collectors import Collector
from steadyops.core.inventory import Target
from steadyops.core.models import Snapshot, utcnow
from steadyops.execution.access import HostAccess
from steadyops.execution.errors import HostAccessError
from steadyops.execution.where import host_for
from steadyops.integrations.host.base import READS, TARGET_KIND, UsesHost
from steadyops.integrations.host.parse import (
    mem_available,
    parse_df,
    parse_int,
    parse_meminfo,
    parse_os_release,
    parse_ps,
    parse_uptime,
)

TOP_N = 10
CPU_SAMPLE_SECONDS = 0.5


class _HostCollector(UsesHost, Collector):
    target_kind: ClassVar[str] = TARGET_KIND

    async def collect(self, target: Target) -> Snapshot:
        data: dict[str, Any]
        try:
            host = host_for(target, READS, self.memory.logins)
            data = {"ok": True, "where": host.where, **await self.gather(target, host)}
        except HostAccessError as exc:
            data = {"ok": False, "error": exc.message, "layer": exc.layer}
        return Snapshot(collector=self.name, target=target.name, data=data, collected_at=utcnow())

    async def gather(self, target: Target, host: HostAccess) -> dict[str, Any]:
        raise NotImplementedError


class FactsCollector(_HostCollector):
    """What a host is: OS, kernel, cores, memory, uptime and mounts — the header of every host report."""

    name: ClassVar[str] = "host.facts"
    description: ClassVar[str] = ("Facts about a host: OS release, kernel, hostname, CPU cores, memory total and "
                                  "available, swap, uptime, and every mount with its size and use")

    async def gather(self, target: Target, host: HostAccess) -> dict[str, Any]:
        # asked concurrently: over SSH each answer is a round trip (and a login shell) of its own
        files = ("/etc/os-release", "/proc/sys/kernel/osrelease", "/proc/sys/kernel/hostname", "/proc/meminfo",
                 "/proc/uptime")
        texts, (nproc, df) = await asyncio.gather(asyncio.gather(*(host.read(p) for p in files)),
                                                  asyncio.gather(host.run("nproc"), host.run("df", "-PT")))
        os_text, kernel, hostname, meminfo, uptime_text = texts
        os_release = parse_os_release(os_text)
        mem = parse_meminfo(meminfo)
        uptime = parse_uptime(uptime_text)
        return {
            "os": os_release.get("PRETTY_NAME") or os_release.get("NAME", ""),
            "kernel": kernel.strip(),
            "hostname": hostname.strip(),
            "cpus": parse_int(nproc.stdout) if nproc.ok else None,
            "memory": {"total": mem.get("MemTotal"), "available": mem_available(mem),
                       "swap_total": mem.get("SwapTotal"), "swap_free": mem.get("SwapFree")},
            "uptime_seconds": uptime,
            "boot_time": round(time.time() - uptime),
            "mounts": [{"mount": m.mount, "filesystem": m.filesystem, "type": m.fstype, "size": m.total,
                        "used": m.used, "available": m.avail, "used_pct": m.used_pct} for m in parse_df(df.stdout)],
        }


def _local_top() -> list[dict[str, Any]]:
    """psutil's per-process CPU over a short sample (ps's %CPU is a lifetime average)."""
    procs = list(psutil.process_iter(["pid", "name", "username", "memory_info", "memory_percent"]))
    for p in procs:
        try:
            p.cpu_percent(None)
        except psutil.Error:
            continue
    time.sleep(CPU_SAMPLE_SECONDS)
    rows = []
    for p in procs:
        try:
            cpu = p.cpu_percent(None)
        except psutil.Error:
            continue
        info = p.info
        mem = info.get("memory_info")
        rows.append({"pid": info["pid"], "name": info.get("name") or "", "user": info.get("username") or "",
                     "cpu_percent": cpu, "mem_percent": round(info.get("memory_percent") or 0.0, 2),
                     "rss": mem.rss if mem is not None else 0})
    return rows


class TopCollector(_HostCollector):
    """The processes using the most CPU and memory right now (psutil locally, ``ps`` over SSH)."""

    name: ClassVar[str] = "host.top"
    description: ClassVar[str] = ("Top processes of a host by CPU and by memory: pid, name, user, CPU %, memory %, "
                                  "resident memory")

    async def gather(self, target: Target, host: HostAccess) -> dict[str, Any]:
        if host.remote:
            ps = await host.run("ps", "-eo", "pid,user,pcpu,pmem,rss,comm", "--sort=-pcpu")
            if not ps.ok:
                return {"ok": False, "error": ps.describe_failure()}
            rows: list[dict[str, Any]] = [dict(r) for r in parse_ps(ps.stdout)]
            source = "ps (CPU % averaged over each process's lifetime)"
        else:
            rows = await asyncio.to_thread(_local_top)
            source = f"psutil ({CPU_SAMPLE_SECONDS:g}s CPU sample)"
        by_cpu = sorted(rows, key=lambda r: float(r["cpu_percent"]), reverse=True)[:TOP_N]
        by_mem = sorted(rows, key=lambda r: int(r["rss"]), reverse=True)[:TOP_N]
        return {"source": source, "processes": len(rows), "by_cpu": by_cpu, "by_memory": by_mem}


COLLECTORS = (FactsCollector, TopCollector)
