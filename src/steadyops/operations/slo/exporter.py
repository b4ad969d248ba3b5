"""``/metrics``: steadyops' own probes as Prometheus counters, so a check can be an SLI.

``steadyops_check_results_total{check, target, status}`` counts every stored check result. It is a
counter in Prometheus' sense as long as results are kept (a retention job that deletes old results
makes it drop, which ``rate()`` reads as a counter reset and handles). ``sli.probe`` in an SLO spec
turns into ``rate()`` of this counter: the share of results that were not ``ok``.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from steadyops.operations.slo.spec import PROBE_METRIC
from steadyops.store import Store
from steadyops.store.tables import CheckResultRow


class CheckResultsCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(PROBE_METRIC.removesuffix("_total"),
                                     "Check results stored by steadyops, by check, target and status.",
                                     labels=["check", "target", "status"])
        with self.store.transaction() as session:
            rows = session.execute(select(CheckResultRow.check, CheckResultRow.target, CheckResultRow.status,
                                          func.count()).group_by(CheckResultRow.check, CheckResultRow.target,
                                                                 CheckResultRow.status))
            for check, target, status, n in rows:
                family.add_metric([str(check), str(target), str(status)], float(n))
        yield family


def exposition(store: Store) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CheckResultsCollector(store))
    return generate_latest(registry)
