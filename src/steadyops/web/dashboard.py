"""The dashboard: what an on-call engineer wants in one look — open incidents by severity, how much
noise convergence removed, 1-5-10 attainment by day, the noisiest alerts, inspection health."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from steadyops.auth import Principal
from steadyops.store import alerts as alerts_repo
from steadyops.store import notifications as notifications_repo
from steadyops.store.tables import AlertRow, CheckStateRow, IncidentRow
from steadyops.web.charts import bars, columns
from steadyops.web.incidents import GOALS
from steadyops.web.messages import tr
from steadyops.web.render import render
from steadyops.web.session import app_of, lang_of, viewer

router = APIRouter(include_in_schema=False)

DAYS = 14
NOISY_SAMPLE = 5000


def summary(request: Request) -> dict[str, Any]:
    app = app_of(request)
    now = app.clock.now()
    with app.store.transaction() as s:
        open_by_sev: dict[str, int] = {str(k): int(v) for k, v in s.execute(
            select(IncidentRow.severity, func.count()).where(IncidentRow.status != "resolved")
            .group_by(IncidentRow.severity))}
        received = alerts_repo.count_events(s)
        decisions = notifications_repo.count_decisions(s)
        since = now - timedelta(days=DAYS)
        times = s.execute(select(IncidentRow.opened_at, IncidentRow.first_alert_at, IncidentRow.resolved_at)
                          .where(IncidentRow.opened_at >= since)).all()
        names = Counter(str((labels or {}).get("alertname", "?")) for (labels,) in s.execute(
            select(AlertRow.labels).order_by(AlertRow.updated_at.desc()).limit(NOISY_SAMPLE)))
        checks: dict[str, int] = {str(k): int(v) for k, v in s.execute(
            select(CheckStateRow.status, func.count()).group_by(CheckStateRow.status))}
    per_day: dict[str, list[bool]] = {}
    for opened, first, resolved in times:
        met = ((opened - first).total_seconds() <= GOALS["detect"] and resolved is not None
               and (resolved - first).total_seconds() <= GOALS["recover"])
        per_day.setdefault(opened.strftime("%m-%d"), []).append(met)
    days = [(now - timedelta(days=d)).strftime("%m-%d") for d in range(DAYS - 1, -1, -1)]
    attainment: list[tuple[str, float | None]] = [
        (d, sum(1 for met in per_day[d] if met) / len(per_day[d]) if d in per_day else None) for d in days]
    severities = ["critical", "warning", "info"]
    return {
        "open": {sev: int(open_by_sev.get(sev, 0)) for sev in severities},
        "open_total": sum(int(v) for v in open_by_sev.values()),
        "received": received, "notifications": decisions,
        "ratio": received / max(decisions, 1),
        "attainment": attainment,
        "noisy": names.most_common(8),
        "checks": checks,
        "severities": severities,
    }


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, me: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    lang = lang_of(request)
    data = summary(request)
    sev_chart = bars([(tr("severity." + s, lang), float(data["open"][s])) for s in data["severities"]],
                     css=[f"bar sev-{s}" for s in data["severities"]])
    return render(request, "dashboard.html.j2", lang=lang, d=data, sev_chart=sev_chart,
                  noisy_chart=bars([(n, float(c)) for n, c in data["noisy"]]),
                  attainment_chart=columns(data["attainment"]))
