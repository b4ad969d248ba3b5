"""Maintenance windows: an approved change silences its own targets while it runs, and no longer.

Only a change that is approved (status ``approved``, or ``in_progress`` with an approver) and has
a planned end gets silences: an open-ended silence is how real outages go unseen. One silence per
target on ``target``, and one on ``instance`` (the target's host, any port) when the inventory
knows its address, because check findings carry the first and Prometheus alerts the second. When
the change reports that it finished, its silences are expired at once: the window is the change,
not the plan.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from steadyops.core.errors import NotFound
from steadyops.core.inventory import Inventory, split_address
from steadyops.core.models import Matcher, MatchOp, Silence
from steadyops.operations.changes import repo
from steadyops.operations.changes.model import ChangeOut, ChangeStatus
from steadyops.store import silences as silences_repo


def wants_window(change: ChangeOut) -> bool:
    approved = change.status is ChangeStatus.APPROVED or (
        change.status is ChangeStatus.IN_PROGRESS and bool(change.approved_by))
    return approved and change.planned_end is not None and bool(change.targets)


def _matchers(inventory: Inventory, target: str) -> list[list[Matcher]]:
    name = inventory.resolve(target) or target
    out = [[Matcher(name="target", value=name)]]
    known = inventory.targets.get(name)
    if known is not None and known.address:
        try:
            host, _ = split_address(known.address, 0)
        except ValueError:
            return out
        out.append([Matcher(name="instance", op=MatchOp.RE, value=re.escape(host) + "(:[0-9]+)?")])
    return out


def apply_window(session: Session, change: ChangeOut, inventory: Inventory, now: datetime) -> list[str]:
    """Create the change's silences (once) or expire them when it has finished; returns the silence ids."""
    if change.status.finished and change.silences:
        for sid in change.silences:
            try:
                silences_repo.expire(session, sid, now)
            except NotFound:
                continue
        return change.silences
    if change.silences or not wants_window(change):
        return change.silences
    assert change.planned_end is not None
    if change.planned_end <= now:
        return []
    starts = change.planned_start or now
    created = []
    for target in change.targets:
        for matchers in _matchers(inventory, target):
            silence = Silence(matchers=matchers, starts_at=starts, ends_at=change.planned_end,
                              created_by=f"change:{change.approved_by or change.author or change.source}",
                              comment=f"maintenance for change {change.id}: {change.title}"[:2000])
            created.append(silences_repo.create(session, silence, now).id)
    repo.set_silences(session, change.id, created)
    return created
