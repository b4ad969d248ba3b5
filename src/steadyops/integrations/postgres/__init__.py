"""PostgreSQL (psycopg async): connect, connections vs max_connections, replication lag, long
transactions, lock waits, transaction-id age; collectors for activity, locks and settings.

Targets have kind ``postgres`` and address ``host:port``; see :mod:`.checks` for the labels. psycopg
connects per question; the password is a credential reference resolved at connect time.
"""

from __future__ import annotations

from steadyops.integrations.postgres.checks import CHECKS
from steadyops.integrations.postgres.collectors import COLLECTORS
from steadyops.plugins import Registry

__all__ = ["CHECKS", "COLLECTORS", "register"]


def register(registry: Registry) -> None:
    registry.add_kind_alias("postgres", "pg", "postgresql")
    for check in CHECKS:
        registry.add_check(check)
    for collector in COLLECTORS:
        registry.add_collector(collector)
