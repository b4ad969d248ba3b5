"""Persistence: SQLAlchemy rows, repositories and migrations. SQLite by default, PostgreSQL by URL.

On SQLite the alert journal lives in its own file (``steadyops.journal.db`` beside the state
database). SQLite allows one writer per file, so with one file every intake request would queue
behind the pipeline's transaction; with two, intake appends to the journal while the pipeline
writes state, and the pipeline's read position is a cursor in the state database that moves in
the same transaction as its effects. Journal ids commit in order on SQLite (one writer), which is
what makes a cursor safe there. PostgreSQL has row locks and concurrent writers, so it keeps the
journal beside the state and marks rows processed instead.

Every journalled event carries its ingestion shard (``alerts.shard_of``), computed from the labels
named by ``Store(shard_by=…)``: the composition root hands down what the routing tree groups by
(``pipeline.route.Route.shard_labels``), which this layer cannot know. A store not told journals
everything in shard 0: one partition, correct, and only one ingester at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from steadyops.store import counts as _counts  # noqa: F401  (registers the incident-count flush hook)
from steadyops.store.db import make_engine, migrate
from steadyops.store.tables import AlertEventRow

#: Session.info key telling repositories that the journal is read by cursor (separate file)
JOURNAL_CURSOR = "journal_cursor"
#: Session.info key: the labels whose values decide a journalled event's shard (see ``alerts.shard_of``)
JOURNAL_SHARD_BY = "journal_shard_by"

#: the labels an event's shard is hashed from, sorted; None: every label; empty: everything in shard 0
ShardBy = tuple[str, ...] | None


def journal_url(url: str) -> str | None:
    """The journal's own SQLite URL, or None when the journal shares the main database."""
    if not url.startswith("sqlite") or url.endswith(":memory:") or "///" not in url:
        return None
    head, path = url.split("///", 1)
    stem = path[:-3] if path.endswith(".db") else path
    return f"{head}///{stem}.journal.db"


class Store:
    """Owns the engines and hands out transactions; repositories are functions over a Session."""

    def __init__(self, url: str, *, run_migrations: bool = True, shard_by: Iterable[str] | None = ()) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        if run_migrations:
            migrate(self.engine)
        jurl = journal_url(url)
        self.journal_engine: Engine = make_engine(jurl) if jurl else self.engine
        self.journal_cursor = jurl is not None
        if self.journal_cursor:
            # one table, append-only: created here rather than versioned (its one change so far, the
            # shard column, is added in place by _journal_columns)
            AlertEventRow.metadata.create_all(self.journal_engine, tables=[AlertEventRow.__table__])  # type: ignore[list-item]
            _journal_columns(self.journal_engine)
        self.shard_by: ShardBy = None if shard_by is None else tuple(sorted(set(shard_by)))
        self._sessions: sessionmaker[Session] = sessionmaker(
            self.engine, binds={AlertEventRow: self.journal_engine}, expire_on_commit=False,
            info={JOURNAL_CURSOR: self.journal_cursor, JOURNAL_SHARD_BY: self.shard_by})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any exception.

        With a separate journal file a session may touch two databases; every caller writes to at
        most one of them in a transaction, which keeps each unit of work atomic.
        """
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
        if self.journal_engine is not self.engine:
            self.journal_engine.dispose()


def _journal_columns(engine: Engine) -> None:
    """Bring a journal file written by an older version up to the table's shape: the ``shard`` column
    (migration 0012_i13p adds it to the journal inside the main database). SQLite adds a column with a
    constant default without rewriting the file; the old rows are shard 0, and a SQLite journal is read
    as one partition anyway."""
    columns = {c["name"] for c in inspect(engine).get_columns(AlertEventRow.__tablename__)}
    if "shard" not in columns:
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {AlertEventRow.__tablename__} "
                              "ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0"))


__all__ = ["JOURNAL_CURSOR", "JOURNAL_SHARD_BY", "ShardBy", "Store", "journal_url"]
