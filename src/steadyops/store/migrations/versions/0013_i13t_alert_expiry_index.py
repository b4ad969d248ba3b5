"""index for the resolve-timeout scan over firing alerts (i13t)

Revision ID: 0013_i13t
Revises: 0012_i13p
Create Date: 2026-12-05 14:00:00

Every pipeline tick asks for the firing alerts whose endsAt has passed (``Pipeline.expire_once``).
Without an index on both columns that is a walk over every firing alert (``ix_alerts_status``), and
in a storm every alert fires with an endsAt minutes ahead: a hundred thousand rows read each tick
to find none due. (status, ends_at) makes it one index range that holds only the due alerts.
"""

from __future__ import annotations

from alembic import op

revision = "0013_i13t"
down_revision = "0012_i13p"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_alerts_status_ends_at", "alerts", ["status", "ends_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_status_ends_at", table_name="alerts")
