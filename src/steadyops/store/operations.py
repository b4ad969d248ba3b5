"""Rows for the operating rhythm: changes (变更), escalations, and periodic reports sent.

Kept out of ``tables.py`` so these features own their schema; they share its ``Base`` (one
metadata, one migration chain, revision ``0007_i15``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steadyops.store.tables import Base, BigId, UTCDateTime


class ChangeRow(Base):
    """One change event: a deploy, a config push, a rollback — what, where, who, when, and how to undo it.

    ``(source, external_id)`` is the sender's own identity of the change (a GitLab pipeline id, a
    Jenkins build URL, an Argo CD app + revision): a webhook delivered again, or a later status of
    the same pipeline, updates one row instead of adding another.
    """

    __tablename__ = "changes"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_change_source_key"),
        Index("ix_changes_when", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    service: Mapped[str] = mapped_column(String(200), default="")
    targets: Mapped[list[Any]] = mapped_column(JSON, default=list)
    author: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(32))
    ticket: Mapped[str] = mapped_column(Text, default="")
    rollback_plan: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[str] = mapped_column(String(200), default="")
    environment: Mapped[str] = mapped_column(String(200), default="")
    approved_by: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    planned_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    planned_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    silences: Mapped[list[Any]] = mapped_column(JSON, default=list)


class EscalationRow(Base):
    """One escalation level reached for one incident: written with the notifications it queued, so a
    restart never pages a level twice and never forgets one that was due."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("incident_id", "level", name="uq_escalation_level"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(BigId, ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    policy: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    on_call: Mapped[list[Any]] = mapped_column(JSON, default=list)
    receivers: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ReportRunRow(Base):
    """A periodic report sent to a receiver for one period; the key makes a scheduled send happen once."""

    __tablename__ = "report_runs"
    __table_args__ = (UniqueConstraint("period", "period_start", "receiver", name="uq_report_run"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    receiver: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
