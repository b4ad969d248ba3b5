"""stored alert and firing counts on incidents (i10c)

Revision ID: 0010_i10c
Revises: 0009_i10b
Create Date: 2026-12-05 01:40:00

An incident list shows each incident's alert and firing counts; reading them from the row makes a
page of 100 incidents one index range instead of an aggregate over their alerts. From here on the
counts are kept in the transaction that changes an alert (store/counts.py); the backfill counts
what is already there, in one UPDATE over the (incident_id, status) index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_i10c"
down_revision = "0009_i10b"
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE incidents SET
  alert_count = (SELECT count(*) FROM alerts WHERE alerts.incident_id = incidents.id),
  firing_count = (SELECT count(*) FROM alerts WHERE alerts.incident_id = incidents.id AND alerts.status = 'firing')
"""


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("alert_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("firing_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("firing_count")
        batch.drop_column("alert_count")
