"""Redis parsers and verdicts on INFO captured from a real redis-server 7.0 (see data/):

- ``info_master_oom.txt``: maxmemory 2mb, noeviction, written past the limit (errorstat_OOM), one replica online
- ``info_replica_link_down.txt``: a replica whose master was stopped
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from steadyops.core.inventory import Target, split_address
from steadyops.core.models import CheckStatus
from steadyops.integrations.redis.checks import (
    EvictionsCheck,
    FragmentationCheck,
    MemoryCheck,
    PersistenceCheck,
    ReplicationCheck,
)
from steadyops.integrations.redis.client import DEFAULT_PORT, describe_error
from steadyops.integrations.redis.parse import (
    effective_policy,
    error_stats,
    keyspace,
    parse_info,
    replicas,
    slow_entries,
    trim_command,
)
from steadyops.sources.counters import CounterMemory

DATA = Path(__file__).parent / "data"
OK, WARN, CRIT = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL


def info(name: str) -> dict[str, str]:
    return parse_info((DATA / name).read_text(encoding="utf-8"))


def target(name: str = "r1", **labels: str) -> Target:
    return Target(name=name, kind="redis", address="10.0.0.7:6379", labels=labels)


def test_parse_info_sections_and_nested_values() -> None:
    master = info("info_master_oom.txt")
    assert master["role"] == "master" and master["maxmemory_policy"] == "noeviction"
    assert "# Server" not in master and master["redis_version"].startswith("7.")
    assert replicas(master) == [{"ip": "127.0.0.1", "port": "50459", "state": "online", "offset": "0", "lag": "0"}]
    assert keyspace(master) == {"db0": {"keys": 426, "expires": 0, "avg_ttl": 0}}
    assert error_stats(master)["OOM"] == 2574


def test_volatile_policy_without_ttl_keys_cannot_evict() -> None:
    base = {"maxmemory_policy": "volatile-lru", "db0": "keys=10,expires=0,avg_ttl=0"}
    assert effective_policy(base) == ("volatile-lru", False)
    assert effective_policy({**base, "db0": "keys=10,expires=3,avg_ttl=100"}) == ("volatile-lru", True)
    assert effective_policy({"maxmemory_policy": "allkeys-lfu"}) == ("allkeys-lfu", True)
    assert effective_policy({}) == ("noeviction", False)


async def test_memory_at_maxmemory_with_noeviction_is_critical() -> None:
    result = await MemoryCheck().judge(target(), None, info("info_master_oom.txt"))  # type: ignore[arg-type]
    assert result.status is CRIT and result.layer == "capacity"
    assert "writes fail with OOM" in result.summary and result.metrics["oom_errors"] == 2574


async def test_memory_at_maxmemory_evicting_is_only_a_warning() -> None:
    evicting = {**info("info_master_oom.txt"), "maxmemory_policy": "allkeys-lru"}
    result = await MemoryCheck().judge(target(), None, evicting)  # type: ignore[arg-type]
    assert result.status is WARN and "evicted to stay under the limit" in result.summary


async def test_memory_without_maxmemory_compares_to_host_ram() -> None:
    replica = info("info_replica_link_down.txt")
    result = await MemoryCheck().judge(target(), None, replica)  # type: ignore[arg-type]
    assert result.status is OK and "no maxmemory set" in result.summary
    tight = await MemoryCheck().judge(target(memory_warn_pct="0"), None, replica)  # type: ignore[arg-type]
    assert tight.status is WARN


async def test_fragmentation_ignored_on_small_instances_and_judged_on_big_ones() -> None:
    small = await FragmentationCheck().judge(target(), None, info("info_master_oom.txt"))  # type: ignore[arg-type]
    assert small.status is OK and "too small to judge" in small.summary
    big = {"mem_fragmentation_ratio": "2.1", "used_memory": str(2 << 30), "used_memory_rss": str(4 << 30)}
    assert (await FragmentationCheck().judge(target(), None, big)).status is WARN  # type: ignore[arg-type]
    swapped = {**big, "mem_fragmentation_ratio": "0.7"}
    result = await FragmentationCheck().judge(target(), None, swapped)  # type: ignore[arg-type]
    assert result.status is WARN and "swapped" in result.summary


async def test_replica_with_master_link_down_is_critical_replication() -> None:
    result = await ReplicationCheck().judge(target(), None, info("info_replica_link_down.txt"))  # type: ignore[arg-type]
    assert result.status is CRIT and result.layer == "replication" and "master link is down" in result.summary


async def test_master_missing_expected_replicas_and_role_mismatch() -> None:
    master = info("info_master_oom.txt")
    assert (await ReplicationCheck().judge(target(min_replicas="1"), None, master)).status is OK  # type: ignore[arg-type]
    short = await ReplicationCheck().judge(target(min_replicas="2"), None, master)  # type: ignore[arg-type]
    assert short.status is CRIT and "2 expected" in short.summary
    swapped = await ReplicationCheck().judge(target(expect_role="replica"), None, master)  # type: ignore[arg-type]
    assert swapped.status is WARN and "expected replica" in swapped.summary


async def test_failed_bgsave_is_critical_disk() -> None:
    broken = {**info("info_master_oom.txt"), "rdb_last_bgsave_status": "err"}
    result = await PersistenceCheck().judge(target(), None, broken)  # type: ignore[arg-type]
    assert result.status is CRIT and result.layer == "disk" and "bgsave failed" in result.summary


async def test_evictions_rate_since_start_then_since_last_check() -> None:
    counters = CounterMemory()  # what the registry shares between one run of the check and the next
    base = {"evicted_keys": "0", "uptime_in_seconds": "100"}
    first = await EvictionsCheck(counters).judge(target("r-evict"), None, base)  # type: ignore[arg-type]
    assert first.status is OK
    later = {"evicted_keys": "600", "uptime_in_seconds": "160"}
    second = await EvictionsCheck(counters).judge(target("r-evict"), None, later)  # type: ignore[arg-type]
    assert second.status is WARN and "since the last check" in second.summary and second.metrics["evicted_per_s"] == 10
    alone = await EvictionsCheck().judge(target("r-evict"), None, later)  # type: ignore[arg-type]
    assert "since start" in alone.summary  # a check with its own memory has no previous sample


def test_counter_memory_survives_a_restart_and_floors_short_windows() -> None:
    memory = CounterMemory()
    assert memory.rate("t", "c", 6, uptime=1).per_second == pytest.approx(0.1)  # 6 over a 60 s floor, not 6/s
    assert memory.rate("t", "c", 66, uptime=61).basis == "since the last check"
    restarted = memory.rate("t", "c", 3, uptime=10)  # counter went down: Redis restarted
    assert restarted.basis == "since start" and restarted.delta == 3


def test_slowlog_entries_skip_our_own_client_and_trim_arguments() -> None:
    raw: list[dict[str, Any]] = [
        {"id": 2, "start_time": 1700000000, "duration": 15000, "command": b"KEYS *", "client_address": b"10.0.0.9:5",
         "client_name": b"app"},
        {"id": 1, "start_time": 1700000000, "duration": 900, "command": "INFO everything", "client_name": "steadyops"},
    ]
    (entry,) = slow_entries(raw, skip_client="steadyops")
    assert entry.command == "KEYS *" and entry.micros == 15000 and "from 10.0.0.9:5" in entry.describe(1700000010)
    assert trim_command("SET k " + "v" * 100) == "SET k " + "v" * 40 + "…"
    assert trim_command(" ".join(f"a{i}" for i in range(10))).endswith("…(+4 args)")


def test_addresses_and_error_layers() -> None:
    assert split_address("10.0.0.7", DEFAULT_PORT) == ("10.0.0.7", 6379)
    assert split_address("[::1]:7000", DEFAULT_PORT) == ("::1", 7000)
    from redis.exceptions import AuthenticationError, TimeoutError
    from redis.exceptions import ConnectionError as RedisConnectionError

    refused = RedisConnectionError("Error 111 connecting")
    refused.__context__ = ConnectionRefusedError(111, "Connection refused")
    assert describe_error(refused)[0] == "process" and describe_error(refused)[2] is True

    assert describe_error(AuthenticationError("invalid password"))[0] == "config"
    assert describe_error(TimeoutError("Timeout connecting"))[:1] == ("network",)


def test_maxclients_refusal_is_capacity_and_silence_after_connect_is_a_hung_process() -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from steadyops.integrations.redis.client import describe_error

    layer, what, answered = describe_error(RedisConnectionError("max number of clients reached"))
    assert (layer, answered) == ("capacity", True) and "maxclients" in what
    layer, _, answered = describe_error(RedisTimeoutError("Timeout reading from 127.0.0.1:6390"))
    assert (layer, answered) == ("process", True)
    layer, _, answered = describe_error(RedisTimeoutError("Timeout connecting to server"))
    assert (layer, answered) == ("network", False)  # no target given: cannot tell it listens here
