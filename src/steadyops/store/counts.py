"""Each incident's alert and firing counts, kept on its row in the transaction that changes an alert.

Why stored: an incident list shows both counts for every incident of the page, and counting them
at read time is an aggregate over the alerts of 100 incidents per call (most of a list call's cost
at 1 M alerts). Why here, as a flush hook, rather than beside each assignment in the pipeline: an
alert joins an incident, leaves it for a new episode, resolves and fires again in several stages
(dedup, incident, flush), and a counter kept by hand at each of them drifts the first time a new
path forgets it. Every ORM change to ``AlertRow.incident_id`` or ``AlertRow.status`` goes through
this hook, in the same flush and transaction as the change itself, so a rolled-back batch rolls its
counts back too. The increments are SQL (``count = count + n``), so two writers touching the same
incident (PostgreSQL, several pipeline workers) serialise on the row instead of losing an update.

Core statements that insert or change alert rows bypass the hook: the pipeline's batch writer
(``store/alert_states.py``) applies the same deltas itself through :func:`apply_deltas`, and
:func:`recount` repairs counts after any other (the migration's backfill uses the same statement).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, event, func, inspect, select, update
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.base import NEVER_SET, NO_VALUE
from sqlalchemy.sql import ColumnElement

from steadyops.store.tables import AlertRow, IncidentRow

FIRING = "firing"

_INCIDENTS: Table = IncidentRow.__table__  # type: ignore[assignment]
_ALERTS: Table = AlertRow.__table__  # type: ignore[assignment]


def _old_and_new(row: AlertRow, attr: str) -> tuple[Any, Any]:
    """(value before this flush, value now) of one column; equal when unchanged.

    Read from the row's ``committed_state`` (the value as loaded, kept by SQLAlchemy for each changed
    column) — one dict lookup, not a history per column: a re-sent alert dirties its row on every
    delivery, so this runs for each row of every pipeline batch, at every flush of it."""
    now = getattr(row, attr)
    old = instance_state(row).committed_state.get(attr, now)
    if old is NO_VALUE or old is NEVER_SET:  # not loaded before the change (active_history prevents it)
        history = inspect(row).attrs[attr].history
        old = history.deleted[0] if history.deleted else None
    return old, now


def _deltas(session: Session) -> dict[int, list[int]]:
    """incident id -> [alerts, firing] change carried by this flush's new, changed and deleted alerts."""
    deltas: dict[int, list[int]] = {}

    def add(incident_id: int | None, status: str | None, sign: int) -> None:
        if incident_id is None:
            return
        d = deltas.setdefault(incident_id, [0, 0])
        d[0] += sign
        d[1] += sign if status == FIRING else 0

    for obj in session.new:
        if isinstance(obj, AlertRow):
            add(obj.incident_id, obj.status, +1)
    for obj in session.dirty:
        if isinstance(obj, AlertRow):
            old_incident, new_incident = _old_and_new(obj, "incident_id")
            old_status, new_status = _old_and_new(obj, "status")
            if (old_incident, old_status) != (new_incident, new_status):
                add(old_incident, old_status, -1)
                add(new_incident, new_status, +1)
    for obj in session.deleted:
        if isinstance(obj, AlertRow):
            old_incident, _ = _old_and_new(obj, "incident_id")
            old_status, _ = _old_and_new(obj, "status")
            add(old_incident, old_status, -1)
    return {i: d for i, d in deltas.items() if d != [0, 0]}


@event.listens_for(Session, "before_flush")
def _keep_counts(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    """Apply this flush's alert moves to the incidents' stored counts (see the module docstring)."""
    apply_deltas(session, _deltas(session))


def apply_deltas(session: Session, deltas: dict[int, list[int]]) -> None:
    """Add ``{incident id: [alerts, firing]}`` to the stored counts, as SQL increments. Also called by
    the pipeline's batch writer (``store/alert_states.py``), which writes alerts with Core statements
    and computes the same deltas from each alert's saved and current (incident, status)."""
    moves = [{"incident": i, "alerts": a, "firing": f} for i, (a, f) in sorted(deltas.items()) if a or f]
    if not moves:
        return
    # one executemany, in a fixed order (incident id): no lock-order deadlocks between writers
    session.execute(update(_INCIDENTS).where(_INCIDENTS.c.id == bindparam("incident")).values(
        alert_count=_INCIDENTS.c.alert_count + bindparam("alerts"),
        firing_count=_INCIDENTS.c.firing_count + bindparam("firing")), moves)
    for move in moves:
        loaded = session.identity_map.get(session.identity_key(IncidentRow, move["incident"]))
        if loaded is not None and not inspect(loaded).pending:
            session.expire(loaded, ["alert_count", "firing_count"])  # the next read sees the new counts


def _count(where: ColumnElement[bool]) -> Any:
    return select(func.count()).select_from(_ALERTS).where(_ALERTS.c.incident_id == _INCIDENTS.c.id, where) \
        .scalar_subquery()


def recount(session: Session, ids: Sequence[int] | None = None) -> None:
    """Recompute stored counts from the alerts (all incidents, or ``ids``): after Core bulk writes, or
    as the migration's backfill. One UPDATE with correlated counts over the (incident_id, status) index."""
    stmt = update(_INCIDENTS).values(alert_count=_count(_ALERTS.c.incident_id.is_not(None)),
                                     firing_count=_count(_ALERTS.c.status == FIRING))
    if ids is not None:
        stmt = stmt.where(_INCIDENTS.c.id.in_(list(ids)))
    session.execute(stmt)


def drifted(session: Session) -> list[tuple[int, int, int, int, int]]:
    """(id, stored alerts, counted alerts, stored firing, counted firing) for every incident whose stored
    counts disagree with its alerts; empty when all agree (what the tests assert after every kind of move)."""
    counted = (select(_ALERTS.c.incident_id, func.count().label("n"),
                      func.count().filter(_ALERTS.c.status == FIRING).label("f"))
               .where(_ALERTS.c.incident_id.is_not(None)).group_by(_ALERTS.c.incident_id).subquery())
    n, f = func.coalesce(counted.c.n, 0), func.coalesce(counted.c.f, 0)
    stmt = (select(_INCIDENTS.c.id, _INCIDENTS.c.alert_count, n, _INCIDENTS.c.firing_count, f)
            .select_from(_INCIDENTS.outerjoin(counted, counted.c.incident_id == _INCIDENTS.c.id))
            .where((_INCIDENTS.c.alert_count != n) | (_INCIDENTS.c.firing_count != f)).order_by(_INCIDENTS.c.id))
    return [(int(a), int(b), int(c), int(d), int(e)) for a, b, c, d, e in session.execute(stmt)]


__all__ = ["apply_deltas", "drifted", "recount"]
