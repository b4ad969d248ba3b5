"""Read-only Redis snapshots (also the agent's tools): INFO, SLOWLOG, memory-related CONFIG.

A question that could not be answered is a fact too: it comes back in the snapshot as
``ok: false`` with the layer and reason instead of an exception, so an agent reading
"connection refused" learns where to look next.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import redis.asyncio as aioredis

from steadyops.contracts.collectors import Collector
from steadyops.core.inventory import Target
from steadyops.core.models import Snapshot, utcnow
from steadyops.integrations.redis.base import TARGET_KIND
from steadyops.integrations.redis.client import connect, describe_error, fetch_info
from steadyops.integrations.redis.parse import error_stats, keyspace, replicas, slow_entries

#: INFO fields worth handing to an agent; the rest (build ids, allocator internals) is noise
INFO_FIELDS = (
    "redis_version", "redis_mode", "uptime_in_seconds", "role", "connected_clients", "maxclients", "blocked_clients",
    "used_memory", "used_memory_human", "used_memory_rss", "used_memory_peak_human", "maxmemory", "maxmemory_human",
    "maxmemory_policy", "mem_fragmentation_ratio", "total_system_memory_human", "evicted_keys", "expired_keys",
    "rejected_connections", "total_connections_received", "instantaneous_ops_per_sec", "keyspace_hits",
    "keyspace_misses", "rdb_last_bgsave_status", "rdb_last_save_time", "rdb_changes_since_last_save", "aof_enabled",
    "aof_last_write_status", "master_host", "master_port", "master_link_status", "master_last_io_seconds_ago",
    "connected_slaves", "loading",
)
CONFIG_KEYS = ("maxmemory", "maxmemory-policy", "maxclients", "save", "appendonly", "appendfsync",
               "slowlog-log-slower-than", "slowlog-max-len", "timeout", "tcp-keepalive")


class _RedisCollector(Collector):
    target_kind: ClassVar[str] = TARGET_KIND

    async def collect(self, target: Target) -> Snapshot:
        try:
            async with connect(target) as client:
                data: dict[str, Any] = {"ok": True, **await self.gather(client)}
        except Exception as exc:
            layer, what, _ = describe_error(exc, target)
            if not layer:
                raise
            data = {"ok": False, "layer": layer, "error": what}
        return Snapshot(collector=self.name, target=target.name, data=data, collected_at=utcnow())

    async def gather(self, client: aioredis.Redis) -> dict[str, Any]:
        raise NotImplementedError


class InfoCollector(_RedisCollector):
    name: ClassVar[str] = "redis.info"
    description: ClassVar[str] = ("Redis INFO essentials: version, role and replication link, clients, memory vs "
                                  "maxmemory and policy, fragmentation, evictions, persistence status, keyspace, "
                                  "error counts")

    async def gather(self, client: aioredis.Redis) -> dict[str, Any]:
        info = await fetch_info(client)
        return {"info": {k: info[k] for k in INFO_FIELDS if k in info}, "replicas": replicas(info),
                "keyspace": keyspace(info), "errorstats": error_stats(info)}


class SlowlogCollector(_RedisCollector):
    name: ClassVar[str] = "redis.slowlog_entries"
    description: ClassVar[str] = ("Redis SLOWLOG: the most recent slow commands with duration, age, client and the "
                                  "command (arguments trimmed)")

    async def gather(self, client: aioredis.Redis) -> dict[str, Any]:
        now = time.time()
        entries = slow_entries(await client.slowlog_get(32))
        return {"length": int(await client.slowlog_len()),
                "entries": [{"id": e.id, "age_s": round(now - e.started), "ms": e.micros / 1000,
                             "client": e.client, "command": e.command} for e in entries]}


class ConfigCollector(_RedisCollector):
    name: ClassVar[str] = "redis.config"
    description: ClassVar[str] = ("Redis CONFIG values that decide memory, persistence and client behaviour: "
                                  "maxmemory, maxmemory-policy, maxclients, save, appendonly, slowlog settings")

    async def gather(self, client: aioredis.Redis) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key in CONFIG_KEYS:
            try:
                values.update({str(k): v for k, v in (await client.config_get(key)).items()})
            except Exception as exc:  # CONFIG is often renamed away on managed Redis
                return {"config": values, "error": f"CONFIG GET refused: {str(exc)[:200]}"}
        return {"config": values}


COLLECTORS: tuple[type[_RedisCollector], ...] = (InfoCollector, SlowlogCollector, ConfigCollector)
