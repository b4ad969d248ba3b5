"""SQLAlchemy rows. The store converts them to domain models at its edge; nothing above it sees a row.

Times are stored as naive UTC (``UTCDateTime``) because SQLite has no time-zone type; reading
attaches UTC again so comparisons never mix aware and naive values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


class AlertEventRow(Base):
    """Every accepted delivery, written before anything else looks at it (the intake journal).

    ``processed`` is the pipeline's cursor: a crash leaves rows unprocessed and they are replayed.
    The unique key makes a re-delivered alert a no-op at the door. ``shard`` is the ingestion partition,
    fixed at intake from the labels its groups are keyed by (``store.alerts.shard_of``): on PostgreSQL
    each ingestion batch claims whole shards, so several ingesters never touch one group or one alert.
    """

    __tablename__ = "alert_events"
    __table_args__ = (
        UniqueConstraint("fingerprint", "status", "starts_at", name="uq_alert_event_key"),
        Index("ix_alert_events_pending", "processed", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON)
    generator_url: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed: Mapped[bool] = mapped_column(Boolean, default=False)
    shard: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")  # migration 0012_i13p


class AlertRow(Base):
    """The current state of one alert (one row per fingerprint)."""

    __tablename__ = "alerts"

    fingerprint: Mapped[str] = mapped_column(String(16), primary_key=True)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: active_history: the old value is loaded before a change, so the incident's stored counts can
    #: move from the old incident/status to the new one (store/counts.py)
    status: Mapped[str] = mapped_column(String(10), active_history=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    generator_url: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    muted_by: Mapped[list[Any]] = mapped_column(JSON, default=list)
    incident_id: Mapped[int | None] = mapped_column(BigId, nullable=True, active_history=True)

    #: no single-column index on status or incident_id: the composites below lead with them (0015_i13g)
    __table_args__ = (  # keyset pagination and per-incident counts (migration 0009_i10b)
        Index("ix_alerts_updated_fp", "updated_at", "fingerprint"),
        Index("ix_alerts_status_updated_fp", "status", "updated_at", "fingerprint"),
        Index("ix_alerts_incident_updated_fp", "incident_id", "updated_at", "fingerprint"),
        Index("ix_alerts_incident_status", "incident_id", "status"),
        # the resolve-timeout scan, every tick: firing alerts whose endsAt has passed (0013_i13t)
        Index("ix_alerts_status_ends_at", "status", "ends_at"),
    )


class SilenceRow(Base):
    __tablename__ = "silences"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    matchers: Mapped[list[Any]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GroupRow(Base):
    """An aggregation group and its notification log (what was last sent, and when).

    ``next_flush_at`` is the group's timer; keeping it here is what lets timers survive a restart.
    """

    __tablename__ = "alert_groups"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    route_id: Mapped[str] = mapped_column(String(64))
    receiver: Mapped[str] = mapped_column(String(200))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_flush_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    last_flush_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notified_firing: Mapped[list[Any]] = mapped_column(JSON, default=list)
    notified_resolved: Mapped[list[Any]] = mapped_column(JSON, default=list)
    flush_seq: Mapped[int] = mapped_column(Integer, default=0)
    incident_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class GroupAlertRow(Base):
    __tablename__ = "alert_group_members"

    group_key: Mapped[str] = mapped_column(
        String(512), ForeignKey("alert_groups.key", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str] = mapped_column(String(16), primary_key=True)


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    group_keys: Mapped[list[Any]] = mapped_column(JSON, default=list)
    first_alert_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_alert_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: the last healthy observation of the failing check before it failed: the fault began after it
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: when the diagnosis first named the root cause it still names (time to locate)
    located_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: when a remedy on one of its targets was applied and verified
    remedied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: how many alerts belong to it now, and how many of those fire: kept in the transaction that
    #: changes an alert (store/counts.py), so a list reads them from the row (migration 0010_i10c)
    alert_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    firing_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: how many targets it has (rows of ``incident_targets``): the next one's position, and a count a
    #: list can show without counting; moved by SQL increments only (store/incident_targets.py)
    target_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_incidents_status_id", "status", "id"),)  # paginated lists (0009_i10b)


class IncidentTargetRow(Base):
    """One target of one incident (an inventory target, or the raw ``instance`` value), in the order
    they joined it (``position``). Read and written through ``store/incident_targets.py`` only.

    Why rows and not a JSON list on the incident (as before 0014_i13t): a storm on distinct instances
    gives one incident tens of thousands of targets, and a list in the incident's row was read,
    re-serialised and rewritten whole by every batch that added one — quadratic over the storm.
    Rows are inserted for the new targets only, and the pipeline asks only about the targets its
    batch names (``ix_incident_targets_target``). On SQLite the table is ``WITHOUT ROWID``: stored
    in primary-key order, one B-tree fewer to write per target.
    """

    __tablename__ = "incident_targets"
    __table_args__ = (Index("ix_incident_targets_target", "target"), {"sqlite_with_rowid": False})

    incident_id: Mapped[int] = mapped_column(BigId, ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    #: Text: a raw label value may be up to intake.max_label_bytes (2 kB), which still fits an index entry
    target: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    #: when the target joined the incident (the incident's opened_at for targets moved by the migration)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentEventRow(Base):
    """The incident's timeline: opened, alert joined, acknowledged, resolved, notified."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200), default="system")
    detail: Mapped[str] = mapped_column(Text, default="")


class NotificationRow(Base):
    """Outbox and log in one: a row is written with the flush that decided it, then delivered.

    ``dedup_key`` makes a re-run flush a no-op; ``status`` survives restarts so nothing is resent
    once sent and nothing pending is forgotten.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(600), unique=True)
    group_key: Mapped[str] = mapped_column(String(512))
    incident_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    receiver: Mapped[str] = mapped_column(String(200))
    channel: Mapped[int] = mapped_column(Integer)
    channel_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


class InspectionRunRow(Base):
    """One inspection (巡检): an on-demand or scheduled sweep; its results make one report."""

    __tablename__ = "inspection_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    trigger: Mapped[str] = mapped_column(String(32), default="manual")


class CheckResultRow(Base):
    """Result history: every check run, so trends (time-to-full) and "what changed" can be computed."""

    __tablename__ = "check_results"
    __table_args__ = (Index("ix_check_results_key", "check", "target", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    check: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(String(256))
    target_kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    layer: Mapped[str] = mapped_column(String(32), default="")
    runbook: Mapped[str | None] = mapped_column(String(256), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[float] = mapped_column(default=0.0)


class CheckStateRow(Base):
    """The alert a failing check currently holds open, so recovery resolves exactly that alert."""

    __tablename__ = "check_state"

    check: Mapped[str] = mapped_column(String(128), primary_key=True)
    target: Mapped[str] = mapped_column(String(256), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    alert_labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InspectionRoundRow(Base):
    """One target's scheduled round in distributed mode: the idempotency key of its inspection.

    ``round`` numbers the target's interval slots since the epoch, so every scheduler (a restarted
    one, a second one) names the same round the same way. A worker claims the row before running the
    round and marks it done in the transaction that records the round's findings; a duplicate message
    finds the row and does nothing, a redelivered one (its worker died) takes an unfinished row over.
    """

    __tablename__ = "inspection_rounds"

    target: Mapped[str] = mapped_column(String(256), primary_key=True)
    round: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16), default="running")
    worker: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditRow(Base):
    """Append-only, hash-chained, HMAC-signed audit entries (see remediation/audit.py)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(512))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))


class ActionRunRow(Base):
    """One remediation from plan to outcome; approvals and the lock refer to it."""

    __tablename__ = "action_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(String(256), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan_hash: Mapped[str] = mapped_column(String(64))
    risk: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    required_approvals: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ApprovalRow(Base):
    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("action_runs.id", ondelete="CASCADE"), index=True)
    plan_hash: Mapped[str] = mapped_column(String(64))
    approver: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TargetLockRow(Base):
    """One action per target at a time, across processes: the row is the lock."""

    __tablename__ = "target_locks"

    target: Mapped[str] = mapped_column(String(256), primary_key=True)
    run_id: Mapped[int] = mapped_column(BigId)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DiagnosisRow(Base):
    """What steadyops concluded about an incident, and from what; never an action taken."""

    __tablename__ = "diagnoses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(BigId, ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mode: Mapped[str] = mapped_column(String(16))  # deterministic | llm
    summary: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(default=0.0)
    inconclusive: Mapped[bool] = mapped_column(Boolean, default=True)
    candidates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    runbooks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list)


class CursorRow(Base):
    """How far the pipeline has read a journal kept in its own SQLite file (see store.Store).

    It lives in the state database and moves in the same transaction as the pipeline's effects,
    so after a crash the pipeline resumes exactly after the last batch it committed.
    """

    __tablename__ = "pipeline_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigId, default=0)


class PrincipalRow(Base):
    """A user (a person: password and/or OIDC login) or a service account (tokens only).

    The role is the ceiling of everything the principal's tokens may do (see auth/roles.py).
    """

    __tablename__ = "principals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # user | service
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    oidc_subject: Mapped[str | None] = mapped_column(String(512), nullable=True, unique=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TokenRow(Base):
    """An API token: only the SHA-256 of its secret is kept (tokens are 256 random bits, so a fast
    hash is enough; passwords get argon2). ``key`` is the public half, shown in lists and audits."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    principal_id: Mapped[int] = mapped_column(BigId, ForeignKey("principals.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # the token's scope: at most the principal's role
    kind: Mapped[str] = mapped_column(String(16), default="api")  # api | session
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
