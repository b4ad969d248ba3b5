"""Persistence: SQLAlchemy rows, repositories and migrations. SQLite by default, PostgreSQL by URL.

On SQLite the alert journal lives in its own file (``steadyops.journal.db`` beside the state
database). SQLite allows one writer per file, so with one file every intake request would queue
behind the pipeline's transaction; with two, intake appends to the journal while the pipeline
writes state, and the pipeline's read position is a cursor in the state database that moves in
the same transaction as its effects. Journal ids commit in order on SQLite (one writer), which is
what makes a cursor safe there. PostgreSQL has row locks and concurrent writers, so it keeps the
journal beside the state and marks rows processed instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from steadyops.store import counts as _counts  # noqa: F401  (registers the incident-count flush hook)
from steadyops.store.db import make_engine, migrate
from steadyops.store.tables import AlertEventRow

#: Session.info key telling repositories that the journal is read by cursor (separate file)
JOURNAL_CURSOR = "journal_cursor"


def journal_url(url: str) -> str | None:
    """The journal's own SQLite URL, or None when the journal shares the main database."""
    if not url.startswith("sqlite") or url.endswith(":memory:") or "///" not in url:
        return None
    head, path = url.split("///", 1)
    stem = path[:-3] if path.endswith(".db") else path
    return f"{head}///{stem}.journal.db"


class Store:
    """Owns the engines and hands out transactions; repositories are functions over a Session."""

    def __init__(self, url: str, *, run_migrations: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        if run_migrations:
            migrate(self.engine)
        jurl = journal_url(url)
        self.journal_engine: Engine = make_engine(jurl) if jurl else self.engine
        self.journal_cursor = jurl is not None
        if self.journal_cursor:
            # one table, append-only: created here rather than versioned, it never changes shape
            AlertEventRow.metadata.create_all(self.journal_engine, tables=[AlertEventRow.__table__])  # type: ignore[list-item]
        self._sessions: sessionmaker[Session] = sessionmaker(
            self.engine, binds={AlertEventRow: self.journal_engine}, expire_on_commit=False,
            info={JOURNAL_CURSOR: self.journal_cursor})

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


__all__ = ["JOURNAL_CURSOR", "Store", "journal_url"]
