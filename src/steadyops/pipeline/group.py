"""Group: put each firing alert into the aggregation groups its routes select and arm their timers.

A new group waits ``group_wait`` before its first notification so a burst of related alerts goes
out as one message; like Alertmanager, an alert that started long ago does not wait again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from steadyops.core.models import Alert, AlertStatus
from steadyops.pipeline.context import AlertBatch, Context
from steadyops.pipeline.route import Route
from steadyops.store.tables import GroupRow


class Group:
    def __init__(self, root: Route) -> None:
        self.root = root

    def __call__(self, batch: AlertBatch, ctx: Context) -> AlertBatch | None:
        # a resolved alert stays in the groups it is in until they flush it
        firing = [a for a in batch.alerts if a.status is AlertStatus.FIRING]
        routed = [(a, [(r, r.group_key(a.labels)) for r in self.root.match(a.labels)]) for a in firing]
        keys = [k for _a, pairs in routed for _r, k in pairs]
        ctx.load_groups(keys)
        for alert, pairs in routed:
            batch.groups[alert.fingerprint] = [self._join(route, key, alert, ctx) for route, key in pairs]
        return batch

    def _join(self, route: Route, key: str, alert: Alert, ctx: Context) -> str:
        session: Session = ctx.session
        group = ctx.group_rows.get(key)
        if group is None or group.next_flush_at is None:
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
            ctx.group_rows[key] = group
        elif group.next_flush_at is None:
            group.next_flush_at = first_flush
        ctx.new_members.append((key, alert.fingerprint))  # written at ctx.save(); one already there is kept
        return key
