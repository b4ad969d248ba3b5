"""Two Apps in one process share no plugin memory: a counter rate App A computes "since the last
check" is, for App B checking the same real Redis for the first time, a rate "since start".

Before the memory moved to the registry (``COUNTERS`` was module state of the Redis integration),
App B's first check read App A's sample as its own previous one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from steadyops.app import App
from steadyops.core.models import Finding
from steadyops.plugins import load_plugins
from tests.harness.middleware import start_redis
from tests.harness.services import ServiceMissing

pytestmark = pytest.mark.integration


@pytest.fixture
def rds() -> Iterator[Any]:
    try:
        with start_redis("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru") as server:
            yield server
    except ServiceMissing as exc:
        if os.environ.get("STEADYOPS_REQUIRE_SERVICES") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def _evict(port: int) -> None:
    """Write 4 MiB of 1 KiB values into a 2 MiB Redis: it evicts to make room."""
    client = redis.Redis(port=port)
    for i in range(0, 4000, 100):
        pipe = client.pipeline(transaction=False)
        for j in range(i, i + 100):
            pipe.set(f"k:{j}", b"x" * 1024)
        pipe.execute()
    client.close()


async def _evictions(app: App) -> Finding:
    _, findings = await app.checks.inspect(app.checks.jobs(checks=["redis.evictions"]))
    (finding,) = findings
    return finding


async def test_two_apps_keep_their_own_counter_samples(rds: Any, make_app: Any, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(f"targets:\n  - name: cache\n    kind: redis\n    address: {rds.address}\n", encoding="utf-8")
    app_a = make_app(registry=load_plugins(entry_points_too=False), inventory=inventory)
    app_b = make_app(registry=load_plugins(entry_points_too=False), inventory=inventory)

    first = await _evictions(app_a)
    assert "since start" in first.summary, first.summary
    _evict(rds.port)
    again = await _evictions(app_a)
    assert "since the last check" in again.summary and again.metrics["evicted_keys"] > 0, again.summary

    other = await _evictions(app_b)  # the same server, the same counter, but App B never sampled it
    assert "since start" in other.summary, other.summary
    assert other.metrics["evicted_keys"] == pytest.approx(again.metrics["evicted_keys"], abs=50)
