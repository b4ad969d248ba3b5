"""SLOs and error budgets: Sloth-compatible specs, generated burn-rate rules, budget status.

``spec`` reads the YAML; ``rules`` turns it into Prometheus recording and alerting rules
(multi-window, multi-burn-rate); ``rules_file`` writes them where Prometheus loads them, checked by
promtool; ``status`` asks Prometheus how much budget is left and when it runs out.
"""

from __future__ import annotations

from steadyops.operations.slo.rules import WORKBOOK, BurnWindow, prom_duration, render_rules, rules_document, slo_rules
from steadyops.operations.slo.spec import ServiceSpec, SLOSpec, load_specs, parse_specs, slo_id

__all__ = ["WORKBOOK", "BurnWindow", "SLOSpec", "ServiceSpec", "load_specs", "parse_specs", "prom_duration",
           "render_rules", "rules_document", "slo_id", "slo_rules"]
