"""Read-only PostgreSQL snapshots (also agent tools): sessions, lock waits, key settings.

Failures come back as data (``ok: false`` + layer) because "too many clients already" is exactly
what an agent diagnosing an outage needs to read.
"""

from __future__ import annotations

from typing import Any, ClassVar

import psycopg

from steadyops.contracts.collectors import Collector
from steadyops.core.inventory import Target
from steadyops.core.models import Snapshot, utcnow
from steadyops.integrations.postgres.base import TARGET_KIND, Row, connect, databases, describe_error, rows
from steadyops.integrations.postgres.checks import WAITERS

SETTINGS = ("max_connections", "superuser_reserved_connections", "shared_buffers", "work_mem",
            "statement_timeout", "idle_in_transaction_session_timeout", "lock_timeout", "deadlock_timeout",
            "autovacuum", "autovacuum_freeze_max_age", "max_wal_size", "wal_level", "max_wal_senders",
            "hot_standby", "synchronous_standby_names")
ACTIVITY = """
SELECT pid, usename, datname, application_name, host(client_addr) AS client, state, wait_event_type, wait_event,
       round(EXTRACT(EPOCH FROM now() - xact_start)::numeric, 1)::float8 AS xact_s,
       round(EXTRACT(EPOCH FROM now() - query_start)::numeric, 1)::float8 AS query_s, left(query, 200) AS query
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'
  AND (%(dbs)s::text[] IS NULL OR datname = ANY(%(dbs)s::text[]))
ORDER BY xact_start NULLS LAST LIMIT 30
"""


class _PgCollector(Collector):
    target_kind: ClassVar[str] = TARGET_KIND

    async def collect(self, target: Target) -> Snapshot:
        try:
            async with connect(target) as conn:
                data: dict[str, Any] = {"ok": True, **await self.gather(target, conn)}
        except Exception as exc:
            failure = describe_error(exc, target)
            if failure is None:
                raise
            data = {"ok": False, "layer": failure.layer, "error": failure.what}
        return Snapshot(collector=self.name, target=target.name, data=data, collected_at=utcnow())

    async def gather(self, target: Target, conn: psycopg.AsyncConnection[Row]) -> dict[str, Any]:
        raise NotImplementedError


class ActivityCollector(_PgCollector):
    name: ClassVar[str] = "postgres.activity"
    description: ClassVar[str] = ("PostgreSQL non-idle client sessions, oldest transaction first: user, database, "
                                  "application, state, wait event, transaction and query age, statement (trimmed)")

    async def gather(self, target: Target, conn: psycopg.AsyncConnection[Row]) -> dict[str, Any]:
        return {"sessions": await rows(conn, ACTIVITY, {"dbs": databases(target)})}


class LocksCollector(_PgCollector):
    name: ClassVar[str] = "postgres.locks"
    description: ClassVar[str] = ("PostgreSQL sessions waiting for a lock: lock type, mode, relation, the pids "
                                  "blocking them, wait seconds, statement")

    async def gather(self, target: Target, conn: psycopg.AsyncConnection[Row]) -> dict[str, Any]:
        waiting = await rows(conn, WAITERS, {"dbs": databases(target)})
        return {"waiting": [{**r, "blockers": list(r["blockers"] or [])} for r in waiting]}


class SettingsCollector(_PgCollector):
    name: ClassVar[str] = "postgres.settings"
    description: ClassVar[str] = ("PostgreSQL settings that bound connections, timeouts, vacuum and replication "
                                  "(max_connections, idle_in_transaction_session_timeout, wal_level …), version")

    async def gather(self, target: Target, conn: psycopg.AsyncConnection[Row]) -> dict[str, Any]:
        found = await rows(conn, "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%(n)s::text[])",
                           {"n": list(SETTINGS)})
        (version,) = await rows(conn, "SELECT version() AS v, pg_is_in_recovery() AS standby")
        return {"version": version["v"], "standby": version["standby"],
                "settings": {r["name"]: f"{r['setting']}{r['unit'] or ''}" for r in found}}


COLLECTORS: tuple[type[_PgCollector], ...] = (ActivityCollector, LocksCollector, SettingsCollector)
