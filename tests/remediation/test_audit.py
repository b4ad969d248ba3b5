"""Tamper tests: flip a byte, delete, insert, reorder — each detected; a clean log verifies."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DatabaseError

from steadyops.core.errors import ConfigError
from steadyops.remediation.anchor import Anchor, load_key
from steadyops.remediation.audit import GENESIS, AuditLog, entry_hash
from steadyops.store import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
KEY = b"k" * 64


@pytest.fixture(params=["sqlite", "postgresql"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    url = f"sqlite:///{tmp_path / 'a.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    store = Store(url)
    with store.engine.begin() as c:
        _drop_guard(c)  # start clean even on the shared PostgreSQL test database
        c.execute(text("DELETE FROM audit_log"))
        _add_guard(c)
    audit = AuditLog(store, KEY)
    for i in range(6):
        audit.record(at=T0 + timedelta(minutes=i), actor="alice", kind="planned", subject=f"run {i}",
                     payload={"n": i, "note": "磁盘清理"})
    yield audit
    store.close()


def _drop_guard(c: Connection) -> None:
    """What an attacker with database access does first."""
    if c.dialect.name == "sqlite":
        c.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        c.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
    else:
        c.execute(text("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"))


def _add_guard(c: Connection) -> None:
    if c.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            c.execute(text(f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                           "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"))
    else:
        c.execute(text("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"))
        c.execute(text("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                       "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"))


def tamper(audit: AuditLog, *sql: str) -> None:
    with audit.store.engine.begin() as c:
        _drop_guard(c)
        for stmt in sql:
            c.execute(text(stmt))


def test_clean_log_verifies(log: AuditLog, tmp_path: Path) -> None:
    verdict = log.verify()
    assert verdict.ok and verdict.entries == 6
    cp = tmp_path / "checkpoint.json"
    log.export_checkpoint(cp)
    assert log.verify(cp).ok


def test_database_refuses_update_and_delete(log: AuditLog) -> None:
    with pytest.raises(DatabaseError), log.store.engine.begin() as c:
        c.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
    with pytest.raises(DatabaseError), log.store.engine.begin() as c:
        c.execute(text("DELETE FROM audit_log WHERE seq = 2"))


def test_flipped_byte_detected(log: AuditLog) -> None:
    tamper(log, "UPDATE audit_log SET actor = 'alicf' WHERE seq = 3")
    verdict = log.verify()
    assert not verdict.ok
    assert [p.seq for p in verdict.problems] == [3]
    assert "modified" in verdict.problems[0].what


def test_deleted_entry_detected(log: AuditLog) -> None:
    tamper(log, "DELETE FROM audit_log WHERE seq = 4")
    verdict = log.verify()
    assert not verdict.ok and {p.seq for p in verdict.problems} == {5}


def test_deleted_tail_detected_by_checkpoint(log: AuditLog, tmp_path: Path) -> None:
    cp = tmp_path / "checkpoint.json"
    log.export_checkpoint(cp)
    tamper(log, "DELETE FROM audit_log WHERE seq = 6")
    assert log.verify().ok  # a chain alone cannot see a cut tail …
    assert not log.verify(cp).ok  # … the checkpoint kept elsewhere can


def test_inserted_entry_detected(log: AuditLog) -> None:
    # a forger who knows the scheme but not the key: correct hash, chain relinked, bad signature
    rows = log.entries()
    prev = rows[-1].hash
    digest = entry_hash(7, T0, "mallory", "approve", "run 9", {}, prev)
    tamper(log, "INSERT INTO audit_log (seq, at, actor, kind, subject, payload, prev_hash, hash, signature) "
                f"VALUES (7, '{T0.replace(tzinfo=None).isoformat(sep=' ')}', 'mallory', 'approve', 'run 9', '{{}}', "
                f"'{prev}', '{digest}', '{'0' * 64}')")
    verdict = log.verify()
    assert not verdict.ok and any("signature" in p.what for p in verdict.problems if p.seq == 7)


def test_reordered_entries_detected(log: AuditLog) -> None:
    tamper(log,
           "UPDATE audit_log SET seq = 100 WHERE seq = 2",
           "UPDATE audit_log SET seq = 2 WHERE seq = 3",
           "UPDATE audit_log SET seq = 3 WHERE seq = 100")
    verdict = log.verify()
    assert not verdict.ok and {2, 3} <= {p.seq for p in verdict.problems}


# -- anchors: signed checkpoints outside the database, the key apart ----------------------------------

@pytest.fixture
def anchored(log: AuditLog, tmp_path: Path) -> AuditLog:
    """The same six entries, re-recorded through a log that anchors each committed entry in a file."""
    anchor = Anchor(tmp_path / "keys" / "audit.anchor.jsonl", KEY)
    audit = AuditLog(log.store, KEY, anchor)
    for i in range(6, 10):
        audit.record(at=T0 + timedelta(minutes=i), actor="bob", kind="apply_started", subject=f"run {i}", payload={})
    return audit


def test_anchored_log_verifies_and_reports_the_last_anchored_seq(anchored: AuditLog) -> None:
    verdict = anchored.verify()
    assert verdict.ok, verdict.problems
    assert verdict.entries == 10 and verdict.anchored_seq == 10
    assert anchored.anchor is not None and oct(anchored.anchor.path.stat().st_mode & 0o777) == "0o600"


def test_truncated_tail_detected_by_the_anchor(anchored: AuditLog) -> None:
    tamper(anchored, "DELETE FROM audit_log WHERE seq >= 8")
    verdict = anchored.verify()
    assert not verdict.ok and verdict.anchored_seq == 10
    assert any(p.seq == 10 and "truncated" in p.what for p in verdict.problems)


def test_every_row_deleted_detected_by_the_anchor(anchored: AuditLog) -> None:
    tamper(anchored, "DELETE FROM audit_log")
    verdict = anchored.verify()
    assert not verdict.ok and verdict.entries == 0
    assert {p.seq for p in verdict.problems} >= {7, 8, 9, 10}


def _rebuild_chain(audit: AuditLog, key: bytes) -> None:
    """A stolen database, one entry edited, every hash and signature recomputed and written back."""
    prev = GENESIS
    statements = []
    for row in audit.entries():
        actor = "mallory" if row.seq == 8 else row.actor
        digest = entry_hash(row.seq, row.at, actor, row.kind, row.subject, row.payload, prev)
        sig = hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()
        statements.append(f"UPDATE audit_log SET actor = '{actor}', prev_hash = '{prev}', hash = '{digest}', "
                          f"signature = '{sig}' WHERE seq = {row.seq}")
        prev = digest
    tamper(audit, *statements)


@pytest.mark.parametrize("stolen_key", [False, True], ids=["own-key", "stolen-key"])
def test_whole_chain_re_signed_is_detected(anchored: AuditLog, stolen_key: bool) -> None:
    _rebuild_chain(anchored, KEY if stolen_key else b"m" * 64)
    verdict = anchored.verify()
    assert not verdict.ok
    assert any("re-signed" in p.what or "rewritten" in p.what for p in verdict.problems)
    if stolen_key:  # with the key itself stolen the chain is perfect: only the anchor knows
        assert all("anchor" in p.what for p in verdict.problems)
    else:
        assert any("signature invalid" in p.what for p in verdict.problems)


def test_forged_anchor_line_is_refused(anchored: AuditLog) -> None:
    assert anchored.anchor is not None
    with anchored.anchor.path.open("a") as fh:
        fh.write(json.dumps({"seq": 99, "hash": "0" * 64, "at": "2026-01-01T00:00:00+00:00", "signature": "0" * 64})
                 + "\n")
    verdict = anchored.verify()
    assert not verdict.ok and any("forged checkpoint" in p.what for p in verdict.problems)


def test_key_lives_apart_from_the_data_and_must_be_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEADYOPS_AUDIT_KEY", raising=False)
    data = tmp_path / "data"
    data.mkdir()
    (data / "audit.key").write_text("legacy-" + "x" * 40)  # an older version kept it beside the database
    key = load_key(data)
    assert key == ("legacy-" + "x" * 40).encode()
    moved = tmp_path / "data-keys" / "audit.key"
    assert moved.exists() and not (data / "audit.key").exists()
    assert oct(moved.parent.stat().st_mode & 0o777) == "0o700"
    moved.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_key(data)
