"""incident timings: last healthy observation, located, remedied

Revision ID: 0006_i9a
Revises: 0005
Create Date: 2026-12-04 22:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import steadyops.store.tables

revision = '0006_i9a'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('last_ok_at', steadyops.store.tables.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('located_at', steadyops.store.tables.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('remedied_at', steadyops.store.tables.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('remedied_at')
        batch.drop_column('located_at')
        batch.drop_column('last_ok_at')
