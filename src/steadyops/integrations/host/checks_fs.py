"""``host.disk`` and ``host.inodes``: every mount's use, and its time-to-full from the trend.

One result per check, judged by the **worst mount**: a check result is one alert, and an alert per
mount would need the runner to hold several alerts per (check, target). So the verdict, summary and
the alert label ``mount`` name the worst mount (by status, then by use), while every mount's
numbers are in the metrics (``used_pct:/var``, ``used:/var``, ``avail:/var``, ``hours_to_full:/var``)
and every failing mount is in the evidence. Those metrics are also the history the next run fits
its trend on (see :mod:`.trend`).

A forecast escalates only on a filesystem that is already fairly full (``disk_ttf_min_pct``,
default 50 %): a nearly empty disk filling fast during a deploy is not a page, a 70 % one that
will be full before morning is. Labels (``disk_`` or ``inodes_`` prefix): ``_warn`` / ``_crit``
(used %, default 85 / 95), ``_ttf_warn_hours`` / ``_ttf_crit_hours`` (24 / 4), ``_ttf_min_pct``
(50), ``_trend_hours`` (the window the line is fitted over, default 6, as node_exporter's
``predict_linear`` alerts use); ``disk_mounts`` / ``disk_ignore`` (comma-separated globs over mount
points) choose the mounts for both checks.
"""

from __future__ import annotations

import math
import time
from fnmatch import fnmatchcase
from typing import ClassVar

from steadyops.contracts.checks import grade, grade_low, worst
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.execution.access import HostAccess
from steadyops.integrations.host.base import (
    RB_DISK,
    HostCheck,
    WithHistory,
    human_bytes,
    human_duration,
    threshold,
    unavailable,
)
from steadyops.integrations.host.parse import FsUsage, parse_df
from steadyops.integrations.host.trend import Forecast, forecast

#: pseudo or read-only filesystems that are "100 % full" by design (snap images, CD-ROMs) or never fill
IGNORED_TYPES = frozenset({"squashfs", "iso9660", "udf", "devtmpfs", "ramfs", "efivarfs"})
IGNORED_MOUNTS = ("/snap/*", "/run/credentials/*")
#: past samples fitted at most (spread evenly over the trend window)
TREND_POINTS = 32


def _globs(value: str) -> list[str]:
    return [g.strip() for g in value.split(",") if g.strip()]


def select_mounts(mounts: list[FsUsage], target: Target) -> list[FsUsage]:
    """The mounts worth judging: real sizes, not read-only images, as the target's labels narrow them."""
    only = _globs(target.labels.get("disk_mounts", ""))
    ignore = [*IGNORED_MOUNTS, *_globs(target.labels.get("disk_ignore", ""))]
    seen: set[str] = set()
    out = []
    for m in mounts:
        if m.total <= 0 or m.fstype in IGNORED_TYPES or m.mount in seen:
            continue
        if only and not any(fnmatchcase(m.mount, g) for g in only):
            continue
        if any(fnmatchcase(m.mount, g) for g in ignore):
            continue
        seen.add(m.mount)  # a mount point stacked twice: df shows the visible one first
        out.append(m)
    return out


def _seconds_to_full(fc: Forecast | None) -> float:
    return math.inf if fc is None or fc.seconds_to_full is None else fc.seconds_to_full


class FsCheck(WithHistory, HostCheck):
    """Shared by disk (bytes) and inodes: thresholds, trend, worst-mount verdict."""

    runbook: ClassVar[str | None] = RB_DISK
    layer: ClassVar[str] = "disk"
    commands: ClassVar[tuple[tuple[str, ...], ...]]
    prefix: ClassVar[str]
    noun: ClassVar[str]

    def amount(self, n: float) -> str:
        return human_bytes(n)

    async def inspect(self, target: Target, host: HostAccess) -> CheckResult:
        mounts: list[FsUsage] = []
        for argv in self.commands:  # -PT first; BusyBox and very old df know only -P
            result = await host.run(*argv)
            mounts = parse_df(result.stdout)
            if mounts:  # df exits 1 when one mount (a stale NFS) fails but still reports the rest
                break
        if not mounts:
            return unavailable(result, f"{self.noun} use")
        chosen = select_mounts(mounts, target)
        if not chosen:
            return self.result(CheckStatus.UNKNOWN, f"no filesystem to judge among {len(mounts)} listed "
                               "(check the disk_mounts / disk_ignore labels)", [result.evidence()])
        p = self.prefix
        warn, crit = threshold(target, f"{p}_warn", 85), threshold(target, f"{p}_crit", 95)
        ttf_warn = threshold(target, f"{p}_ttf_warn_hours", 24)
        ttf_crit = threshold(target, f"{p}_ttf_crit_hours", 4)
        ttf_min_pct = threshold(target, f"{p}_ttf_min_pct", 50)
        window = threshold(target, f"{p}_trend_hours", 6) * 3600
        history = self.history
        now = time.time()
        past = await history.recent(self.name, target.name, now - window, TREND_POINTS)
        metrics: dict[str, float] = {}
        judged: list[tuple[CheckStatus, FsUsage, Forecast | None]] = []
        for m in chosen:
            key = f"used:{m.mount}"
            points = [(t, s[key]) for t, s in past if key in s] + [(now, float(m.used))]
            fc = forecast(points, float(m.avail))
            status = grade(m.used_pct, warn, crit)
            hours = fc.hours_to_full if fc else None
            if hours is not None and m.used_pct >= ttf_min_pct:
                status = worst(status, grade_low(hours, ttf_warn, ttf_crit))
            metrics[f"used_pct:{m.mount}"] = m.used_pct
            metrics[key] = float(m.used)
            metrics[f"avail:{m.mount}"] = float(m.avail)
            if hours is not None:
                metrics[f"hours_to_full:{m.mount}"] = round(hours, 4)
            judged.append((status, m, fc))
        history.observe(self.name, target.name, now, {k: v for k, v in metrics.items() if k.startswith("used:")})
        judged.sort(key=lambda j: (j[0].rank, j[1].used_pct), reverse=True)
        status, top, fc = judged[0]
        metrics["worst_used_pct"] = top.used_pct
        failing = [j for j in judged if j[0].failing]
        evidence = [self._mount_evidence(m, f) for _s, m, f in (failing or judged[:1])[:5]]
        soonest = min(judged, key=lambda j: _seconds_to_full(j[2]))
        rising = _seconds_to_full(soonest[2]) != math.inf
        if not failing and rising:
            evidence.append(self._mount_evidence(soonest[1], soonest[2]))
        evidence.append(result.evidence(result.stdout + (f"\n{result.stderr}" if result.stderr.strip() else "")))
        if status.failing:
            summary = self._describe(top, fc)
            if len(failing) > 1:
                others = ", ".join(f"{m.mount} {m.used_pct:.0f}%" for _s, m, _f in failing[1:4])
                summary += f"; also {others}"
            return self.result(status, summary, evidence, metrics=metrics, labels={"mount": top.mount})
        summary = f"{len(judged)} filesystems below {warn:g}% {self.noun} use; fullest {top.mount} {top.used_pct:.1f}%"
        if rising:
            summary += f"; {soonest[1].mount} full in ~{human_duration(_seconds_to_full(soonest[2]))} at this rate"
        return self.result(CheckStatus.OK, summary, evidence, metrics=metrics)

    def _describe(self, m: FsUsage, fc: Forecast | None) -> str:
        text = (f"{m.mount} {m.used_pct:.1f}% {self.noun} used ({self.amount(m.avail)} free of "
                f"{self.amount(m.total)})")
        if fc is not None and fc.seconds_to_full is not None:
            text += f", full in ~{human_duration(fc.seconds_to_full)} at +{self.amount(fc.rate_per_hour)}/h"
        return text

    def _mount_evidence(self, m: FsUsage, fc: Forecast | None) -> Evidence:
        detail = (f"{m.filesystem}{f' ({m.fstype})' if m.fstype else ''} on {m.mount}: {m.used_pct:.1f}% used, "
                  f"{self.amount(m.used)} used, {self.amount(m.avail)} available")
        if fc is None:
            detail += "; trend: not enough samples yet"
        elif fc.seconds_to_full is None:
            detail += f"; trend over {fc.samples} samples: not rising"
        else:
            detail += (f"; trend over {fc.samples} samples / {human_duration(fc.span_seconds)}: "
                       f"+{self.amount(fc.rate_per_hour)}/h, full in ~{human_duration(fc.seconds_to_full)}")
        return Evidence(source=f"mount {m.mount}", detail=detail, value=m.used_pct)


class DiskCheck(FsCheck):
    """Space per mount: used % against thresholds, and hours to full when the trend is rising."""

    name: ClassVar[str] = "host.disk"
    commands: ClassVar[tuple[tuple[str, ...], ...]] = (("df", "-PT"), ("df", "-P"))
    prefix: ClassVar[str] = "disk"
    noun: ClassVar[str] = "space"


class InodesCheck(FsCheck):
    """Inodes per mount: a disk with free space but no inodes cannot create a single file."""

    name: ClassVar[str] = "host.inodes"
    commands: ClassVar[tuple[tuple[str, ...], ...]] = (("df", "-PTi"), ("df", "-Pi"))
    prefix: ClassVar[str] = "inodes"
    noun: ClassVar[str] = "inode"

    def amount(self, n: float) -> str:
        return f"{n:,.0f} inodes"


CHECKS = (DiskCheck, InodesCheck)
