"""Group timers: when a group's timer is due, decide whether to notify and write the outbox.

The decision and its record (the notification log on the group row, the outbox rows) commit in one
transaction: after a crash a flush either happened completely or will happen again, so a restart
neither resends nor drops. Semantics follow Alertmanager's notification log: notify when new
alerts fire or notified ones resolve, or when ``repeat_interval`` has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from steadyops.config.settings import ChannelConfig, ConvergenceConfig
from steadyops.core.i18n import Lang
from steadyops.core.inventory import Inventory
from steadyops.core.models import AlertStatus, InhibitRule
from steadyops.pipeline.incident import attach
from steadyops.pipeline.mute import Muter
from steadyops.pipeline.render import render
from steadyops.pipeline.route import Route
from steadyops.store.alerts import row_to_alert
from steadyops.store.tables import AlertRow, GroupAlertRow, GroupRow, IncidentRow, NotificationRow

LOG_ONLY = "log"
log = logging.getLogger(__name__)


class Flusher:
    def __init__(self, root: Route, rules: Sequence[InhibitRule], receivers: Mapping[str, list[ChannelConfig]],
                 conv: ConvergenceConfig, inventory: Inventory, lang: Lang, public_url: str) -> None:
        self.root = root
        self.rules = list(rules)
        self.receivers = receivers
        self.conv = conv
        self.inventory = inventory
        self.lang = lang
        self.public_url = public_url.rstrip("/")

    def due(self, session: Session, now: datetime, limit: int = 200) -> list[GroupRow]:
        stmt = (
            select(GroupRow)
            .where(GroupRow.next_flush_at.is_not(None), GroupRow.next_flush_at <= now)
            .order_by(GroupRow.next_flush_at)
            .limit(limit)
        )
        return list(session.scalars(stmt))

    def flush(self, session: Session, group: GroupRow, now: datetime) -> bool:
        """Flush one group; True when a notification was decided."""
        route = self.root.find(group.route_id) or self.root
        fps = list(session.scalars(select(GroupAlertRow.fingerprint).where(GroupAlertRow.group_key == group.key)))
        rows = list(session.scalars(select(AlertRow).where(AlertRow.fingerprint.in_(fps)))) if fps else []
        muter = Muter.load(session, self.rules, now)
        firing: list[AlertRow] = []
        resolved: list[AlertRow] = []
        for row in rows:
            if row.status == AlertStatus.FIRING.value and (row.ends_at is None or row.ends_at > now):
                reasons = muter.muted_by(row.fingerprint, row.labels)
                if reasons != row.muted_by:
                    row.muted_by = reasons
                if not reasons:
                    if row.incident_id is None:  # unmuted since it arrived (a silence ended)
                        attach(session, row, [group.key], now, self.conv, self.inventory)
                    firing.append(row)
            elif row.status == AlertStatus.RESOLVED.value:
                resolved.append(row)
        firing_fps = {r.fingerprint for r in firing}
        last_firing = set(group.notified_firing)
        newly_resolved = [r for r in resolved if r.fingerprint in last_firing]
        repeat_due = group.last_notified_at is None or now - group.last_notified_at >= timedelta(
            seconds=route.repeat_interval
        )
        notify = bool(firing_fps - last_firing) or bool(newly_resolved) or (bool(firing) and repeat_due)
        group.flush_seq += 1
        group.last_flush_at = now
        if notify:
            self._write_outbox(session, group, firing, newly_resolved, now)
            group.notified_firing = sorted(firing_fps)
            group.notified_resolved = sorted(r.fingerprint for r in newly_resolved)
            group.last_notified_at = now
        # Resolved alerts have been told (or never needed telling); the group forgets them.
        gone = [r.fingerprint for r in resolved]
        if gone:
            session.execute(
                delete(GroupAlertRow).where(GroupAlertRow.group_key == group.key, GroupAlertRow.fingerprint.in_(gone))
            )
        if len(gone) == len(rows):
            session.delete(group)
        else:
            group.next_flush_at = now + timedelta(seconds=route.group_interval)
        return notify

    def _write_outbox(self, session: Session, group: GroupRow, firing: list[AlertRow], resolved: list[AlertRow],
                      now: datetime) -> None:
        incident = session.get(IncidentRow, group.incident_id) if group.incident_id is not None else None
        url = f"{self.public_url}/incidents/{incident.id}" if incident is not None and self.public_url else ""
        note = render(
            group_labels=dict(group.labels),
            firing=[row_to_alert(r) for r in firing],
            resolved=[row_to_alert(r) for r in resolved],
            lang=self.lang,
            incident_id=incident.id if incident is not None else None,
            incident_title=incident.title if incident is not None else "",
            group_key=group.key,
            url=url,
        )
        payload = note.model_dump(mode="json")
        channels = self.receivers.get(group.receiver, [])
        targets = [(i, c.type) for i, c in enumerate(channels)] or [(-1, LOG_ONLY)]
        if not channels:  # the "log" channel: counted as sent, so it must really write the notification
            log.warning("notification (receiver %r has no channels, logged only): %s", group.receiver, note.title)
        # the group's birth time is in the key: a group that emptied and came back (a flapping alert)
        # starts its flush_seq again, and must not collide with its earlier life's notifications
        born = int(group.created_at.timestamp() * 1000)
        for index, channel_type in targets:
            session.add(
                NotificationRow(
                    dedup_key=f"{group.key}|{born}|{group.flush_seq}|{group.receiver}|{index}",
                    group_key=group.key,
                    incident_id=incident.id if incident is not None else None,
                    receiver=group.receiver,
                    channel=index,
                    channel_type=channel_type,
                    payload=payload,
                    status="sent" if channel_type == LOG_ONLY else "pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    sent_at=now if channel_type == LOG_ONLY else None,
                    last_error="",
                )
            )
