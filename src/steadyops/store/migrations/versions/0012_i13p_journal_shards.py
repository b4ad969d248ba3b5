"""journal shards: the ingestion partition of each journalled event (i13p)

Revision ID: 0012_i13p
Revises: 0011_i13b
Create Date: 2026-12-05 03:30:00

Each event's shard is fixed at intake from the labels its groups are keyed by (store/alerts.py
shard_of); on PostgreSQL an ingestion batch claims whole shards, so several ingesters never work on
one group or one alert at once. Rows already journalled are shard 0: correct, since a shard only
says which ingester may take a row, never whether it is taken.

On PostgreSQL the claim counts pending rows per shard and reads a claimed shard's pending rows in id
order; both walk the existing (processed, id) index, so no new index: one more index on the intake's
hot path would cost every journalled row, for a query that reads a bounded window anyway.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_i13p"
down_revision = "0011_i13b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a constant default: PostgreSQL (11+) and SQLite add the column without rewriting the table
    with op.batch_alter_table("alert_events") as batch:
        batch.add_column(sa.Column("shard", sa.SmallInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("alert_events") as batch:
        batch.drop_column("shard")
