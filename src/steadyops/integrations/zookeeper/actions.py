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
before deleting, so a bug refuses instead of destroying the restore point. Every step goes through
a :mod:`~steadyops.execution.shell`, so a remote server (over SSH) is purged like a local one:
listed, archived and verified *on its host*, under the backup dir there.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import ClassVar

from pydantic import BaseModel, Field

from steadyops.contracts.actions import Action, ActionContext, Symptom
from steadyops.core.errors import Refused
from steadyops.core.inventory import Target
from steadyops.core.models import Approval, Outcome, Plan, Risk, Step
from steadyops.execution.shell import Guard, Shell, shell_for, shell_for_plan
from steadyops.execution.where import EXEC_KEY, exec_record
from steadyops.integrations.zookeeper.base import UsesZk, fetch_conf
from steadyops.integrations.zookeeper.client import ZkClient
from steadyops.remediation import deletion

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


async def scan_on(sh: Shell, snap_dir: str, log_dir: str) -> tuple[list[DataFile], list[DataFile], list[str]]:
    """:func:`scan` through a shell, i.e. on the target's host: the same regular files, no symlink followed;
    every snapshot's seal read in one ``tail`` (a round trip per file is slow over SSH)."""
    found: dict[str, list[DataFile]] = {SNAP: [], LOG: []}
    odd: list[str] = []
    for directory in dict.fromkeys((snap_dir, log_dir)):
        prefixes = [p for p, d in ((SNAP, snap_dir), (LOG, log_dir)) if d == directory]
        for path, size, mtime in await sh.list_files(directory, [p + ".*" for p in prefixes], None, False):
            prefix = next(p for p in prefixes if os.path.basename(path).startswith(p + "."))
            zxid = zxid_of(os.path.basename(path), prefix)
            if zxid is None:
                odd.append(path)
                continue
            found[prefix].append(DataFile(path, prefix, zxid, size, mtime, size > 0))
    n = len(SNAP_TRAILER)
    sealed = [f for f in found[SNAP] if not f.path.endswith((".gz", ".snappy")) and f.size >= 10]
    tails = (await sh.call(["xargs", "-0", "-r", "tail", "-q", "-c", str(n), "--"],
                           b"".join(os.fsencode(f.path) + b"\0" for f in sealed))).stdout if sealed else b""
    if len(tails) != n * len(sealed):
        raise Refused(f"snapshots in {snap_dir} changed while their seals were read on {sh.where}; plan again")
    seals = {f.path: tails[i * n:(i + 1) * n] == SNAP_TRAILER for i, f in enumerate(sealed)}
    found[SNAP] = [f if f.path.endswith((".gz", ".snappy")) else replace(f, valid=seals.get(f.path, False))
                   for f in found[SNAP]]
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


async def version_dir(sh: Shell, path: str) -> str:
    """A configured dataDir holds its files in ``version-2``; ``conf`` already names that child."""
    p = PurePosixPath(path)
    child = await sh.stat(str(p / "version-2")) if not p.name.startswith("version-") else None
    return str(p / "version-2") if child is not None and child.kind == "d" else str(p)


async def data_dirs(sh: Shell, target: Target, params: PurgeParams) -> tuple[str, str, list[str]]:
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
    return await version_dir(sh, snap), await version_dir(sh, log or snap), notes


def _archive_name(backup_dir: str, files: Sequence[DataFile]) -> str:
    # Named by content, not by clock: re-planning the same files gives the same plan hash.
    stamp = hashlib.sha256(repr([(f.path, f.size, f.mtime) for f in files]).encode()).hexdigest()[:16]
    return f"{backup_dir}/zookeeper-purge-{stamp}.tar.gz"


async def _archive_and_verify(sh: Shell, dest: str, paths: list[str]) -> tuple[int, dict[str, str]]:
    """Archive, then prove it by re-hashing every member; a partial archive never survives a failure."""
    if (done := await sh.stat(dest)) is not None:  # an earlier apply archived these files, stopped before deleting
        sums = await sh.verify_archive(dest)
        if not set(paths) <= set(sums) or [p for p in paths if await sh.sha256(p) != sums[p]]:
            raise Refused(f"{dest} exists and does not hold these files; move it away and plan again")
        return done.size, sums
    sums, size = await sh.archive(dest, paths)
    if await sh.verify_archive(dest) != sums:
        raise RuntimeError(f"{dest}: manifest differs from the files archived; nothing deleted")
    return size, sums


class ZkPurge(UsesZk, Action):
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
    remedies_layers: ClassVar[tuple[str, ...]] = ("disk",)  # only on disk evidence, never on "could not ask"

    @classmethod
    def can_remedy(cls, symptom: Symptom) -> bool:
        """A full disk, not a read-only or failing one: deleting cannot help (nor work) there."""
        return super().can_remedy(symptom) and not symptom.metrics.get("read_only")

    async def plan(self, target: Target, params: BaseModel, ctx: ActionContext) -> Plan:
        assert isinstance(params, PurgeParams)
        record = exec_record(target)
        # read-only verbs only: realpath, find, tail
        async with shell_for(record, ctx.timeout, logins=self.memory.logins) as sh:
            snap_dir, log_dir, notes = await data_dirs(sh, target, params)
            guard = Guard(sh, ctx.allowed_paths)
            reals = await guard.check(list(dict.fromkeys((snap_dir, log_dir))))
            kinds = await sh.stats(list(reals.values()))
            for directory, real in reals.items():
                if getattr(kinds[real], "kind", None) != "d":
                    raise Refused(f"{directory} is not a directory" + (f" on {sh.where}" if sh.remote else ""))
            snap_dir, log_dir = reals[snap_dir], reals[log_dir]
            snapshots, logs, odd = await scan_on(sh, snap_dir, log_dir)
            ids = await deletion.identify(sh, guard, [f.path for f in (*snapshots, *logs)])
            where = sh.where
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
            steps.append(Step(kind="archive", description=f"archive {len(sel.delete)} files into {dest} on {where} "
                              "(the archive stays on the server's host) with a SHA-256 manifest",
                              paths=[f.path for f in sel.delete], bytes=total, dest=dest))
            steps.append(Step(kind="verify", description="re-read the archive and verify every file's checksum"))
            steps.extend(Step(kind="delete", description=f"delete {f.name} ({f.size} bytes)", paths=[f.path],
                              bytes=f.size, mtime=f.mtime, dev=getattr(ids.get(f.path), "dev", None),
                              ino=getattr(ids.get(f.path), "ino", None)) for f in sel.delete)
            rollback.append(Step(kind="restore", description=f"restore the {len(sel.delete)} files from {dest}",
                                 dest=dest))
        notes += [f"runs on {where}", f"dataDir {snap_dir}, dataLogDir {log_dir}"]
        notes += [f"keep {os.path.basename(p)}: {why}" for p, why in sel.kept.items()]  # in zxid order
        notes += [f"ignored {p}: name does not parse as a zxid" for p in odd]
        if sel.reason:
            notes.append(sel.reason)
        effect = (f"frees {total} bytes: {sum(f.kind == SNAP for f in sel.delete)} snapshots and "
                  f"{sum(f.kind == LOG for f in sel.delete)} txn logs" if sel.delete else "nothing to purge")
        return Plan(action=self.name, target=target.name, params={**params.model_dump(mode="json"), EXEC_KEY: record},
                    risk=self.risk, steps=steps, expected_effect=effect, rollback=rollback,
                    created_at=datetime.now(UTC), notes=notes)

    async def apply(self, plan: Plan, approvals: Sequence[Approval], ctx: ActionContext) -> Outcome:
        deletes = [s for s in plan.steps if s.kind == "delete"]
        if not deletes:
            return Outcome(ok=True, summary="nothing to purge", details={"hosts": {plan.target: {"bytes_freed": 0}}})
        params = PurgeParams.model_validate(plan.params)
        dirs = next(s.paths for s in plan.steps if s.kind == "check")
        planned = {s.paths[0]: s for s in deletes}
        async with shell_for_plan(plan, ctx.timeout, logins=self.memory.logins) as sh:
            guard = Guard(sh, ctx.allowed_paths)
            unchanged, changed = await _recheck(sh, guard, deletes)
            if not unchanged:
                return Outcome(ok=True, summary=f"nothing deleted: all {len(changed)} files changed since planning")
            dest = next(s.dest for s in plan.steps if s.kind == "archive")
            await _check_space(sh, dest, sum(planned[p].bytes for p in unchanged))
            await _recheck_selection(sh, unchanged, dirs, params.keep)
            # Cancelled (the executor's timeout) while archiving means nothing is deleted: deleting comes after.
            archive_bytes, sums = await _archive_and_verify(sh, dest, unchanged)
            await _recheck_selection(sh, unchanged, dirs, params.keep)  # ZooKeeper kept writing while we archived
            still, moved = await _recheck(sh, guard, [planned[p] for p in unchanged])
            changed += moved  # archived, but changed since: keep the live file
            removal = await deletion.remove(sh, guard, [planned[p] for p in still])
            deleted = removal.deleted
            for directory in sorted({os.path.dirname(p) for p in deleted}):  # durable before it is reported
                await sh.call(["sync", "--", directory])
        freed = sum(planned[p].bytes for p in deleted)
        summary = f"freed {freed} bytes from {len(deleted)} files; archive {dest} verified"
        if changed:
            summary += f"; kept {len(changed)} changed since planning"
        if removal.summary():
            summary += f"; {removal.summary()}"
        return Outcome(ok=not removal.refused, summary=summary, bytes_freed=freed, details={
            "archive": dest, "archive_bytes": archive_bytes, "checksums": sums, **removal.details(),
            "skipped_changed": changed, "hosts": {plan.target: {"bytes_freed": freed, "files": len(deleted)}}})

    async def rollback(self, plan: Plan, outcome: Outcome, ctx: ActionContext) -> Outcome:
        """Put the archived files back, mtimes included; files present again are not overwritten."""
        dest = outcome.details.get("archive") or next((s.dest for s in plan.rollback if s.dest), "")
        planned = {s.paths[0] for s in plan.steps if s.kind == "delete"}
        async with shell_for_plan(plan, ctx.timeout, logins=self.memory.logins) as sh:
            if not dest or getattr(await sh.stat(dest), "kind", None) != "f":
                return Outcome(ok=False, summary=f"no archive to restore from ({dest or 'none recorded'})")
            sums = await sh.verify_archive(dest)
            strangers = sorted(set(sums) - planned)
            if strangers:
                raise Refused(f"{dest} holds files this plan never deleted ({strangers[0]} …); not restoring")
            await Guard(sh, ctx.allowed_paths).check(list(sums))
            restored = await sh.restore(dest)
        return Outcome(ok=True, summary=f"restored {len(restored)} files from {dest}",
                       details={"restored": restored, "archive": dest})


async def _recheck(sh: Shell, guard: Guard, deletes: Sequence[Step]) -> tuple[list[str], list[str]]:
    """Files still exactly as planned (allow-listed where they really are, same size and mtime), and the rest."""
    paths = [s.paths[0] for s in deletes]
    await guard.check(paths)
    now = await sh.stats(paths)
    same = {s.paths[0] for s in deletes if (st := now[s.paths[0]]) is not None and st.same_file(s.bytes, s.mtime)}
    return [p for p in paths if p in same], [p for p in paths if p not in same]


async def _recheck_selection(sh: Shell, paths: Sequence[str], dirs: Sequence[str], keep: int) -> None:
    """Against a fresh listing, none of ``paths`` may be needed to restore (the invariant, live)."""
    snapshots: dict[str, DataFile] = {}
    logs: dict[str, DataFile] = {}
    for directory in dirs:
        found_snaps, found_logs, _odd = await scan_on(sh, directory, directory)
        snapshots.update((f.path, f) for f in found_snaps)
        logs.update((f.path, f) for f in found_logs)
    strangers = sorted(set(paths) - set(snapshots) - set(logs))
    if strangers:  # only snapshot.* and log.* in the planned directories are ever deleted
        raise UnsafePurge(f"refusing to purge: {strangers[0]} is not a snapshot or txn log in {', '.join(dirs)}")
    live = Selection(delete=[f for f in (*snapshots.values(), *logs.values()) if f.path in set(paths)])
    check_invariant(live, list(snapshots.values()), list(logs.values()), keep)


async def _check_space(sh: Shell, dest: str, total: int) -> None:
    """The archive must not fill the backup filesystem (on the target host): its nearest existing dir."""
    parents = [str(p) for p in PurePosixPath(dest).parents]
    found = await sh.stats(parents)
    where = next(p for p in parents if found[p] is not None)
    avail, block = (await sh.call(["stat", "-f", "-c", "%a %S", "--", where])).stdout.split()
    if (free := int(avail) * int(block)) < total + BACKUP_RESERVE:
        raise Refused(f"not enough space for the archive under {os.path.dirname(dest)}: needs up to {total} bytes "
                      f"plus {BACKUP_RESERVE} reserve, {free} free; set remediation.backup_dir to another filesystem")
