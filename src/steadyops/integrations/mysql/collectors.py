"""Read-only MySQL / MariaDB snapshots (also agent tools): key status and variables, the busy part
of the processlist, replication channels. Failures come back as data (``ok: false`` + layer).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pymysql.cursors

from steadyops.contracts.collectors import Collector
from steadyops.core.inventory import Target
from steadyops.core.models import Snapshot, utcnow
from steadyops.integrations.mysql.base import TARGET_KIND
from steadyops.integrations.mysql.checks import ReplicationCheck
from steadyops.integrations.mysql.client import ask, describe_error, status_vars, variables
from steadyops.integrations.mysql.parse import replica_state

STATUS = ("Uptime", "Threads_connected", "Threads_running", "Max_used_connections", "Questions", "Slow_queries",
          "Aborted_connects", "Aborted_clients", "Connection_errors_max_connections", "Innodb_deadlocks",
          "Innodb_row_lock_waits", "Innodb_row_lock_current_waits", "Innodb_buffer_pool_wait_free",
          "Created_tmp_disk_tables", "Open_files", "Opened_tables")
VARIABLES = ("version", "max_connections", "max_user_connections", "long_query_time", "slow_query_log",
             "innodb_buffer_pool_size", "innodb_lock_wait_timeout", "wait_timeout", "read_only", "server_id",
             "max_connect_errors", "open_files_limit", "table_open_cache")
PROCESSLIST_LIMIT = 30


class _MysqlCollector(Collector):
    target_kind: ClassVar[str] = TARGET_KIND

    def ask(self, cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
        raise NotImplementedError

    async def collect(self, target: Target) -> Snapshot:
        try:
            data: dict[str, Any] = {"ok": True, **await ask(target, self.ask)}
        except Exception as exc:
            failure = describe_error(exc, target)
            if failure is None:
                raise
            data = {"ok": False, "layer": failure.layer, "error": failure.what}
        return Snapshot(collector=self.name, target=target.name, data=data, collected_at=utcnow())


def _status(cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
    return {"status": status_vars(cur, STATUS), "variables": variables(cur, VARIABLES)}


def _processlist(cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
    cur.execute("SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, LEFT(INFO, 200) AS INFO "
                "FROM information_schema.PROCESSLIST WHERE COMMAND <> 'Sleep' AND ID <> CONNECTION_ID() "
                "ORDER BY TIME DESC LIMIT %s",
                (PROCESSLIST_LIMIT,))
    rows = [{k.lower(): v for k, v in r.items()} for r in cur.fetchall()]
    cur.execute("SELECT COUNT(*) AS n, SUM(COMMAND = 'Sleep') AS sleeping FROM information_schema.PROCESSLIST")
    totals = cur.fetchone() or {}
    return {"busy": rows, "total": int(totals.get("n") or 0), "sleeping": int(totals.get("sleeping") or 0)}


def _replication(cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
    answer = ReplicationCheck().question(cur)
    return {"query": answer["query"], "channels": [vars(replica_state(r)) for r in answer["rows"]]}


class StatusCollector(_MysqlCollector):
    name: ClassVar[str] = "mysql.status"
    description: ClassVar[str] = ("MySQL/MariaDB key global status counters (connections, slow queries, aborted "
                                  "connects, deadlocks, row lock waits) and variables (limits, timeouts, read_only)")

    def ask(self, cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
        return _status(cur)


class ProcesslistCollector(_MysqlCollector):
    name: ClassVar[str] = "mysql.processlist"
    description: ClassVar[str] = ("MySQL/MariaDB non-sleeping threads, longest first: user, host, db, command, "
                                  "seconds, state and the statement (first 200 characters)")

    def ask(self, cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
        return _processlist(cur)


class ReplicationCollector(_MysqlCollector):
    name: ClassVar[str] = "mysql.replica_status"
    description: ClassVar[str] = ("MySQL/MariaDB replication channels: source, IO and SQL thread state, seconds "
                                  "behind, last IO / SQL error")

    def ask(self, cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
        return _replication(cur)


COLLECTORS: tuple[type[_MysqlCollector], ...] = (StatusCollector, ProcesslistCollector, ReplicationCollector)
