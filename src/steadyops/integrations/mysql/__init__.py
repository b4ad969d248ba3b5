"""MySQL / MariaDB: connect, connections vs max_connections, slow queries, replication threads and
lag, deadlocks, aborted connects; collectors for status, processlist and replication.

Targets have kind ``mysql`` and address ``host:port``; see :mod:`.checks` for the labels. PyMySQL
runs in a worker thread; the password is a credential reference resolved at connect time.
"""

from __future__ import annotations

from steadyops.plugins import require_driver

# the driver is an optional extra: without it this plugin is skipped with a message naming the extra
require_driver("pymysql", extra="mysql", kind="mysql", purpose="the MySQL / MariaDB integration")

from steadyops.contracts.memory import remembering  # noqa: E402
from steadyops.integrations.mysql.checks import CHECKS  # noqa: E402
from steadyops.integrations.mysql.collectors import COLLECTORS  # noqa: E402
from steadyops.plugins import Registry  # noqa: E402
from steadyops.sources.counters import CounterMemory  # noqa: E402

__all__ = ["CHECKS", "COLLECTORS", "register"]


def register(registry: Registry) -> None:
    registry.add_kind_alias("mysql", "mariadb", "数据库")
    counters = CounterMemory()  # this registry's: rates "since the last check" are never another App's
    for check in CHECKS:
        registry.add_check(remembering(check, counters))
    for collector in COLLECTORS:
        registry.add_collector(collector)
