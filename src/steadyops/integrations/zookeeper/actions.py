"""``zookeeper.purge`` (ZK 磁盘清理): archive, verify, then delete old snapshots and txn logs.

The retention rule is ZooKeeper's own (``PurgeTxnLog`` / ``zkCleanup.sh -n N``), because it is the
rule operators already trust: keep the newest N snapshots; of the rest, keep every txn log whose
starting zxid is ≥ the oldest kept snapshot's zxid, plus the newest log starting at or before that
zxid (a log is named after its *first* zxid, so it may hold the transactions right after the
snapshot). This is also exactly what ``FileTxnSnapLog.restore`` reads back, so what stays is enough
to restart from any kept snapshot. Three deliberate deviations, each toward keeping more:

* only *valid* snapshots count towards N (the trailer ZooKeeper seals a snapshot with is checked,
  as ``SnapStream.isValidSnapshot`` does): a half-written snapshot is not a restore point;
* with fewer than N valid snapshots nothing is deleted (PurgeTxnLog would still drop the logs
  before the oldest one — but then there is no older restore point to fall back to);
* files whose name does not parse (``snapshot.foo``) are never touched (PurgeTxnLog deletes them).

:func:`check_invariant` re-checks the selection in ``plan`` and against a fresh listing right
before deleting, so a bug refuses instead of destroying the restore point. Local targets only:
remote execution over SSH is not wired into actions yet.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field

from steadyops.actions import Action, ActionContext
from steadyops.errors import Refused
from steadyops.integrations.zookeeper.base import fetch_conf
from steadyops.integrations.zookeeper.client import ZkClient
from steadyops.integrations.zookeeper.storage import is_local
from steadyops.inventory import Target
from steadyops.models import Approval, Outcome, Plan, Risk, Step
from steadyops.remediation import archive
from steadyops.remediation.allowlist import AllowList

SNAP, LOG = "snapshot", "log"
#: what ZooKeeper writes last into every snapshot: int length 1, then the path "/" (SnapStream.sealStream)
SNAP_TRAILER = b"\x00\x00\x00\x01/"
#: free space left on the backup filesystem after archiving, so the archive itself cannot fill the disk
BACKUP_RESERVE = 64 * 1048576


class PurgeParams(BaseModel):
    keep: int = Field(default=3, ge=3, description="snapshots to keep (≥ 3, as zkCleanup.sh -n)")
    data_dir: str | None = Field(default=None, description="snapshot directory; default: conf, then label data_dir")
    data_log_dir: str | None = Field(default=None, description="txn log directory; default: conf, label, data_dir")


class UnsafePurge(Refused):
    """The selection would delete a file ZooKeeper needs to restore: a bug, refused before any harm."""


@dataclass(frozen=True)
class DataFile:
    path: str
    kind: str  # SNAP or LOG
    zxid: int
    size: int
    mtime: float
    valid: bool = True  # snapshots only: sealed with the trailer

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


@dataclass
class Selection:
    """What to delete and what to keep (with the reason for each kept file)."""

    delete: list[DataFile] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # path -> why
    least_zxid: int | None = None  # the oldest kept snapshot's zxid
    log_boundary: int | None = None  # the first retained log's zxid
    reason: str = ""  # why nothing is deleted, when nothing is


def zxid_of(name: str, prefix: str) -> int | None:
    """``Util.getZxidFromName``: ``snapshot.1a2b`` → 0x1a2b; suffixes (``.snappy``) allowed; else None."""
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != prefix:
        return None
    try:
        return int(parts[1], 16)
    except ValueError:
        return None


def snapshot_is_valid(path: str, size: int) -> bool:
    """An uncompressed snapshot is complete when it ends with the seal; compressed ones just non-empty."""
    if path.endswith((".gz", ".snappy")):
        return size > 0
    if size < 10:
        return False
    with open(path, "rb") as fh:
        fh.seek(size - len(SNAP_TRAILER))
        return fh.read(len(SNAP_TRAILER)) == SNAP_TRAILER


def scan(snap_dir: str, log_dir: str) -> tuple[list[DataFile], list[DataFile], list[str]]:
    """Snapshots, txn logs and the names that look like ZooKeeper files but do not parse (left alone)."""
    found: dict[str, list[DataFile]] = {SNAP: [], LOG: []}
    odd: list[str] = []
    for directory, prefix in ((snap_dir, SNAP), (log_dir, LOG)):
        with os.scandir(directory) as entries:
            for entry in entries:
                if not entry.name.startswith(prefix + ".") or not entry.is_file(follow_symlinks=False):
                    continue
                zxid = zxid_of(entry.name, prefix)
                if zxid is None:
                    odd.append(entry.path)
                    continue
                st = entry.stat(follow_symlinks=False)
                valid = snapshot_is_valid(entry.path, st.st_size) if prefix == SNAP else True
                found[prefix].append(DataFile(entry.path, prefix, zxid, st.st_size, st.st_mtime, valid))
    for files in found.values():
        files.sort(key=lambda f: (f.zxid, f.path))
    return found[SNAP], found[LOG], sorted(odd)


def logs_needed_from(logs: Sequence[DataFile], zxid: int) -> list[DataFile]:
    """``FileTxnLog.getLogFiles``: the newest log starting at or before ``zxid``, and every later one."""
    boundary = max((f.zxid for f in logs if f.zxid <= zxid), default=0)
    return [f for f in logs if f.zxid >= boundary]


def select(snapshots: Sequence[DataFile], logs: Sequence[DataFile], keep: int) -> Selection:
    """PurgeTxnLog's choice, with the deviations toward safety named in the module docstring."""
    valid = sorted((s for s in snapshots if s.valid), key=lambda s: s.zxid, reverse=True)
    kept_snaps = valid[:keep]
    sel = Selection()
    if len(kept_snaps) < keep:
        sel.reason = f"only {len(valid)} valid snapshot(s), fewer than keep={keep}: nothing is old enough to purge"
        return sel
    least = kept_snaps[-1].zxid
    needed = logs_needed_from(logs, least)
    sel.least_zxid = least
    sel.log_boundary = min((f.zxid for f in needed), default=None)
    needed_paths = {f.path for f in needed}
    for s in sorted(snapshots, key=lambda f: f.zxid):
        if s.zxid >= least:
            why = "one of the newest valid snapshots" if s in kept_snaps else "newer than the oldest kept snapshot"
            sel.kept[s.path] = why if s.valid else why + " (incomplete: not counted towards keep)"
    for f in sorted(needed, key=lambda f: f.zxid):
        sel.kept[f.path] = ("starts before the oldest kept snapshot and holds the transactions after it"
                            if f.zxid < least else "needed to replay after the kept snapshots")
    sel.delete = [f for f in (*snapshots, *logs) if f.zxid < least and f.path not in needed_paths]
    sel.delete.sort(key=lambda f: (f.zxid, f.path))
    return sel


def check_invariant(sel: Selection, snapshots: Sequence[DataFile], logs: Sequence[DataFile], keep: int) -> None:
    """Refuse (``UnsafePurge``) if the deletion list holds anything needed to restore: never trust ``select``."""
    doomed = {f.path for f in sel.delete}
    if not doomed:
        return
    newest = max(snapshots, key=lambda s: s.zxid, default=None)
    if newest is None or newest.path in doomed:
        raise UnsafePurge("refusing to purge: the newest snapshot would be deleted")
    valid = sorted((s for s in snapshots if s.valid), key=lambda s: s.zxid, reverse=True)
    if len(valid) < keep:
        raise UnsafePurge(f"refusing to purge: only {len(valid)} valid snapshots, keep={keep}")
    for snap in valid[:keep]:
        if snap.path in doomed:
            raise UnsafePurge(f"refusing to purge: {snap.name} is one of the {keep} newest valid snapshots")
        lost = [f.name for f in logs_needed_from(logs, snap.zxid) if f.path in doomed]
        if lost:
            raise UnsafePurge(f"refusing to purge: {', '.join(lost)} needed to restore from {snap.name}")
    if any(f.zxid >= valid[keep - 1].zxid for f in sel.delete):
        raise UnsafePurge("refusing to purge: a file at or after the oldest kept snapshot was selected")


def version_dir(path: str) -> str:
    """A configured dataDir holds its files in ``version-2``; ``conf`` already names that child."""
    p = Path(path)
    return str(p if p.name.startswith("version-") or not (p / "version-2").is_dir() else p / "version-2")


async def data_dirs(target: Target, params: PurgeParams) -> tuple[str, str, list[str]]:
    """(snapshot dir, txn log dir, notes): params, else the server's ``conf``, else the target labels."""
    snap, log = params.data_dir, params.data_log_dir
    notes: list[str] = []
    if snap is None:  # an explicit data_dir alone means "both live here", ZooKeeper's own default
        conf, answer = await fetch_conf(ZkClient(target))
        values = conf.values if conf is not None else {}
        if conf is None:
            notes.append(f"conf not answered ({answer.describe()}); directories from the target labels")
        snap = values.get("dataDir") or target.labels.get("data_dir")
        log = log or values.get("dataLogDir") or target.labels.get("data_log_dir")
        if values.get("autopurge.purgeInterval") in ("0", "0.0"):
            notes.append("autopurge is off (autopurge.purgeInterval=0): the directories will fill again")
    if not snap:
        raise Refused(f"cannot tell where {target.name}'s dataDir is: conf is not answered and no data_dir "
                      "label or parameter is set")
    return version_dir(snap), version_dir(log or snap), notes


def _archive_name(backup_dir: str, files: Sequence[DataFile]) -> str:
    # Named by content, not by clock: re-planning the same files gives the same plan hash.
    stamp = hashlib.sha256(repr([(f.path, f.size, f.mtime) for f in files]).encode()).hexdigest()[:16]
    return f"{backup_dir}/zookeeper-purge-{stamp}.tar.gz"


def _archive_and_verify(dest: Path, paths: list[str]) -> tuple[int, dict[str, str]]:
    """Archive, then prove it by re-hashing every member; a partial archive never survives a failure."""
    if dest.exists():  # an earlier apply archived these very files and stopped before deleting
        sums = archive.verify(dest)
        if not set(paths) <= set(sums) or any(archive.sha256_file(p) != sums[p] for p in paths):
            raise Refused(f"{dest} exists and does not hold these files; move it away and plan again")
        return dest.stat().st_size, sums
    try:
        result = archive.create(dest, paths)
    except BaseException:
        dest.with_suffix(dest.suffix + ".partial").unlink(missing_ok=True)
        raise
    sums = archive.verify(dest)
    if sums != result.files:
        raise RuntimeError(f"{dest}: manifest differs from the files archived; nothing deleted")
    return result.size, sums


class ZkPurge(Action):
    """Free ZooKeeper's disk the way zkCleanup.sh does, but archived, verified, approved and audited."""

    name: ClassVar[str] = "zookeeper.purge"
    target_kind: ClassVar[str] = "zookeeper"
    risk: ClassVar[Risk] = Risk.MEDIUM
    Params: ClassVar[type[BaseModel]] = PurgeParams
    # None, on purpose: a failed verification makes the executor roll back, i.e. put the purged files
    # back. The classic purge is on a server that died *because* its dataLogDir filled up (ruok fails),
    # or on a disk still above its threshold afterwards (zookeeper.disk fails): both would re-fill the
    # disk. A running server never reads old snapshots or logs, so the purge cannot break it; what
    # it needs at restart is guarded by the invariant, re-checked against the directories in apply.
    verify_checks: ClassVar[tuple[str, ...]] = ()
    remedies: ClassVar[tuple[str, ...]] = ("zookeeper.disk", "zookeeper.datafiles")

    async def plan(self, target: Target, params: BaseModel, ctx: ActionContext) -> Plan:
        assert isinstance(params, PurgeParams)
        if not is_local(target):
            raise Refused(f"zookeeper.purge on {target.name} ({target.address}): the target is remote and SSH "
                          "execution is not wired into actions yet; run it on the host (a local target), or "
                          "label the target local=true if its dataDir is mounted here")
        snap_dir, log_dir, notes = await data_dirs(target, params)
        allow = AllowList(ctx.allowed_paths, ctx.allowed_commands)
        for directory in dict.fromkeys((snap_dir, log_dir)):
            allow.check_path(directory)
            if not os.path.isdir(directory):
                raise Refused(f"{directory} is not a directory")
        snapshots, logs, odd = await asyncio.to_thread(scan, snap_dir, log_dir)
        sel = select(snapshots, logs, params.keep)
        check_invariant(sel, snapshots, logs, params.keep)
        total = sum(f.size for f in sel.delete)
        steps: list[Step] = []
        rollback: list[Step] = []
        if sel.delete:
            dest = _archive_name(ctx.backup_dir, sel.delete)
            assert sel.least_zxid is not None
            # The directories are this step's paths: apply re-lists them to re-check the invariant live.
            steps.append(Step(kind="check", paths=list(dict.fromkeys((snap_dir, log_dir))), description=(
                f"keep the {params.keep} newest valid snapshots (oldest kept: snapshot.{sel.least_zxid:x}) and "
                f"the txn logs from log.{sel.log_boundary or 0:x} on; re-checked against the directories "
                "before deleting")))
            steps.append(Step(kind="archive", description=f"archive {len(sel.delete)} files into {dest} with a "
                              "SHA-256 manifest", paths=[f.path for f in sel.delete], bytes=total, dest=dest))
            steps.append(Step(kind="verify", description="re-read the archive and verify every file's checksum"))
            steps.extend(Step(kind="delete", description=f"delete {f.name} ({f.size} bytes)", paths=[f.path],
                              bytes=f.size, mtime=f.mtime) for f in sel.delete)
            rollback.append(Step(kind="restore", description=f"restore the {len(sel.delete)} files from {dest}",
                                 dest=dest))
        notes += [f"dataDir {snap_dir}, dataLogDir {log_dir}"]
        notes += [f"keep {os.path.basename(p)}: {why}" for p, why in sel.kept.items()]  # in zxid order
        notes += [f"ignored {p}: name does not parse as a zxid" for p in odd]
        if sel.reason:
            notes.append(sel.reason)
        effect = (f"frees {total} bytes: {sum(f.kind == SNAP for f in sel.delete)} snapshots and "
                  f"{sum(f.kind == LOG for f in sel.delete)} txn logs" if sel.delete else "nothing to purge")
        return Plan(action=self.name, target=target.name, params=params.model_dump(mode="json"), risk=self.risk,
                    steps=steps, expected_effect=effect, rollback=rollback, created_at=datetime.now(UTC),
                    notes=notes)

    async def apply(self, plan: Plan, approvals: Sequence[Approval], ctx: ActionContext) -> Outcome:
        deletes = [s for s in plan.steps if s.kind == "delete"]
        if not deletes:
            return Outcome(ok=True, summary="nothing to purge", details={"hosts": {plan.target: {"bytes_freed": 0}}})
        allow = AllowList(ctx.allowed_paths, ctx.allowed_commands)
        params = PurgeParams.model_validate(plan.params)
        dirs = next(s.paths for s in plan.steps if s.kind == "check")
        unchanged, changed = self._recheck(deletes, allow)
        if not unchanged:
            return Outcome(ok=True, summary=f"nothing deleted: all {len(changed)} files changed since planning")
        dest = Path(next(s.dest for s in plan.steps if s.kind == "archive"))
        self._check_space(dest, sum(s.bytes for s in deletes if s.paths[0] in unchanged))
        self._recheck_selection(unchanged, dirs, params.keep)
        # The slow part runs in a thread; deleting stays in this task, so a timeout (cancellation)
        # while archiving means nothing is deleted.
        archive_bytes, sums = await asyncio.to_thread(_archive_and_verify, dest, unchanged)
        self._recheck_selection(unchanged, dirs, params.keep)  # ZooKeeper kept writing while we archived
        freed, deleted = 0, []
        planned = {s.paths[0]: s for s in deletes}
        for path in unchanged:
            allow.check_path(path)
            st = os.lstat(path)
            if st.st_size != planned[path].bytes or st.st_mtime != planned[path].mtime:
                changed.append(path)  # archived, but changed since: keep the live file
                continue
            os.unlink(path)
            freed += st.st_size
            deleted.append(path)
        for directory in {os.path.dirname(p) for p in deleted}:
            _fsync_dir(directory)
        summary = f"freed {freed} bytes from {len(deleted)} files; archive {dest} verified"
        if changed:
            summary += f"; kept {len(changed)} changed since planning"
        return Outcome(ok=True, summary=summary, bytes_freed=freed, details={
            "archive": str(dest), "archive_bytes": archive_bytes, "checksums": sums, "deleted": deleted,
            "skipped_changed": changed, "hosts": {plan.target: {"bytes_freed": freed, "files": len(deleted)}}})

    async def rollback(self, plan: Plan, outcome: Outcome, ctx: ActionContext) -> Outcome:
        """Put the archived files back (with their old mtimes); files present again are not overwritten."""
        dest = outcome.details.get("archive") or next((s.dest for s in plan.rollback if s.dest), "")
        if not dest or not Path(dest).is_file():
            return Outcome(ok=False, summary=f"no archive to restore from ({dest or 'none recorded'})")
        allow = AllowList(ctx.allowed_paths, ctx.allowed_commands)
        planned = {s.paths[0]: s for s in plan.steps if s.kind == "delete"}
        sums = await asyncio.to_thread(archive.verify, Path(dest))
        strangers = sorted(set(sums) - set(planned))
        if strangers:
            raise Refused(f"{dest} holds files this plan never deleted ({strangers[0]} …); not restoring")
        for path in sums:
            allow.check_path(path)
        restored = await asyncio.to_thread(archive.restore, Path(dest))
        for path in restored:
            mtime = planned[path].mtime
            if mtime is not None:
                os.utime(path, (mtime, mtime))
        return Outcome(ok=True, summary=f"restored {len(restored)} files from {dest}",
                       details={"restored": restored, "archive": dest})

    @staticmethod
    def _recheck(deletes: Sequence[Step], allow: AllowList) -> tuple[list[str], list[str]]:
        """Files still exactly as planned (size and mtime), and those that changed or vanished."""
        unchanged: list[str] = []
        changed: list[str] = []
        for step in deletes:
            path = step.paths[0]
            allow.check_path(path)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                changed.append(path)
                continue
            same = st.st_size == step.bytes and st.st_mtime == step.mtime
            (unchanged if same else changed).append(path)
        return unchanged, changed

    @staticmethod
    def _recheck_selection(paths: Sequence[str], dirs: Sequence[str], keep: int) -> None:
        """Against a fresh listing, none of ``paths`` may be needed to restore (the invariant, live)."""
        snapshots: dict[str, DataFile] = {}
        logs: dict[str, DataFile] = {}
        for directory in dirs:
            found_snaps, found_logs, _odd = scan(directory, directory)
            snapshots.update((f.path, f) for f in found_snaps)
            logs.update((f.path, f) for f in found_logs)
        strangers = sorted(set(paths) - set(snapshots) - set(logs))
        if strangers:  # only snapshot.* and log.* in the planned directories are ever deleted
            raise UnsafePurge(f"refusing to purge: {strangers[0]} is not a snapshot or txn log in {', '.join(dirs)}")
        live = Selection(delete=[f for f in (*snapshots.values(), *logs.values()) if f.path in set(paths)])
        check_invariant(live, list(snapshots.values()), list(logs.values()), keep)

    @staticmethod
    def _check_space(dest: Path, total: int) -> None:
        where = next(p for p in (dest.parent, *dest.parents) if p.exists())  # the backup dir may not exist yet
        free = shutil.disk_usage(where).free
        if free < total + BACKUP_RESERVE:
            raise Refused(f"not enough space for the archive under {dest.parent}: needs up to {total} bytes plus "
                          f"{BACKUP_RESERVE} reserve, {free} free; set remediation.backup_dir to another filesystem")


def _fsync_dir(directory: str) -> None:
    """Make the unlinks durable before reporting them (a crash must not resurrect half a purge)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
