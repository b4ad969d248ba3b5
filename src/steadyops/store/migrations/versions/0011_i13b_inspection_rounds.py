"""inspection round claims for distributed workers (i13b)

Revision ID: 0011_i13b
Revises: 0010_i10c
Create Date: 2026-12-05 02:15:00

One row per (target, round) handed to a Celery worker: the idempotency key that makes a round run
once even when its message is delivered twice or redelivered after a worker was killed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from steadyops.store.tables import BigId, UTCDateTime

revision = "0011_i13b"
down_revision = "0010_i10c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_rounds",
        sa.Column("target", sa.String(256), primary_key=True),
        sa.Column("round", BigId, primary_key=True, autoincrement=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("worker", sa.String(200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_inspection_rounds_claimed_at", "inspection_rounds", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_inspection_rounds_claimed_at", table_name="inspection_rounds")
    op.drop_table("inspection_rounds")
