"""The alerts' current state as the pipeline works on it: plain records, read and written per batch.

Why not ORM rows: a storm puts a thousand alerts in every pipeline batch, and an ORM object per
alert (construction, an attribute event per assignment, the unit of work's per-object flush, the
count hook walking every dirty row) cost several times the database's own work. Here a batch reads
its alerts with one select per 500 fingerprints, changes plain attributes, and :func:`save` writes
what changed since the read: one executemany INSERT for new alerts, one executemany UPDATE for the
others, and the incidents' stored counts moved by the same deltas the ORM hook would have applied
(:func:`steadyops.store.counts.apply_deltas`). Everything goes through the caller's session, in its
transaction: a batch that fails rolls back whole.

Values are never changed in place (``muted_by``, ``annotations`` are reassigned), which is what lets
:func:`save` tell a changed alert from an unchanged one by comparing with the snapshot it took.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from steadyops.store import counts
from steadyops.store.alerts import _json, _pg_time, _sql_time, pg_insert_rows
from steadyops.store.db import one_of
from steadyops.store.tables import AlertRow, GroupAlertRow

ALERTS: Table = AlertRow.__table__  # type: ignore[assignment]
MEMBERS: Table = GroupAlertRow.__table__  # type: ignore[assignment]

FIRING = "firing"
#: the columns the pipeline may change (labels, source and the fingerprint never change)
_MUTABLE = ("annotations", "status", "starts_at", "ends_at", "generator_url", "updated_at", "muted_by",
            "incident_id")
_CHUNK = 500


class AlertState:
    """One alert's current state (the ``alerts`` row), with a snapshot of what the database holds."""

    __slots__ = ("annotations", "ends_at", "fingerprint", "generator_url", "incident_id", "labels", "muted_by",
                 "saved", "source", "starts_at", "status", "updated_at")

    def __init__(self, *, fingerprint: str, labels: dict[str, Any], annotations: dict[str, Any], status: str,
                 starts_at: datetime, ends_at: datetime | None, generator_url: str, source: str,
                 updated_at: datetime, muted_by: list[Any], incident_id: int | None, stored: bool) -> None:
        self.fingerprint = fingerprint
        self.labels = labels
        self.annotations = annotations
        self.status = status
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.generator_url = generator_url
        self.source = source
        self.updated_at = updated_at
        self.muted_by = muted_by
        self.incident_id = incident_id
        #: the mutable columns as the database holds them; None while the alert is not stored yet
        self.saved: tuple[Any, ...] | None = self._values() if stored else None

    @property
    def saved_incident_id(self) -> int | None:
        """The incident the database has this alert in (None while not stored): the one its count leaves."""
        if self.saved is None:
            return None
        incident: int | None = self.saved[7]
        return incident

    def _values(self) -> tuple[Any, ...]:
        return (self.annotations, self.status, self.starts_at, self.ends_at, self.generator_url, self.updated_at,
                self.muted_by, self.incident_id)


def load(session: Session, fingerprints: Sequence[str]) -> list[AlertState]:
    """The stored alerts among ``fingerprints`` (one select per 500)."""
    found: list[AlertState] = []
    c = ALERTS.c
    dialect = session.get_bind().dialect.name
    for start in range(0, len(fingerprints), _CHUNK):
        stmt = select(c.fingerprint, c.labels, c.annotations, c.status, c.starts_at, c.ends_at, c.generator_url,
                      c.source, c.updated_at, c.muted_by, c.incident_id).where(
            one_of(c.fingerprint, fingerprints[start:start + _CHUNK], dialect))
        for fp, labels, notes, status, starts, ends, url, source, updated, muted, incident in \
                session.execute(stmt).all():
            found.append(AlertState(fingerprint=fp, labels=labels, annotations=notes, status=status,
                                    starts_at=starts, ends_at=ends, generator_url=url or "", source=source,
                                    updated_at=updated, muted_by=list(muted or []), incident_id=incident,
                                    stored=True))
    return found


def save(session: Session, states: Iterable[AlertState]) -> int:
    """Write every state that changed since it was read or last saved; returns how many were written."""
    new: list[AlertState] = []
    changed: list[dict[str, Any]] = []
    deltas: dict[int, list[int]] = {}

    def move(incident_id: int | None, status: str, sign: int) -> None:
        if incident_id is not None:
            d = deltas.setdefault(incident_id, [0, 0])
            d[0] += sign
            d[1] += sign if status == FIRING else 0

    for state in states:
        values = state._values()
        saved = state.saved
        if saved == values:
            continue
        if saved is None:
            new.append(state)
            move(state.incident_id, state.status, +1)
        else:
            changed.append({"fp": state.fingerprint, **{f"new_{k}": v for k, v in zip(_MUTABLE, values, strict=True)}})
            if (saved[7], saved[1]) != (state.incident_id, state.status):
                move(saved[7], saved[1], -1)
                move(state.incident_id, state.status, +1)
        state.saved = values
    if new:
        _insert(session, new)
    if changed:
        session.execute(update(ALERTS).where(ALERTS.c.fingerprint == bindparam("fp"))
                        .values({name: bindparam(f"new_{name}") for name in _MUTABLE}), changed)
    counts.apply_deltas(session, {i: d for i, d in deltas.items() if d != [0, 0]})
    return len(new) + len(changed)


#: the alerts' columns as :func:`_insert` passes them, with their PostgreSQL types
_ALERTS_PG = (("fingerprint", "text"), ("labels", "json"), ("annotations", "json"), ("status", "text"),
              ("starts_at", "timestamp"), ("ends_at", "timestamp"), ("generator_url", "text"), ("source", "text"),
              ("updated_at", "timestamp"), ("muted_by", "json"), ("incident_id", "bigint"))


def _insert(session: Session, states: Sequence[AlertState]) -> None:
    """New alerts through the driver, with values in the form the ORM stores them (``alerts._sql_time``
    and ``_pg_time``, the journal intake's): SQLAlchemy's bind processing per row and column (three
    JSON encodings, three datetime conversions) cost more than SQLite's own work for the row. SQLite
    gets one prepared statement stepped per row, PostgreSQL one INSERT from arrays (``pg_insert_rows``)."""
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    when = _pg_time if pg else _sql_time
    rows = [(s.fingerprint, _json(s.labels), _json(s.annotations), s.status, when(s.starts_at),
             None if s.ends_at is None else when(s.ends_at), s.generator_url, s.source, when(s.updated_at),
             _json(s.muted_by), s.incident_id) for s in states]
    if pg:
        pg_insert_rows(conn, ALERTS.name, _ALERTS_PG, rows)
        return
    conn.exec_driver_sql(f"INSERT INTO {ALERTS.name} ({', '.join(name for name, _t in _ALERTS_PG)}) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def add_members(session: Session, members: Sequence[tuple[str, str]]) -> None:
    """Insert (group key, fingerprint) memberships; one that exists already is left as it is.

    ``ON CONFLICT DO NOTHING`` instead of looking the batch's pairs up first: in a storm nearly every
    pair is new, and the lookup was a query per 400 pairs that found nothing."""
    rows = sorted(set(members))
    if _dialect(session) != "postgresql":
        session.execute(sqlite_insert(MEMBERS).on_conflict_do_nothing(),
                        [{"group_key": k, "fingerprint": fp} for k, fp in rows])
        return
    # PostgreSQL: one statement through the driver (an executemany is a statement per row there)
    pg_insert_rows(session.connection(), MEMBERS.name, (("group_key", "text"), ("fingerprint", "text")), rows,
                   tail="ON CONFLICT DO NOTHING")


def _dialect(session: Session) -> str:
    return session.get_bind(clause=ALERTS.insert()).dialect.name


__all__ = ["AlertState", "add_members", "load", "save"]
