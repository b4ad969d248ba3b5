"""Prometheus: ready, scrape targets down, rule groups failing or too slow; collectors for targets,
rules, alerts and status. Anything serving the Prometheus HTTP API (Thanos, VictoriaMetrics …) works.

Targets have kind ``prometheus`` and address ``host:port`` (or label ``url``); see :mod:`.checks`.
"""

from __future__ import annotations

from steadyops.integrations.prometheus.checks import CHECKS
from steadyops.integrations.prometheus.collectors import COLLECTORS
from steadyops.plugins import Registry

__all__ = ["CHECKS", "COLLECTORS", "register"]


def register(registry: Registry) -> None:
    registry.add_kind_alias("prometheus", "prom")
    for check in CHECKS:
        registry.add_check(check)
    for collector in COLLECTORS:
        registry.add_collector(collector)
