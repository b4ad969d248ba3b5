"""nginx: is the site answering (``nginx.http``) and is nginx dropping connections (``nginx.stub_status``).

Targets have kind ``nginx`` and address ``host:port``; see :mod:`.checks` for the labels.
"""

from __future__ import annotations

from steadyops.contracts.memory import remembering
from steadyops.integrations.nginx.checks import CHECKS, StubCounters
from steadyops.integrations.nginx.collectors import COLLECTORS
from steadyops.plugins import Registry

__all__ = ["CHECKS", "COLLECTORS", "register"]


def register(registry: Registry) -> None:
    registry.add_kind_alias("nginx")
    counters = StubCounters()  # this registry's: "dropped since the last check" is never another App's check
    for check in CHECKS:
        registry.add_check(remembering(check, counters))
    for collector in COLLECTORS:
        registry.add_collector(collector)
