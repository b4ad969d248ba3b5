"""Wiring for the operating rhythm (changes, SLOs, on-call, reports), called from ``app.py``.

Kept out of the composition root so it stays a list of one-line calls while these features grow.
The report scheduler (``reports/``, a layer above this one) is built by the composition root and
handed in as its tick.
"""

from __future__ import annotations

from collections.abc import Callable

from steadyops.config.settings import Settings
from steadyops.core.clock import Clock
from steadyops.core.errors import ConfigError
from steadyops.core.i18n import normalise
from steadyops.core.inventory import Inventory
from steadyops.operations.changes.evidence import ChangeEvidence
from steadyops.operations.oncall.escalation import Escalator
from steadyops.operations.slo.evidence import SLOEvidence
from steadyops.operations.slo.spec import ServiceSpec, load_specs
from steadyops.pipeline import Pipeline
from steadyops.pipeline.diagnose import EvidenceSource
from steadyops.sources.promql import PromQL
from steadyops.store import Store


def prometheus_client(settings: Settings) -> PromQL | None:
    p = settings.prometheus
    if p is None:
        return None
    return PromQL(p.url, p.bearer_token.get_secret_value() if p.bearer_token else None, p.timeout)


def check_receivers(settings: Settings) -> None:
    """Every receiver named by on-call and report settings must exist: a typo would page nobody."""
    known = {r.name for r in settings.receivers}
    named = [(f"oncall.users.{i}.receiver", u.receiver) for i, u in enumerate(settings.oncall.users) if u.receiver]
    named += [(f"oncall.policies.{i}.levels.{j}.receivers", r) for i, p in enumerate(settings.oncall.policies)
              for j, level in enumerate(p.levels) for r in level.receivers]
    named += [(f"reports.schedules.{i}.receiver", s.receiver) for i, s in enumerate(settings.reports.schedules)]
    for where, name in named:
        if name not in known:
            raise ConfigError(f"{where}: receiver {name!r} is not defined in receivers")


def start_rhythm(settings: Settings, store: Store, clock: Clock, pipeline: Pipeline,
                 reports: Callable[[], object] | None = None) -> Escalator | None:
    """Escalation and scheduled reports (``reports``: the report scheduler's tick, when schedules are
    configured) run on the pipeline's tick."""
    check_receivers(settings)
    if reports is not None:
        pipeline.periodic.append(reports)
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
