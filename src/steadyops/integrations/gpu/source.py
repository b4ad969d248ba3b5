"""Where a ``gpu`` target's facts come from, chosen by its ``source`` label.

* ``nvidia-smi`` (default): ``nvidia-smi -q -x`` through the host integration's access layer, so a
  GPU node is read locally or over SSH exactly like a host target (same labels: ``transport``,
  ``ssh_user``, ``credentials`` …), and the kernel log (``journalctl -k`` / ``dmesg``) the same way;
* ``nvml``: NVML in-process (this machine only; optional extra ``steadyops[gpu]``);
* ``dcgm``: a DCGM exporter's ``/metrics`` (label ``dcgm_url``, default ``http://<address>/metrics``);
* ``prometheus``: the DCGM series already in Prometheus (label ``prometheus_url``; the node is
  matched by ``Hostname`` = label ``hostname`` or the address's host).

All four give a :class:`NodeGpus`; one read is shared by the checks of one run for a few seconds,
so nine checks do not fork nvidia-smi nine times. The shared reads are the registry's
(:class:`GpuMemory`, the GPU classes' ``memory``), never the process's.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from steadyops.contracts.checks import label_float
from steadyops.contracts.memory import Remembers
from steadyops.core.errors import Unanswered
from steadyops.core.inventory import Target, split_address
from steadyops.execution.access import Reads
from steadyops.execution.errors import HostAccessError
from steadyops.execution.logins import Logins
from steadyops.execution.where import host_for
from steadyops.integrations.gpu.dcgm import from_samples, parse_dcgm_metrics
from steadyops.integrations.gpu.model import NodeGpus
from steadyops.integrations.gpu.smi import parse_smi_xml
from steadyops.integrations.gpu.xid import XidEvent, parse_kernel_log
from steadyops.plugins import PluginContext

SOURCES = ("nvidia-smi", "nvml", "dcgm", "prometheus")
SMI_ARGV = ("nvidia-smi", "-q", "-x")
JOURNAL_ARGV = ("journalctl", "-k", "-q", "--no-pager", "-o", "short-monotonic", "-n", "5000")
#: everything the GPU checks run and read on a node (read-only): nvidia-smi's XML and the kernel log
READS = Reads(commands=frozenset({SMI_ARGV, JOURNAL_ARGV, ("dmesg",)}), files=frozenset({"/proc/uptime"}))
SHARE_S = 5.0


class GpuUnanswered(Unanswered):
    """The GPU source could not be asked; ``layer`` localises it (config, network, host, process)."""

    def __init__(self, message: str, layer: str = "network") -> None:
        super().__init__(message, layer=layer)


def source_of(target: Target) -> str:
    value = target.labels.get("source", "nvidia-smi").strip().lower() or "nvidia-smi"
    if value not in SOURCES:
        raise GpuUnanswered(f"label source={value!r} is not one of {', '.join(SOURCES)}", layer="config")
    return value


async def _smi(target: Target, logins: Logins) -> NodeGpus:
    try:
        host = host_for(target, READS, logins)
        result = await host.run(*SMI_ARGV)
    except HostAccessError as exc:
        raise GpuUnanswered(exc.message, exc.layer) from exc
    if result.missing:
        raise GpuUnanswered(f"nvidia-smi is not installed on {result.where} (no NVIDIA driver?)", "config")
    node = parse_smi_xml(result.stdout + "\n" + result.stderr, source=f"nvidia-smi -q -x @ {result.where}")
    if not result.ok and not node.gpus and not node.errors:
        node.errors.append(result.describe_failure())
    return node


async def _nvml(target: Target, logins: Logins) -> NodeGpus:
    from steadyops.integrations.gpu.nvml import NvmlMissing, read_nvml

    try:
        return await asyncio.to_thread(read_nvml)
    except NvmlMissing as exc:
        raise GpuUnanswered(str(exc), "config") from exc


def dcgm_url(target: Target) -> str:
    url = target.labels.get("dcgm_url", "").strip()
    if url:
        return url
    host, port = split_address(target.address or "127.0.0.1:9400", 9400)
    return f"http://{host}:{port}/metrics"


async def _dcgm(target: Target, logins: Logins) -> NodeGpus:
    url = dcgm_url(target)
    timeout = label_float(target, "timeout", 5.0)
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            resp = await client.get(url)
    except httpx.HTTPError as exc:
        raise GpuUnanswered(f"DCGM exporter at {url} did not answer: {type(exc).__name__}", "network") from exc
    if resp.status_code != 200:
        raise GpuUnanswered(f"DCGM exporter at {url} answered HTTP {resp.status_code}", "process")
    try:
        return parse_dcgm_metrics(resp.text, source=f"DCGM exporter {url}")
    except ValueError as exc:
        raise GpuUnanswered(f"DCGM exporter at {url}: {exc}", "process") from exc


async def _prometheus(target: Target, logins: Logins) -> NodeGpus:
    from steadyops.core.errors import TransientError, ValidationFailed
    from steadyops.sources.exposition import Sample
    from steadyops.sources.promql import PromQL

    base = target.labels.get("prometheus_url", "").strip()
    if not base:
        raise GpuUnanswered("source=prometheus needs the label prometheus_url", "config")
    host = target.labels.get("hostname") or split_address(target.address or "localhost", 0)[0]
    name = host.replace('"', "")
    query = f'{{__name__=~"DCGM_FI_.*",Hostname="{name}"}}'
    try:
        series = await asyncio.to_thread(PromQL(base, timeout=label_float(target, "timeout", 5.0)).query, query)
    except (TransientError, ValidationFailed) as exc:
        raise GpuUnanswered(f"Prometheus at {base}: {exc}", "network") from exc
    samples = [Sample(labels.pop("__name__", ""), labels, points[-1][1]) for labels, points in series if points]
    if not samples:
        raise GpuUnanswered(f"Prometheus at {base} has no DCGM series for Hostname={host!r}", "config")
    return from_samples(samples, source=f"Prometheus {base} (DCGM series, Hostname={host})")


_READERS = {"nvidia-smi": _smi, "nvml": _nvml, "dcgm": _dcgm, "prometheus": _prometheus}


async def _kernel(target: Target, logins: Logins) -> tuple[list[XidEvent], float | None, str]:
    try:
        host = host_for(target, READS, logins)
        result = await host.run(*JOURNAL_ARGV)
        if not result.ok:
            result = await host.run("dmesg")
        uptime: float | None
        try:
            uptime = float((await host.read("/proc/uptime")).split()[0])
        except (HostAccessError, ValueError, IndexError):
            uptime = None
    except HostAccessError as exc:
        raise GpuUnanswered(exc.message, exc.layer) from exc
    if not result.ok:
        raise GpuUnanswered(f"cannot read the kernel log: {result.describe_failure()}", "host")
    return parse_kernel_log(result.stdout), uptime, f"{result.command} @ {result.where}"


class GpuMemory:
    """One registry's GPU memory (the GPU classes' ``memory``): the last read of each node, shared by
    a run's checks for :data:`SHARE_S` seconds, which GPUs were busy without work at the previous
    check (``gpu.hung`` needs two in a row), and the App's SSH logins."""

    def __init__(self) -> None:
        self._reads: dict[tuple[str, str], tuple[float, Any]] = {}
        #: (target, GPU uuid or index) → busy without work at the previous check
        self.busy_before: dict[tuple[str, str], bool] = {}
        #: how a node is reached over SSH: the App's logins once set up, default ones before
        self.logins = Logins()

    def setup(self, context: PluginContext) -> None:
        if context.ssh is not None:
            self.logins = context.ssh

    async def _shared(self, target: Target, what: str, fetch: Any) -> Any:
        key = (target.name, what)
        hit = self._reads.get(key)
        if hit is not None and time.monotonic() - hit[0] < SHARE_S:
            return hit[1]
        value = await fetch(target, self.logins)
        self._reads[key] = (time.monotonic(), value)
        return value

    def forget(self, target_name: str) -> None:
        """Drop the shared reads of a node (read it afresh next time)."""
        for key in [k for k in self._reads if k[0] == target_name]:
            del self._reads[key]

    async def read_node(self, target: Target) -> NodeGpus:
        """This target's GPUs from its source; :class:`GpuUnanswered` when it cannot be asked."""
        return await self._shared(target, "node", _READERS[source_of(target)])  # type: ignore[no-any-return]

    async def read_kernel_xids(self, target: Target) -> tuple[list[XidEvent], float | None, str]:
        """Xid events from the node's kernel log, the node's uptime (for "how recent"), and where read."""
        return await self._shared(target, "kernel", _kernel)  # type: ignore[no-any-return]


class UsesGpuMemory(Remembers[GpuMemory]):
    """A GPU check, collector or action: ``self.memory`` is its registry's :class:`GpuMemory`."""

    memory_type = GpuMemory


__all__ = ["JOURNAL_ARGV", "SMI_ARGV", "SOURCES", "GpuMemory", "GpuUnanswered", "UsesGpuMemory", "dcgm_url",
           "source_of"]
