"""Tamper tests: flip a byte, delete, insert, reorder — each detected; a clean log verifies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DatabaseError

from steadyops.remediation.audit import AuditLog, entry_hash
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
