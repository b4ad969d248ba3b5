"""drop the alerts' two single-column indexes that composite ones already cover (i13g)

Revision ID: 0015_i13g
Revises: 0014_i13t
Create Date: 2026-12-05 16:30:00

``ix_alerts_status`` (status) and ``ix_alerts_incident_id`` (incident_id) date from the first schema.
Since 0009_i10b and 0013_i13t every query they served is served by an index that starts with the
same column: (status, updated_at, fingerprint) and (status, ends_at); (incident_id, status) and
(incident_id, updated_at, fingerprint). They only cost: every alert a storm inserts, and every change
of its status or incident, wrote eight B-trees where six do the same work.
"""

from __future__ import annotations

from alembic import op

revision = "0015_i13g"
down_revision = "0014_i13t"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_alerts_status", table_name="alerts")
    op.drop_index("ix_alerts_incident_id", table_name="alerts")


def downgrade() -> None:
    op.create_index("ix_alerts_incident_id", "alerts", ["incident_id"])
    op.create_index("ix_alerts_status", "alerts", ["status"])
