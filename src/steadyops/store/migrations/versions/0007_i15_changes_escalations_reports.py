"""changes, escalations, report runs (i15)

Revision ID: 0007_i15
Revises: 0006_i9a
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import steadyops.store.tables

revision = "0007_i15"
down_revision = "0006_i9a"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    when = steadyops.store.tables.UTCDateTime
    op.create_table(
        "changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("ticket", sa.Text(), nullable=False),
        sa.Column("rollback_plan", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("revision", sa.String(length=200), nullable=False),
        sa.Column("environment", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", when(), nullable=True),
        sa.Column("finished_at", when(), nullable=True),
        sa.Column("planned_start", when(), nullable=True),
        sa.Column("planned_end", when(), nullable=True),
        sa.Column("received_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.Column("silences", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "external_id", name="uq_change_source_key"),
    )
    op.create_index("ix_changes_when", "changes", ["started_at"])
    op.create_table(
        "escalations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("incident_id", _ID, nullable=False),
        sa.Column("policy", sa.String(length=200), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("notified_at", when(), nullable=False),
        sa.Column("on_call", sa.JSON(), nullable=False),
        sa.Column("receivers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "level", name="uq_escalation_level"),
    )
    op.create_index("ix_escalations_incident_id", "escalations", ["incident_id"])
    op.create_table(
        "report_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", when(), nullable=False),
        sa.Column("period_end", when(), nullable=False),
        sa.Column("receiver", sa.String(length=200), nullable=False),
        sa.Column("sent_at", when(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period", "period_start", "receiver", name="uq_report_run"),
    )


def downgrade() -> None:
    op.drop_table("report_runs")
    op.drop_index("ix_escalations_incident_id", table_name="escalations")
    op.drop_table("escalations")
    op.drop_index("ix_changes_when", table_name="changes")
    op.drop_table("changes")
