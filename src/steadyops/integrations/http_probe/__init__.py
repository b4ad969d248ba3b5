"""拨测 / HTTP probe: status over N tries, latency p50/p95/max, keyword or regex on the body,
redirects, TLS certificate days left, DNS time; collectors for the tries and the certificate.

Targets have kind ``http_probe`` and the URL as address (or label ``url``); see :mod:`.checks`.
:mod:`.net` (where an HTTP request failed, shared TLS contexts) is used by the other HTTP-speaking
integrations too.
"""

from __future__ import annotations

from steadyops.contracts.memory import remembering
from steadyops.integrations.http_probe.checks import CHECKS
from steadyops.integrations.http_probe.collectors import COLLECTORS
from steadyops.integrations.http_probe.probe import ProbeRuns
from steadyops.plugins import Registry

__all__ = ["CHECKS", "COLLECTORS", "register"]


def register(registry: Registry) -> None:
    registry.add_kind_alias("http_probe", "http", "拨测", "probe")
    runs = ProbeRuns()  # this registry's: a sweep's tries are shared by its checks, never another App's
    for check in CHECKS:
        registry.add_check(remembering(check, runs))
    for collector in COLLECTORS:
        registry.add_collector(remembering(collector, runs))
