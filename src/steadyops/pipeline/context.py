"""What flows between stages: a batch of alerts and the context of one pipeline run.

Stages run inside one database transaction on a worker thread, so they are plain functions over a
Session: a crash between stages rolls the whole batch back (the alerts' writes included: they go
through the same session at :meth:`Context.save`) and the journal replays it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from steadyops.config.settings import Settings
from steadyops.core.inventory import Inventory
from steadyops.core.models import Alert
from steadyops.store import alert_states
from steadyops.store.alert_states import AlertState
from steadyops.store.incident_targets import TargetIndex
from steadyops.store.tables import GroupRow, IncidentRow


@dataclass
class AlertBatch:
    alerts: list[Alert]
    #: fingerprint -> ids of the silences / inhibitions muting it (filled by the mute stage)
    muted: dict[str, list[str]] = field(default_factory=dict)
    #: fingerprint -> group keys it joined (filled by the group stage)
    groups: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.alerts)


@dataclass
class Context:
    """One batch's unit of work. The row caches let every stage look rows up without a query each:
    a batch loads what it needs in a few ``IN (…)`` selects, and writes its alerts back in a few
    statements (:meth:`save`).

    Alerts are :class:`AlertState` records, not ORM rows: a storm puts thousands of them in every
    batch, and an ORM object per alert (construction, attribute events, the unit of work's
    per-object flush) was most of the pipeline's cost. Groups and incidents, a few per batch,
    stay ORM rows."""

    session: Session
    now: datetime
    settings: Settings
    inventory: Inventory
    alert_rows: dict[str, AlertState] = field(default_factory=dict)
    group_rows: dict[str, GroupRow] = field(default_factory=dict)
    incident_rows: dict[int, IncidentRow] = field(default_factory=dict)
    #: open incidents seen recently, for convergence; loaded once per batch, new ones appended
    recent_incidents: list[IncidentRow] | None = None
    #: incident id -> alerts that joined it in this batch (one timeline entry each, at the end)
    joined: dict[int, list[str]] = field(default_factory=dict)
    #: which incidents have the targets this batch names, and the targets it gives them (saved with
    #: the alerts): a storm's incident has tens of thousands, and the batch asks only about its own
    targets: TargetIndex = field(init=False)
    #: (group key, fingerprint) memberships to insert at :meth:`save`
    new_members: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.targets = TargetIndex(self.session)

    def load_alerts(self, fingerprints: list[str]) -> None:
        missing = [fp for fp in set(fingerprints) if fp not in self.alert_rows]
        self.alert_rows.update((s.fingerprint, s) for s in alert_states.load(self.session, missing))

    def load_groups(self, keys: list[str]) -> None:
        missing = [k for k in set(keys) if k not in self.group_rows]
        for start in range(0, len(missing), 500):
            for row in self.session.scalars(select(GroupRow).where(GroupRow.key.in_(missing[start:start + 500]))):
                self.group_rows[row.key] = row

    def load_incidents(self, ids: list[int]) -> None:
        """Incident rows for ``ids`` in one select per 500 (a batch's groups point at a few)."""
        missing = sorted({i for i in ids if i not in self.incident_rows})
        for start in range(0, len(missing), 500):
            stmt = select(IncidentRow).where(IncidentRow.id.in_(missing[start:start + 500]))
            for row in self.session.scalars(stmt):
                self.incident_rows[row.id] = row

    def incident(self, incident_id: int) -> IncidentRow | None:
        if incident_id not in self.incident_rows:
            row = self.session.get(IncidentRow, incident_id)
            if row is None:
                return None
            self.incident_rows[incident_id] = row
        return self.incident_rows[incident_id]

    def save(self) -> None:
        """Write the batch's changed alerts, new group memberships (see ``store/alert_states``) and
        the incidents' new targets (``store/incident_targets``).

        Called before anything reads alerts back with SQL (auto-resolve) and at the end of the batch;
        a second call writes only what changed since the first."""
        self.session.flush()  # new groups first: memberships reference them
        alert_states.save(self.session, self.alert_rows.values())
        if self.new_members:
            alert_states.add_members(self.session, self.new_members)
            self.new_members = []
        self.targets.save(self.now)


class Stage(Protocol):
    def __call__(self, batch: AlertBatch, ctx: Context) -> AlertBatch | None: ...
