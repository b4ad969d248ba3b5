"""``zookeeper.purge`` on synthetic ``version-2`` directories: PurgeTxnLog's rule, and never more.

The keep rule is checked three ways: hand-made edge cases, a reference transcription of
``PurgeTxnLog.purgeOlderSnapshots`` + ``FileTxnLog.getLogFiles`` compared on random histories, and
the invariant (nothing needed to restore from any kept snapshot is ever selected). The real server
is in ``tests/integration/test_zookeeper_purge.py``.
"""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from steadyops.contracts.actions import ActionContext
from steadyops.core.errors import Refused
from steadyops.core.inventory import Target
from steadyops.core.models import Plan, Step
from steadyops.execution import archive
from steadyops.integrations.zookeeper import register
from steadyops.integrations.zookeeper.actions import (
    LOG,
    SNAP,
    SNAP_TRAILER,
    DataFile,
    PurgeParams,
    Selection,
    UnsafePurge,
    ZkPurge,
    check_invariant,
    select,
)
from steadyops.plugins import Registry

LOCAL = Target(name="zk1", kind="zookeeper", address="127.0.0.1:1")  # nothing listens: conf is never needed


def write_history(vdir: Path, snaps: list[int], logs: list[int], *, size: int = 2048) -> None:
    """Sealed snapshots and txn logs named like ZooKeeper's, each older than the next."""
    vdir.mkdir(parents=True, exist_ok=True)
    for i, (prefix, zxid) in enumerate(sorted([(SNAP, z) for z in snaps] + [(LOG, z) for z in logs],
                                              key=lambda pz: pz[1])):
        p = vdir / f"{prefix}.{zxid:x}"
        body = os.urandom(size)
        p.write_bytes(body + SNAP_TRAILER if prefix == SNAP else body)
        os.utime(p, (1_700_000_000 + i, 1_700_000_000 + i))


def tree(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, _dirs, files in sorted(os.walk(root)):
        for name in sorted(files):
            p = Path(dirpath) / name
            st = p.lstat()
            h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode() + p.read_bytes())
    return h.hexdigest()


def files(kind: str, zxids: list[int], valid: set[int] | None = None) -> list[DataFile]:
    return [DataFile(f"/d/{kind}.{z:x}", kind, z, 1, 0.0, valid is None or z in valid) for z in zxids]


def names(sel: Selection) -> list[str]:
    return [f.name for f in sel.delete]


def ctx_for(tmp_path: Path, *roots: Path) -> ActionContext:
    return ActionContext(backup_dir=str(tmp_path / "backups"), allowed_paths=[str(r) for r in roots],
                         allowed_commands=[])


async def plan_for(tmp_path: Path, data: Path, keep: int = 3, **extra: Any) -> Plan:
    return await ZkPurge().plan(LOCAL, PurgeParams(data_dir=str(data), keep=keep, **extra), ctx_for(tmp_path, data))


# -- the rule ---------------------------------------------------------------------------------------

def test_keeps_newest_n_and_the_log_spanning_the_oldest_kept_snapshot() -> None:
    # log.15 starts before snapshot.20 and holds 0x16..0x24: without it snapshot.20 cannot be replayed
    sel = select(files(SNAP, [0x10, 0x20, 0x30, 0x40]), files(LOG, [0x1, 0x15, 0x25, 0x35, 0x45]), 3)
    assert names(sel) == ["log.1", "snapshot.10"]
    assert sel.least_zxid == 0x20 and sel.log_boundary == 0x15
    assert "holds the transactions after it" in sel.kept["/d/log.15"]


def test_a_log_starting_exactly_at_the_snapshot_makes_the_older_one_unneeded() -> None:
    # getLogFiles picks the newest log with zxid <= the snapshot's: log.20 itself; log.15 goes (as in ZooKeeper)
    sel = select(files(SNAP, [0x10, 0x20, 0x30, 0x40]), files(LOG, [0x1, 0x15, 0x20, 0x30]), 3)
    assert names(sel) == ["log.1", "snapshot.10", "log.15"]


def test_fewer_than_n_valid_snapshots_deletes_nothing() -> None:
    sel = select(files(SNAP, [0x10, 0x20]), files(LOG, [0x1, 0x5, 0x15, 0x25]), 3)
    assert sel.delete == [] and "fewer than keep=3" in sel.reason
    # a half-written newest snapshot is no restore point: it does not count towards keep
    sel = select(files(SNAP, [0x10, 0x20, 0x30, 0x40], valid={0x10, 0x20, 0x30}), files(LOG, [0x1, 0x5, 0x12]), 3)
    assert names(sel) == ["log.1"]
    assert "incomplete" in sel.kept["/d/snapshot.40"]


def test_no_log_before_the_snapshot_keeps_every_log() -> None:
    sel = select(files(SNAP, [0x10, 0x20, 0x30, 0x40]), files(LOG, [0x25, 0x35]), 3)
    assert names(sel) == ["snapshot.10"]


def reference(snaps: list[int], logs: list[int], n: int) -> set[str]:
    """PurgeTxnLog.purge + FileTxnLog.getLogFiles, transcribed as literally as Python allows."""
    recent = sorted(snaps, reverse=True)[:n]
    if not recent:
        return set()
    least = recent[-1]
    log_zxid = 0
    for f in sorted(logs):
        if f > least:
            continue
        if f > log_zxid:
            log_zxid = f
    retained = {f for f in logs if f >= log_zxid}
    return ({f"log.{z:x}" for z in logs if z < least and z not in retained}
            | {f"snapshot.{z:x}" for z in snaps if z < least})


def test_matches_purgetxnlog_and_never_breaks_a_restore_on_random_histories() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        zxids = sorted(rng.sample(range(1, 400), rng.randint(2, 40)))
        snaps = sorted(rng.sample(zxids, rng.randint(1, len(zxids) - 1)))
        logs = sorted(set(zxids) - set(snaps) | set(rng.sample(snaps, rng.randint(0, len(snaps)))))
        keep = rng.randint(3, 6)
        sel = select(files(SNAP, snaps), files(LOG, logs), keep)
        check_invariant(sel, files(SNAP, snaps), files(LOG, logs), keep)
        expected = reference(snaps, logs, keep) if len(snaps) >= keep else set()
        assert set(names(sel)) == expected, (snaps, logs, keep)


def test_the_invariant_refuses_a_selection_that_would_break_a_restore() -> None:
    snaps, logs = files(SNAP, [0x10, 0x20, 0x30, 0x40]), files(LOG, [0x1, 0x15, 0x25, 0x35])
    for doomed in ("snapshot.40", "snapshot.20", "log.15", "log.35"):
        bad = Selection(delete=[f for f in (*snaps, *logs) if f.name == doomed])
        with pytest.raises(UnsafePurge):
            check_invariant(bad, snaps, logs, 3)


def test_keep_below_three_is_rejected_like_zkcleanup() -> None:
    with pytest.raises(ValidationError):
        PurgeParams(keep=2)


# -- the plan ---------------------------------------------------------------------------------------

async def test_plan_lists_files_and_has_no_side_effects(tmp_path: Path) -> None:
    data = tmp_path / "zk"
    write_history(data / "version-2", [0x0, 0x10, 0x20, 0x30, 0x40], [0x1, 0x8, 0x15, 0x25, 0x35, 0x45])
    (data / "version-2" / "snapshot.bogus").write_bytes(b"x")  # not a zxid: never touched
    (data / "version-2" / "acceptedEpoch").write_text("1")
    before = tree(tmp_path)
    plan = await plan_for(tmp_path, data)
    again = await plan_for(tmp_path, data)
    assert tree(tmp_path) == before and not (tmp_path / "backups").exists()
    assert plan.plan_hash == again.plan_hash  # content-named archive: same files, same plan
    deletes = [s for s in plan.steps if s.kind == "delete"]
    assert [Path(s.paths[0]).name for s in deletes] == ["snapshot.0", "log.1", "log.8", "snapshot.10"]
    assert all(s.bytes > 0 and s.mtime for s in deletes)
    assert plan.bytes_affected == sum(s.bytes for s in deletes)
    assert plan.steps[1].kind == "archive" and plan.steps[1].dest.startswith(str(tmp_path / "backups"))
    assert plan.rollback and "restore" in plan.rollback[0].description
    assert "keep snapshot.40: one of the newest valid snapshots" in plan.notes
    assert any("log.15" in n and "holds the transactions after it" in n for n in plan.notes)
    assert any("snapshot.bogus" in n for n in plan.notes)


async def test_nothing_to_purge_is_an_empty_plan(tmp_path: Path) -> None:
    write_history(tmp_path / "zk" / "version-2", [0x10, 0x20], [0x1, 0x15])
    plan = await plan_for(tmp_path, tmp_path / "zk")
    assert plan.steps == [] and plan.expected_effect == "nothing to purge"
    assert (await ZkPurge().apply(plan, [], ctx_for(tmp_path, tmp_path / "zk"))).ok


async def test_separate_data_log_dir(tmp_path: Path) -> None:
    write_history(tmp_path / "snaps" / "version-2", [0x10, 0x20, 0x30, 0x40], [])
    write_history(tmp_path / "logs" / "version-2", [], [0x1, 0x15, 0x25])
    ctx = ctx_for(tmp_path, tmp_path / "snaps", tmp_path / "logs")
    plan = await ZkPurge().plan(LOCAL, PurgeParams(data_dir=str(tmp_path / "snaps"),
                                                   data_log_dir=str(tmp_path / "logs")), ctx)
    doomed = [s.paths[0] for s in plan.steps if s.kind == "delete"]
    assert doomed == [str(tmp_path / "logs/version-2/log.1"), str(tmp_path / "snaps/version-2/snapshot.10")]
    assert (await ZkPurge().apply(plan, [], ctx)).bytes_freed > 0


async def test_refusals(tmp_path: Path) -> None:
    write_history(tmp_path / "zk" / "version-2", [0x10, 0x20, 0x30, 0x40], [0x1])
    with pytest.raises(Refused, match="outside the allow-list"):
        await ZkPurge().plan(LOCAL, PurgeParams(data_dir=str(tmp_path / "zk")), ctx_for(tmp_path, tmp_path / "x"))
    remote = Target(name="zk9", kind="zookeeper", address="10.0.0.9:2181", labels={"data_dir": "/var/lib/zk"})
    with pytest.raises(Refused, match="no SSH key for target zk9"):  # remote: over SSH, which needs a key
        await ZkPurge().plan(remote, PurgeParams(), ctx_for(tmp_path, tmp_path / "zk"))
    no_dir = Target(name="zk2", kind="zookeeper", address="127.0.0.1:1")
    with pytest.raises(Refused, match="cannot tell where"):
        await ZkPurge().plan(no_dir, PurgeParams(), ctx_for(tmp_path, tmp_path / "zk"))


async def test_labels_name_the_data_dir_when_conf_is_not_answered(tmp_path: Path) -> None:
    write_history(tmp_path / "zk" / "version-2", [0x10, 0x20, 0x30, 0x40], [0x1, 0x15])
    target = LOCAL.model_copy(update={"labels": {"data_dir": str(tmp_path / "zk")}})
    plan = await ZkPurge().plan(target, PurgeParams(), ctx_for(tmp_path, tmp_path / "zk"))
    assert any("conf not answered" in n for n in plan.notes)
    assert [Path(s.paths[0]).name for s in plan.steps if s.kind == "delete"] == ["log.1", "snapshot.10"]


# -- apply and rollback -----------------------------------------------------------------------------

async def test_apply_archives_verifies_deletes_and_rollback_restores(tmp_path: Path) -> None:
    data = tmp_path / "zk"
    write_history(data / "version-2", [0x10, 0x20, 0x30, 0x40], [0x1, 0x15, 0x25, 0x35])
    ctx = ctx_for(tmp_path, data)
    plan = await plan_for(tmp_path, data)
    doomed = [s.paths[0] for s in plan.steps if s.kind == "delete"]
    before = {p: (archive.sha256_file(p), os.lstat(p).st_mtime) for p in doomed}
    outcome = await ZkPurge().apply(plan, [], ctx)
    assert outcome.ok and outcome.bytes_freed == plan.bytes_affected == 2 * 2048 + len(SNAP_TRAILER)
    assert outcome.details["hosts"] == {"zk1": {"bytes_freed": outcome.bytes_freed, "files": 2}}
    assert archive.verify(Path(outcome.details["archive"])) == {p: h for p, (h, _m) in before.items()}
    assert sorted(os.listdir(data / "version-2")) == ["log.15", "log.25", "log.35", "snapshot.20", "snapshot.30",
                                                      "snapshot.40"]
    back = await ZkPurge().rollback(plan, outcome, ctx)
    assert back.ok and {p: (archive.sha256_file(p), os.lstat(p).st_mtime) for p in doomed} == before


async def test_apply_keeps_a_file_that_changed_since_planning(tmp_path: Path) -> None:
    data = tmp_path / "zk"
    write_history(data / "version-2", [0x10, 0x20, 0x30, 0x40], [0x1, 0x15])
    plan = await plan_for(tmp_path, data)
    os.utime(data / "version-2" / "log.1", (1_800_000_000, 1_800_000_000))
    outcome = await ZkPurge().apply(plan, [], ctx_for(tmp_path, data))
    assert outcome.ok and outcome.details["skipped_changed"] == [str(data / "version-2" / "log.1")]
    assert (data / "version-2" / "log.1").exists() and not (data / "version-2" / "snapshot.10").exists()
    os.utime(data / "version-2" / "log.1", (1_900_000_000, 1_900_000_000))
    again = await ZkPurge().apply(plan, [], ctx_for(tmp_path, data))  # all changed or gone: a no-op
    assert again.ok and again.bytes_freed == 0 and again.summary.startswith("nothing deleted")


async def test_apply_refuses_a_plan_that_would_delete_a_needed_file(tmp_path: Path) -> None:
    data = tmp_path / "zk"
    write_history(data / "version-2", [0x10, 0x20, 0x30, 0x40], [0x1, 0x15, 0x25])
    plan = await plan_for(tmp_path, data)
    newest = data / "version-2" / "snapshot.40"
    st = newest.stat()
    evil = Step(kind="delete", description="delete snapshot.40", paths=[str(newest)], bytes=st.st_size,
                mtime=st.st_mtime)
    before = tree(data)
    with pytest.raises(UnsafePurge, match="newest snapshot"):
        await ZkPurge().apply(plan.model_copy(update={"steps": [*plan.steps, evil]}), [], ctx_for(tmp_path, data))
    assert tree(data) == before and not (tmp_path / "backups").exists()


async def test_apply_deletes_only_snapshots_and_logs(tmp_path: Path) -> None:
    data = tmp_path / "zk"
    write_history(data / "version-2", [0x10, 0x20, 0x30, 0x40], [0x1, 0x15])
    epoch = data / "version-2" / "acceptedEpoch"
    epoch.write_text("3")
    plan = await plan_for(tmp_path, data)
    evil = Step(kind="delete", description="delete acceptedEpoch", paths=[str(epoch)], bytes=1,
                mtime=epoch.stat().st_mtime)
    with pytest.raises(UnsafePurge, match="acceptedEpoch is not a snapshot or txn log"):
        await ZkPurge().apply(plan.model_copy(update={"steps": [*plan.steps, evil]}), [], ctx_for(tmp_path, data))
    assert epoch.exists() and len(os.listdir(data / "version-2")) == 7


async def test_apply_rechecks_the_allow_list(tmp_path: Path) -> None:
    data = tmp_path / "zk"
    write_history(data / "version-2", [0x10, 0x20, 0x30, 0x40], [0x1])
    plan = await plan_for(tmp_path, data)
    with pytest.raises(Refused, match="outside the allow-list"):
        await ZkPurge().apply(plan, [], ctx_for(tmp_path, tmp_path / "elsewhere"))
    assert len(os.listdir(data / "version-2")) == 5


async def test_through_the_executor_on_a_stopped_server(make_app: Any, tmp_path: Path) -> None:
    """The classic: ZooKeeper died of a full dataLogDir. Purging it must work and must not be undone."""
    data = tmp_path / "zk"
    write_history(data / "version-2", [0x10, 0x20, 0x30, 0x40], [0x1, 0x15])
    inv = tmp_path / "inventory.yaml"
    inv.write_text(f"targets:\n  - {{name: zk1, kind: zookeeper, address: '127.0.0.1:1', "
                   f"labels: {{data_dir: '{data}', env: dev}}}}\n")
    reg = Registry()
    register(reg)
    app = make_app(registry=reg, inventory=inv, remediation={
        "policies": [{"actions": ["zookeeper.purge"], "target_labels": {"env": "dev"}, "mode": "auto"}],
        "allow": [{"actions": ["zookeeper.purge"], "paths": [str(data)]}]})
    before = tree(data)
    run = await app.executor.propose("zookeeper.purge", "127.0.0.1:1", {"keep": 3}, "dave")
    assert tree(data) == before and run.status == "approved"
    outcome = await app.executor.apply(run.id, "dave")  # nothing listens on port 1: the server is down
    assert outcome.ok, outcome.summary
    assert "rolled_back" not in outcome.details
    assert sorted(os.listdir(data / "version-2")) == ["log.15", "snapshot.20", "snapshot.30", "snapshot.40"]
    assert [e.kind for e in app.audit.entries()] == ["planned", "apply_started", "succeeded"]
