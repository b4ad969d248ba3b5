"""Redis: INFO-based health checks (memory, fragmentation, evictions, clients, replication,
persistence, slowlog) and read-only collectors.

Targets have kind ``redis`` and address ``host:port``; labels ``user`` (ACL user), ``db``, ``tls``,
``timeout`` and the thresholds named in each check tune them; the password is a credential
reference (``env:`` / ``file:``) resolved at connect time.
"""

from __future__ import annotations

from steadyops.plugins import require_driver

# the driver is an optional extra: without it this plugin is skipped with a message naming the extra
require_driver("redis", extra="redis", kind="redis", purpose="the Redis integration")

from steadyops.contracts.memory import remembering  # noqa: E402
from steadyops.integrations.redis.checks import CHECKS  # noqa: E402
from steadyops.integrations.redis.collectors import COLLECTORS  # noqa: E402
from steadyops.plugins import Registry  # noqa: E402
from steadyops.sources.counters import CounterMemory  # noqa: E402

__all__ = ["CHECKS", "COLLECTORS", "register"]


def register(registry: Registry) -> None:
    registry.add_kind_alias("redis")
    counters = CounterMemory()  # this registry's: rates "since the last check" are never another App's
    for check in CHECKS:
        registry.add_check(remembering(check, counters))
    for collector in COLLECTORS:
        registry.add_collector(collector)
