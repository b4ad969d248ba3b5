"""dataDir / dataLogDir: filesystem usage, and how many snapshots and txn logs pile up there.

A full dataLogDir stops every write in the ensemble (ZooKeeper cannot fsync its txn log), and
snapshots without ``autopurge`` grow until it is full, so both are checked. ``conf`` says where the
directories are; they are inspected where they live:

* a **local** target (:func:`steadyops.execution.where.is_local`) is stat-ed directly;
* a **remote** target that says how to log in (label ``ssh_credentials``, or ``transport: ssh``
  with ``credentials``) is measured over SSH by :class:`ShellDirProbe`, through the same shell and
  known-hosts policy as every remote command (``stat -f``, ``find``, ``findmnt``; read-only).
  Without a login the disk check says UNKNOWN and names the label, and the data-files check still
  judges the total size ZooKeeper itself reports in ``conf`` (``dataDirSize`` / ``dataLogSize``).

When ``conf`` is refused (whitelist) or not served (no quorum) the labels ``data_dir`` and
``data_log_dir`` name the directories instead.
"""

from __future__ import annotations

import asyncio
import errno
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

import psutil

from steadyops.contracts.checks import grade, label_float, worst
from steadyops.core.errors import Refused
from steadyops.core.inventory import Target, split_address
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.execution.errors import ShellError
from steadyops.execution.logins import Logins
from steadyops.execution.shell import shell_for
from steadyops.execution.where import is_local
from steadyops.integrations.zookeeper.base import UsesZk, ZkCheck, fetch_conf, unanswered
from steadyops.integrations.zookeeper.client import DEFAULT_PORT, Answer
from steadyops.integrations.zookeeper.discover import KnownDirs, dirs_from_config, find_config_file
from steadyops.integrations.zookeeper.parse import ZkConf

RB_DISK = "zookeeper/zk-disk-cleanup.en.md"
RB_READONLY = "host/host-readonly-fs.en.md"
MIB = 1048576


@dataclass(frozen=True)
class DirUsage:
    """One directory: its filesystem's usage and the ZooKeeper files in it."""

    path: str
    fs_total: int
    fs_used: int
    fs_free: int
    snapshots: int = 0
    snapshot_bytes: int = 0
    txn_logs: int = 0
    txn_log_bytes: int = 0
    #: mounted (or remounted by the kernel after I/O errors) read-only: ZooKeeper cannot write its txn log
    read_only: bool = False

    @property
    def used_pct(self) -> float:
        # as df: used / (used + available), so root-reserved blocks count as unavailable
        denom = self.fs_used + self.fs_free
        return round(self.fs_used / denom * 100, 2) if denom else 0.0


class DirProbe(Protocol):
    """Measures a directory on the target's host: :class:`LocalDirProbe` here, :class:`ShellDirProbe` over SSH."""

    async def usage(self, target: Target, path: str) -> DirUsage: ...


class LocalDirProbe:
    """``statvfs`` plus a listing of ``snapshot.*`` and ``log.*``, in a thread (disk I/O blocks)."""

    async def usage(self, target: Target, path: str) -> DirUsage:
        return await asyncio.to_thread(local_usage, path)


def local_usage(path: str) -> DirUsage:
    read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    du = psutil.disk_usage(path)
    counts = {"snapshot": [0, 0], "log": [0, 0]}
    with os.scandir(path) as entries:
        for entry in entries:
            prefix = entry.name.split(".", 1)[0]
            if prefix in counts and entry.is_file(follow_symlinks=False):
                counts[prefix][0] += 1
                counts[prefix][1] += entry.stat(follow_symlinks=False).st_size
    return DirUsage(path, du.total, du.used, du.free, counts["snapshot"][0], counts["snapshot"][1],
                    counts["log"][0], counts["log"][1], read_only)


#: errors that say the storage itself is failing (not "we may not look")
STORAGE_ERRNOS = frozenset({errno.EIO, errno.EROFS, getattr(errno, "EUCLEAN", errno.EIO)})


def storage_failure(evidence: list[Evidence]) -> bool:
    return any(e.value == "storage" for e in evidence)


class ShellDirProbe:
    """A directory on the target's host, measured over SSH (:func:`steadyops.execution.shell.shell_for`,
    with the App's ``logins``): the same numbers :func:`local_usage` gives, from ``stat -f``, ``find`` and
    ``findmnt``. Read-only."""

    timeout = 10.0

    def __init__(self, logins: Logins) -> None:
        self.logins = logins

    async def usage(self, target: Target, path: str) -> DirUsage:
        if not path.startswith("/"):
            raise OSError(errno.EINVAL, f"{path} is not an absolute path")
        try:
            async with shell_for(target, self.timeout, logins=self.logins) as sh:
                child = await sh.stat(posixpath.join(path, "version-2"))  # a label may name the configured dataDir
                if child is not None and child.kind == "d":
                    path = posixpath.join(path, "version-2")
                fs = (await sh.call(["stat", "-f", "-c", "%S %b %f %a", "--", path])).stdout.split()
                listing = await sh.call(["find", path, "-maxdepth", "1", "-type", "f", "(", "-name", "snapshot.*",
                                         "-o", "-name", "log.*", ")", "-printf", "%f\t%s\n"])
                mount = await sh.call(["findmnt", "-n", "-o", "OPTIONS", "-T", path], accept=(0, 1, 127))
        except Refused as exc:
            raise OSError(errno.EHOSTUNREACH, str(exc)) from None
        except ShellError as exc:
            text = str(exc)
            code = next((n for n, words in _ERRNO_WORDS if words in text), None)
            raise OSError(code, text) from None
        size, blocks, free, avail = (int(v) for v in fs)
        counts = {"snapshot": [0, 0], "log": [0, 0]}
        for line in listing.stdout.decode("utf-8", "replace").splitlines():
            name, _, nbytes = line.rpartition("\t")
            prefix = name.split(".", 1)[0]
            if prefix in counts:
                counts[prefix][0] += 1
                counts[prefix][1] += int(nbytes)
        read_only = "ro" in mount.stdout.decode().strip().split(",")
        return DirUsage(path, blocks * size, (blocks - free) * size, avail * size, counts["snapshot"][0],
                        counts["snapshot"][1], counts["log"][0], counts["log"][1], read_only)


#: what a remote command's error says → the errno it stands for (storage failures are judged by errno)
_ERRNO_WORDS = ((errno.EIO, "Input/output error"), (errno.EROFS, "Read-only file system"),
                (errno.ENOENT, "No such file or directory"), (errno.EACCES, "Permission denied"))


def logs_in_over_ssh(target: Target) -> bool:
    """A remote ZooKeeper is measured over SSH only when its target says how to log in (a ZooKeeper's own
    credentials are not an SSH key unless ``transport: ssh`` says so)."""
    labels = target.labels
    return bool(labels.get("ssh_credentials")
                or (labels.get("transport", "").strip().lower() == "ssh" and target.credentials))


def probe_for(target: Target, logins: Logins) -> DirProbe | None:
    if is_local(target):
        return LocalDirProbe()
    return ShellDirProbe(logins) if logs_in_over_ssh(target) else None


class StorageCheck(UsesZk, ZkCheck):
    """A check of the data directories: ``self.memory`` is its registry's :class:`~.base.ZkMemory`."""


async def data_dirs(check: StorageCheck, target: Target) -> tuple[ZkConf | None, dict[str, str], Answer | None]:
    """``{"dataDir": path, "dataLogDir": path}`` from conf, else labels, the config file, the process or
    what the server said last (see :mod:`.discover`); the failed answer if none of them knows."""
    conf, answer = await fetch_conf(check.client(target))
    dirs: dict[str, str] = {}
    if conf is not None:
        dirs = {k: v for k, v in (("dataDir", conf.data_dir), ("dataLogDir", conf.data_log_dir)) if v}
        if "dataDir" in dirs:
            check.memory.dirs.remember(target, {"dataLogDir": dirs["dataDir"], **dirs})
    for key, label in (("dataDir", "data_dir"), ("dataLogDir", "data_log_dir")):
        if key not in dirs and target.labels.get(label):
            dirs[key] = _version_dir(target.labels[label])
    if "dataDir" not in dirs:
        dirs = {**await asyncio.to_thread(_discovered, target, check.memory.dirs), **dirs}
    if "dataDir" in dirs and "dataLogDir" not in dirs:
        dirs["dataLogDir"] = dirs["dataDir"]  # ZooKeeper's own default
    return conf, dirs, (None if dirs else answer)


def _discovered(target: Target, known: KnownDirs) -> dict[str, str]:
    """The config file (label ``config_file``, else the local process's), else the last known dirs."""
    path = target.labels.get("config_file")
    if not path and is_local(target):
        path = find_config_file(split_address(target.address, DEFAULT_PORT)[1])
    found = {k: _version_dir(v) for k, v in dirs_from_config(path).items()} if path else {}
    return found or known.last_known(target)


def _version_dir(path: str) -> str:
    """Labels name the configured dataDir; ZooKeeper keeps its files in its ``version-2`` child."""
    p = Path(path)
    return str(p if p.name.startswith("version-") or not (p / "version-2").is_dir() else p / "version-2")


async def measure(probe: DirProbe, target: Target,
                  dirs: dict[str, str]) -> tuple[dict[str, DirUsage], list[Evidence]]:
    """Usage per distinct directory (dataDir and dataLogDir are often the same); errors as evidence."""
    out: dict[str, DirUsage] = {}
    errors: list[Evidence] = []
    for path in dict.fromkeys(dirs.values()):
        try:
            out[path] = await probe.usage(target, path)
        except OSError as exc:
            errors.append(Evidence(source=f"stat {path}", detail=f"{type(exc).__name__}: {exc}",
                                   value="storage" if exc.errno in STORAGE_ERRNOS else None))
    return out, errors


def _fmt(n: float) -> str:
    return f"{n / MIB:.1f} MiB" if n < 1024 * MIB else f"{n / MIB / 1024:.2f} GiB"


class DiskCheck(StorageCheck):
    """Filesystem usage under dataDir and dataLogDir (``disk_used_pct_warn`` / ``_crit`` labels)."""

    name: ClassVar[str] = "zookeeper.disk"
    runbook: ClassVar[str | None] = RB_DISK

    @classmethod
    def runbook_for(cls, layer: str, metrics: Mapping[str, float] | None = None) -> str | None:
        """A read-only or failing data disk is not a full one: the storage runbook, not the clean-up one."""
        return RB_READONLY if (metrics or {}).get("read_only") else cls.runbook

    async def run(self, target: Target) -> CheckResult:
        conf, dirs, failed = await data_dirs(self, target)
        if failed is not None:
            return unanswered(target, failed, "where dataDir is (set the labels data_dir / data_log_dir)")
        where = [Evidence(source="conf" if conf else "labels / zoo.cfg / process",
                          detail=", ".join(f"{k}={v}" for k, v in dirs.items()))]
        probe = probe_for(target, self.memory.logins)
        if probe is None:
            host = split_address(target.address, DEFAULT_PORT)[0]
            return self.result(target, CheckStatus.UNKNOWN,
                               f"{dirs['dataDir']} is on remote host {host}: set the label ssh_credentials (an SSH "
                               "key reference) to measure it over SSH", where)
        usage, errors = await measure(probe, target, dirs)
        if not usage and storage_failure(errors):
            return self.result(target, CheckStatus.CRITICAL, "the data directories fail with storage errors: "
                               + "; ".join(e.detail for e in errors), where + errors, layer="disk",
                               metrics={"read_only": 1.0})
        if not usage:
            return self.result(target, CheckStatus.UNKNOWN, "cannot stat the data directories", where + errors)
        warn, crit = label_float(target, "disk_used_pct_warn", 80), label_float(target, "disk_used_pct_crit", 90)
        status = CheckStatus.OK
        parts, evidence, metrics = [], list(where), {}
        for key, path in dirs.items():
            u = usage.get(path)
            if u is None:
                continue
            status = worst(status, grade(u.used_pct, warn, crit))
            parts.append(f"{key} {u.used_pct:g}% used ({_fmt(u.fs_free)} free)")
            if u.read_only:
                status = CheckStatus.CRITICAL
                metrics["read_only"] = 1.0
                parts.append(f"{key} {path} is on a read-only filesystem: ZooKeeper cannot write")
                evidence.append(Evidence(source=f"statvfs {path}", detail="ST_RDONLY set", value="storage"))
            evidence.append(Evidence(source=f"statvfs {path}", value=u.used_pct,
                                     detail=f"{_fmt(u.fs_used)} used of {_fmt(u.fs_total)}, {_fmt(u.fs_free)} free"))
            prefix = "data_dir" if key == "dataDir" else "data_log_dir"
            metrics.update({f"{prefix}_used_pct": u.used_pct, f"{prefix}_free_bytes": float(u.fs_free)})
        if storage_failure(errors):  # EIO / EROFS: the storage itself fails, which is an answer
            status = CheckStatus.CRITICAL
            metrics["read_only"] = 1.0
            parts.extend(f"{e.source}: {e.detail}" for e in errors if e.value == "storage")
        elif errors and status is CheckStatus.OK:  # a directory we could not stat is not a healthy one
            status = CheckStatus.UNKNOWN
        summary = "; ".join(parts) + f" (warn ≥ {warn:g}%, crit ≥ {crit:g}%)"
        return self.result(target, status, summary, evidence + errors, layer="disk", metrics=metrics)


class DataFilesCheck(StorageCheck):
    """Snapshot and txn-log count and size: growth without ``autopurge`` fills the disk slowly."""

    name: ClassVar[str] = "zookeeper.datafiles"
    runbook: ClassVar[str | None] = RB_DISK

    async def run(self, target: Target) -> CheckResult:
        conf, dirs, failed = await data_dirs(self, target)
        if failed is not None:
            return unanswered(target, failed, "where dataDir is (set the labels data_dir / data_log_dir)")
        size_warn = label_float(target, "data_files_warn_mb", 10240) * MIB
        probe = probe_for(target, self.memory.logins)
        if probe is None:
            return self._from_conf(target, conf, dirs, size_warn)
        usage, errors = await measure(probe, target, dirs)
        if not usage:
            return self.result(target, CheckStatus.UNKNOWN, "cannot list the data directories", errors)
        snaps = sum(u.snapshots for u in usage.values())
        snap_bytes = sum(u.snapshot_bytes for u in usage.values())
        logs = sum(u.txn_logs for u in usage.values())
        log_bytes = sum(u.txn_log_bytes for u in usage.values())
        status = CheckStatus.UNKNOWN if errors else CheckStatus.OK
        if (snaps >= label_float(target, "snapshot_count_warn", 50)
                or logs >= label_float(target, "txnlog_count_warn", 100) or snap_bytes + log_bytes >= size_warn):
            status = CheckStatus.WARNING
        summary = (f"{snaps} snapshots ({_fmt(snap_bytes)}), {logs} txn logs ({_fmt(log_bytes)})"
                   + ("; is autopurge.purgeInterval set?" if status is CheckStatus.WARNING else ""))
        evidence = [Evidence(source=f"ls {path}", detail=f"{u.snapshots} snapshot.* ({_fmt(u.snapshot_bytes)}), "
                             f"{u.txn_logs} log.* ({_fmt(u.txn_log_bytes)})") for path, u in usage.items()]
        metrics = {"snapshots": float(snaps), "snapshot_bytes": float(snap_bytes), "txn_logs": float(logs),
                   "txn_log_bytes": float(log_bytes)}
        return self.result(target, status, summary, evidence + errors, layer="disk", metrics=metrics)

    def _from_conf(self, target: Target, conf: ZkConf | None, dirs: dict[str, str], size_warn: float) -> CheckResult:
        """Remote without a probe: ZooKeeper's own ``dataDirSize`` / ``dataLogSize`` still tell the size."""
        values = conf.values if conf is not None else {}
        try:
            data = float(values["dataDirSize"])
            log = float(values.get("dataLogSize", 0)) if dirs.get("dataLogDir") != dirs.get("dataDir") else 0.0
        except (KeyError, ValueError):
            return self.result(target, CheckStatus.UNKNOWN, "remote data directories and no size in conf (set the "
                               "label ssh_credentials to measure them over SSH)",
                               [Evidence(source="conf", detail=str(dirs))])
        total = data + log
        status = CheckStatus.WARNING if total >= size_warn else CheckStatus.OK
        return self.result(target, status, f"data files {_fmt(total)} (from conf; file counts need an SSH login)",
                           [Evidence(source="conf", detail=f"dataDirSize={values.get('dataDirSize')}, "
                                     f"dataLogSize={values.get('dataLogSize')}")],
                           layer="disk", metrics={"data_dir_bytes": data, "data_log_dir_bytes": log})


CHECKS: tuple[type[ZkCheck], ...] = (DiskCheck, DataFilesCheck)
