"""plan → approve → apply → verify, and every refusal the safety model promises."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from steadyops.core.clock import FakeClock
from steadyops.core.errors import Refused
from steadyops.core.models import ApprovalDecision
from steadyops.execution import archive

APPROVE, REJECT = ApprovalDecision.APPROVE, ApprovalDecision.REJECT


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, _dirs, files in sorted(os.walk(root)):
        for name in sorted(files):
            p = Path(dirpath) / name
            st = p.lstat()
            h.update(f"{p}:{st.st_size}:{st.st_mtime}".encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def params(app: Any, **kw: Any) -> dict[str, Any]:
    return {"paths": [str(app.test_logs)], "older_than_days": 7, **kw}


async def test_plan_has_no_side_effects_and_lists_every_file(remediation_app: Any) -> None:
    app = remediation_app
    before = tree_digest(app.test_logs)
    run = await app.executor.propose("host.clean_logs", "web-1", params(app), "dave")
    assert tree_digest(app.test_logs) == before
    deletes = [s for s in run.plan["steps"] if s["kind"] == "delete"]
    assert len(deletes) == 5 and all(s["bytes"] == 4096 for s in deletes)
    assert "current.log" not in str(run.plan)  # too fresh
    assert run.status == "pending_approval" and run.required_approvals == 2


async def test_four_eyes_then_apply_archives_verifies_and_frees(remediation_app: Any) -> None:
    app = remediation_app
    run = await app.executor.propose("host.clean_logs", "web-1", params(app), "dave")
    with pytest.raises(Refused, match="needs 2 approval"):
        await app.executor.apply(run.id, "dave")
    with pytest.raises(Refused, match="cannot approve"):
        app.executor.decide(run.id, "dave", APPROVE, "self")
    with pytest.raises(Refused, match="not an approver"):
        app.executor.decide(run.id, "mallory", APPROVE, "sure")
    assert app.executor.decide(run.id, "alice", APPROVE, "ok").status == "pending_approval"
    assert app.executor.decide(run.id, "bob", APPROVE, "ok").status == "approved"
    outcome = await app.executor.apply(run.id, "dave")
    assert outcome.ok, outcome.summary
    assert outcome.bytes_freed == 5 * 4096
    assert sorted(p.name for p in app.test_logs.iterdir()) == ["current.log"]
    sums = archive.verify(Path(outcome.details["archive"]))
    assert len(sums) == 5
    kinds = [e.kind for e in app.audit.entries()]
    assert kinds == ["planned", "refused", "refused", "refused", "approve", "approve", "apply_started", "succeeded"]
    assert app.audit.verify().ok


async def test_auto_policy_runs_without_approval(remediation_app: Any) -> None:
    app = remediation_app
    run = await app.executor.propose("host.clean_logs", "dev-1", params(app), "dave")
    assert run.status == "approved"
    assert (await app.executor.apply(run.id, "dave")).ok


async def test_no_policy_is_default_deny(remediation_app: Any, tmp_path: Path) -> None:
    app = remediation_app
    app.settings.remediation.policies.clear()
    with pytest.raises(Refused, match="default deny"):
        await app.executor.propose("host.clean_logs", "web-1", params(app), "dave")


async def test_path_outside_allow_list_and_dotdot_refused(remediation_app: Any, tmp_path: Path) -> None:
    app = remediation_app
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(Refused, match="outside the allow-list"):
        await app.executor.propose("host.clean_logs", "dev-1", {"paths": [str(elsewhere)]}, "dave")
    with pytest.raises(Refused, match=r"'\.\.'"):
        await app.executor.propose("host.clean_logs", "dev-1", {"paths": [f"{app.test_logs}/../elsewhere"]}, "dave")
    with pytest.raises(Refused, match="not absolute"):
        await app.executor.propose("host.clean_logs", "dev-1", {"paths": ["logs"]}, "dave")


async def test_symlink_escaping_the_allow_list_refused(remediation_app: Any, tmp_path: Path) -> None:
    app = remediation_app
    secret = tmp_path / "etc"
    secret.mkdir()
    (secret / "passwd.log").write_text("root:x:0:0")
    os.utime(secret / "passwd.log", (0, 0))
    (app.test_logs / "escape").symlink_to(secret)
    with pytest.raises(Refused, match="symlink"):
        await app.executor.propose("host.clean_logs", "dev-1", {"paths": [str(app.test_logs / "escape")]}, "dave")
    # a symlinked file inside the root is never followed by the scan either
    (app.test_logs / "link.log").symlink_to(secret / "passwd.log")
    run = await app.executor.propose("host.clean_logs", "dev-1", params(app), "dave")
    assert "passwd" not in str(run.plan)
    assert (await app.executor.apply(run.id, "dave")).ok
    assert (secret / "passwd.log").exists()


async def test_expired_approval_refused(remediation_app: Any, fake_clock: FakeClock) -> None:
    app = remediation_app
    run = await app.executor.propose("host.clean_logs", "web-1", params(app), "dave")
    app.executor.decide(run.id, "alice", APPROVE, "ok")
    app.executor.decide(run.id, "bob", APPROVE, "ok")
    fake_clock.advance(31 * 60)
    with pytest.raises(Refused, match="expired"):
        await app.executor.apply(run.id, "dave")
    assert len(list(app.test_logs.iterdir())) == 6


async def test_approval_for_a_different_plan_refused(remediation_app: Any) -> None:
    app = remediation_app
    run = await app.executor.propose("host.clean_logs", "web-1", params(app), "dave")
    app.executor.decide(run.id, "alice", APPROVE, "ok", plan_hash="0" * 64)
    app.executor.decide(run.id, "bob", APPROVE, "ok", plan_hash="0" * 64)
    with pytest.raises(Refused, match="different plan"):
        await app.executor.apply(run.id, "dave")


async def test_plan_changed_after_approval_refused(remediation_app: Any) -> None:
    app = remediation_app
    run = await app.executor.propose("host.clean_logs", "web-1", params(app), "dave")
    app.executor.decide(run.id, "alice", APPROVE, "ok")
    app.executor.decide(run.id, "bob", APPROVE, "ok")
    new = app.test_logs / "late.log"
    new.write_text("x" * 100)
    os.utime(new, (0, 0))
    with pytest.raises(Refused, match="plan changed"):
        await app.executor.apply(run.id, "dave")
    assert new.exists()


async def test_rejection_is_final(remediation_app: Any) -> None:
    app = remediation_app
    run = await app.executor.propose("host.clean_logs", "web-1", params(app), "dave")
    assert app.executor.decide(run.id, "alice", REJECT, "not during the sale").status == "rejected"
    with pytest.raises(Refused, match="rejected"):
        await app.executor.apply(run.id, "dave")


async def test_second_action_on_locked_target_refused(remediation_app: Any) -> None:
    app = remediation_app
    first = await app.executor.propose("host.clean_logs", "dev-1", params(app), "dave")
    second = await app.executor.propose("host.clean_logs", "dev-1", params(app), "erin")
    app.executor._start(first.id, "dev-1", app.clock.now(), "dave", {})  # first is mid-apply
    with pytest.raises(Refused, match="locked by run"):
        await app.executor.apply(second.id, "erin")
    app.executor._unlock("dev-1", first.id)
    assert (await app.executor.apply(second.id, "erin")).ok


async def test_an_apply_starts_once_however_often_it_is_handed_over(remediation_app: Any) -> None:
    """A queue delivers at least once: the start is a compare-and-set, a settled run ignores a repeat."""
    app = remediation_app
    run = await app.executor.propose("host.clean_logs", "dev-1", params(app), "dave")
    files = sorted(p.name for p in app.test_logs.iterdir())
    app.executor._start(run.id, "dev-1", app.clock.now(), "dave", {})  # another process started it
    with pytest.raises(Refused, match="running"):
        await app.executor.apply(run.id, "dave")
    app.executor._unlock("dev-1", run.id)
    before = len(app.audit.entries())
    await app.executor.apply_job(run.id, "dave")  # a duplicate while running: refused, never applied
    assert [e.kind for e in app.audit.entries()[before:]] == ["refused"]
    assert sorted(p.name for p in app.test_logs.iterdir()) == files  # nothing deleted


async def test_a_redelivered_apply_of_a_run_mid_apply_is_settled_as_interrupted(remediation_app: Any) -> None:
    """The process applying it died: which steps ran is unknown, so it is never applied again."""
    app = remediation_app
    run = await app.executor.propose("host.clean_logs", "dev-1", params(app), "dave")
    files = sorted(p.name for p in app.test_logs.iterdir())
    app.executor._start(run.id, "dev-1", app.clock.now(), "dave", {})
    await app.executor.apply_job(run.id, "dave", redelivered=True)
    with app.store.transaction() as s:
        from steadyops.store.tables import ActionRunRow, TargetLockRow

        row = s.get(ActionRunRow, run.id)
        assert row is not None and row.status == "failed" and row.outcome["details"]["interrupted"] is True
        assert s.get(TargetLockRow, "dev-1") is None  # unlocked for whoever plans anew
    assert sorted(p.name for p in app.test_logs.iterdir()) == files  # not applied by the redelivery
    assert [e.kind for e in app.audit.entries()][-2:] == ["apply_started", "apply_interrupted"]
    await app.executor.apply_job(run.id, "dave", redelivered=True)  # once more: settled, nothing happens
    assert [e.kind for e in app.audit.entries()][-1] == "apply_interrupted"
    assert app.audit.verify().ok
