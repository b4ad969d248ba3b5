"""Append-only audit log: every entry HMAC-signed and chained to the previous entry's hash.

Why both: the chain makes any edit, deletion, insertion or reordering visible from the entries
alone; the signature (with a key only the writer holds) stops a tamperer from simply recomputing
the chain. Every committed entry is also anchored (:mod:`.anchor`: signed checkpoints outside the
database), which catches truncation of the tail, deletion of every row and a rebuilt chain, none of
which a chain can detect by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from steadyops.auth.principal import Principal
from steadyops.config.settings import AuditConfig
from steadyops.remediation.anchor import Anchor, default_key_dir, load_key
from steadyops.store import Store
from steadyops.store.tables import AuditRow

GENESIS = "0" * 64
#: the advisory lock that serialises audit appenders on PostgreSQL (any constant, this one spells "audt")
AUDIT_LOCK_KEY = 0x61756474


__all__ = ["GENESIS", "AuditLog", "Problem", "Verdict", "entry_hash", "load_key"]


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(seq: int, at: datetime, actor: str, kind: str, subject: str, payload: dict[str, Any],
               prev_hash: str) -> str:
    body = {"seq": seq, "at": at.isoformat(), "actor": actor, "kind": kind, "subject": subject,
            "payload": payload, "prev": prev_hash}
    return hashlib.sha256(_canonical(body)).hexdigest()


@dataclass(frozen=True)
class Problem:
    seq: int
    what: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    problems: list[Problem]
    head: str
    #: the newest sequence number anchored outside the database (None: no anchor configured or written)
    anchored_seq: int | None = None


class AuditLog:
    def __init__(self, store: Store, key: bytes, anchor: Anchor | None = None) -> None:
        self.store = store
        self._key = key
        self.anchor = anchor

    @classmethod
    def configured(cls, store: Store, data_dir: Path, config: AuditConfig) -> AuditLog:
        """The log as settings place it: key from its own file, anchored beside the key (or where configured)."""
        key = load_key(data_dir, config.key_file)
        where = config.anchor_file or (config.key_file.parent if config.key_file else default_key_dir(data_dir)) \
            / "audit.anchor.jsonl"
        return cls(store, key, Anchor(where, key, config.anchor_url))

    def _sign(self, digest: str) -> str:
        return hmac.new(self._key, digest.encode(), hashlib.sha256).hexdigest()

    def append(self, session: Session, *, at: datetime, actor: str, kind: str, subject: str,
               payload: dict[str, Any]) -> AuditRow:
        """Write one entry inside the caller's transaction, so the entry and the change commit together.

        On PostgreSQL several processes append (API, workers): a transaction-scoped advisory lock
        serialises appenders, so two never read the same head and fork the chain."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
        last = session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()
        seq = (last.seq + 1) if last else 1
        prev = last.hash if last else GENESIS
        payload = json.loads(json.dumps(payload, default=str))
        digest = entry_hash(seq, at, actor, kind, subject, payload, prev)
        row = AuditRow(seq=seq, at=at, actor=actor, kind=kind, subject=subject, payload=payload,
                       prev_hash=prev, hash=digest, signature=self._sign(digest))
        session.add(row)
        session.flush()
        if self.anchor is not None:  # anchored once committed; a rolled-back entry never is
            anchor, head = self.anchor, (seq, digest)
            event.listen(session, "after_commit", lambda _s: anchor.write(*head), once=True)
        return row

    def append_by(self, session: Session, principal: Principal, *, at: datetime, kind: str, subject: str,
                  payload: dict[str, Any] | None = None) -> AuditRow:
        """An entry for what an authenticated caller did: the actor is the principal, and the payload names
        the credential that proved it (``token:<key>``, ``session:<key>``, ``password``, ``local``), so a
        leaked token can be traced to every change made with it."""
        return self.append(session, at=at, actor=principal.name, kind=kind, subject=subject,
                           payload={**(payload or {}), "credential": principal.credential})

    def record_by(self, principal: Principal, **kwargs: Any) -> AuditRow:
        """:meth:`append_by` in its own transaction, for a change that is not in the database (files)."""
        with self.store.transaction() as session:
            return self.append_by(session, principal, **kwargs)

    def record(self, **kwargs: Any) -> AuditRow:
        with self.store.transaction() as session:
            return self.append(session, **kwargs)

    def entries(self) -> list[AuditRow]:
        with self.store.transaction() as session:
            return list(session.scalars(select(AuditRow).order_by(AuditRow.seq)))

    def verify(self, checkpoint: Path | None = None) -> Verdict:
        """Walk the chain; name every entry whose content, signature, position or link is wrong."""
        rows = self.entries()
        problems: list[Problem] = []
        prev = GENESIS
        expected_seq = 1
        for row in rows:
            if row.seq != expected_seq:
                what = "entries missing before this one (deleted)" if row.seq > expected_seq else "out of order"
                problems.append(Problem(row.seq, what))
            digest = entry_hash(row.seq, row.at, row.actor, row.kind, row.subject, row.payload, row.prev_hash)
            if digest != row.hash:
                problems.append(Problem(row.seq, "content modified (hash mismatch)"))
            if not hmac.compare_digest(self._sign(row.hash), row.signature):
                problems.append(Problem(row.seq, "signature invalid (entry forged or re-hashed)"))
            if row.prev_hash != prev:
                problems.append(Problem(row.seq, "chain broken: previous-hash link does not match (inserted, "
                                                 "deleted or reordered entries)"))
            prev = row.hash
            expected_seq = row.seq + 1
        if checkpoint is not None:
            problems.extend(self._check_checkpoint(checkpoint, rows))
        anchored = None
        if self.anchor is not None:
            found = self.anchor.check({r.seq: r.hash for r in rows})
            problems.extend(Problem(seq, what) for seq, what in found.problems)
            anchored = found.last_seq
        return Verdict(ok=not problems, entries=len(rows), problems=problems, head=prev, anchored_seq=anchored)

    def export_checkpoint(self, path: Path) -> dict[str, Any]:
        """Write a signed (seq, hash) of the head; keep the file somewhere the database admin cannot edit."""
        with self.store.transaction() as session:
            last = session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()
            count = int(session.scalar(select(func.count()).select_from(AuditRow)) or 0)
        body = {"seq": last.seq if last else 0, "hash": last.hash if last else GENESIS, "entries": count}
        body["signature"] = self._sign(_canonical(body).decode())
        path.write_text(json.dumps(body, indent=2))
        return body

    def _check_checkpoint(self, path: Path, rows: list[AuditRow]) -> list[Problem]:
        try:
            body = json.loads(path.read_text())
            claimed = {k: body[k] for k in ("seq", "hash", "entries")}
        except (OSError, ValueError, KeyError) as exc:
            return [Problem(0, f"checkpoint unreadable: {exc}")]
        if not hmac.compare_digest(self._sign(_canonical(claimed).decode()), str(body.get("signature", ""))):
            return [Problem(int(claimed["seq"]), "checkpoint signature invalid")]
        at_seq = next((r for r in rows if r.seq == claimed["seq"]), None)
        if claimed["seq"] and at_seq is None:
            return [Problem(int(claimed["seq"]), "entry named by the checkpoint is gone (log truncated)")]
        if at_seq is not None and at_seq.hash != claimed["hash"]:
            return [Problem(int(claimed["seq"]), "entry differs from the checkpoint")]
        return []
