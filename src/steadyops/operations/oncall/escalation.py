"""Escalation: notify level 1 when an incident opens; no acknowledgement within the level's
``escalate_after`` → the next level; an acknowledgement (or resolution) stops it.

The escalator runs on every pipeline tick and decides from the store alone: which levels are due
for each open, unacknowledged incident (from its ``opened_at`` and the policy), and which of them
are already in the ``escalations`` table. A due level is written together with its outbox rows in
one transaction, so a crash never pages a level twice or forgets one; the existing dispatcher
delivers them with its retries and rate limits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from steadyops.config.operations import EscalationLevel, EscalationPolicy
from steadyops.config.settings import Settings
from steadyops.core.clock import Clock
from steadyops.core.i18n import Lang, normalise, t
from steadyops.core.markup import untrusted
from steadyops.core.models import AlertStatus, Notification, Severity, matches_all
from steadyops.operations.oncall.ack import load_key, sign
from steadyops.operations.oncall.schedule import on_call
from steadyops.store import Store
from steadyops.store.operations import EscalationRow
from steadyops.store.tables import IncidentRow, NotificationRow

log = logging.getLogger(__name__)
LOG_ONLY = "log"


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, counting repeats (level 1, 2, 3, then 4 = level 1 again …)
    level: EscalationLevel
    due: datetime


def steps(policy: EscalationPolicy, opened_at: datetime) -> Iterator[Step]:
    due = opened_at
    n = len(policy.levels)
    for k in range(n * (policy.repeat + 1)):
        level = policy.levels[k % n]
        yield Step(k + 1, level, due)
        due = due + timedelta(seconds=level.escalate_after)


def policy_for(policies: list[EscalationPolicy], labels: dict[str, str]) -> EscalationPolicy | None:
    return next((p for p in policies if matches_all(p.matchers, labels)), None)


class Escalator:
    def __init__(self, settings: Settings, store: Store, clock: Clock, data_dir: Path | None = None) -> None:
        self.settings = settings
        self.oncall = settings.oncall
        self.store = store
        self.clock = clock
        self.lang: Lang = normalise(settings.lang)
        self.key = load_key(data_dir or settings.data_dir)
        self.users = {u.name: u for u in self.oncall.users}
        self.schedules = {s.name: s for s in self.oncall.schedules}
        self.receivers = {r.name: r for r in settings.receivers}

    @property
    def base_url(self) -> str:
        if self.settings.public_url:
            return self.settings.public_url
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "::") else self.settings.host
        return f"http://{host}:{self.settings.port}"

    def tick(self) -> int:
        """Notify every level that has come due; returns how many levels were notified."""
        if not self.oncall.policies:
            return 0
        now = self.clock.now()
        notified = 0
        with self.store.transaction() as session:
            for incident in session.scalars(select(IncidentRow).where(IncidentRow.status == "open")
                                            .order_by(IncidentRow.id).limit(500)):
                policy = policy_for(self.oncall.policies, dict(incident.labels))
                if policy is None:
                    continue
                reached = set(session.scalars(select(EscalationRow.level)
                                              .where(EscalationRow.incident_id == incident.id)))
                for step in steps(policy, incident.opened_at):
                    if step.due > now:
                        break
                    if step.number not in reached:
                        self._notify(session, incident, policy, step, now)
                        notified += 1
        return notified

    def who(self, level: EscalationLevel, now: datetime) -> list[str]:
        names = list(level.users)
        for name in level.schedules:
            shift = on_call(self.schedules[name], now)
            if shift is not None:
                names.append(shift.user)
        return list(dict.fromkeys(names))

    def _notify(self, session: Session, incident: IncidentRow, policy: EscalationPolicy, step: Step,
                now: datetime) -> None:
        people = self.who(step.level, now)
        targets: list[tuple[str, str]] = [(r, "") for r in step.level.receivers]  # (receiver, person)
        for person in people:
            user = self.users.get(person)
            if user is not None and user.receiver:
                targets.append((user.receiver, person))
        seen: set[str] = set()
        expires = now + timedelta(seconds=self.oncall.ack_link_ttl)
        for receiver, person in targets:
            if receiver in seen:
                continue
            seen.add(receiver)
            ack_as = person or (people[0] if people else f"receiver:{receiver}")
            link = sign(self.key, self.base_url, incident.id, ack_as, expires)
            waited = round((now - incident.opened_at).total_seconds() / 60)
            lines = [t("esc.who", self.lang, people=", ".join(people) or "-"),
                     t("esc.level", self.lang, level=step.number, policy=policy.name, minutes=waited),
                     t("esc.ack", self.lang, link=link)]
            note = Notification(title=t("esc.title", self.lang, level=step.number, id=incident.id,
                                        title=untrusted(incident.title)),
                                text="\n".join(lines), severity=Severity.parse(incident.severity),
                                status=AlertStatus.FIRING, incident_id=incident.id,
                                group_key=f"escalation:{incident.id}", url=link)
            channels = self.receivers[receiver].channels if receiver in self.receivers else []
            for index, channel_type in [(i, c.type) for i, c in enumerate(channels)] or [(-1, LOG_ONLY)]:
                session.add(NotificationRow(
                    dedup_key=f"esc|{incident.id}|{step.number}|{receiver}|{index}", group_key=note.group_key,
                    incident_id=incident.id, receiver=receiver, channel=index, channel_type=channel_type,
                    payload=note.model_dump(mode="json"), status="sent" if channel_type == LOG_ONLY else "pending",
                    attempts=0, next_attempt_at=now, created_at=now, sent_at=now if channel_type == LOG_ONLY else None,
                    last_error=""))
        session.add(EscalationRow(incident_id=incident.id, policy=policy.name, level=step.number, notified_at=now,
                                  on_call=people, receivers=sorted(seen)))
        log.info("incident %s escalated to level %s (%s)", incident.id, step.number, ", ".join(people) or "-")
