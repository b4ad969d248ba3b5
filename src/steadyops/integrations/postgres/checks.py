"""PostgreSQL checks: connect, connections vs max, replication lag, long transactions, lock waits,
transaction-id age. One question per class; thresholds overridable by target labels.

Target: kind ``postgres``, address ``host:port``; labels ``user`` / ``dbname`` (default postgres;
a monitoring role needs ``pg_monitor``), ``databases`` (scope the session checks), ``sslmode``,
``timeout`` and the thresholds named below; the password is a credential reference.
"""

from __future__ import annotations

import time
from typing import ClassVar

import psycopg

from steadyops.contracts.checks import grade, label_float, label_int, worst
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.postgres.base import Failure, PgCheck, Row, databases, rows, trim

OK, WARN, CRIT = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL
WRAPAROUND = 2**31
RB_CONN = "postgres/pg-connections.en.md"
RB_REPL = "postgres/pg-replication-lag.en.md"
RB_TX = "postgres/pg-long-transactions.en.md"
RB_LOCKS = "postgres/pg-lock-waits.en.md"
RB_XID = "postgres/pg-xid-wraparound.en.md"

SESSIONS = """
SELECT pid, usename, datname, application_name, host(client_addr) AS client, state, wait_event_type, wait_event,
       EXTRACT(EPOCH FROM now() - xact_start)::float8 AS xact_s, left(query, 300) AS query
FROM pg_stat_activity
WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND backend_type = 'client backend'
  AND now() - xact_start >= make_interval(secs => %(min_s)s)
  AND (%(dbs)s::text[] IS NULL OR datname = ANY(%(dbs)s::text[]))
ORDER BY xact_start
"""
WAITERS = """
SELECT DISTINCT ON (a.pid) a.pid, a.usename, a.datname, a.application_name, l.locktype, l.mode,
       l.relation::regclass::text AS relation, pg_blocking_pids(a.pid) AS blockers,
       EXTRACT(EPOCH FROM now() - COALESCE(a.query_start, a.state_change))::float8 AS wait_s,
       left(a.query, 300) AS query
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted AND a.pid <> pg_backend_pid()
  AND (%(dbs)s::text[] IS NULL OR a.datname = ANY(%(dbs)s::text[]))
ORDER BY a.pid, a.query_start
"""
BLOCKERS = """
SELECT pid, usename, datname, state, EXTRACT(EPOCH FROM now() - xact_start)::float8 AS xact_s,
       left(query, 300) AS query
FROM pg_stat_activity WHERE pid = ANY(%(pids)s::int[])
"""


class ConnectCheck(PgCheck):
    """Can a client connect and run a query? Refused: postmaster down (process); "too many clients":
    connections exhausted (capacity); both CRITICAL because every application sees them too."""

    name: ClassVar[str] = "postgres.connect"
    liveness: ClassVar[bool] = True
    runbook: ClassVar[str | None] = RB_CONN

    async def run(self, target: Target) -> CheckResult:
        self._t0 = time.monotonic()
        return await super().run(target)

    async def judge(self, target: Target, conn: psycopg.AsyncConnection[Row]) -> CheckResult:
        (row,) = await rows(conn, "SELECT version() AS v, pg_is_in_recovery() AS standby")
        ms = round((time.monotonic() - self._t0) * 1000, 1)
        role = "standby" if row["standby"] else "primary"
        version = str(row["v"]).split(" on ")[0]
        return self.result(OK, f"connected in {ms:g} ms: {version} ({role})",
                           [Evidence(source="SELECT version()", detail=trim(row["v"]))], "", {"connect_ms": ms})

    def failed(self, target: Target, failure: Failure) -> CheckResult:
        if failure.answered:
            return self.result(CRIT, f"clients cannot connect to {target.address}: {failure.what}",
                               [Evidence(source=f"connect {target.address}", detail=failure.what)], failure.layer)
        return super().failed(target, failure)


class ConnectionsCheck(PgCheck):
    """Backends (sum of pg_stat_database.numbackends) vs max_connections minus the superuser-reserved
    slots: past that, applications get "remaining connection slots are reserved"."""

    name: ClassVar[str] = "postgres.connections"
    runbook: ClassVar[str | None] = RB_CONN

    async def judge(self, target: Target, conn: psycopg.AsyncConnection[Row]) -> CheckResult:
        (row,) = await rows(conn, "SELECT current_setting('max_connections')::int AS max, "
                                  "current_setting('superuser_reserved_connections')::int AS reserved, "
                                  "(SELECT sum(numbackends) FROM pg_stat_database)::int AS used")
        per_db = await rows(conn, "SELECT datname, numbackends FROM pg_stat_database WHERE datname IS NOT NULL "
                                  "ORDER BY numbackends DESC LIMIT 5")
        states = await rows(conn, "SELECT coalesce(state, backend_type) AS state, count(*)::int AS n "
                                  "FROM pg_stat_activity GROUP BY 1 ORDER BY 2 DESC")
        usable = max(1, int(row["max"]) - int(row["reserved"]))
        used = int(row["used"] or 0)
        pct = used / usable * 100
        evidence = [
            Evidence(source="pg_stat_database", detail=f"numbackends total {used}; max_connections {row['max']}, "
                     f"superuser_reserved_connections {row['reserved']}; top: "
                     + ", ".join(f"{r['datname']}={r['numbackends']}" for r in per_db)),
            Evidence(source="pg_stat_activity by state", detail=", ".join(f"{r['state']}={r['n']}" for r in states)),
        ]
        status = grade(pct, label_float(target, "connections_warn_pct", 80),
                       label_float(target, "connections_crit_pct", 90))
        return self.result(status, f"{used}/{usable} usable connections ({pct:.0f}%)", evidence, "capacity",
                           {"backends": float(used), "max_connections": float(row["max"]),
                            "connections_pct": round(pct, 2)})

    def failed(self, target: Target, failure: Failure) -> CheckResult:
        if failure.layer == "capacity" and failure.answered:
            return self.result(CRIT, f"connections exhausted: {failure.what}",
                               [Evidence(source=f"connect {target.address}", detail=failure.what)], "capacity")
        return super().failed(target, failure)


class ReplicationCheck(PgCheck):
    """On a standby: is WAL still streaming and how far behind is replay. On a primary: are the
    expected replicas (label ``min_replicas``) streaming, and how far behind are they."""

    name: ClassVar[str] = "postgres.replication"
    runbook: ClassVar[str | None] = RB_REPL

    async def judge(self, target: Target, conn: psycopg.AsyncConnection[Row]) -> CheckResult:
        warn, crit = label_float(target, "lag_warn_s", 30), label_float(target, "lag_crit_s", 300)
        (role,) = await rows(conn, "SELECT pg_is_in_recovery() AS standby")
        if role["standby"]:
            (row,) = await rows(conn, """
                SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AS caught_up,
                       EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age_s,
                       (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver,
                       (SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver LIMIT 1) AS sender""")
            lag = 0.0 if row["caught_up"] else float(row["replay_age_s"] or 0.0)
            evidence = [Evidence(source="pg_stat_wal_receiver, pg_last_xact_replay_timestamp()",
                                 detail=f"receiver={row['receiver']} sender={row['sender']} "
                                        f"caught_up={row['caught_up']} replay_age_s={row['replay_age_s']}")]
            if row["receiver"] != "streaming":
                return self.result(CRIT, f"standby not streaming WAL (wal receiver: {row['receiver'] or 'none'}); "
                                   f"replay {lag:.0f}s behind", evidence, "replication", {"lag_s": lag})
            return self.result(grade(lag, warn, crit), f"standby streaming from {row['sender']}, {lag:.0f}s behind",
                               evidence, "replication", {"lag_s": lag})
        replicas = await rows(conn, """
            SELECT application_name, host(client_addr) AS client, state, sync_state,
                   COALESCE(EXTRACT(EPOCH FROM replay_lag), 0)::float8 AS lag_s,
                   pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS lag_bytes
            FROM pg_stat_replication""")
        need = label_int(target, "min_replicas", 0)
        streaming = [r for r in replicas if r["state"] == "streaming"]
        evidence = [Evidence(source="pg_stat_replication", detail=f"{r['application_name']}@{r['client']} {r['state']} "
                             f"{r['sync_state']} lag={r['lag_s']:.1f}s/{(r['lag_bytes'] or 0) / 1e6:.1f}MB")
                    for r in replicas] or [Evidence(source="pg_stat_replication", detail="(no replicas)")]
        max_lag = max((float(r["lag_s"]) for r in streaming), default=0.0)
        metrics = {"replicas_streaming": float(len(streaming)), "max_lag_s": max_lag}
        if len(streaming) < need:
            return self.result(CRIT, f"primary with {len(streaming)} streaming replica(s), {need} expected",
                               evidence, "replication", metrics)
        status = grade(max_lag, warn, crit)
        if len(streaming) < len(replicas):
            status = worst(status, WARN)
        return self.result(status, f"primary with {len(streaming)}/{len(replicas)} replica(s) streaming, max replay "
                           f"lag {max_lag:.1f}s", evidence, "replication", metrics)


class LongTransactionsCheck(PgCheck):
    """Transactions open longer than the threshold: they hold locks, block VACUUM (bloat, xid age) and
    an ``idle in transaction`` one is usually a leaked connection in the application."""

    name: ClassVar[str] = "postgres.long_transactions"
    runbook: ClassVar[str | None] = RB_TX

    async def judge(self, target: Target, conn: psycopg.AsyncConnection[Row]) -> CheckResult:
        warn, crit = label_float(target, "long_tx_warn_s", 300), label_float(target, "long_tx_crit_s", 3600)
        found = await rows(conn, SESSIONS, {"min_s": warn, "dbs": databases(target)})
        if not found:
            return self.result(OK, f"no transaction open longer than {warn:g}s", [
                Evidence(source="pg_stat_activity", detail=f"xact_start older than {warn:g}s: none")], "")
        oldest = found[0]
        idle = sum(1 for r in found if r["state"] == "idle in transaction")
        evidence = [Evidence(source="pg_stat_activity", value=round(r["xact_s"], 1),
                             detail=f"pid {r['pid']} {r['usename']}@{r['datname']} ({r['application_name'] or '-'}) "
                                    f"{r['state']} for {r['xact_s']:.0f}s: {trim(r['query'])}") for r in found[:5]]
        summary = (f"{len(found)} transaction(s) open longer than {warn:g}s; oldest {oldest['xact_s']:.0f}s "
                   f"(pid {oldest['pid']}, {oldest['state']})")
        if idle:
            summary += f"; {idle} idle in transaction"
        return self.result(grade(float(oldest["xact_s"]), warn, crit), summary, evidence, "process",
                           {"long_transactions": float(len(found)), "oldest_xact_s": round(oldest["xact_s"], 1)})


class LockWaitsCheck(PgCheck):
    """Sessions waiting for a lock (pg_locks not granted) longer than the threshold, with who blocks
    them: the blocker's pid and statement are what the on-call needs to decide whom to cancel."""

    name: ClassVar[str] = "postgres.lock_waits"
    runbook: ClassVar[str | None] = RB_LOCKS

    async def judge(self, target: Target, conn: psycopg.AsyncConnection[Row]) -> CheckResult:
        warn, crit = label_float(target, "lock_wait_warn_s", 30), label_float(target, "lock_wait_crit_s", 300)
        waiting = await rows(conn, WAITERS, {"dbs": databases(target)})
        waiting.sort(key=lambda r: -float(r["wait_s"] or 0))
        if not waiting:
            return self.result(OK, "no session waits for a lock", [
                Evidence(source="pg_locks WHERE NOT granted", detail="none")], "", {"lock_waiters": 0.0})
        blocker_pids = sorted({p for r in waiting for p in (r["blockers"] or [])})
        blockers = await rows(conn, BLOCKERS, {"pids": blocker_pids}) if blocker_pids else []
        evidence = [Evidence(source="pg_locks WHERE NOT granted", value=round(float(r["wait_s"] or 0), 1),
                             detail=f"pid {r['pid']} {r['usename']}@{r['datname']} waits "
                                    f"{float(r['wait_s'] or 0):.0f}s for {r['mode']} on "
                                    f"{r['relation'] or r['locktype']}, blocked by {r['blockers']}: "
                                    f"{trim(r['query'])}") for r in waiting[:5]]
        evidence += [Evidence(source="pg_stat_activity (blocker)",
                              detail=f"pid {b['pid']} {b['usename']}@{b['datname']} {b['state']}, transaction open "
                                     f"{float(b['xact_s'] or 0):.0f}s: {trim(b['query'])}") for b in blockers[:3]]
        longest = float(waiting[0]["wait_s"] or 0)
        status = grade(longest, warn, crit)
        return self.result(status, f"{len(waiting)} session(s) waiting for locks, longest {longest:.0f}s, blocked by "
                           f"pid(s) {', '.join(map(str, blocker_pids)) or '?'}", evidence, "process",
                           {"lock_waiters": float(len(waiting)), "longest_lock_wait_s": round(longest, 1)})


class XidAgeCheck(PgCheck):
    """age(datfrozenxid) per database: past autovacuum_freeze_max_age anti-wraparound vacuums must
    run; if the age keeps climbing toward 2^31 PostgreSQL will stop accepting writes to protect data."""

    name: ClassVar[str] = "postgres.xid_age"
    runbook: ClassVar[str | None] = RB_XID

    async def judge(self, target: Target, conn: psycopg.AsyncConnection[Row]) -> CheckResult:
        found = await rows(conn, "SELECT datname, age(datfrozenxid)::float8 AS age, "
                                 "current_setting('autovacuum_freeze_max_age')::float8 AS freeze_max "
                                 "FROM pg_database ORDER BY 2 DESC LIMIT 5")
        top = found[0]
        age, freeze_max = float(top["age"]), float(top["freeze_max"])
        warn = min(freeze_max * label_float(target, "xid_warn_ratio", 2.0), WRAPAROUND * 0.4)
        crit = WRAPAROUND * label_float(target, "xid_crit_pct", 50) / 100
        pct = age / WRAPAROUND * 100
        evidence = [Evidence(source="SELECT datname, age(datfrozenxid) FROM pg_database",
                             detail=", ".join(f"{r['datname']}={r['age']:.0f}" for r in found)
                             + f"; autovacuum_freeze_max_age={freeze_max:.0f}")]
        status = grade(age, warn, max(crit, warn + 1))
        return self.result(status, f"oldest unfrozen xid: {top['datname']} age {age:.0f} ({pct:.1f}% of the 2^31 "
                           f"wraparound limit; autovacuum_freeze_max_age {freeze_max:.0f})", evidence, "capacity",
                           {"xid_age": age, "xid_wraparound_pct": round(pct, 3)})


CHECKS: tuple[type[PgCheck], ...] = (ConnectCheck, ConnectionsCheck, ReplicationCheck, LongTransactionsCheck,
                                     LockWaitsCheck, XidAgeCheck)
