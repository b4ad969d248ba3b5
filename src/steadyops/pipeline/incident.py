"""Incident: every unmuted firing alert belongs to exactly one incident.

Beyond Alertmanager's grouping, alerts on targets that are linked in the inventory's dependency
graph, and fire within the convergence window, join the same incident: a database outage and the
ten services that depend on it are one page, not eleven. Alerts on the *same* target converge too
(distance 0), and an incident that resolved by itself reopens when its target fails again within
``reopen_window``, so one fault — however many checks see it, however it flaps — is one incident.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, text
from sqlalchemy.orm import Session

from steadyops.config.settings import ConvergenceConfig
from steadyops.core.inventory import Inventory
from steadyops.core.models import AlertStatus, IncidentStatus, Severity
from steadyops.pipeline import timings
from steadyops.pipeline.context import AlertBatch, Context
from steadyops.store import incident_targets
from steadyops.store import incidents as incidents_repo
from steadyops.store.alert_states import AlertState
from steadyops.store.incident_targets import TargetIndex
from steadyops.store.tables import AlertRow, GroupRow, IncidentRow

JOINED_LISTED = 10

#: the advisory lock a PostgreSQL transaction holds while it decides and changes incidents (any constant:
#: "incd"); see :func:`serialise`
INCIDENT_LOCK_KEY = 0x696E6364
#: Session.info key: the transaction that holds the incident lock already
_HELD = "incident_lock"


def serialise(session: Session) -> bool:
    """On PostgreSQL, wait for the incident lock (transaction-scoped); True when the session holds it.

    Why one lock for every incident, when ingestion batches are otherwise partitioned by group: which
    incident an alert joins is a decision over *other* groups' incidents (convergence over the topology,
    reopening a recent one), so two batches deciding at once could each open an incident for one fault
    (neither sees the other's, not committed yet), or both rewrite one incident's group keys from what
    each read (the later write drops the earlier one's; its targets are rows, inserted once). Held from
    the batch's first incident decision to its commit, the incident stages of all ingesters (and a
    flush's, which attaches alerts unmuted since they arrived) run one after another, each on what the
    ones before committed: the result is the one a single ingester would reach, while journal reads,
    dedup, muting and grouping still run side by side. A batch takes it before it writes any row
    (stages do not flush before the incident stage), so it never waits for it holding a row another
    ingester needs.

    SQLite: nothing to do, one writer at a time already."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    tx = session.get_transaction()
    if tx is not None and session.info.get(_HELD) is tx:
        return True
    session.execute(text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"), {"key": INCIDENT_LOCK_KEY})
    session.info[_HELD] = tx
    return True


def alert_target(labels: dict[str, str], conv: ConvergenceConfig, inventory: Inventory) -> str:
    """The inventory target an alert is about, or the raw label value when the inventory lacks it."""
    for name in conv.target_labels:
        value = labels.get(name)
        if value:
            return inventory.resolve(value) or value
    return ""


def near(target: str, conv: ConvergenceConfig, inventory: Inventory) -> dict[str, int]:
    """The targets an alert on ``target`` may converge with (itself at 0 hops, linked ones within
    ``max_hops``): what convergence and reopening look for among incidents' targets. Empty when
    convergence is off or the alert names no target."""
    if not conv.enabled or not target:
        return {}
    return inventory.within(target, conv.max_hops)


def _title(labels: dict[str, str], target: str) -> str:
    name = labels.get("alertname", "alert")
    return f"{name} @ {target}" if target else name


class Rows:
    """Row lookups for one unit of work: from the batch's caches when there is a batch, else queries."""

    def __init__(self, session: Session, ctx: Context | None = None) -> None:
        self.session = session
        self.ctx = ctx
        #: the batch's, or one of its own for an alert attached outside a batch (saved by :func:`attach`)
        self.targets: TargetIndex = ctx.targets if ctx is not None else TargetIndex(session)

    def group(self, key: str) -> GroupRow | None:
        if self.ctx is not None:
            if key not in self.ctx.group_rows:
                self.ctx.load_groups([key])
            return self.ctx.group_rows.get(key)
        return self.session.get(GroupRow, key)

    def incident(self, incident_id: int) -> IncidentRow | None:
        return self.ctx.incident(incident_id) if self.ctx is not None else self.session.get(IncidentRow, incident_id)

    def load_recent(self, since: datetime) -> None:
        """Load the batch's recent open incidents once. Before any is opened or reopened: those are
        appended to the list (:meth:`opened`), and a query after a reopen would not see it (the
        batch does not flush its changes until it saves)."""
        if self.ctx is not None and self.ctx.recent_incidents is None:
            self.ctx.recent_incidents = incidents_repo.open_rows_since(self.session, since)

    def recent(self, since: datetime) -> list[IncidentRow]:
        if self.ctx is None:
            return incidents_repo.open_rows_since(self.session, since)
        if self.ctx.recent_incidents is None:
            self.ctx.recent_incidents = incidents_repo.open_rows_since(self.session, since)
        return [i for i in self.ctx.recent_incidents if i.status != IncidentStatus.RESOLVED.value
                and i.last_alert_at >= since]

    def joined(self, incident_id: int, what: str, now: datetime) -> None:
        """Timeline entry for alerts joining: one per incident per batch, not one per alert, so a
        storm of ten thousand alerts leaves a readable timeline (and ten thousand fewer rows)."""
        if self.ctx is None:
            incidents_repo.add_event(self.session, incident_id, now, "alert_joined", what)
        else:
            self.ctx.joined.setdefault(incident_id, []).append(what)

    def opened(self, incident: IncidentRow) -> None:
        if self.ctx is not None:
            self.ctx.incident_rows[incident.id] = incident
            if self.ctx.recent_incidents is not None:
                self.ctx.recent_incidents.append(incident)


def attach(session: Session, row: AlertRow | AlertState, group_keys: list[str], now: datetime,
           conv: ConvergenceConfig, inventory: Inventory, ctx: Context | None = None,
           target: str | None = None) -> IncidentRow:
    """Put a firing alert into its incident: its group's, a linked target's, or a new one.
    ``target``: the alert's (:func:`alert_target`), when the caller has it already."""
    serialise(session)  # held already in a pipeline batch (IncidentStage) or a flush (Pipeline.flush_once)
    rows = Rows(session, ctx)
    if target is None:
        target = alert_target(row.labels, conv, inventory)
    linked = near(target, conv, inventory)
    incident = (_group_incident(rows, group_keys) or _converge(rows, linked, now, conv)
                or _reopen(rows, linked, target, now, conv))
    if incident is None:
        incident = IncidentRow(
            title=_title(row.labels, target),
            status=IncidentStatus.OPEN.value,
            severity=Severity.parse(row.labels.get("severity")).value,
            labels=dict(row.labels),
            group_keys=[],
            target_count=0,
            first_alert_at=row.starts_at,
            opened_at=now,
            last_alert_at=now,
        )
        session.add(incident)
        session.flush()  # the id is needed now: alerts and groups point at it
        rows.opened(incident)
        incidents_repo.add_event(session, incident.id, now, "opened", incident.title)
    _join(rows, incident, row, group_keys, target, now)
    if ctx is None:
        rows.targets.save(now)
    return incident


def _group_incident(rows: Rows, group_keys: list[str]) -> IncidentRow | None:
    for key in group_keys:
        group = rows.group(key)
        if group is not None and group.incident_id is not None:
            inc = rows.incident(group.incident_id)
            if inc is not None and inc.status != IncidentStatus.RESOLVED.value:
                return inc
    return None


def _converge(rows: Rows, linked: dict[str, int], now: datetime, conv: ConvergenceConfig) -> IncidentRow | None:
    """The recent open incident with a target nearest the alert's (fewest hops, then the oldest).

    Asked from the alert's side: for each target within reach, which incidents have it (the batch's
    :class:`TargetIndex`), rather than walking every target of every open incident per alert."""
    if not linked:
        return None
    since = now - timedelta(seconds=conv.window)
    rows.load_recent(since)
    holders = {(hops, incident_id) for other, hops in linked.items() for incident_id in rows.targets.holders(other)}
    if not holders:
        return None
    recent = {inc.id: inc for inc in rows.recent(since)}
    # hops == 0 is the same target: one fault on one target is one incident, whatever group its
    # alerts were routed to
    best = min(((hops, incident_id) for hops, incident_id in holders if incident_id in recent), default=None)
    return recent[best[1]] if best is not None else None


def _reopen(rows: Rows, linked: dict[str, int], target: str, now: datetime,
            conv: ConvergenceConfig) -> IncidentRow | None:
    """A fault that flaps (open, resolve, open again within ``reopen_window``) stays one incident."""
    if not linked or conv.reopen_window <= 0:
        return None
    since = now - timedelta(seconds=conv.reopen_window)
    resolved = incidents_repo.recently_auto_resolved(rows.session, since)
    if not resolved:
        return None
    found = incident_targets.holding(rows.session, linked, among=[inc.id for inc in resolved])
    having = {incident_id for ids in found.values() for incident_id in ids}
    for inc in resolved:  # the newest first
        if inc.id in having:
            incidents_repo.reopen(rows.session, inc, now, f"{target} failing again")
            rows.targets.adopt(inc.id)
            rows.opened(inc)
            return inc
    return None


def _join(rows: Rows, incident: IncidentRow, row: AlertRow | AlertState, group_keys: list[str], target: str,
          now: datetime) -> None:
    """Attach the alert and fold it into the incident. A storm joins thousands of alerts to one
    incident per batch, so each column is written only when it changes (every ORM write is an
    event), and a new target is one row for the batch to insert (``store/incident_targets``), not
    a rewrite of the incident's whole list."""
    row.incident_id = incident.id
    for key in group_keys:
        group = rows.group(key)
        if group is not None and group.incident_id != incident.id:
            group.incident_id = incident.id
        if key not in incident.group_keys:
            incident.group_keys = [*incident.group_keys, key]
    if target:
        rows.targets.add(incident, target)
    sev = Severity.parse(row.labels.get("severity"))
    if sev.rank > Severity(incident.severity).rank:
        incident.severity = sev.value
    labels = row.labels
    if any(labels.get(k) != v for k, v in incident.labels.items()):
        incident.labels = {k: v for k, v in incident.labels.items() if labels.get(k) == v}
    if row.starts_at < incident.first_alert_at:
        incident.first_alert_at = row.starts_at
    if incident.last_alert_at != now:
        incident.last_alert_at = now
    timings.note_onset(rows.session, incident, row)
    rows.joined(incident.id, f"{row.labels.get('alertname', '')} {row.fingerprint}", now)


def maybe_auto_resolve(session: Session, incident_id: int, now: datetime) -> None:
    """Resolve the incident once none of its alerts is still firing."""
    incident = session.get(IncidentRow, incident_id)
    if incident is None or incident.status == IncidentStatus.RESOLVED.value:
        return
    still = session.scalar(
        select(AlertRow.fingerprint).where(
            AlertRow.incident_id == incident_id, AlertRow.status == AlertStatus.FIRING.value
        ).limit(1)
    )
    if still is None:
        incidents_repo.resolve(session, incident_id, "auto", now, "all alerts resolved")


class IncidentStage:
    def __init__(self, conv: ConvergenceConfig, inventory: Inventory) -> None:
        self.conv = conv
        self.inventory = inventory

    def __call__(self, batch: AlertBatch, ctx: Context) -> AlertBatch | None:
        touched: set[int] = set()
        locked = serialise(ctx.session)  # before any write of this batch (see serialise)
        ctx.load_groups([k for keys in batch.groups.values() for k in keys])
        group_incidents = [g.incident_id for g in ctx.group_rows.values() if g.incident_id is not None]
        if locked:
            self._lock_rows(batch, ctx, group_incidents)
        else:
            ctx.load_incidents(group_incidents)
        targets = self._probe(batch, ctx)
        for alert in batch.alerts:
            row = ctx.alert_rows.get(alert.fingerprint)
            if row is None:
                continue
            if alert.status is AlertStatus.FIRING:
                if alert.fingerprint in batch.muted or row.incident_id is not None:
                    continue
                attach(ctx.session, row, batch.groups.get(alert.fingerprint, []), ctx.now, self.conv,
                       self.inventory, ctx, targets.get(alert.fingerprint))
            elif row.incident_id is not None:
                touched.add(row.incident_id)
        for incident_id, joined in sorted(ctx.joined.items()):
            more = f" (+{len(joined) - JOINED_LISTED} more)" if len(joined) > JOINED_LISTED else ""
            incidents_repo.add_event(ctx.session, incident_id, ctx.now, "alert_joined",
                                     f"{len(joined)}: " + ", ".join(joined[:JOINED_LISTED]) + more)
        ctx.joined.clear()
        ctx.save()  # the alerts, before auto-resolve asks the database which still fire
        for incident_id in sorted(touched):
            maybe_auto_resolve(ctx.session, incident_id, ctx.now)
        return batch

    def _lock_rows(self, batch: AlertBatch, ctx: Context, group_incidents: list[int]) -> None:
        """PostgreSQL: lock every incident row this batch may change, in id order, in one statement, and
        keep them as the batch's incident rows.

        Why: other transactions change incidents too (diagnoses retitle them, people acknowledge and
        resolve them), each locking rows as it goes. This batch would otherwise lock its incidents in
        the order its flushes reach them (a new incident's flush writes the ones joined so far, the
        stored counts move at the end), and two transactions locking two rows in opposite orders
        deadlock. Taken here, all at once and lowest id first like every other multi-incident writer
        (``store.counts.apply_deltas``, ``Pipeline.diagnose_once``), the batch waits at most for rows
        others hold and never holds one while waiting for another. Other ingesters are no risk: they
        change incidents only under the incident lock, which this batch holds.

        The rows: the incidents of the batch's groups and alerts (the alerts' before and after this
        batch: their counts move), and, when an alert may have to find or open an incident, the
        candidates of convergence and reopening as ``_converge`` and ``_reopen`` choose them. A row
        outside that set (none is known) would still be locked when changed, just not in order."""
        ids = set(group_incidents)
        for state in ctx.alert_rows.values():
            ids.update(i for i in (state.incident_id, state.saved_incident_id) if i is not None)
        attaching = any(a.status is AlertStatus.FIRING and a.fingerprint not in batch.muted for a in batch.alerts)
        wanted: list[ColumnElement[bool]] = [IncidentRow.id.in_(sorted(ids))] if ids else []
        since = ctx.now - timedelta(seconds=self.conv.window)
        if attaching and self.conv.enabled:
            wanted.append(and_(IncidentRow.status != IncidentStatus.RESOLVED.value, IncidentRow.last_alert_at >= since))
            if self.conv.reopen_window > 0:
                reopen_since = ctx.now - timedelta(seconds=self.conv.reopen_window)
                wanted.append(and_(IncidentRow.status == IncidentStatus.RESOLVED.value,
                                   IncidentRow.resolved_by == "auto", IncidentRow.resolved_at >= reopen_since))
        if not wanted:
            return
        stmt = select(IncidentRow).where(or_(*wanted)).order_by(IncidentRow.id).with_for_update()
        found = list(ctx.session.scalars(stmt))
        for row in found:
            ctx.incident_rows[row.id] = row
        if attaching and self.conv.enabled:  # the convergence candidates, as Rows.recent would load them
            ctx.recent_incidents = [row for row in found if row.status != IncidentStatus.RESOLVED.value
                                    and row.last_alert_at >= since]

    def _probe(self, batch: AlertBatch, ctx: Context) -> dict[str, str]:
        """Returns the target of each new firing alert by fingerprint (for :func:`attach`), after
        asking the database once which open incidents have the targets convergence will ask about.

        Convergence runs for an alert whose groups have no open incident: the first such alert of
        each group (the incident it gets becomes the group's, and the group's later alerts join it).
        So those are probed, with the targets linked to them; a storm's thousands of alerts in one
        group ask nothing. Any other alert that does converge asks about its targets then."""
        targets: dict[str, str] = {}
        names: set[str] = set()
        seen: set[tuple[str, ...]] = set()
        rows = Rows(ctx.session, ctx)
        for alert in batch.alerts:
            row = ctx.alert_rows.get(alert.fingerprint)
            if (row is None or alert.status is not AlertStatus.FIRING or alert.fingerprint in batch.muted
                    or row.incident_id is not None):
                continue
            target = targets[alert.fingerprint] = alert_target(row.labels, self.conv, self.inventory)
            keys = tuple(batch.groups.get(alert.fingerprint, []))
            if not target or not self.conv.enabled or (keys and keys in seen):
                continue
            seen.add(keys)
            if _group_incident(rows, list(keys)) is None:
                names.add(target)
                names.update(near(target, self.conv, self.inventory))
        ctx.targets.probe(names)
        return targets
