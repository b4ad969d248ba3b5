"""SLO burn alerts in the incident: how much of the error budget is gone, and when it runs out.

An alert from the generated rules carries ``sloth_id``; when that SLO is in the configured specs
and Prometheus is configured, the diagnosis gets one evidence item per SLO with the budget
consumed, the burn rate and the exhaustion date, computed as ``steadyops slo status`` does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from steadyops.core.errors import SteadyOpsError
from steadyops.core.i18n import Lang, t
from steadyops.operations.slo.spec import ServiceSpec
from steadyops.operations.slo.status import budget_status, find
from steadyops.sources.promql import PromQL
from steadyops.store.tables import AlertRow, IncidentRow

log = logging.getLogger(__name__)


class SLOEvidence:
    def __init__(self, specs: Callable[[], list[ServiceSpec]], promql: PromQL | None, lang: Lang = "en") -> None:
        self.specs = specs
        self.promql = promql
        self.lang: Lang = lang

    def __call__(self, session: Session, incident: IncidentRow, alerts: Sequence[AlertRow], scope: set[str],
                 score: dict[str, float], now: datetime) -> list[dict[str, Any]]:
        ids = sorted({str(a.labels.get("sloth_id")) for a in alerts if a.labels.get("sloth_id")})
        if not ids or self.promql is None:
            return []
        try:
            specs = self.specs()
        except SteadyOpsError as exc:
            log.warning("SLO specs unreadable: %s", exc)
            return []
        out: list[dict[str, Any]] = []
        for sid in ids:
            found = find(specs, sid)
            if found is None:
                continue
            try:
                status = budget_status(found[0], found[1], self.promql, now)
            except SteadyOpsError as exc:
                log.warning("SLO status for %s unavailable: %s", sid, exc)
                continue
            consumed = "-" if status.budget_consumed is None else f"{status.budget_consumed * 100:.1f}%"
            burn = "-" if status.burn_rate is None else f"{status.burn_rate:.1f}"
            until = status.exhaustion_at.strftime("%Y-%m-%d %H:%M UTC") if status.exhaustion_at else "-"
            out.append({"kind": "slo", "target": found[0].service, "detail": sid,
                        "summary": t("slo.evidence", self.lang, slo=sid, consumed=consumed, window=status.window,
                                     burn=burn, until=until),
                        **{k: v for k, v in status.to_dict().items() if k not in ("slo_id", "service", "slo")}})
        return out
