"""PostgreSQL (psycopg async): connect, connections vs max_connections, replication lag, long
transactions, lock waits, transaction-id age; collectors for activity, locks and settings.

Targets have kind ``postgres`` and address ``host:port``; see :mod:`.checks` for the labels. psycopg
connects per question; the password is a credential reference resolved at connect time.
"""

from __future__ import annotations

from steadyops.plugins import require_driver

# the driver is an optional extra: without it this plugin is skipped with a message naming the extra
require_driver("psycopg", extra="postgres", kind="postgres", purpose="the PostgreSQL integration")

from steadyops.integrations.postgres.checks import CHECKS  # noqa: E402
from steadyops.integrations.postgres.collectors import COLLECTORS  # noqa: E402
from steadyops.plugins import Registry  # noqa: E402

__all__ = ["CHECKS", "COLLECTORS", "register"]


def register(registry: Registry) -> None:
    registry.add_kind_alias("postgres", "pg", "postgresql")
    for check in CHECKS:
        registry.add_check(check)
    for collector in COLLECTORS:
        registry.add_collector(collector)
