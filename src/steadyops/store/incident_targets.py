"""Each incident's targets: one ``incident_targets`` row per (incident, target), in the order they joined.

Why rows (since 0014_i13t) and not the JSON list the incident's row used to carry: in a storm on
distinct instances one incident collects tens of thousands of targets, and every ingestion batch
that added one read, re-serialised and rewrote the whole list. Here a batch inserts only its new
targets (``INSERT … ON CONFLICT DO NOTHING``, in the intake's fast-insert style) and asks the
database only about the targets its alerts name (:class:`TargetIndex`), so its cost follows its own
size, not the incident's.

Readers get lists in joining order (:func:`of`, :func:`by_incident`); "which incidents name this
target" is one index lookup (:func:`holding`) instead of reading every incident's list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from steadyops.store.alerts import _pg_time, _sql_time, pg_insert_rows
from steadyops.store.db import one_of
from steadyops.store.tables import IncidentRow, IncidentTargetRow

TARGETS: Table = IncidentTargetRow.__table__  # type: ignore[assignment]
INCIDENTS: Table = IncidentRow.__table__  # type: ignore[assignment]

RESOLVED = "resolved"
_CHUNK = 500
#: rows per SQLite INSERT (4 parameters each: under the 999 older SQLite builds allow)
_SQLITE_ROWS = 200
_PG_COLUMNS = (("incident_id", "bigint"), ("target", "text"), ("position", "integer"), ("first_seen_at", "timestamp"))
_PG_TAIL = "ON CONFLICT DO NOTHING RETURNING incident_id"
#: PostgreSQL: the rows inserted, counted per incident, move the incidents' counts in the same statement
_PG_COUNT = ("WITH added AS ({}), per AS (SELECT incident_id, count(*) AS n FROM added GROUP BY incident_id) "
             "UPDATE incidents SET target_count = incidents.target_count + per.n FROM per "
             "WHERE incidents.id = per.incident_id RETURNING incidents.id, incidents.target_count, per.n")


def of(session: Session, incident_id: int) -> list[str]:
    """One incident's targets, in the order they joined it."""
    return by_incident(session, [incident_id]).get(incident_id, [])


def by_incident(session: Session, ids: Iterable[int], first: int | None = None) -> dict[int, list[str]]:
    """The targets of each of ``ids`` in joining order (one select per 500 incidents); ``[]`` for none.
    ``first``: only those among the first ``first`` to join (a list shows a few; a storm's incident has
    tens of thousands, and ``incidents.target_count`` says how many)."""
    wanted = sorted(set(ids))
    found: dict[int, list[str]] = {i: [] for i in wanted}
    c = TARGETS.c
    dialect = session.get_bind().dialect.name
    for start in range(0, len(wanted), _CHUNK):
        stmt = (select(c.incident_id, c.target).where(one_of(c.incident_id, wanted[start:start + _CHUNK], dialect))
                .order_by(c.incident_id, c.position, c.target))
        if first is not None:
            stmt = stmt.where(c.position < first)
        for incident_id, target in session.execute(stmt):
            found[incident_id].append(target)
    return found


def holding(session: Session, targets: Iterable[str], *, among: Collection[int] | None = None,
            open_only: bool = False) -> dict[str, set[int]]:
    """target -> ids of the incidents that have it (only those in ``among`` when given; only the
    incidents not resolved with ``open_only``), through ``ix_incident_targets_target``."""
    wanted = sorted({t for t in targets if t})
    found: dict[str, set[int]] = {}
    if not wanted or (among is not None and not among):
        return found
    c = TARGETS.c
    dialect = session.get_bind().dialect.name
    for start in range(0, len(wanted), _CHUNK):
        stmt = select(c.target, c.incident_id).where(one_of(c.target, wanted[start:start + _CHUNK], dialect))
        if among is not None:
            stmt = stmt.where(one_of(c.incident_id, sorted(among), dialect))
        if open_only:
            stmt = stmt.join(INCIDENTS, INCIDENTS.c.id == c.incident_id).where(INCIDENTS.c.status != RESOLVED)
        for target, incident_id in session.execute(stmt):
            found.setdefault(target, set()).add(incident_id)
    return found


def add(session: Session, incident: IncidentRow, targets: Sequence[str], at: datetime) -> int:
    """Give ``incident`` these targets (those it has already are left as they are); how many were new.
    For code outside the pipeline's batches (tests, tools); the pipeline goes through :class:`TargetIndex`."""
    return _insert(session, {incident.id: (incident, list(dict.fromkeys(t for t in targets if t)))}, at)


class TargetIndex:
    """Which incidents have which targets, for the targets one unit of work asks about, and the
    targets it gives them (written by :meth:`save`).

    Why not each incident's whole list: convergence asks "which open incident has a target near this
    alert's", a question about the batch's own targets. :meth:`holders` answers it from the open
    incidents, a target at a time or many at once (:meth:`probe`: one select per 500), with what this
    unit of work gave them (a resolved incident that reopens comes in through :meth:`adopt`); an
    unprobed target is probed when first asked about, so an answer is never a guess.

    Giving an incident a target (:meth:`add`) asks nothing: in a storm nearly every target an
    incident is given is new, and ``ON CONFLICT DO NOTHING`` at :meth:`save` drops the others in the
    same index lookup a question would have cost."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._probed: set[str] = set()
        #: target -> ids of the incidents known to have it (complete for the open ones once probed)
        self._holders: dict[str, set[int]] = {}
        #: incident id -> (its row, the targets to insert for it, in joining order)
        self._pending: dict[int, tuple[IncidentRow, list[str]]] = {}

    def probe(self, targets: Iterable[str]) -> None:
        """Learn which open incidents have each of ``targets`` (one select per 500 not asked before)."""
        missing = {t for t in targets if t and t not in self._probed}
        if not missing:
            return
        for target, ids in holding(self.session, missing, open_only=True).items():
            self._holders.setdefault(target, set()).update(ids)
        self._probed |= missing

    def holders(self, target: str) -> set[int]:
        """Ids of the open incidents (and those this unit of work adopted or gave it to) that have ``target``."""
        if target not in self._probed:
            self.probe((target,))
        return self._holders.get(target, set())

    def holds(self, incident_id: int, target: str) -> bool:
        return incident_id in self.holders(target)

    def adopt(self, incident_id: int) -> None:
        """An incident that was resolved when the targets were probed and is open again (reopened)."""
        for target in of(self.session, incident_id):
            self._holders.setdefault(target, set()).add(incident_id)

    def add(self, incident: IncidentRow, target: str) -> None:
        """Give ``incident`` the target (at :meth:`save`; nothing if it is known to have it, and the
        insert drops it if it had it unknown to us). Runs for every alert of a storm: kept lean."""
        if not target:
            return
        incident_id = incident.id
        holders = self._holders.get(target)
        if holders is None:
            self._holders[target] = {incident_id}
        elif incident_id in holders:
            return
        else:
            holders.add(incident_id)
        pending = self._pending.get(incident_id)
        if pending is None:
            self._pending[incident_id] = (incident, [target])
        else:
            pending[1].append(target)

    def save(self, at: datetime) -> int:
        """Insert the targets added since the last save, dated ``at``; how many rows were new."""
        if not self._pending:
            return 0
        pending, self._pending = self._pending, {}
        return _insert(self.session, pending, at)


def _insert(session: Session, pending: dict[int, tuple[IncidentRow, list[str]]], at: datetime) -> int:
    """The new rows, then each incident's ``target_count`` moved by what was really inserted.

    ``position`` continues from the incident's count (a target dropped as already there leaves a gap:
    the order holds). ``ON CONFLICT DO NOTHING RETURNING`` counts the rows that were new: a target the
    incident had (from an earlier batch, or another writer meanwhile: PostgreSQL, flushes beside the
    ingestion process) is neither doubled nor counted twice. The count moves by SQL increment (two
    writers serialise on the incident's row; on PostgreSQL in the insert's own statement, one round
    trip) and the row object gets the new value without being marked dirty, so a later flush of the
    incident does not write a stale count back."""
    if not any(targets for _row, targets in pending.values()):
        return 0
    session.flush()  # the incidents first: the rows refer to them
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    when = _pg_time(at) if pg else _sql_time(at)
    rows: list[tuple[Any, ...]] = [(incident_id, target, row.target_count + n, when)
                                   for incident_id, (row, targets) in sorted(pending.items())
                                   for n, target in enumerate(targets)]
    if pg:  # one round trip: the insert, and the counts moved by what it returns
        moved = pg_insert_rows(conn, TARGETS.name, _PG_COLUMNS, rows, tail=_PG_TAIL, wrap=_PG_COUNT).all()
        totals: dict[int, int] = {int(incident_id): int(total) for incident_id, total, _n in moved}
        added = sum(int(n) for _id, _total, n in moved)
    else:
        new: Counter[int] = Counter()
        for start in range(0, len(rows), _SQLITE_ROWS):
            part = rows[start:start + _SQLITE_ROWS]
            sql = (f"INSERT INTO {TARGETS.name} (incident_id, target, position, first_seen_at) VALUES "
                   f"{', '.join(['(?, ?, ?, ?)'] * len(part))} ON CONFLICT DO NOTHING RETURNING incident_id")
            new.update(i for (i,) in conn.exec_driver_sql(sql, tuple(v for row in part for v in row)))
        totals = {}
        for incident_id, n in sorted(new.items()):  # a few incidents a batch
            totals[incident_id] = session.execute(
                update(INCIDENTS).where(INCIDENTS.c.id == incident_id).values(target_count=INCIDENTS.c.target_count + n)
                .returning(INCIDENTS.c.target_count)).scalar_one()
        added = sum(new.values())
    for incident_id, total in totals.items():
        set_committed_value(pending[incident_id][0], "target_count", total)
    return added


__all__ = ["TargetIndex", "add", "by_incident", "holding", "of"]
