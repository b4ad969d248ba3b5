"""Alert journal (persist-first intake) and the current state of each alert."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, CursorResult, Table, func, literal, select, tuple_, update
from sqlalchemy.orm import Session

from steadyops.core.models import Alert, AlertStatus
from steadyops.store import JOURNAL_CURSOR, JOURNAL_SHARD_BY, ShardBy
from steadyops.store.db import json_loads, one_of
from steadyops.store.tables import AlertEventRow, AlertRow, CursorRow, UTCDateTime

JOURNAL_CURSOR_NAME = "journal"

JOURNAL: Table = AlertEventRow.__table__  # type: ignore[assignment]

#: how many ingestion partitions the journal has. Fixed, because an event's shard is stored with it
#: (a different number would put a group's next events in another shard than its pending ones). 64
#: because it is many more than the ingesters a deployment runs (a handful: hash shards then spread
#: evenly over them) and few enough that a claim looks at every shard with work cheaply (one grouped
#: query, one try-lock per shard it takes).
SHARDS = 64


def shard_of(labels: Mapping[str, str], by: ShardBy) -> int:
    """The journal shard of an alert with ``labels``: a stable hash (crc32, the same in every process, unlike
    ``hash()``) of the values of the labels ``by`` names, sorted (``pipeline.route.Route.shard_labels``);
    every label when ``by`` is None; shard 0 when ``by`` is empty. Equal values, equal shard: every
    alert of one group, and every event of one fingerprint, lands in one shard."""
    if by is None:
        body = "\x1f".join(f"{name}\x1e{labels[name]}" for name in sorted(labels))
    elif not by:
        return 0
    elif len(by) == 1:  # the default tree groups by alertname alone: this runs for every alert at intake
        body = labels.get(by[0], "")
    else:
        body = "\x1f".join([labels.get(name, "") for name in by])
    return zlib.crc32(body.encode("utf-8", "surrogatepass")) % SHARDS


def insert_events(session: Session, alerts: Sequence[Alert], received_at: datetime) -> int:
    """Journal alerts; a re-delivery (same fingerprint, status, startsAt) is silently ignored.

    Returns how many were new. This is the intake's hot path (tens of thousands of alerts a second
    in a storm), so it is one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` per chunk,
    sent through the driver with values already in their stored form: SQLAlchemy's per-row,
    per-column bind processing cost more than the database's own work. The stored form is the one
    the ORM writes (see ``_sql_time``), so the unique key still catches a replay written by either.
    RETURNING (not rowcount) counts what was new, because drivers disagree on rowcount for ON
    CONFLICT DO NOTHING.

    Each row gets its shard (:func:`shard_of`) from the labels the store was told to shard by (the
    session's ``JOURNAL_SHARD_BY``, handed down by the composition root from the routing tree).
    """
    if not alerts:
        return 0
    journal = session.connection(bind_arguments={"mapper": AlertEventRow.__mapper__})  # may be its own file
    pg = journal.dialect.name == "postgresql"
    when = _pg_time if pg else _sql_time
    received = when(received_at)
    by: ShardBy = session.info.get(JOURNAL_SHARD_BY, ())
    rows = [
        (a.fingerprint, a.status.value, when(a.starts_at), None if a.ends_at is None else when(a.ends_at),
         _json(a.labels), _json(a.annotations), a.generator_url, a.source, received, shard_of(a.labels, by))
        for a in _unique(alerts)
    ]
    if pg:
        return len(pg_insert_rows(journal, JOURNAL.name, _JOURNAL_PG, rows, extra=("processed", "false"),
                                  tail="ON CONFLICT (fingerprint, status, starts_at) DO NOTHING RETURNING id").all())
    cols = ("fingerprint, status, starts_at, ends_at, labels, annotations, generator_url, source, received_at, shard, "
            "processed")
    one = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
    chunk = 100  # SQLite builds before 3.32 allow 999 parameters per statement
    inserted = 0
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        sql = (f"INSERT INTO {JOURNAL.name} ({cols}) VALUES {', '.join([one] * len(part))} "
               "ON CONFLICT (fingerprint, status, starts_at) DO NOTHING RETURNING id")
        inserted += len(journal.exec_driver_sql(sql, tuple(v for row in part for v in row)).all())
    return inserted


#: the journal's columns as :func:`insert_events` passes them, with their PostgreSQL types
_JOURNAL_PG = (("fingerprint", "text"), ("status", "text"), ("starts_at", "timestamp"), ("ends_at", "timestamp"),
               ("labels", "json"), ("annotations", "json"), ("generator_url", "text"), ("source", "text"),
               ("received_at", "timestamp"), ("shard", "smallint"))


def pg_insert_rows(conn: Connection, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]],
                   *, extra: tuple[str, str] | None = None, tail: str = "", wrap: str = "{}") -> CursorResult[Any]:
    """``INSERT … SELECT … FROM unnest(one array per column)`` on PostgreSQL, values in stored form.

    The statement's text is the same whatever the number of rows, so psycopg converts its placeholders
    once and keeps it; a multi-row VALUES of a thousand rows was a new 40 kB statement every time,
    scanned for placeholders in Python (the largest single cost of a pipeline batch on PostgreSQL).
    ``extra`` is one more column set to a constant SQL expression for every row; ``wrap`` a statement
    the INSERT goes into at ``{}`` (a CTE that aggregates what it RETURNS, say)."""
    names = [name for name, _type in columns]
    select_list = "*"
    if extra is not None:
        names.append(extra[0])
        select_list = f"u.*, {extra[1]}"
    arrays = ", ".join(f"%b::{sql_type}[]" for _name, sql_type in columns)  # binary: no escaping per element
    insert = f"INSERT INTO {table} ({', '.join(names)}) SELECT {select_list} FROM unnest({arrays}) AS u {tail}"
    sql = wrap.replace("{}", insert)
    values = tuple(list(column) for column in zip(*rows, strict=True)) if rows else tuple([] for _ in columns)
    return conn.exec_driver_sql(sql, values)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sql_time(t: datetime) -> str:
    """A time as SQLAlchemy's SQLite DateTime stores it (UTC, naive, microseconds always written)."""
    u = t.astimezone(UTC)
    return (f"{u.year:04d}-{u.month:02d}-{u.day:02d} {u.hour:02d}:{u.minute:02d}:{u.second:02d}"
            f".{u.microsecond:06d}")


def _pg_time(t: datetime) -> datetime:
    """A time as UTCDateTime binds it on PostgreSQL (naive UTC, ``timestamp without time zone``)."""
    return t.astimezone(UTC).replace(tzinfo=None)


def _unique(alerts: Sequence[Alert]) -> list[Alert]:
    """Drop repeats inside one request (one multi-row INSERT cannot conflict with itself)."""
    seen: dict[tuple[str, str, datetime], Alert] = {}
    for a in alerts:
        seen.setdefault(a.dedup_key, a)
    return list(seen.values())


def _cursor(session: Session, *, create: bool = False) -> CursorRow | None:
    """The pipeline's read position when the journal is a separate file (see store.Store); else None."""
    if not session.info.get(JOURNAL_CURSOR):
        return None
    row = session.get(CursorRow, JOURNAL_CURSOR_NAME)
    if row is None:
        row = CursorRow(name=JOURNAL_CURSOR_NAME, last_id=0)
        if create:
            session.add(row)
    return row


def pending_events(session: Session, limit: int) -> list[AlertEventRow]:
    """The oldest unprocessed journal rows, in arrival order."""
    cursor = _cursor(session)
    stmt = select(AlertEventRow).order_by(AlertEventRow.id).limit(limit)
    if cursor is not None:
        stmt = stmt.where(AlertEventRow.id > cursor.last_id)
    else:
        stmt = stmt.where(AlertEventRow.processed.is_(False))
    return list(session.scalars(stmt))


def pending_shards(session: Session, window: int) -> list[tuple[int, int]]:
    """(shard, pending rows) of the shards with work among the oldest ``window`` unprocessed rows, the
    shard with the oldest row first: what an ingestion batch may claim (``pipeline.ingester``).

    Bounded by ``window`` so a claim costs the same however long the backlog; a shard whose rows are
    all further back waits until the ones ahead of it are done, which is also the order they came in."""
    c = JOURNAL.c
    oldest = select(c.shard, c.id).where(c.processed.is_(False)).order_by(c.id).limit(window).subquery()
    stmt = (select(oldest.c.shard, func.count()).group_by(oldest.c.shard).order_by(func.min(oldest.c.id)))
    return [(int(shard), int(n)) for shard, n in session.execute(stmt)]


def pending_alerts(session: Session, limit: int, shards: Sequence[int] | None = None) -> list[tuple[int, Alert]]:
    """:func:`pending_events` as (journal id, Alert) pairs, read through the driver: the pipeline reads
    every journalled alert, and a row object, SQLAlchemy's result processing (two JSON columns, two
    times: SQLite's parsed with a regular expression) and a validated model per alert cost more than
    the query. Times and JSON are read back from the stored form :func:`insert_events` and the ORM
    write; the rows were validated at intake, so the Alerts are built without validating again.

    ``shards``: only those shards' rows (the ones an ingestion batch claimed), still in id order; None
    reads every shard (one ingester: SQLite, whose journal is read by cursor)."""
    cursor = _cursor(session)
    conn = session.connection(bind_arguments={"mapper": AlertEventRow.__mapper__})  # may be its own file
    pg = conn.dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    where, params = (f"id > {mark}", (cursor.last_id, limit)) if cursor is not None else ("processed = false", (limit,))
    if shards is not None:
        if cursor is not None:  # a cursor is one read position for every shard: a claim cannot skip any
            raise ValueError("a journal read by cursor is one partition; claim shards on PostgreSQL only")
        if pg:
            where, params = f"{where} AND shard = ANY({mark})", (list(shards), *params)
        else:
            where = f"{where} AND shard IN ({', '.join(str(int(s)) for s in shards) or 'NULL'})"
    sql = (f"SELECT id, fingerprint, status, starts_at, ends_at, labels, annotations, generator_url, source "
           f"FROM {JOURNAL.name} WHERE {where} ORDER BY id LIMIT {mark}")
    construct = Alert.model_construct
    statuses = {s.value: s for s in AlertStatus}
    when = _from_pg if pg else _from_sql
    rows = conn.exec_driver_sql(sql, params).all()
    return [(int(i), construct(labels=_from_json(labels), annotations=_from_json(annotations),
                               status=statuses[status], starts_at=when(starts),
                               ends_at=None if ends is None else when(ends), generator_url=url or "", source=source,
                               fingerprint=fp))
            for i, fp, status, starts, ends, labels, annotations, url, source in rows]


def _from_sql(value: str | datetime) -> datetime:
    """A time as SQLite keeps it (see :func:`_sql_time`), aware in UTC."""
    return (value if isinstance(value, datetime) else datetime.fromisoformat(value)).replace(tzinfo=UTC)


def _from_pg(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def _from_json(value: Any) -> Any:
    """A JSON column's value: SQLite gives the text, a PostgreSQL driver may have parsed it already."""
    return json_loads(value) if isinstance(value, str | bytes) else value


def mark_processed(session: Session, ids: Sequence[int]) -> None:
    """Record progress in the same transaction as the pipeline's effects."""
    if not ids:
        return
    cursor = _cursor(session, create=True)
    if cursor is not None:
        cursor.last_id = max(cursor.last_id, *ids)
    else:
        # the table, not the mapped class: no session synchronisation to evaluate for a thousand ids
        dialect = session.get_bind(AlertEventRow.__mapper__).dialect.name
        session.execute(update(JOURNAL).where(one_of(JOURNAL.c.id, ids, dialect)).values(processed=True))


def row_to_alert(row: AlertEventRow | AlertRow) -> Alert:
    """A journal row or a current-state row as the domain Alert (both carry the same columns)."""
    return Alert(
        labels=dict(row.labels),
        annotations=dict(row.annotations),
        status=AlertStatus(row.status),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        generator_url=row.generator_url,
        source=row.source,
        fingerprint=row.fingerprint,
    )



def get_alert(session: Session, fp: str) -> AlertRow | None:
    return session.get(AlertRow, fp)


def get_alerts(session: Session, fps: Sequence[str]) -> list[AlertRow]:
    if not fps:
        return []
    return list(session.scalars(select(AlertRow).where(AlertRow.fingerprint.in_(list(fps)))))


def firing_alerts(session: Session) -> list[AlertRow]:
    return list(session.scalars(select(AlertRow).where(AlertRow.status == AlertStatus.FIRING.value)))


def list_alerts(
    session: Session, *, status: str | None = None, incident_id: int | None = None, limit: int = 500,
    after: tuple[datetime, str] | None = None,
) -> list[AlertRow]:
    """Most recently updated first, ties by fingerprint; ``after`` = the (updated_at, fingerprint) of the last
    row of the previous page (keyset pagination: each page is an index range, however deep)."""
    stmt = select(AlertRow).order_by(AlertRow.updated_at.desc(), AlertRow.fingerprint.desc()).limit(limit)
    if status:
        stmt = stmt.where(AlertRow.status == status)
    if incident_id is not None:
        stmt = stmt.where(AlertRow.incident_id == incident_id)
    if after is not None:
        stmt = stmt.where(tuple_(AlertRow.updated_at, AlertRow.fingerprint) < tuple_(
            literal(after[0], UTCDateTime()), literal(after[1])))
    return list(session.scalars(stmt))


def count_events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AlertEventRow)) or 0)


def count_pending(session: Session) -> int:
    cursor = _cursor(session)
    stmt = select(func.count()).select_from(AlertEventRow)
    if cursor is not None:
        stmt = stmt.where(AlertEventRow.id > cursor.last_id)
    else:
        stmt = stmt.where(AlertEventRow.processed.is_(False))
    return int(session.scalar(stmt) or 0)


def firing_labels(session: Session) -> list[tuple[str, dict[str, str], datetime | None]]:
    """(fingerprint, labels, ends_at) of every firing alert: the inhibition sources, without a row object each."""
    c = AlertRow.__table__.c
    stmt = select(c.fingerprint, c.labels, c.ends_at).where(c.status == AlertStatus.FIRING.value)
    return [(str(fp), labels, ends) for fp, labels, ends in session.execute(stmt)]


def has_pending(session: Session) -> bool:
    """Whether any journalled event waits for the pipeline (one index probe, not a count)."""
    cursor = _cursor(session)
    c = JOURNAL.c
    stmt = select(c.id).limit(1)
    stmt = stmt.where(c.id > cursor.last_id) if cursor is not None else stmt.where(c.processed.is_(False))
    return session.execute(stmt).first() is not None
