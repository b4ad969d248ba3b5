"""``host.readonly``: filesystems that should be writable and are read-only — failing storage.

Why: when a disk returns I/O errors, ext4 (``errors=remount-ro``) and xfs switch the filesystem to
read-only, and every service on it fails in its own way (a database that cannot write its WAL
hangs or exits). ``df`` still shows the mount with plenty of free space, so ``host.disk`` is OK and
the failure looks like the *process*. Reading the mount options makes it the *disk*.

Which mounts are judged (from ``/proc/mounts``):

* every mount of a disk filesystem (:data:`DISK_TYPES`: ext2/3/4, xfs, btrfs, f2fs …) — these are
  writable unless someone chose otherwise, which the label ``readonly_ok`` (globs) records;
* every mount point named in the label ``writable_mounts`` (globs, any type: a tmpfs, an NFS
  share) — a service's data directory an operator knows must be writable.

Container runtimes bind-mount a few files read-only on purpose (``/etc/hostname`` …): those are
files, not directories an application writes, and are left alone (:data:`IGNORED_MOUNTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import ClassVar

from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.execution.access import HostAccess, trim
from steadyops.integrations.host.base import RB_READONLY, HostCheck

DISK_TYPES = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "jfs", "reiserfs", "zfs", "bcachefs"})
IGNORED_MOUNTS = ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/snap/*", "/boot/efi")


@dataclass(frozen=True)
class Mount:
    device: str
    path: str
    fstype: str
    options: tuple[str, ...]

    @property
    def read_only(self) -> bool:
        return "ro" in self.options


def _unescape(field: str) -> str:
    """``/proc/mounts`` writes space, tab, newline and backslash in paths as octal (``\\040``)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def parse_mounts(text: str) -> list[Mount]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            out.append(Mount(_unescape(parts[0]), _unescape(parts[1]), parts[2], tuple(parts[3].split(","))))
    return out


def _globs(value: str) -> list[str]:
    return [g.strip() for g in value.split(",") if g.strip()]


def should_be_writable(mounts: list[Mount], target: Target) -> list[Mount]:
    """The mounts this check holds to "writable", by the rules in the module docstring."""
    named = _globs(target.labels.get("writable_mounts", ""))
    allowed = [*IGNORED_MOUNTS, *_globs(target.labels.get("readonly_ok", ""))]
    latest: dict[str, Mount] = {}
    for m in mounts:  # a mount point stacked twice: the last one in the table is the visible one
        latest[m.path] = m
    def held(m: Mount) -> bool:
        if any(fnmatchcase(m.path, g) for g in named):
            return True
        return m.fstype in DISK_TYPES and not any(fnmatchcase(m.path, g) for g in allowed)

    return [m for m in latest.values() if held(m)]


class ReadOnlyCheck(HostCheck):
    """Disk filesystems (and the mounts named in ``writable_mounts``) that are mounted read-only."""

    name: ClassVar[str] = "host.readonly"
    runbook: ClassVar[str | None] = RB_READONLY
    layer: ClassVar[str] = "disk"

    async def inspect(self, target: Target, host: HostAccess) -> CheckResult:
        mounts = parse_mounts(await host.read("/proc/mounts"))
        judged = should_be_writable(mounts, target)
        ro = [m for m in judged if m.read_only]
        source = f"/proc/mounts @ {host.where}"
        metrics = {"mounts": float(len(judged)), "read_only": float(len(ro))}
        if not ro:
            return self.result(CheckStatus.OK, f"{len(judged)} writable filesystem(s), none read-only",
                               [Evidence(source=source, detail=trim(", ".join(m.path for m in judged) or "-"))],
                               metrics=metrics)
        detail = "\n".join(f"{m.path} ({m.fstype} on {m.device}): {','.join(m.options)}" for m in ro)
        paths = ", ".join(m.path for m in ro)
        return self.result(CheckStatus.CRITICAL, f"read-only: {paths} — writes fail there (remounted after I/O "
                           "errors? check the kernel log); services with data there hang or exit",
                           [Evidence(source=source, detail=trim(detail))], metrics=metrics,
                           labels={"mount": paths[:200]})


CHECKS = (ReadOnlyCheck,)
