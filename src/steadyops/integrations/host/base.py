"""What every host check shares: reaching the host, thresholds from labels, uniform verdicts.

Keeping this in one place is what makes the checks consistent for localisation and for operators:
a host that cannot be reached always becomes the same UNKNOWN (or, for a refused host key,
CRITICAL) with layer "network"; a command that exists but fails is UNKNOWN with layer "host";
every threshold can be overridden by a target label of the documented name; and a healthy result
carries no layer, so "which layer failed" only ever points at a failure.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from steadyops.contracts.checks import Check
from steadyops.contracts.memory import Remembers
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.execution.access import CommandResult, HostAccess, Reads, trim
from steadyops.execution.errors import HostAccessError
from steadyops.execution.logins import Logins
from steadyops.execution.where import host_for
from steadyops.integrations.host.trend import History, MemoryHistory, RecordedHistory
from steadyops.plugins import PluginContext

TARGET_KIND = "host"
RB_DISK = "host/host-disk-full.en.md"
RB_READONLY = "host/host-readonly-fs.en.md"
RB_MEMORY = "host/host-memory-oom.en.md"
RB_LOAD = "host/host-high-load.en.md"
RB_CLOCK = "host/host-clock-skew.en.md"
RB_FDS = "host/host-fd-exhaustion.en.md"
RB_SERVICE = "host/host-service-down.en.md"


#: Everything the host checks and collectors may run and read on a host (exact argv, exact paths);
#: all read-only, most of it coreutils / procps.
READS = Reads(commands=frozenset({
    ("df", "-PT"), ("df", "-P"), ("df", "-PTi"), ("df", "-Pi"),
    ("nproc",),
    ("ss", "-ltn"),
    ("systemctl", "--failed", "--no-legend", "--plain", "--no-pager"),
    ("dmesg",),
    ("journalctl", "-k", "-q", "--no-pager", "-o", "short-monotonic", "-n", "5000"),
    ("date", "+%s.%N"),
    ("chronyc", "-n", "tracking"),
    ("timedatectl", "show", "--property=NTPSynchronized", "--value"),
    ("ps", "-eo", "pid,user,pcpu,pmem,rss,comm", "--sort=-pcpu"),
    # per-process fds and their limits (host.process_fds): listing /proc and grepping limits only
    ("find", "/proc", "-mindepth", "3", "-maxdepth", "3", "-path", "/proc/[0-9]*/fd/*", "-printf", "%h\n"),
    ("find", "/proc", "-mindepth", "2", "-maxdepth", "2", "-path", "/proc/[0-9]*/limits",
     "-exec", "grep", "-H", "Max open files", "{}", "+"),
}), files=frozenset({
    "/proc/meminfo", "/proc/loadavg", "/proc/uptime", "/proc/vmstat", "/proc/sys/fs/file-nr",
    "/proc/net/tcp", "/proc/net/tcp6", "/proc/sys/kernel/osrelease", "/proc/sys/kernel/hostname",
    "/etc/os-release",
    "/proc/mounts",  # host.readonly: mount options (ro after I/O errors)
}))


def threshold(target: Target, name: str, default: float) -> float:
    """A number from the target label ``name`` (e.g. ``disk_crit: "90"``), else ``default``.

    A malformed label raises so the finding says which label is wrong, instead of silently judging
    against a threshold the operator did not choose.
    """
    raw = target.labels.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise HostAccessError(f"target label {name}={raw!r} is not a number", layer="config",
                              source="target labels") from None


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover - loop always returns


def human_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def unavailable(result: CommandResult, what: str, layer: str = "host") -> CheckResult:
    """A command that could not answer: UNKNOWN, never OK, with what it said as evidence."""
    return CheckResult(status=CheckStatus.UNKNOWN, summary=f"cannot tell {what}: {result.describe_failure()}",
                       evidence=[result.evidence()], layer=layer)


def unreachable(exc: HostAccessError) -> CheckResult:
    """The verdict the access layer decided for a host it could not ask (UNKNOWN, or CRITICAL for a
    changed host key), localised to the layer it named."""
    return CheckResult(status=exc.status, summary=exc.message, layer=exc.layer,
                       evidence=[Evidence(source=exc.source, detail=trim(exc.detail))])


class HostMemory:
    """One registry's host memory (the host classes' ``memory``): the results trends are fitted to (in
    memory until the composition root's setup points them at the stored results) and the App's SSH
    logins (a fresh set of default ones until then)."""

    def __init__(self) -> None:
        self.history: History = MemoryHistory()
        self.logins = Logins()

    def setup(self, context: PluginContext) -> None:
        self.history = RecordedHistory(context.check_history)
        if context.ssh is not None:
            self.logins = context.ssh


class UsesHost(Remembers[HostMemory]):
    """A host check, collector or action: ``self.memory`` is its registry's :class:`HostMemory`."""

    memory_type = HostMemory


class WithHistory(UsesHost):
    """A check that fits a trend: its history is the one given, else its registry's."""

    def __init__(self, history: History | None = None) -> None:
        super().__init__()
        self.history: History = history if history is not None else self.memory.history


class HostCheck(UsesHost, Check):
    """Base for the host checks: picks local or SSH access and turns access failures into verdicts."""

    target_kind: ClassVar[str] = TARGET_KIND
    timeout: ClassVar[float] = 20.0  # an SSH login plus a command on a loaded host
    #: the layer a failing verdict of this check points at
    layer: ClassVar[str] = "host"

    async def run(self, target: Target) -> CheckResult:
        try:
            host = host_for(target, READS, self.memory.logins)
            return await self.inspect(target, host)
        except HostAccessError as exc:
            return unreachable(exc)
        except ValueError as exc:  # a parser met output it does not know: say so, never guess
            return CheckResult(status=CheckStatus.UNKNOWN, summary=f"cannot tell: unexpected output ({exc})",
                               layer="host", evidence=[Evidence(source=self.name, detail=str(exc)[:500])])

    @abstractmethod
    async def inspect(self, target: Target, host: HostAccess) -> CheckResult:
        """Ask ``host`` and judge; raise :class:`HostAccessError` when it cannot be asked."""

    def result(self, status: CheckStatus, summary: str, evidence: list[Evidence], *,
               metrics: dict[str, float] | None = None, labels: dict[str, str] | None = None,
               layer: str | None = None) -> CheckResult:
        return CheckResult(status=status, summary=summary, evidence=evidence, metrics=metrics or {},
                           layer=(layer or self.layer) if status.failing else "",
                           labels=labels if status.failing and labels else {})
