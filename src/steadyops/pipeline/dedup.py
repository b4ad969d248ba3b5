"""Dedup: fold each journalled event into the alert's current state; pass on only real changes.

A firing alert that is re-sent (Prometheus re-sends every evaluation, Alertmanager every
group_interval) refreshes the stored state but is not news. Events older than what we already hold
are dropped, so a late re-delivery of "firing" cannot reopen a resolved alert.
"""

from __future__ import annotations

from steadyops.core.models import Alert, AlertStatus
from steadyops.pipeline.context import AlertBatch, Context
from steadyops.store.alert_states import AlertState


class Dedup:
    def __call__(self, batch: AlertBatch, ctx: Context) -> AlertBatch | None:
        changed: dict[str, Alert] = {}
        ctx.load_alerts([a.fingerprint for a in batch.alerts])
        for alert in batch.alerts:
            row = ctx.alert_rows.get(alert.fingerprint)
            if row is None:
                ctx.alert_rows[alert.fingerprint] = _new_row(alert, ctx)
                changed[alert.fingerprint] = alert
                continue
            if _stale(row, alert):
                continue
            news = _apply(row, alert, ctx)
            if news:
                changed[alert.fingerprint] = _as_alert(row)
        return AlertBatch(alerts=list(changed.values())) if changed else None


def _new_row(alert: Alert, ctx: Context) -> AlertState:
    return AlertState(
        fingerprint=alert.fingerprint,
        labels=alert.labels,
        annotations=alert.annotations,
        status=alert.status.value,
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        generator_url=alert.generator_url,
        source=alert.source,
        updated_at=ctx.now,
        muted_by=[],
        incident_id=None,
        stored=False,
    )


def _as_alert(row: AlertState) -> Alert:
    """The alert as it now stands (its stored episode start, the event's status); values as stored,
    so no validation again."""
    return Alert.model_construct(labels=row.labels, annotations=row.annotations, status=AlertStatus(row.status),
                                 starts_at=row.starts_at, ends_at=row.ends_at, generator_url=row.generator_url,
                                 source=row.source, fingerprint=row.fingerprint)


def _stale(row: AlertState, alert: Alert) -> bool:
    """An event about an older episode of this alert than the one we hold."""
    if alert.starts_at < row.starts_at:
        return True
    # a re-delivered "firing" after we saw this very episode resolve
    return (
        alert.status is AlertStatus.FIRING
        and row.status == AlertStatus.RESOLVED.value
        and alert.starts_at == row.starts_at
    )


def _apply(row: AlertState, alert: Alert, ctx: Context) -> bool:
    """Merge the event into the row; True when the alert changed status (fired again or resolved)."""
    was_firing = row.status == AlertStatus.FIRING.value
    now_firing = alert.status is AlertStatus.FIRING
    if now_firing and not was_firing:
        # A new episode; a firing-to-firing refresh keeps the original startsAt.
        row.starts_at = alert.starts_at
        row.incident_id = None
    row.status = alert.status.value
    row.ends_at = alert.ends_at
    if row.annotations != alert.annotations:
        row.annotations = alert.annotations
    row.generator_url = alert.generator_url or row.generator_url
    row.updated_at = ctx.now
    return was_firing != now_firing
