"""Changes as diagnosis evidence: "deployed 4 minutes before the first failing check".

A change counts when it began within ``changes.lookback`` before the incident's first failing
observation (or while the incident was opening) and touched an incident target or a target
linked to one in the topology (``changes.max_hops``). The anchor is the first failing check on
the incident's targets after the change (or the first alert, if that came earlier): what an
operator wants to know is how long after the change things went wrong. A change on the failing
target itself adds more to its suspicion than one on a neighbour; a change is a lead, not proof,
so its weight stays below a single critical check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steadyops.config.operations import ChangesSettings
from steadyops.core.i18n import Lang, t
from steadyops.core.inventory import Inventory
from steadyops.operations.changes import repo
from steadyops.operations.changes.model import ChangeOut
from steadyops.store import incident_targets
from steadyops.store.tables import AlertRow, CheckResultRow, IncidentRow

SAME_TARGET_WEIGHT = 1.5
LINKED_WEIGHT = 0.75


class ChangeEvidence:
    def __init__(self, inventory: Inventory, settings: ChangesSettings, lang: Lang = "en") -> None:
        self.inventory = inventory
        self.settings = settings
        self.lang: Lang = lang

    def _where(self, change: ChangeOut) -> list[str]:
        names = [self.inventory.resolve(x) or x for x in change.targets]
        if not names and change.service:
            names = [self.inventory.resolve(change.service) or change.service]
        return names

    def related(self, session: Session, targets: Sequence[str], start: datetime, end: datetime
                ) -> list[tuple[ChangeOut, str, int]]:
        """(change, the touched target, hops to the nearest incident target), oldest first."""
        lookback = timedelta(seconds=self.settings.lookback)
        out = []
        for change in repo.list_changes(session, since=start - lookback, until=end, limit=500):
            if change.status.value in ("planned", "cancelled") or not (start - lookback <= change.when <= end):
                continue
            best: tuple[str, int] | None = None
            for where in self._where(change):
                for target in targets:
                    hops = 0 if where == target else self.inventory.distance(where, target, self.settings.max_hops)
                    if hops is not None and (best is None or hops < best[1]):
                        best = (where, hops)
            if best is not None:
                out.append((change, best[0], best[1]))
        return sorted(out, key=lambda x: x[0].when)

    def __call__(self, session: Session, incident: IncidentRow, alerts: Sequence[AlertRow], scope: set[str],
                 score: dict[str, float], now: datetime) -> list[dict[str, Any]]:
        targets = incident_targets.of(session, incident.id) or sorted(scope)
        if not targets:
            return []
        found = self.related(session, targets, incident.first_alert_at, incident.opened_at)
        evidence: list[dict[str, Any]] = []
        for i, (change, where, hops) in enumerate(reversed(found)):  # the latest change first
            first_bad, what = self._first_failure(session, scope or set(targets), change.when, incident)
            minutes = max(0, round((first_bad - change.when).total_seconds() / 60))
            key = "change.before_check" if what else "change.before_alert"
            text = t(key, self.lang, title=change.title, target=where, author=change.author or "?", minutes=minutes,
                     check=what)
            if hops:
                text += t("change.linked", self.lang, hops=hops)
            score[where] = score.get(where, 0.0) + (SAME_TARGET_WEIGHT if hops == 0 else LINKED_WEIGHT)
            evidence.append({"kind": "change", "target": where, "detail": change.title, "summary": text,
                             "change_id": change.id, "minutes_before": minutes, "hops": hops,
                             "author": change.author, "ticket": change.ticket, "url": change.url,
                             "headline": i == 0})
        return evidence

    def _first_failure(self, session: Session, scope: set[str], since: datetime,
                       incident: IncidentRow) -> tuple[datetime, str]:
        row = session.scalars(
            select(CheckResultRow).where(CheckResultRow.target.in_(scope), CheckResultRow.started_at >= since,
                                         CheckResultRow.status != "ok")
            .order_by(CheckResultRow.started_at).limit(1)).first()
        if row is not None and row.started_at <= incident.first_alert_at:
            return row.started_at, f"{row.check}@{row.target}"
        return incident.first_alert_at, ""
