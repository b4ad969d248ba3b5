"""Engine creation and schema migration.

SQLite runs in WAL mode with a busy timeout so the intake threads and the pipeline thread can
write side by side; ``synchronous=NORMAL`` keeps every committed transaction across a process
crash (SIGKILL), which is the durability the intake promises.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import ARRAY, ColumnElement, Engine, any_, bindparam, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from steadyops.core.errors import MissingExtra

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def private_file(path: Path) -> None:
    """Create ``path`` owner-only (0600) if missing, and take group/other access away if present:
    the database holds incidents, audit entries and token hashes. SQLite gives its -wal and -shm
    files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(0o600)


def json_loads(text: str | bytes) -> Any:
    """JSON columns read with orjson (the pipeline reads every alert's labels); the stdlib parser for
    what orjson refuses and ``json.dumps`` may have written (NaN, integers beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def one_of(column: ColumnElement[Any], values: Sequence[Any], dialect: str) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(one array)``.

    The pipeline asks for thousands of ids or fingerprints at a time. An expanding IN is a new
    statement of that many placeholders every time, which psycopg scans in Python before sending
    (a batch of 5,000 alerts spent more there than in the database); the array form is one
    statement text and one parameter whatever the count."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def make_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("json_deserializer", json_loads)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            private_file(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgresql+psycopg"):
        try:
            import psycopg  # noqa: F401 - only to name the extra when it is missing
        except ImportError as exc:
            raise MissingExtra("postgres", "psycopg", "a PostgreSQL store") from exc
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to call on every start."""
    command.upgrade(alembic_config(engine), "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
