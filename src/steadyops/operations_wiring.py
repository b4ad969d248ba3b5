"""Wiring for the operating rhythm (changes, SLOs, on-call, reports), called from ``app.py``.

Kept out of the composition root so it stays a list of one-line calls while these features grow.
"""

from __future__ import annotations

from steadyops.changes.evidence import ChangeEvidence
from steadyops.clock import Clock
from steadyops.config import Settings
from steadyops.i18n import normalise
from steadyops.inventory import Inventory
from steadyops.oncall.escalation import Escalator
from steadyops.pipeline import Pipeline
from steadyops.pipeline.diagnose import EvidenceSource
from steadyops.promql import PromQL
from steadyops.reports.rhythm import ReportScheduler
from steadyops.slo.evidence import SLOEvidence
from steadyops.slo.spec import ServiceSpec, load_specs
from steadyops.store import Store


def prometheus_client(settings: Settings) -> PromQL | None:
    p = settings.prometheus
    if p is None:
        return None
    return PromQL(p.url, p.bearer_token.get_secret_value() if p.bearer_token else None, p.timeout)


def start_rhythm(settings: Settings, store: Store, clock: Clock, pipeline: Pipeline) -> Escalator | None:
    """Escalation and scheduled reports run on the pipeline's tick, when configured."""
    if settings.reports.schedules:
        pipeline.periodic.append(ReportScheduler(settings, store, clock).tick)
    if not settings.oncall.policies:
        return None
    escalator = Escalator(settings, store, clock)
    pipeline.periodic.append(escalator.tick)
    return escalator


def rhythm_evidence(settings: Settings, inventory: Inventory) -> list[EvidenceSource]:
    """Recent changes near the incident, and the error budget of any SLO whose burn alert is in it."""
    lang = normalise(settings.lang)

    def specs() -> list[ServiceSpec]:
        return load_specs(list(settings.slo.specs))

    return [ChangeEvidence(inventory, settings.changes, lang), SLOEvidence(specs, prometheus_client(settings), lang)]
