"""Did the model process restart, or die of CUDA out-of-memory? From ``/metrics`` and its log.

A restart shows as ``process_start_time_seconds`` moving forward between two readings (Python
servers export it), or counters going backwards. The log (label ``log_path``: a file on this
machine the server writes, read from its last ``log_tail_kib`` (256) KiB) is searched for the
lines a CUDA OOM and a crash print. The log is untrusted text: it is matched, quoted trimmed as
evidence, and never interpreted further.
"""

from __future__ import annotations

import os
import re
from typing import ClassVar

from steadyops.contracts.checks import label_float
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.inference.base import CRIT, OK, WARN, InferenceCheck, unanswered
from steadyops.integrations.inference.client import InferenceUnanswered

RB_RESTART = "inference/inference-restart-oom.en.md"

OOM = re.compile(r"CUDA out of memory|torch\.(cuda\.)?OutOfMemoryError|cudaErrorMemoryAllocation|"
                 r"CUDA error: out of memory|failed to allocate .* (CUDA|GPU)|ggml_cuda.*out of memory|"
                 r"KV cache .*(insufficient|not enough memory)", re.I)
CRASH = re.compile(r"Traceback \(most recent call last\)|Segmentation fault|core dumped|"
                   r"RuntimeError: CUDA error|Engine( core)? (process )?(died|failed)|EngineDeadError|"
                   r"NCCL error|terminate called after throwing", re.I)


def scan_log(text: str) -> tuple[list[str], list[str]]:
    """(OOM lines, crash lines) in ``text``, each trimmed to 240 characters, at most 5 of each."""
    oom, crash = [], []
    for line in text.splitlines():
        if OOM.search(line):
            oom.append(line.strip()[:240])
        elif CRASH.search(line):
            crash.append(line.strip()[:240])
    return oom[-5:], crash[-5:]


def tail(path: str, kib: float) -> str:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        fh.seek(max(0, size - int(kib * 1024)))
        return fh.read().decode("utf-8", "replace")


class RestartCheck(InferenceCheck):
    """The model process restarted since the last check (start time moved) — WARNING; CUDA OOM or a
    crash in its log (label ``log_path``) — CRITICAL."""

    name: ClassVar[str] = "inference.restarts"
    runbook: ClassVar[str | None] = RB_RESTART

    async def run(self, target: Target) -> CheckResult:
        evidence: list[Evidence] = []
        status: CheckStatus = OK
        summary: list[str] = []
        try:
            flavour, now, history = await self.memory.flavour_and_metrics(target)
        except InferenceUnanswered as exc:
            if not target.labels.get("log_path"):
                return unanswered(exc, busy=WARN)
            now, history = None, []
            if not exc.busy:  # down or hung; a saturated server is still the process it was
                status = CRIT
                summary.append(str(exc))
            evidence.append(Evidence(source="inference server", detail=str(exc)))
        before = history[0] if history else None
        if now is not None and before is not None and now.started_at and before.started_at and \
                now.started_at > before.started_at + 1:
            status = WARN if status is OK else status
            summary.append(f"the {flavour.name} process restarted (start time moved "
                           f"{now.started_at - before.started_at:.0f} s)")
            evidence.append(Evidence(source="/metrics process_start_time_seconds",
                                     detail=f"{before.started_at:.0f} → {now.started_at:.0f}"))
        path = target.labels.get("log_path", "").strip()
        if path:
            try:
                oom, crash = scan_log(tail(path, label_float(target, "log_tail_kib", 256)))
            except OSError as exc:
                evidence.append(Evidence(source=f"read {path}", detail=f"cannot read: {exc.strerror or exc}"))
            else:
                if oom:
                    status = CRIT
                    summary.append(f"CUDA out of memory in its log ({len(oom)} line(s))")
                    evidence.extend(Evidence(source=path, detail=line) for line in oom)
                if crash:
                    status = CRIT
                    summary.append(f"crash lines in its log ({len(crash)})")
                    evidence.extend(Evidence(source=path, detail=line) for line in crash)
        if status is OK:
            return self.result(OK, "no restart, no CUDA OOM or crash in the log", evidence)
        layer = "capacity" if any("out of memory" in s for s in summary) else "process"
        return self.result(status, "; ".join(summary), evidence, layer)


__all__ = ["CRASH", "OOM", "RestartCheck", "scan_log"]
