"""Group: put each firing alert into the aggregation groups its routes select and arm their timers.

A new group waits ``group_wait`` before its first notification so a burst of related alerts goes
out as one message; like Alertmanager, an alert that started long ago does not wait again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from steadyops.models import Alert, AlertStatus
from steadyops.pipeline.context import AlertBatch, Context
from steadyops.pipeline.route import Route
from steadyops.store.tables import GroupAlertRow, GroupRow


class Group:
    def __init__(self, root: Route) -> None:
        self.root = root

    def __call__(self, batch: AlertBatch, ctx: Context) -> AlertBatch | None:
        for alert in batch.alerts:
            if alert.status is not AlertStatus.FIRING:
                continue  # a resolved alert stays in the groups it is in until they flush it
            keys = [self._join(route, alert, ctx) for route in self.root.match(alert.labels)]
            batch.groups[alert.fingerprint] = keys
        ctx.session.flush()
        return batch

    def _join(self, route: Route, alert: Alert, ctx: Context) -> str:
        key = route.group_key(alert.labels)
        session: Session = ctx.session
        group = session.get(GroupRow, key)
        first_flush = min(
            ctx.now + timedelta(seconds=route.group_wait),
            max(ctx.now, alert.starts_at + timedelta(seconds=route.group_wait)),
        )
        if group is None:
            group = GroupRow(
                key=key,
                route_id=route.id,
                receiver=route.receiver,
                labels=route.group_labels(alert.labels),
                created_at=ctx.now,
                next_flush_at=first_flush,
                notified_firing=[],
                notified_resolved=[],
                flush_seq=0,
            )
            session.add(group)
            session.flush()
        elif group.next_flush_at is None:
            group.next_flush_at = first_flush
        if session.get(GroupAlertRow, (key, alert.fingerprint)) is None:
            session.add(GroupAlertRow(group_key=key, fingerprint=alert.fingerprint))
        return key
