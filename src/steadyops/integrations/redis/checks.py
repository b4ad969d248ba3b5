"""Redis checks: reachable, memory vs maxmemory, fragmentation, evictions, clients, replication,
persistence, slowlog. One question per class so each finding names exactly one thing to fix.

Thresholds are defaults an operator overrides with target labels (``memory_warn_pct: "70"``):
a cache that lives at maxmemory on purpose and a queue that must never lose a write have very
different normals.
"""

from __future__ import annotations

import time
from typing import ClassVar

import redis.asyncio as aioredis

from steadyops.contracts.checks import grade, label_float, label_int, worst
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus, Evidence
from steadyops.integrations.redis.base import RedisCheck, info_evidence
from steadyops.integrations.redis.client import CLIENT_NAME, connect, describe_error, fetch_info
from steadyops.integrations.redis.parse import effective_policy, error_stats, num, replicas, slow_entries

OK, WARN, CRIT = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL
MB = 1024 * 1024
RB_MEMORY = "redis/redis-memory-evictions.en.md"
RB_FRAG = "redis/redis-fragmentation.en.md"
RB_CLIENTS = "redis/redis-rejected-connections.en.md"
RB_REPL = "redis/redis-replication.en.md"
RB_SLOWLOG = "redis/redis-slowlog.en.md"
RB_DOWN = "host/host-service-down.en.md"


class PingCheck(RedisCheck):
    """PING → PONG. The one Redis check that reports a refused connection as CRITICAL: the others
    say UNKNOWN then, so one dead server is one critical finding, not eight."""

    name: ClassVar[str] = "redis.ping"
    liveness: ClassVar[bool] = True
    runbook: ClassVar[str | None] = RB_DOWN
    layer_runbooks: ClassVar[dict[str, str]] = {"capacity": RB_CLIENTS}  # at maxclients: not "down"

    async def run(self, target: Target) -> CheckResult:
        t0 = time.monotonic()
        try:
            async with connect(target) as client:
                await client.ping()
        except Exception as exc:
            layer, what, answered = describe_error(exc, target)
            if not layer:
                raise
            if answered:
                return self.result(CRIT, f"Redis at {target.address} is not serving: {what}",
                                   [Evidence(source=f"PING {target.address}", detail=what)], layer)
            return self.unreachable(target, layer, what)
        ms = round((time.monotonic() - t0) * 1000, 1)
        return self.result(OK, f"PONG in {ms:g} ms", [Evidence(source="redis-cli PING", detail="PONG", value=ms)],
                           "", {"ping_ms": ms})

    async def judge(self, target: Target, client: aioredis.Redis, info: dict[str, str]) -> CheckResult:
        raise NotImplementedError  # run() is overridden: PING needs no INFO


class MemoryCheck(RedisCheck):
    """used_memory vs maxmemory (or host RAM when unlimited). At the limit, ``noeviction`` (or a
    ``volatile-*`` policy with no TTL keys) refuses writes — critical; an evicting cache is warned."""

    name: ClassVar[str] = "redis.memory"
    runbook: ClassVar[str | None] = RB_MEMORY

    async def judge(self, target: Target, client: aioredis.Redis, info: dict[str, str]) -> CheckResult:
        used, limit = num(info, "used_memory"), num(info, "maxmemory")
        policy, evicts = effective_policy(info)
        warn, crit = label_float(target, "memory_warn_pct", 80), label_float(target, "memory_crit_pct", 90)
        oom = error_stats(info).get("OOM", 0)
        keys = ("used_memory_human", "maxmemory_human", "maxmemory_policy", "used_memory_rss_human",
                "total_system_memory_human")
        evidence = [info_evidence(info, keys)]
        if oom:
            evidence.append(Evidence(source="redis-cli INFO errorstats", detail=f"errorstat_OOM count={oom}: "
                                     "writes refused with 'OOM command not allowed'", value=oom))
        if limit > 0:
            pct = used / limit * 100
            status = grade(pct, warn, crit)
            if evicts and status is CRIT:
                status = WARN  # at the limit by design; redis.evictions judges how hard it evicts
            what = f"used_memory {used / MB:.1f} MiB is {pct:.0f}% of maxmemory {limit / MB:.1f} MiB ({policy})"
            if status is CRIT:
                what += ": writes fail with OOM" if not evicts else ""
            elif status is WARN and evicts:
                what += ": keys are evicted to stay under the limit"
        else:
            system = num(info, "total_system_memory")
            if system <= 0:
                return self.result(OK, f"used_memory {used / MB:.1f} MiB, no maxmemory and host RAM unknown",
                                   evidence, "", {"used_memory": used})
            pct = used / system * 100
            status = grade(pct, warn, crit)
            what = (f"no maxmemory set: used_memory {used / MB:.1f} MiB is {pct:.0f}% of host RAM; "
                    "the kernel OOM killer, not Redis, would enforce the limit")
        return self.result(status, what, evidence, "capacity",
                           {"used_memory": used, "maxmemory": limit, "used_pct": round(pct, 2), "oom_errors": oom})


class FragmentationCheck(RedisCheck):
    """mem_fragmentation_ratio (RSS / used): high wastes RAM, below 1 means part of Redis is swapped.
    Ignored on small instances, where allocator overhead alone gives ratios of 5 and more."""

    name: ClassVar[str] = "redis.fragmentation"
    runbook: ClassVar[str | None] = RB_FRAG

    async def judge(self, target: Target, client: aioredis.Redis, info: dict[str, str]) -> CheckResult:
        ratio, rss, used = num(info, "mem_fragmentation_ratio"), num(info, "used_memory_rss"), num(info, "used_memory")
        evidence = [info_evidence(info, ("mem_fragmentation_ratio", "mem_fragmentation_bytes", "used_memory_human",
                                         "used_memory_rss_human", "allocator_frag_ratio", "active_defrag_running"))]
        metrics = {"fragmentation_ratio": ratio, "used_memory_rss": rss}
        min_mb = label_float(target, "frag_min_mb", 100)
        if max(rss, used) < min_mb * MB:
            return self.result(OK, f"ratio {ratio:g}, but RSS {rss / MB:.1f} MiB is below {min_mb:g} MiB: "
                               "too small to judge", evidence, "", metrics)
        if 0 < ratio < label_float(target, "frag_swap_below", 0.9):
            return self.result(WARN, f"fragmentation ratio {ratio:g} < 1: RSS is below used_memory, part of Redis "
                               "is swapped out (latency spikes)", evidence, "capacity", metrics)
        status = grade(ratio, label_float(target, "frag_warn", 1.5), label_float(target, "frag_crit", 3.0))
        wasted = max(0.0, rss - used) / MB
        return self.result(status, f"fragmentation ratio {ratio:g} ({wasted:.0f} MiB of RSS not holding data)",
                           evidence, "capacity", metrics)


class EvictionsCheck(RedisCheck):
    """How fast keys are evicted (since the last check, else the average since start): data the
    application still wanted is disappearing because maxmemory is too small."""

    name: ClassVar[str] = "redis.evictions"
    runbook: ClassVar[str | None] = RB_MEMORY

    async def judge(self, target: Target, client: aioredis.Redis, info: dict[str, str]) -> CheckResult:
        rate = self.memory.rate(target.name, "evicted_keys", num(info, "evicted_keys"), num(info, "uptime_in_seconds"))
        evidence = [info_evidence(info, ("evicted_keys", "uptime_in_seconds", "maxmemory_human", "maxmemory_policy",
                                         "used_memory_human", "keyspace_hits", "keyspace_misses"))]
        metrics = {"evicted_keys": num(info, "evicted_keys"), "evicted_per_s": round(rate.per_second, 4)}
        if rate.delta == 0:
            return self.result(OK, f"no keys evicted {rate.basis}", evidence, "", metrics)
        warn = label_float(target, "evicted_warn_per_s", 0.0)
        crit = label_float(target, "evicted_crit_per_s", 100.0)
        status = CRIT if rate.per_second >= crit else WARN if rate.per_second > warn else OK
        return self.result(status, f"{rate.describe('keys evicted')}: maxmemory is too small for the working set",
                           evidence, "capacity", metrics)


class ClientsCheck(RedisCheck):
    """connected_clients vs maxclients, rejected connections (maxclients hit), blocked clients."""

    name: ClassVar[str] = "redis.clients"
    runbook: ClassVar[str | None] = RB_CLIENTS

    async def run(self, target: Target) -> CheckResult:
        """At ``maxclients`` Redis cannot even be asked for INFO: its refusal is this check's answer."""
        try:
            async with connect(target) as client:
                return await self.judge(target, client, await fetch_info(client))
        except Exception as exc:
            layer, what, answered = describe_error(exc, target)
            if not layer:
                raise
            if answered and layer == "capacity":
                return self.result(CRIT, f"{what}: new clients are turned away",
                                   [Evidence(source=f"connect {target.address}", detail=str(exc)[:300])], layer)
            return self.unreachable(target, layer, what)

    async def judge(self, target: Target, client: aioredis.Redis, info: dict[str, str]) -> CheckResult:
        connected, maxclients = num(info, "connected_clients"), num(info, "maxclients")
        blocked = num(info, "blocked_clients")
        rejected = self.memory.rate(target.name, "rejected_connections", num(info, "rejected_connections"),
                                 num(info, "uptime_in_seconds"))
        evidence = [info_evidence(info, ("connected_clients", "maxclients", "rejected_connections", "blocked_clients",
                                         "client_recent_max_input_buffer", "client_recent_max_output_buffer"))]
        pct = connected / maxclients * 100 if maxclients > 0 else 0.0
        warn = label_float(target, "clients_warn_pct", 80)
        statuses = [grade(pct, warn, label_float(target, "clients_crit_pct", 95))]
        notes = [f"{connected:g}/{maxclients:g} clients ({pct:.0f}%)"]
        if rejected.delta > 0:
            statuses.append(CRIT if pct >= warn else WARN)
            notes.append(f"{rejected.describe('connections rejected')}: maxclients was reached")
        if blocked >= label_float(target, "blocked_warn", 100):
            statuses.append(WARN)
            notes.append(f"{blocked:g} clients blocked in BLPOP/BRPOP/WAIT")
        status = worst(*statuses)
        return self.result(status, "; ".join(notes), evidence, "capacity",
                           {"connected_clients": connected, "clients_pct": round(pct, 2), "blocked_clients": blocked,
                            "rejected_per_s": round(rejected.per_second, 4)})


class ReplicationCheck(RedisCheck):
    """Role and link: a replica whose master link is down serves stale data; a master missing the
    replicas it should have (label ``min_replicas``) has lost its redundancy."""

    name: ClassVar[str] = "redis.replication"
    runbook: ClassVar[str | None] = RB_REPL

    async def judge(self, target: Target, client: aioredis.Redis, info: dict[str, str]) -> CheckResult:
        role = info.get("role", "?")
        expected = target.labels.get("expect_role", "").replace("slave", "replica").replace("primary", "master")
        actual = role.replace("slave", "replica")
        if role == "slave":
            status, summary, evidence, metrics = self._replica(target, info)
        else:
            status, summary, evidence, metrics = self._master(target, info)
        if expected and expected != actual:
            status = worst(status, WARN)
            summary = f"role is {actual}, expected {expected} (a failover happened?); {summary}"
        return self.result(status, summary, evidence, "replication", metrics)

    def _replica(self, target: Target, info: dict[str, str]) -> tuple[CheckStatus, str, list[Evidence],
                                                                       dict[str, float]]:
        keys = ("role", "master_host", "master_port", "master_link_status", "master_last_io_seconds_ago",
                "master_link_down_since_seconds", "master_sync_in_progress", "slave_repl_offset")
        evidence = [info_evidence(info, keys, "INFO replication")]
        master = f"{info.get('master_host', '?')}:{info.get('master_port', '?')}"
        if info.get("master_link_status") != "up":
            down = num(info, "master_link_down_since_seconds", -1)
            since = f" for {down:g}s" if down >= 0 else ""
            return CRIT, f"replica of {master}: master link is down{since}, data goes stale", evidence, \
                {"master_link_up": 0.0}
        if info.get("master_sync_in_progress") == "1":
            return WARN, f"replica of {master}: full resynchronisation in progress", evidence, {"master_link_up": 1.0}
        io_ago = num(info, "master_last_io_seconds_ago")
        status = grade(io_ago, label_float(target, "repl_io_warn_s", 30), label_float(target, "repl_io_crit_s", 120))
        return status, f"replica of {master}: link up, last I/O {io_ago:g}s ago", evidence, \
            {"master_link_up": 1.0, "master_last_io_s": io_ago}

    def _master(self, target: Target, info: dict[str, str]) -> tuple[CheckStatus, str, list[Evidence],
                                                                      dict[str, float]]:
        found = replicas(info)
        online = [r for r in found if r.get("state") == "online"]
        evidence = [info_evidence(info, ("role", "connected_slaves", *(f"slave{i}" for i in range(len(found)))),
                                  "INFO replication")]
        lag_warn = label_float(target, "repl_lag_warn_s", 10)
        lagging = [r for r in online if float(r.get("lag", "0") or 0) >= lag_warn]
        need = label_int(target, "min_replicas", 0)
        metrics = {"replicas_online": float(len(online)), "replicas": float(len(found))}
        if len(online) < need:
            return CRIT, f"master with {len(online)} online replica(s), {need} expected", evidence, metrics
        notes = [f"master with {len(online)}/{len(found)} replica(s) online"]
        status = OK
        if len(online) < len(found):
            status = WARN
            notes.append("not online: " + ", ".join(f"{r.get('ip')}:{r.get('port')} {r.get('state')}"
                                                   for r in found if r not in online))
        if lagging:
            status = WARN
            notes.append("lagging: " + ", ".join(f"{r.get('ip')}:{r.get('port')} {r.get('lag')}s" for r in lagging))
        return status, "; ".join(notes), evidence, metrics


class PersistenceCheck(RedisCheck):
    """The last RDB snapshot and AOF write succeeded: a failing bgsave (disk full, fork refused)
    means a restart loses data, and with stop-writes-on-bgsave-error Redis refuses writes."""

    name: ClassVar[str] = "redis.persistence"
    runbook: ClassVar[str | None] = None  # no runbook yet (asked for: redis/redis-persistence)

    async def judge(self, target: Target, client: aioredis.Redis, info: dict[str, str]) -> CheckResult:
        keys = ("rdb_last_bgsave_status", "rdb_last_save_time", "rdb_changes_since_last_save", "aof_enabled",
                "aof_last_write_status", "aof_last_bgrewrite_status", "loading")
        evidence = [info_evidence(info, keys, "INFO persistence")]
        problems: list[tuple[CheckStatus, str]] = []
        if info.get("rdb_last_bgsave_status", "ok") != "ok":
            problems.append((CRIT, "the last RDB bgsave failed"))
        if info.get("aof_enabled") == "1" and info.get("aof_last_write_status", "ok") != "ok":
            problems.append((CRIT, "the last AOF write failed"))
        if info.get("aof_enabled") == "1" and info.get("aof_last_bgrewrite_status", "ok") != "ok":
            problems.append((WARN, "the last AOF rewrite failed"))
        misconf = error_stats(info).get("MISCONF", 0)
        if misconf:
            problems.append((CRIT, f"{misconf} writes refused with MISCONF (stop-writes-on-bgsave-error)"))
        age_h = (time.time() - num(info, "rdb_last_save_time", time.time())) / 3600
        changes = num(info, "rdb_changes_since_last_save")
        stale = info.get("aof_enabled") != "1" and changes > 0 and age_h >= label_float(target, "rdb_age_warn_h", 24)
        if stale and await _snapshots_configured(client):
            problems.append((WARN, f"{changes:g} changes not saved for {age_h:.0f}h"))
        metrics = {"rdb_age_h": round(age_h, 2), "rdb_changes_since_last_save": changes}
        if not problems:
            mode = "AOF on" if info.get("aof_enabled") == "1" else "RDB only"
            return self.result(OK, f"last save ok ({mode}, last RDB save {age_h:.1f}h ago)", evidence, "", metrics)
        return self.result(worst(*(s for s, _ in problems)), "; ".join(m for _, m in problems), evidence, "disk",
                           metrics)


async def _snapshots_configured(client: aioredis.Redis) -> bool:
    """Is ``save`` non-empty? A cache run with ``save ""`` never snapshots on purpose. CONFIG may be renamed."""
    try:
        conf = await client.config_get("save")
    except Exception:
        return True
    return bool(str(conf.get("save", "")).strip())


class SlowlogCheck(RedisCheck):
    """Commands slower than slowlog-log-slower-than in the recent window; the slowest are the evidence
    (a KEYS * or a huge HGETALL blocks every other client of a single-threaded server)."""

    name: ClassVar[str] = "redis.slowlog"
    runbook: ClassVar[str | None] = RB_SLOWLOG

    async def judge(self, target: Target, client: aioredis.Redis, info: dict[str, str]) -> CheckResult:
        length = int(await client.slowlog_len())
        entries = slow_entries(await client.slowlog_get(128), skip_client=CLIENT_NAME) if length else []
        window = label_float(target, "slowlog_window_s", 600)
        now = time.time()
        recent = [e for e in entries if now - e.started <= window]
        slowest = sorted(recent, key=lambda e: e.micros, reverse=True)[:3]
        evidence = [Evidence(source="redis-cli SLOWLOG LEN", detail=str(length), value=length)]
        evidence += [Evidence(source="redis-cli SLOWLOG GET 128", detail=e.describe(now), value=e.micros)
                     for e in slowest]
        status = grade(len(recent), label_float(target, "slowlog_warn", 10), label_float(target, "slowlog_crit", 100))
        summary = f"{len(recent)} slow command(s) in the last {window:g}s (SLOWLOG LEN {length})"
        if slowest:
            summary += f"; slowest {slowest[0].micros / 1000:.1f} ms: {slowest[0].command[:80]}"
        return self.result(status, summary, evidence, "capacity",
                           {"slowlog_recent": float(len(recent)), "slowlog_len": float(length),
                            "slowest_ms": slowest[0].micros / 1000 if slowest else 0.0})


CHECKS: tuple[type[RedisCheck], ...] = (PingCheck, MemoryCheck, FragmentationCheck, EvictionsCheck, ClientsCheck,
                                        ReplicationCheck, PersistenceCheck, SlowlogCheck)
