"""Change risk, assessed before the change: a score from factors that each say why.

The score is a sum of bounded points, not a model: an operator must be able to read every factor
and argue with it. Factors:

* **blast radius**: how many targets depend on what changes (transitively, from the inventory's
  ``depends_on``), and how many targets the change touches; a target the inventory does not know
  scores as unknown, because its blast radius cannot be seen;
* **recent incidents** on the targets (last 7 days) and **failing checks** on them or their
  direct neighbours now: changing a sick system hides the cause of the next incident;
* **when**: inside a change freeze (blocked, whatever the score), during business hours (peak
  load, most users affected), or outside business days (fewer hands to help);
* **ticket completeness**: the fields the team requires (``changes.required_fields``: ticket,
  rollback plan, description, planned window, author).

Levels: below 25 low, below 50 medium, otherwise high; a freeze makes it ``blocked``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from steadyops.config.operations import ChangesSettings, FreezeWindow
from steadyops.core.i18n import Lang, t
from steadyops.core.inventory import Inventory
from steadyops.operations.changes.model import ChangeIn
from steadyops.store import incident_targets
from steadyops.store.tables import CheckStateRow, IncidentRow

INCIDENT_LOOKBACK = timedelta(days=7)
LEVELS = ((25, "low"), (50, "medium"))


@dataclass
class Factor:
    name: str
    points: int
    explanation: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Assessment:
    score: int
    level: str
    factors: list[Factor]
    missing_fields: list[str]
    assessed_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "level": self.level, "missing_fields": self.missing_fields,
                "assessed_at": self.assessed_at.isoformat(),
                "factors": [{"name": f.name, "points": f.points, "explanation": f.explanation, "detail": f.detail}
                            for f in self.factors]}


def dependents(inventory: Inventory, names: list[str]) -> list[str]:
    """Every target that depends on any of ``names``, directly or through others."""
    reverse: dict[str, set[str]] = {}
    for target in inventory.targets.values():
        for dep in target.depends_on:
            reverse.setdefault(dep, set()).add(target.name)
    seen: set[str] = set()
    queue = deque(names)
    while queue:
        for up in reverse.get(queue.popleft(), ()):
            if up not in seen and up not in names:
                seen.add(up)
                queue.append(up)
    return sorted(seen)


def _in_freeze(window: FreezeWindow, at: datetime, zone: ZoneInfo) -> bool:
    if window.starts_at is not None and window.ends_at is not None:
        return window.starts_at <= at < window.ends_at
    local = at.astimezone(zone)
    assert window.start is not None and window.end is not None
    if local.weekday() not in window.weekdays:
        return False
    now = local.time()
    if window.start <= window.end:
        return window.start <= now < window.end
    return now >= window.start or now < window.end  # crosses midnight


def _missing(change: ChangeIn, required: list[str]) -> list[str]:
    values = {"ticket": change.ticket, "rollback_plan": change.rollback_plan, "description": change.description,
              "author": change.author, "approved_by": change.approved_by,
              "planned_window": "x" if change.planned_start and change.planned_end else ""}
    return [f for f in required if not str(values.get(f, "x")).strip()]


_FIELD_POINTS = {"ticket": 10, "rollback_plan": 15, "description": 5, "planned_window": 5, "author": 5,
                 "approved_by": 5}


def assess(session: Session, change: ChangeIn, inventory: Inventory, settings: ChangesSettings, now: datetime,
           lang: Lang = "en") -> Assessment:
    factors: list[Factor] = []
    known = [n for n in (inventory.resolve(x) for x in change.targets) if n]
    unknown = [x for x in change.targets if not inventory.resolve(x)]
    deps = dependents(inventory, known)
    if deps:
        factors.append(Factor("blast_radius", min(30, 8 * len(deps)),
                              t("risk.blast_radius", lang, n=len(deps), targets=", ".join(deps[:8])),
                              {"dependents": deps}))
    if len(change.targets) > 1:
        factors.append(Factor("many_targets", min(15, 5 * (len(change.targets) - 1)),
                              t("risk.many_targets", lang, n=len(change.targets))))
    if unknown:
        factors.append(Factor("unknown_targets", 10, t("risk.unknown_targets", lang, targets=", ".join(unknown)),
                              {"targets": unknown}))
    since = now - INCIDENT_LOOKBACK
    naming = {i for ids in incident_targets.holding(session, known).values() for i in ids}
    recent = list(session.scalars(select(IncidentRow).where(IncidentRow.opened_at >= since,
                                                            IncidentRow.id.in_(sorted(naming)))
                                  .order_by(IncidentRow.id))) if naming else []
    if recent:
        factors.append(Factor("recent_incidents", min(20, 10 * len(recent)),
                              t("risk.recent_incidents", lang, n=len(recent),
                                ids=", ".join(f"#{i.id}" for i in recent[:5])),
                              {"incidents": [i.id for i in recent]}))
    near = set(known) | {n for k in known for n in inventory.targets if inventory.distance(k, n, 1) is not None}
    failing = [f"{r.check}@{r.target}" for r in session.scalars(
        select(CheckStateRow).where(CheckStateRow.target.in_(near), CheckStateRow.status != "ok"))]
    if failing:
        factors.append(Factor("failing_checks", min(20, 10 * len(failing)),
                              t("risk.failing_checks", lang, n=len(failing), checks=", ".join(sorted(failing)[:6])),
                              {"checks": sorted(failing)}))
    at = change.planned_start or now
    zone = ZoneInfo(settings.timezone)
    freezes = [w.name for w in settings.freeze if _in_freeze(w, at, zone)]
    if freezes:
        factors.append(Factor("freeze", 40, t("risk.freeze", lang, names=", ".join(freezes)), {"freezes": freezes}))
    local = at.astimezone(zone)
    if local.weekday() not in settings.business_days:
        factors.append(Factor("off_days", 5, t("risk.off_days", lang, when=local.strftime("%a %H:%M"))))
    elif settings.business_start <= local.time() < settings.business_end:
        factors.append(Factor("business_hours", 10, t("risk.business_hours", lang, when=local.strftime("%a %H:%M"),
                                                      zone=settings.timezone)))
    missing = _missing(change, settings.required_fields)
    for name in missing:
        factors.append(Factor(f"missing_{name}", _FIELD_POINTS.get(name, 5),
                              t("risk.missing", lang, field=t(f"risk.field.{name}", lang))))
    score = min(100, sum(f.points for f in factors))
    level = "blocked" if freezes else next((name for limit, name in LEVELS if score < limit), "high")
    return Assessment(score=score, level=level, factors=factors, missing_fields=missing, assessed_at=now)
