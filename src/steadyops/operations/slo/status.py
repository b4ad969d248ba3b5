"""Error budget status, computed by steadyops from Prometheus (not read from the recording rules).

Asking for the SLI itself means the numbers are right even where the generated rules are not
loaded yet, and a wrong recording rule cannot hide a burning budget. For each SLO:

* ``error_ratio``: bad / total over the whole SLO period;
* ``budget_remaining``: ``1 - error_ratio / budget`` (1 = untouched, 0 = spent, negative = overspent);
* ``burn_rate``: the error ratio over the last hour divided by the budget (1 = spending exactly the
  sustainable rate; the page threshold is 14.4);
* ``exhaustion_at``: when the remaining budget runs out if the last hour's burn continues:
  ``now + remaining × period / burn_rate``; none while burning at or below nothing.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from steadyops.config.durations import parse_duration
from steadyops.operations.slo.spec import ServiceSpec, SLOSpec, slo_id
from steadyops.sources.promql import PromQL

State = Literal["ok", "burning", "exhausted", "no_data"]
BURN_WINDOW = 3600.0
#: a burn above this (the workbook's slowest ticket factor) is reported as "burning"
BURNING = 1.0


@dataclass(frozen=True)
class SLOStatus:
    slo_id: str
    service: str
    slo: str
    objective: float
    window: str
    budget: float
    error_ratio: float | None
    budget_remaining: float | None
    budget_consumed: float | None
    burn_rate: float | None
    exhaustion_at: datetime | None
    state: State

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["exhaustion_at"] = self.exhaustion_at.isoformat() if self.exhaustion_at else None
        return data


def _scalar(promql: PromQL, query: str, at: datetime) -> float | None:
    series = promql.query(query, at)
    if not series:
        return None
    value = series[0][1][-1][1]
    return None if math.isnan(value) or math.isinf(value) else value


def budget_status(service: ServiceSpec, slo: SLOSpec, promql: PromQL, now: datetime) -> SLOStatus:
    window = service.period(slo)
    period = parse_duration(window)
    budget = slo.budget
    ratio = _scalar(promql, slo.sli.error_ratio(window), now)
    recent = _scalar(promql, slo.sli.error_ratio("1h"), now)
    remaining = None if ratio is None else 1.0 - ratio / budget
    burn = None if recent is None else recent / budget
    exhaustion = None
    state: State = "no_data"
    if remaining is not None:
        state = "ok"
        if remaining <= 0:
            state = "exhausted"
        elif burn is not None and burn > 0:
            exhaustion = now + timedelta(seconds=remaining * period / burn)
            if burn > BURNING:
                state = "burning"
    return SLOStatus(slo_id=slo_id(service.service, slo.name), service=service.service, slo=slo.name,
                     objective=slo.objective, window=window, budget=budget,
                     error_ratio=None if ratio is None else round(ratio, 9),
                     budget_remaining=None if remaining is None else round(remaining, 6),
                     budget_consumed=None if remaining is None else round(1.0 - remaining, 6),
                     burn_rate=None if burn is None else round(burn, 4), exhaustion_at=exhaustion, state=state)


def all_status(specs: list[ServiceSpec], promql: PromQL, now: datetime) -> list[SLOStatus]:
    return [budget_status(s, o, promql, now) for s in specs for o in s.slos]


def find(specs: list[ServiceSpec], wanted: str) -> tuple[ServiceSpec, SLOSpec] | None:
    """An SLO by its id (``service-slo``)."""
    for s in specs:
        for o in s.slos:
            if slo_id(s.service, o.name) == wanted:
                return s, o
    return None
