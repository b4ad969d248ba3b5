"""The dashboard: what an on-call engineer wants in one look — open incidents by severity, how much
noise convergence removed, 1-5-10 attainment by day, the noisiest alerts, inspection health."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import case, func, select

from steadyops.auth import Principal
from steadyops.operations.oncall.schedule import on_call
from steadyops.store import alerts as alerts_repo
from steadyops.store import notifications as notifications_repo
from steadyops.store.tables import CheckStateRow, IncidentRow
from steadyops.web.charts import bars, columns
from steadyops.web.incidents import GOALS
from steadyops.web.messages import tr
from steadyops.web.render import render
from steadyops.web.session import app_of, lang_of, viewer

router = APIRouter(include_in_schema=False)

DAYS = 14


def _day_and_seconds(dialect: str, opened: Any, first: Any, resolved: Any) -> tuple[Any, Any, Any]:
    """Day bucket and the two durations in SQL, so thousands of rows never become Python datetimes."""
    if dialect == "sqlite":
        return (func.substr(opened, 6, 5), (func.julianday(opened) - func.julianday(first)) * 86400.0,
                (func.julianday(resolved) - func.julianday(first)) * 86400.0)
    return (func.to_char(opened, "MM-DD"), func.extract("epoch", opened - first),
            func.extract("epoch", resolved - first))


def summary(request: Request) -> dict[str, Any]:
    app = app_of(request)
    now = app.clock.now()
    since = now - timedelta(days=DAYS)
    with app.store.transaction() as s:
        dialect = s.get_bind().dialect.name
        open_by_sev: dict[str, int] = {str(k): int(v) for k, v in s.execute(
            select(IncidentRow.severity, func.count()).where(IncidentRow.status != "resolved")
            .group_by(IncidentRow.severity))}
        received = alerts_repo.count_events(s)
        decisions = notifications_repo.count_decisions(s)
        day, detect, recover = _day_and_seconds(dialect, IncidentRow.opened_at, IncidentRow.first_alert_at,
                                                IncidentRow.resolved_at)
        met = case(((detect <= GOALS["detect"]) & (recover <= GOALS["recover"]), 1), else_=0)
        per_day = {str(d): (int(n), int(m or 0)) for d, n, m in s.execute(
            select(day, func.count(), func.sum(met)).where(IncidentRow.opened_at >= since).group_by(day))}
        name = IncidentRow.labels["alertname"].as_string()
        noisy = [(str(n or "?"), int(c)) for n, c in s.execute(
            select(name, func.count()).where(IncidentRow.opened_at >= since).group_by(name)
            .order_by(func.count().desc()).limit(8))]
        checks: dict[str, int] = {str(k): int(v) for k, v in s.execute(
            select(CheckStateRow.status, func.count()).group_by(CheckStateRow.status))}
    days = [(now - timedelta(days=d)).strftime("%m-%d") for d in range(DAYS - 1, -1, -1)]
    attainment: list[tuple[str, float | None]] = [
        (d, per_day[d][1] / per_day[d][0] if d in per_day and per_day[d][0] else None) for d in days]
    severities = ["critical", "warning", "info"]
    return {
        "open": {sev: open_by_sev.get(sev, 0) for sev in severities},
        "open_total": sum(open_by_sev.values()),
        "received": received, "notifications": decisions,
        "ratio": received / max(decisions, 1),
        "attainment": attainment,
        "noisy": noisy,
        "checks": checks,
        "severities": severities,
        "on_call": [s for s in (on_call(sch, now) for sch in app.settings.oncall.schedules) if s is not None],
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
