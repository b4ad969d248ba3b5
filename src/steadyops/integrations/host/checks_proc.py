"""``host.process_fds``: open file descriptors of each process against *that process's own* limit.

Why a second fd check: ``host.fds`` counts handles system-wide against ``fs.file-max``, which a
single process hits long before the system does — a server started with ``ulimit -n 1024`` (or a
systemd ``LimitNOFILE``) refuses connections with EMFILE ("Too many open files") while the host
has millions of handles to spare. The kernel enforces the *soft* ``RLIMIT_NOFILE`` of each process
(``Max open files`` in ``/proc/<pid>/limits``), so that is what each count is graded against.

Both facts come from two allow-listed, read-only ``find`` commands over ``/proc`` (one lists the
entries of every ``/proc/<pid>/fd``, one greps every ``limits`` file), so a local and a remote
host are judged by the same parser. Processes we may not look into (another user's, without root)
are skipped and counted in the evidence, never judged OK on their behalf.

Labels: ``process_fds_warn`` / ``process_fds_crit`` (percent of the process's limit, default 80 /
95), ``process_fds_min`` (ignore processes with fewer open fds, default 10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from steadyops.contracts.checks import grade, worst
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.execution.access import HostAccess, trim
from steadyops.integrations.host.base import RB_FDS, HostCheck, threshold, unavailable

FD_LIST = ("find", "/proc", "-mindepth", "3", "-maxdepth", "3", "-path", "/proc/[0-9]*/fd/*", "-printf", "%h\n")
LIMITS = ("find", "/proc", "-mindepth", "2", "-maxdepth", "2", "-path", "/proc/[0-9]*/limits",
          "-exec", "grep", "-H", "Max open files", "{}", "+")
PS = ("ps", "-eo", "pid,user,pcpu,pmem,rss,comm", "--sort=-pcpu")

_FD_DIR = re.compile(r"^/proc/(\d+)/fd$")
_LIMIT = re.compile(r"^/proc/(\d+)/limits:Max open files\s+(\S+)\s+(\S+)")


@dataclass(frozen=True)
class ProcFds:
    pid: int
    name: str
    open: int
    soft: int

    @property
    def pct(self) -> float:
        return round(self.open / self.soft * 100, 2) if self.soft > 0 else 0.0

    def describe(self) -> str:
        return f"pid {self.pid} ({self.name}): {self.open} of {self.soft} fds ({self.pct:g}% of its own ulimit -n)"


def parse_fd_counts(text: str) -> dict[int, int]:
    """``find … -printf '%h\\n'`` (one ``/proc/<pid>/fd`` line per open fd) → pid → count."""
    counts: dict[int, int] = {}
    for line in text.splitlines():
        m = _FD_DIR.match(line.strip())
        if m:
            pid = int(m.group(1))
            counts[pid] = counts.get(pid, 0) + 1
    return counts


def parse_limits(text: str) -> dict[int, int]:
    """``grep -H 'Max open files' /proc/*/limits`` → pid → soft limit (``unlimited`` is left out)."""
    out: dict[int, int] = {}
    for line in text.splitlines():
        m = _LIMIT.match(line.strip())
        if m and m.group(2).isdigit():
            out[int(m.group(1))] = int(m.group(2))
    return out


def parse_ps_names(text: str) -> dict[int, str]:
    names: dict[int, str] = {}
    for line in text.splitlines()[1:]:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[0].isdigit():
            names[int(parts[0])] = parts[5].strip()
    return names


def per_process(fds: dict[int, int], limits: dict[int, int], names: dict[int, str]) -> list[ProcFds]:
    """Every process with both a count and a finite limit, fullest first."""
    rows = [ProcFds(pid, names.get(pid, "?"), n, limits[pid]) for pid, n in fds.items() if pid in limits]
    return sorted(rows, key=lambda p: (-p.pct, -p.open, p.pid))


class ProcessFdsCheck(HostCheck):
    """The fullest process against its own RLIMIT_NOFILE: a process at its ``ulimit -n`` is capacity."""

    name: ClassVar[str] = "host.process_fds"
    runbook: ClassVar[str | None] = RB_FDS
    layer: ClassVar[str] = "capacity"

    async def inspect(self, target: Target, host: HostAccess) -> CheckResult:
        listing, limits_out = await host.run(*FD_LIST), await host.run(*LIMITS)
        # find exits 1 when some /proc entries are not ours to read (or vanished): keep what it did read
        if listing.missing or not listing.stdout.strip():
            return unavailable(listing, "per-process file descriptors")
        if limits_out.missing or not limits_out.stdout.strip():
            return unavailable(limits_out, "per-process fd limits")
        ps = await host.run(*PS)
        rows = per_process(parse_fd_counts(listing.stdout), parse_limits(limits_out.stdout),
                           parse_ps_names(ps.stdout) if ps.ok else {})
        least = threshold(target, "process_fds_min", 10)
        judged = [r for r in rows if r.open >= least]
        warn, crit = threshold(target, "process_fds_warn", 80), threshold(target, "process_fds_crit", 95)
        bad = [r for r in judged if grade(r.pct, warn, crit) is not CheckStatus.OK]
        skipped = "" if listing.ok else "; some processes could not be read (not ours)"
        source = f"/proc/<pid>/fd + /proc/<pid>/limits @ {host.where}"
        metrics = {"processes": float(len(rows)), "max_fd_pct": rows[0].pct if rows else 0.0,
                   "over_threshold": float(len(bad))}
        if not bad:
            top = rows[0].describe() if rows else "no process readable"
            return self.result(CheckStatus.OK, f"{len(rows)} processes within their fd limits; fullest: {top}"
                               f"{skipped}", [Evidence(source=source, detail=trim(top))], metrics=metrics)
        status = worst(*(grade(r.pct, warn, crit) for r in bad))
        lead = bad[0]
        at = " — at its limit: new connections and files fail with EMFILE" if lead.open >= lead.soft - 1 else ""
        evidence = [Evidence(source=source, detail=trim("\n".join(r.describe() for r in bad[:5])), value=lead.pct)]
        return self.result(status, f"{lead.describe()}{at}" + (f"; {len(bad) - 1} more" if len(bad) > 1 else ""),
                           evidence, metrics=metrics, labels={"process": lead.name})  # no pid: it changes on restart


CHECKS = (ProcessFdsCheck,)
