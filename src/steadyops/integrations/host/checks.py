"""Host checks beyond filesystems: memory, load, OOM kills, clock, file handles, systemd, ports.

Each answers one question from ``/proc`` or one allow-listed command, with thresholds that a
target label of the documented name overrides. A source that is absent (no systemd, no ``ss``,
``dmesg`` refused) either has a fallback or makes the verdict UNKNOWN — never a silent OK.
"""

from __future__ import annotations

import time
from fnmatch import fnmatchcase
from typing import ClassVar

from steadyops.contracts.checks import grade, grade_low, label_bool, worst
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.execution.access import CommandResult, HostAccess, trim
from steadyops.execution.errors import HostAccessError
from steadyops.integrations.host.base import (
    RB_CLOCK,
    RB_FDS,
    RB_LOAD,
    RB_MEMORY,
    RB_SERVICE,
    HostCheck,
    WithHistory,
    human_bytes,
    threshold,
    unavailable,
)
from steadyops.integrations.host.parse import (
    mem_available,
    parse_chrony_tracking,
    parse_epoch,
    parse_file_nr,
    parse_int,
    parse_keyvalues,
    parse_loadavg,
    parse_meminfo,
    parse_oom_kills,
    parse_port_list,
    parse_proc_net_tcp,
    parse_ss_listen,
    parse_systemctl_failed,
    parse_uptime,
)

KERNEL_LOG = (("dmesg",), ("journalctl", "-k", "-q", "--no-pager", "-o", "short-monotonic", "-n", "5000"))


class MemoryCheck(HostCheck):
    """Available memory (MemAvailable, what can be had without swapping) and swap in use."""

    name: ClassVar[str] = "host.memory"
    runbook: ClassVar[str | None] = RB_MEMORY

    async def inspect(self, target: Target, host: HostAccess) -> CheckResult:
        info = parse_meminfo(await host.read("/proc/meminfo"))
        total = info.get("MemTotal", 0)
        if total <= 0:
            raise HostAccessError(f"/proc/meminfo on {host.where} has no MemTotal", layer="host")
        avail_pct = round(mem_available(info) / total * 100, 2)
        status = grade_low(avail_pct, threshold(target, "memory_available_warn", 10),
                           threshold(target, "memory_available_crit", 5))
        swap_total = info.get("SwapTotal", 0)
        swap_used = swap_total - info.get("SwapFree", 0)
        swap_pct = round(swap_used / swap_total * 100, 2) if swap_total else 0.0
        if swap_total:
            status = worst(status, grade(swap_pct, threshold(target, "swap_used_warn", 50),
                                              threshold(target, "swap_used_crit", 80)))
        summary = f"{avail_pct:.1f}% memory available ({human_bytes(mem_available(info))} of {human_bytes(total)})"
        summary += f", swap {swap_pct:.0f}% used" if swap_total else ", no swap"
        detail = ", ".join(f"{k}={human_bytes(info[k])}" for k in
                           ("MemTotal", "MemAvailable", "MemFree", "Cached", "SwapTotal", "SwapFree") if k in info)
        return self.result(status, summary, [Evidence(source=f"/proc/meminfo @ {host.where}", detail=detail)],
                           metrics={"available_pct": avail_pct, "available_bytes": float(mem_available(info)),
                                    "total_bytes": float(total), "swap_used_pct": swap_pct})


class LoadCheck(HostCheck):
    """Load per core, judged on min(load1, load5): high now *and* for minutes, so a burst does not page."""

    name: ClassVar[str] = "host.load"
    runbook: ClassVar[str | None] = RB_LOAD

    async def inspect(self, target: Target, host: HostAccess) -> CheckResult:
        nproc = await host.run("nproc")
        if not nproc.ok:
            return unavailable(nproc, "the number of cores")
        cores = max(1, parse_int(nproc.stdout))
        load = parse_loadavg(await host.read("/proc/loadavg"))
        per_core = round(min(load.load1, load.load5) / cores, 3)
        status = grade(per_core, threshold(target, "load_warn", 1.5), threshold(target, "load_crit", 3.0))
        summary = (f"load {load.load1:.2f} / {load.load5:.2f} / {load.load15:.2f} on {cores} cores "
                   f"({per_core:.2f} per core)")
        evidence = [Evidence(source=f"/proc/loadavg @ {host.where}", detail=f"{load.load1} {load.load5} "
                             f"{load.load15}, {load.running}/{load.threads} runnable", value=per_core),
                    nproc.evidence()]
        return self.result(status, summary, evidence, metrics={
            "load1": load.load1, "load5": load.load5, "load15": load.load15, "cores": float(cores),
            "load_per_core": per_core})


class OomCheck(WithHistory, HostCheck):
    """OOM-killer victims: new since the last check (``/proc/vmstat``) or recent in the kernel log."""

    name: ClassVar[str] = "host.oom"
    runbook: ClassVar[str | None] = RB_MEMORY

    async def inspect(self, target: Target, host: HostAccess) -> CheckResult:
        total = parse_keyvalues(await host.read("/proc/vmstat")).get("oom_kill")  # absent before Linux 4.13
        uptime = parse_uptime(await host.read("/proc/uptime"))
        window = threshold(target, "oom_window_minutes", 60) * 60
        log: CommandResult | None = None
        tried: list[CommandResult] = []
        for argv in KERNEL_LOG:  # dmesg needs root or kernel.dmesg_restrict=0
            attempt = await host.run(*argv)
            tried.append(attempt)
            if attempt.ok and attempt.stdout.strip():
                log = attempt
                break
        if total is None and log is None:
            return CheckResult(status=CheckStatus.UNKNOWN, layer="host", evidence=[r.evidence() for r in tried],
                               summary="cannot tell OOM kills: no oom_kill counter in /proc/vmstat and the "
                                       "kernel log is not readable (dmesg / journalctl -k)")
        recent = [k for k in parse_oom_kills(log.stdout) if uptime - k.at <= window] if log else []
        history = self.history
        past = await history.recent(self.name, target.name, time.time() - 7 * 86400, 1)
        previous = past[-1][1].get("oom_kill_total") if past else None
        new: int | None = None
        if total is not None and previous is not None:
            new = total - int(previous) if total >= previous else total  # fewer than before: rebooted
        metrics: dict[str, float] = {"recent_oom_kills": float(len(recent))}
        if total is not None:
            metrics["oom_kill_total"] = float(total)
        if new is not None:
            metrics["new_oom_kills"] = float(new)
        if total is not None:
            history.observe(self.name, target.name, time.time(), {"oom_kill_total": float(total)})
        count = max(new or 0, len(recent))
        status = grade(count, 1, threshold(target, "oom_crit", 3)) if count else CheckStatus.OK
        evidence = [Evidence(source=f"{log.command if log else 'kernel log'} @ {host.where}", detail=k.line)
                    for k in recent[-5:]]
        evidence.append(Evidence(source=f"/proc/vmstat @ {host.where}",
                                 detail=f"oom_kill {total if total is not None else 'absent'}"
                                        f" (previous check: {int(previous) if previous is not None else 'none'})"))
        minutes = f"{window / 60:g} min"
        if count:
            victims = ", ".join(f"{k.comm} (pid {k.pid})" for k in recent[-3:])
            summary = (f"{len(recent)} OOM kill(s) in the last {minutes}" if len(recent) >= (new or 0)
                       else f"{new} new OOM kill(s) since the last check")
            summary += f": {victims}" if victims else ""
        elif new is None and total is not None:
            summary = f"no OOM kill in the last {minutes}; {total} since boot (baseline for the next check)"
        else:
            summary = f"no OOM kill since the last check or in the last {minutes}"
        return self.result(status, summary, evidence, metrics=metrics)


class ClockCheck(HostCheck):
    """Clock offset from the steadyops host (round-trip corrected), and the host's own NTP verdict."""

    name: ClassVar[str] = "host.clock"
    runbook: ClassVar[str | None] = RB_CLOCK

    async def inspect(self, target: Target, host: HostAccess) -> CheckResult:
        date = await host.run("date", "+%s.%N")
        t0, t1 = date.started, date.finished  # around the command only, not an SSH login before it
        if not date.ok:
            return unavailable(date, "the clock")
        remote = parse_epoch(date.stdout)
        skew = remote - (t0 + t1) / 2
        uncertainty = (t1 - t0) / 2 + (0.0 if "." in date.stdout and "N" not in date.stdout else 1.0)
        beyond = max(0.0, abs(skew) - uncertainty)  # only what the round trip cannot explain counts
        warn, crit = threshold(target, "clock_skew_warn", 0.5), threshold(target, "clock_skew_crit", 2.0)
        status = grade(beyond, warn, crit)
        metrics = {"skew_seconds": round(skew, 4), "uncertainty_seconds": round(uncertainty, 4)}
        where = "this host (the reference clock)" if not host.remote else "the steadyops host"
        summary = f"clock {skew:+.3f}s vs {where} (±{uncertainty:.3f}s)"
        evidence = [date.evidence(f"{date.stdout.strip()} (local {t0:.3f} … {t1:.3f})")]
        chrony = await host.run("chronyc", "-n", "tracking")
        if chrony.ok:
            tracking = parse_chrony_tracking(chrony.stdout)
            metrics["ntp_offset_seconds"] = tracking.offset
            status = worst(status, grade(abs(tracking.offset), warn, crit))
            summary += f"; chrony: {tracking.offset:+.6f}s from NTP, leap status {tracking.leap_status}"
            if tracking.leap_status.lower().startswith("not sync"):
                status = worst(status, CheckStatus.WARNING)
            evidence.append(chrony.evidence())
        else:
            synced = await host.run("timedatectl", "show", "--property=NTPSynchronized", "--value")
            if synced.ok and synced.stdout.strip() in {"yes", "no"}:
                evidence.append(synced.evidence())
                summary += f"; NTP synchronised: {synced.stdout.strip()}"
                if synced.stdout.strip() == "no":
                    status = worst(status, CheckStatus.WARNING)
            else:
                evidence.append(Evidence(source=f"ntp @ {host.where}",
                                         detail="no chronyc or timedatectl answer; judged on the offset only"))
        return self.result(status, summary, evidence, metrics=metrics)


class FdsCheck(HostCheck):
    """System-wide file handles (``file-nr``) against ``fs.file-max``."""

    name: ClassVar[str] = "host.fds"
    runbook: ClassVar[str | None] = RB_FDS

    async def inspect(self, target: Target, host: HostAccess) -> CheckResult:
        text = await host.read("/proc/sys/fs/file-nr")
        allocated, _unused, maximum = parse_file_nr(text)
        pct = round(allocated / maximum * 100, 4) if maximum > 0 else 0.0
        status = grade(pct, threshold(target, "fds_warn", 80), threshold(target, "fds_crit", 90))
        return self.result(status, f"{allocated:,} of {maximum:,} file handles in use ({pct:.2f}%)",
                           [Evidence(source=f"/proc/sys/fs/file-nr @ {host.where}", detail=text.strip(), value=pct)],
                           metrics={"allocated": float(allocated), "max": float(maximum), "used_pct": pct})


def not_systemd(output: str) -> bool:
    """systemctl's own words for "PID 1 is not systemd" (containers, SysV init, WSL without systemd)."""
    return "not been booted with systemd" in output or "System has not been booted" in output


class SystemdCheck(HostCheck):
    """Failed systemd units. A host not booted with systemd has none: not applicable (reported OK, with
    ``applicable=0``), not UNKNOWN, so a container's inspection exits on its real problems only. Any
    other failure to ask stays UNKNOWN; label ``systemd: "false"`` skips the check."""

    name: ClassVar[str] = "host.systemd"
    runbook: ClassVar[str | None] = RB_SERVICE
    layer: ClassVar[str] = "process"

    async def inspect(self, target: Target, host: HostAccess) -> CheckResult:
        if not label_bool(target, "systemd", True):
            return self.result(CheckStatus.OK, "not checked: target label systemd=false", [])
        result = await host.run("systemctl", "--failed", "--no-legend", "--plain", "--no-pager")
        if not result.ok and not_systemd(result.stdout + result.stderr):
            # a container or a SysV host: there are no units to fail, which is not an unanswered question
            return self.result(CheckStatus.OK, "not applicable: this host was not booted with systemd",
                               [result.evidence()], metrics={"applicable": 0.0, "failed_units": 0.0})
        if not result.ok:
            return unavailable(result, "failed units")
        ignore = [g.strip() for g in target.labels.get("systemd_ignore", "").split(",") if g.strip()]
        critical = [g.strip() for g in target.labels.get("systemd_critical", "").split(",") if g.strip()]
        units = [u for u in parse_systemctl_failed(result.stdout) if not any(fnmatchcase(u.unit, g) for g in ignore)]
        if not units:
            return self.result(CheckStatus.OK, "no failed systemd units", [result.evidence(result.stdout or "(none)")],
                               metrics={"failed_units": 0.0})
        status = (CheckStatus.CRITICAL if any(fnmatchcase(u.unit, g) for u in units for g in critical)
                  else CheckStatus.WARNING)
        names = ", ".join(u.unit for u in units[:5]) + (f" and {len(units) - 5} more" if len(units) > 5 else "")
        return self.result(status, f"{len(units)} failed systemd unit(s): {names}", [result.evidence()],
                           metrics={"failed_units": float(len(units))})


class PortsCheck(HostCheck):
    """Ports that must be listening, from label ``expect_ports: "22,80"`` (``ss -ltn``, else /proc/net/tcp).

    Without the label it still asks, and lists what listens: the report is more useful, and an
    unreachable host is reported here too rather than passed as a vacuous OK.
    """

    name: ClassVar[str] = "host.ports"
    runbook: ClassVar[str | None] = RB_SERVICE
    layer: ClassVar[str] = "process"

    async def inspect(self, target: Target, host: HostAccess) -> CheckResult:
        raw = target.labels.get("expect_ports", "")
        try:
            expected = parse_port_list(raw)
        except ValueError as exc:
            raise HostAccessError(f"target label expect_ports={raw!r} is not a port list: {exc}",
                                  layer="config") from None
        ss = await host.run("ss", "-ltn")
        if ss.ok:
            listening, source = parse_ss_listen(ss.stdout), ss.command
        else:  # no iproute2: the kernel's own socket tables say the same
            listening = set()
            for path in ("/proc/net/tcp", "/proc/net/tcp6"):
                try:
                    listening |= parse_proc_net_tcp(await host.read(path))
                except HostAccessError:
                    if path.endswith("tcp"):
                        raise
            source = "/proc/net/tcp{,6}"
        by_port: dict[int, list[str]] = {}
        for addr, port in sorted(listening):
            by_port.setdefault(port, []).append(addr)
        if not expected:  # nothing to hold it to, but what listens is worth having in the report
            ports = ", ".join(map(str, sorted(by_port)))
            return self.result(CheckStatus.OK, "no expected ports (set the target label expect_ports); "
                               f"{len(by_port)} listening", [Evidence(source=f"{source} @ {host.where}",
                                                                     detail=trim(f"listening: {ports}"))],
                               metrics={"expected_ports": 0.0, "missing_ports": 0.0})
        missing = [p for p in expected if p not in by_port]
        detail = "; ".join(f"{p}: " + (f"listening on {', '.join(by_port[p])}" if p in by_port else "NOT listening")
                           for p in expected)
        evidence = [Evidence(source=f"{source} @ {host.where}", detail=trim(detail))]
        metrics = {"expected_ports": float(len(expected)), "missing_ports": float(len(missing))}
        if missing:
            return self.result(CheckStatus.CRITICAL, f"not listening: {', '.join(map(str, missing))} "
                               f"(expected {', '.join(map(str, expected))})", evidence, metrics=metrics,
                               labels={"port": ",".join(map(str, missing))})
        return self.result(CheckStatus.OK, f"all {len(expected)} expected ports listening", evidence, metrics=metrics)


CHECKS = (MemoryCheck, LoadCheck, OomCheck, ClockCheck, FdsCheck, SystemdCheck, PortsCheck)
