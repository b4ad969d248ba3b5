"""MySQL / MariaDB checks: connect, connections vs max, slow queries, replication, deadlocks,
aborted connects. One question per class, thresholds overridable by target labels.

Target: kind ``mysql``, address ``host:port``; labels ``user`` (default ``root``; a monitoring
user needs PROCESS and REPLICATION CLIENT / SLAVE MONITOR), ``database``, ``timeout`` and the
thresholds named below; the password is a credential reference.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, ClassVar

import pymysql
import pymysql.cursors

from steadyops.contracts.checks import grade, label_bool, label_float, worst
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.mysql.base import MysqlCheck, num, values_evidence
from steadyops.integrations.mysql.client import Failure, status_vars, variables
from steadyops.integrations.mysql.parse import deadlock_digest, latest_deadlock, replica_state

OK, WARN, CRIT = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL
RB_CONN = "mysql/mysql-connections.en.md"
RB_REPL = "mysql/mysql-replication.en.md"
RB_SLOW = "mysql/mysql-slow-queries.en.md"
RB_DEADLOCK = "mysql/mysql-deadlocks.en.md"


class ConnectCheck(MysqlCheck):
    """Can a client connect and run ``SELECT 1``? Refused is a dead mysqld (process); "Too many
    connections" is exhaustion (capacity); both are CRITICAL because every application sees them."""

    name: ClassVar[str] = "mysql.connect"
    liveness: ClassVar[bool] = True
    runbook: ClassVar[str | None] = RB_CONN

    def question(self, cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
        t0 = time.monotonic()
        cur.execute("SELECT VERSION() AS v, 1 AS ok")
        row = cur.fetchone() or {}
        return {"version": str(row.get("v", "?")), "ms": round((time.monotonic() - t0) * 1000, 1)}

    def judge(self, target: Target, answer: dict[str, Any]) -> CheckResult:
        return self.result(OK, f"connected, {answer['version']}", [Evidence(source="SELECT VERSION()",
                           detail=answer["version"])], "", {"query_ms": answer["ms"]})

    def failed(self, target: Target, failure: Failure) -> CheckResult:
        if failure.answered:
            return self.result(CRIT, f"clients cannot connect to {target.address}: {failure.what}",
                               [Evidence(source=f"connect {target.address}", detail=failure.what)], failure.layer)
        return super().failed(target, failure)


class ConnectionsCheck(MysqlCheck):
    """Threads_connected vs max_connections, and connections refused for it since the last check
    (Connection_errors_max_connections): the pool is about to run dry, or already did."""

    name: ClassVar[str] = "mysql.connections"
    runbook: ClassVar[str | None] = RB_CONN

    def question(self, cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
        return {"status": status_vars(cur, ("Threads_connected", "Threads_running", "Max_used_connections",
                                            "Connection_errors_max_connections", "Uptime")),
                "vars": variables(cur, ("max_connections", "extra_max_connections"))}

    def judge(self, target: Target, answer: dict[str, Any]) -> CheckResult:
        st, var = answer["status"], answer["vars"]
        connected, limit = num(st, "Threads_connected"), num(var, "max_connections", 151)
        pct = connected / limit * 100 if limit else 0.0
        refused = self.memory.rate(target.name, "Connection_errors_max_connections",
                                num(st, "Connection_errors_max_connections"), num(st, "Uptime"))
        evidence = [values_evidence("SHOW GLOBAL STATUS", st, ("Threads_connected", "Threads_running",
                                    "Max_used_connections", "Connection_errors_max_connections")),
                    values_evidence("SHOW GLOBAL VARIABLES", var, ("max_connections", "extra_max_connections"))]
        status = grade(pct, label_float(target, "connections_warn_pct", 80),
                       label_float(target, "connections_crit_pct", 90))
        summary = f"{connected:g}/{limit:g} connections ({pct:.0f}%)"
        if refused.delta > 0 and refused.basis == "since the last check":
            status = CRIT
            summary += f"; {refused.describe('connections refused (max_connections)', per='min')}"
        elif refused.delta > 0:
            status = worst(status, WARN)
            summary += f"; {refused.delta:g} connections refused for max_connections since start"
        return self.result(status, summary, evidence, "capacity",
                           {"threads_connected": connected, "max_connections": limit, "connections_pct": round(pct, 2),
                            "refused_per_min": round(refused.per_minute, 3)})

    def failed(self, target: Target, failure: Failure) -> CheckResult:
        if failure.layer == "capacity":  # we could not get in: that IS the answer to "are connections exhausted?"
            return self.result(CRIT, f"connections exhausted: {failure.what}",
                               [Evidence(source=f"connect {target.address}", detail=failure.what)], "capacity")
        return super().failed(target, failure)


class SlowQueriesCheck(MysqlCheck):
    """Queries slower than long_query_time per minute (Slow_queries counts them even with the slow
    log off); the slow log, if on, says which."""

    name: ClassVar[str] = "mysql.slow_queries"
    runbook: ClassVar[str | None] = RB_SLOW

    def question(self, cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
        return {"status": status_vars(cur, ("Slow_queries", "Questions", "Uptime")),
                "vars": variables(cur, ("long_query_time", "slow_query_log", "slow_query_log_file"))}

    def judge(self, target: Target, answer: dict[str, Any]) -> CheckResult:
        st, var = answer["status"], answer["vars"]
        rate = self.memory.rate(target.name, "Slow_queries", num(st, "Slow_queries"), num(st, "Uptime"))
        evidence = [values_evidence("SHOW GLOBAL STATUS", st, ("Slow_queries", "Questions", "Uptime")),
                    values_evidence("SHOW GLOBAL VARIABLES", var, ("long_query_time", "slow_query_log",
                                                                   "slow_query_log_file"))]
        status = grade(rate.per_minute, label_float(target, "slow_warn_per_min", 1),
                       label_float(target, "slow_crit_per_min", 30))
        summary = rate.describe(f"queries slower than {num(var, 'long_query_time', 10):g}s", per="min")
        return self.result(status, summary, evidence, "capacity", {"slow_per_min": round(rate.per_minute, 3)})


class ReplicationCheck(MysqlCheck):
    """Replica threads running and lag: a stopped IO or SQL thread means the replica serves stale data
    and will not catch up by itself. A server that is no replica is fine unless ``expect_replica``."""

    name: ClassVar[str] = "mysql.replication"
    runbook: ClassVar[str | None] = RB_REPL

    def question(self, cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
        cur.execute("SELECT VERSION() AS v")
        mariadb = "mariadb" in str((cur.fetchone() or {}).get("v", "")).lower()
        queries = ["SHOW ALL SLAVES STATUS"] if mariadb else ["SHOW REPLICA STATUS", "SHOW SLAVE STATUS"]
        for query in queries:
            try:
                cur.execute(query)
            except pymysql.err.ProgrammingError:  # older server: no REPLICA keyword
                continue
            return {"query": query, "rows": list(cur.fetchall())}
        return {"query": queries[-1], "rows": []}

    def judge(self, target: Target, answer: dict[str, Any]) -> CheckResult:
        channels = [replica_state(row) for row in answer["rows"]]
        if not channels:
            if label_bool(target, "expect_replica", False):
                return self.result(CRIT, "not replicating, but the target is labelled expect_replica",
                                   [Evidence(source=answer["query"], detail="(empty)")], "replication")
            return self.result(OK, "not a replica", [Evidence(source=answer["query"], detail="(empty)")], "")
        warn, crit = label_float(target, "lag_warn_s", 30), label_float(target, "lag_crit_s", 300)
        statuses, notes = [], []
        for ch in channels:
            if not ch.io_ok or not ch.sql_ok:
                statuses.append(CRIT)
                why = "; ".join(e for e in (ch.last_io_error, ch.last_sql_error) if e)
                notes.append(f"{ch.describe()}" + (f" ({why})" if why else ""))
            elif ch.seconds_behind is None:
                statuses.append(WARN)
                notes.append(f"{ch.describe()}: lag unknown")
            else:
                statuses.append(grade(ch.seconds_behind, warn, crit))
                notes.append(ch.describe())
        evidence = [Evidence(source=answer["query"], detail=n[:500]) for n in notes]
        lags = [c.seconds_behind for c in channels if c.seconds_behind is not None]
        return self.result(worst(*statuses), "; ".join(notes), evidence, "replication",
                           {"channels": float(len(channels)), "max_lag_s": max(lags, default=0.0),
                            "threads_down": float(sum(not (c.io_ok and c.sql_ok) for c in channels))})


class DeadlocksCheck(MysqlCheck):
    """InnoDB deadlocks since the last check (Innodb_deadlocks / lock_deadlocks); on the first look,
    whether the latest deadlock in SHOW ENGINE INNODB STATUS is recent. The statements are evidence."""

    name: ClassVar[str] = "mysql.deadlocks"
    runbook: ClassVar[str | None] = RB_DEADLOCK

    def question(self, cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
        st = status_vars(cur, ("Innodb_deadlocks", "Uptime"))
        if "Innodb_deadlocks" not in st:  # MySQL: the counter lives in INNODB_METRICS
            try:
                cur.execute("SELECT `count` AS c FROM information_schema.INNODB_METRICS WHERE name='lock_deadlocks'")
                row = cur.fetchone()
                if row is not None:
                    st["Innodb_deadlocks"] = str(row["c"])
            except pymysql.err.MySQLError:
                pass
        cur.execute("SELECT NOW() AS now")
        now = (cur.fetchone() or {}).get("now")
        try:
            cur.execute("SHOW ENGINE INNODB STATUS")
            text = str((cur.fetchone() or {}).get("Status", ""))
        except pymysql.err.MySQLError as exc:  # needs the PROCESS privilege
            text = f"(refused: {exc.args[-1] if exc.args else exc})"
        return {"status": st, "now": now, "innodb": text}

    def judge(self, target: Target, answer: dict[str, Any]) -> CheckResult:
        st, now = answer["status"], answer["now"]
        deadlock = latest_deadlock(answer["innodb"])
        window = label_float(target, "deadlock_window_s", 3600)
        evidence = [values_evidence("SHOW GLOBAL STATUS", st, ("Innodb_deadlocks", "Uptime"))]
        age: float | None = None
        if deadlock is not None:
            if deadlock.at is not None and isinstance(now, datetime):
                age = max(0.0, (now - deadlock.at).total_seconds())
            evidence.append(Evidence(source="SHOW ENGINE INNODB STATUS (LATEST DETECTED DEADLOCK)",
                                     detail=(f"{deadlock.at} " if deadlock.at else "") + deadlock_digest(deadlock)))
        metrics: dict[str, float] = {}
        if "Innodb_deadlocks" in st:
            rate = self.memory.rate(target.name, "Innodb_deadlocks", num(st, "Innodb_deadlocks"), num(st, "Uptime"))
            metrics = {"deadlocks_per_min": round(rate.per_minute, 3), "deadlocks": num(st, "Innodb_deadlocks")}
            if rate.delta == 0:
                return self.result(OK, f"no deadlocks {rate.basis}", evidence, "", metrics)
            if rate.basis == "since the last check":
                status = CRIT if rate.per_minute >= label_float(target, "deadlock_crit_per_min", 10) else WARN
                return self.result(status, rate.describe("deadlocks", per="min"), evidence, "process", metrics)
        if deadlock is None:
            return self.result(OK, "no deadlock since the server started", evidence, "", metrics)
        if age is not None and age <= window:
            return self.result(WARN, f"latest deadlock {age:.0f}s ago (window {window:g}s)", evidence, "process",
                               metrics)
        when = f"{age:.0f}s ago" if age is not None else "at an unknown time"
        return self.result(OK, f"latest deadlock {when}, outside the {window:g}s window", evidence, "", metrics)


class AbortedConnectsCheck(MysqlCheck):
    """Failed connection attempts per minute (bad password, no privilege, handshake timeout): a client
    with a stale password, or something probing the port; enough of them block the host (1129)."""

    name: ClassVar[str] = "mysql.aborted_connects"
    runbook: ClassVar[str | None] = RB_CONN

    def question(self, cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
        cur.execute("SHOW GLOBAL STATUS WHERE Variable_name = 'Aborted_connects' OR Variable_name = 'Uptime' "
                    "OR Variable_name LIKE 'Connection\\_errors\\_%'")
        return {"status": {str(r["Variable_name"]): str(r["Value"]) for r in cur.fetchall()}}

    def judge(self, target: Target, answer: dict[str, Any]) -> CheckResult:
        st = answer["status"]
        rate = self.memory.rate(target.name, "Aborted_connects", num(st, "Aborted_connects"), num(st, "Uptime"))
        nonzero = tuple(k for k in sorted(st) if k.startswith("Connection_errors_") and num(st, k) > 0)
        evidence = [values_evidence("SHOW GLOBAL STATUS", st, ("Aborted_connects", "Uptime", *nonzero))]
        status = grade(rate.per_minute, label_float(target, "aborted_warn_per_min", 10),
                       label_float(target, "aborted_crit_per_min", 60))
        return self.result(status, rate.describe("aborted connection attempts", per="min"), evidence, "config",
                           {"aborted_per_min": round(rate.per_minute, 3)})


CHECKS: tuple[type[MysqlCheck], ...] = (ConnectCheck, ConnectionsCheck, SlowQueriesCheck, ReplicationCheck,
                                        DeadlocksCheck, AbortedConnectsCheck)
