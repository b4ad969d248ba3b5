"""Making period reports from a running system, on demand or on a schedule.

The scheduled form goes through the notification outbox like every other message (retries,
rate limits, delivery log), and a ``report_runs`` row per (period, start, receiver) written in the
same transaction makes it go out once, even across restarts.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from steadyops.config.settings import Settings
from steadyops.core.clock import Clock
from steadyops.core.errors import SteadyOpsError
from steadyops.core.i18n import Lang, normalise
from steadyops.core.models import Notification, Severity
from steadyops.operations.slo.spec import load_specs
from steadyops.operations.slo.status import all_status
from steadyops.reports.periodic import Period, PeriodReport, build, period_bounds
from steadyops.reports.periodic_render import render_short
from steadyops.sources.promql import PromQL
from steadyops.store import Store
from steadyops.store.operations import ReportRunRow
from steadyops.store.tables import NotificationRow

log = logging.getLogger(__name__)
CHECK_EVERY = 30.0


def _promql(settings: Settings) -> PromQL | None:
    p = settings.prometheus
    if p is None:
        return None
    return PromQL(p.url, p.bearer_token.get_secret_value() if p.bearer_token else None, p.timeout)


def slo_section(settings: Settings, at: datetime) -> tuple[list[dict[str, Any]], str]:
    """SLO statuses at ``at`` (the period's end), or an explanation of why there are none."""
    if not settings.slo.specs:
        return [], ""
    promql = _promql(settings)
    if promql is None:
        return [], "no Prometheus configured"
    try:
        return [s.to_dict() for s in all_status(load_specs(list(settings.slo.specs)), promql, at)], ""
    except SteadyOpsError as exc:
        return [], f"SLO status unavailable: {exc}"


def make_report(settings: Settings, store: Store, clock: Clock, period: Period | str, *, day: date | None = None,
                timezone: str | None = None) -> PeriodReport:
    zone = ZoneInfo(timezone or settings.reports.timezone)
    now = clock.now()
    start, end = period_bounds(period, now, zone, day)
    slos, error = slo_section(settings, min(end, now))
    with store.transaction() as session:
        return build(session, period, start, end, now, zone, slos, error)


class ReportScheduler:
    def __init__(self, settings: Settings, store: Store, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.receivers = {r.name: r for r in settings.receivers}
        self._last_check: float | None = None

    def tick(self) -> int:
        """Send every scheduled report whose period has ended and whose hour has come; returns how many.

        Looks at most every ``CHECK_EVERY`` seconds: the pipeline ticks four times a second and a
        report is due once a day at most."""
        mono = self.clock.monotonic()
        if self._last_check is not None and mono - self._last_check < CHECK_EVERY:
            return 0
        self._last_check = mono
        sent = 0
        now = self.clock.now()
        zone = ZoneInfo(self.settings.reports.timezone)
        for schedule in self.settings.reports.schedules:
            start, end = period_bounds(schedule.period, now, zone)
            send_at = datetime.combine(end.astimezone(zone).date(), schedule.at, zone)
            if now < send_at:
                continue
            with self.store.transaction() as session:
                done = session.scalars(select(ReportRunRow.id).where(
                    ReportRunRow.period == schedule.period, ReportRunRow.period_start == start,
                    ReportRunRow.receiver == schedule.receiver)).first()
            if done is not None:
                continue
            lang: Lang = normalise(schedule.lang or self.settings.lang)
            report = make_report(self.settings, self.store, self.clock, schedule.period,
                                 day=start.astimezone(zone).date())
            title, text = render_short(report, lang)
            self._queue(schedule.period, start, end, schedule.receiver, title, text, now, report)
            sent += 1
        return sent

    def _queue(self, period: str, start: datetime, end: datetime, receiver: str, title: str, text: str,
               now: datetime, report: PeriodReport) -> None:
        key = f"report:{period}:{start.isoformat()}"
        note = Notification(title=title, text=text, severity=Severity.INFO, group_key=key)
        channels = self.receivers[receiver].channels if receiver in self.receivers else []
        with self.store.transaction() as session:
            for index, channel_type in [(i, c.type) for i, c in enumerate(channels)] or [(-1, "log")]:
                session.add(NotificationRow(
                    dedup_key=f"{key}|{receiver}|{index}", group_key=key, incident_id=None, receiver=receiver,
                    channel=index, channel_type=channel_type, payload=note.model_dump(mode="json"),
                    status="sent" if channel_type == "log" else "pending", attempts=0, next_attempt_at=now,
                    created_at=now, sent_at=now if channel_type == "log" else None, last_error=""))
            session.add(ReportRunRow(period=period, period_start=start, period_end=end, receiver=receiver,
                                     sent_at=now, summary={"incidents": len(report.incidents),
                                                           "changes": len(report.changes)}))
        log.info("%s report for %s queued to %s", period, start.date(), receiver)
