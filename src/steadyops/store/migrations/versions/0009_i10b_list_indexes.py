"""indexes for paginated incident and alert lists (i10b)

Revision ID: 0009_i10b
Revises: 0008_i10a
Create Date: 2026-12-04 23:40:00

Lists are keyset-paginated (newest first): incidents by id (optionally within a status), alerts by
(updated_at, fingerprint) (optionally within a status or an incident); the per-incident alert and
firing counts come from (incident_id, status). Each of those walks is one of these indexes.
"""

from __future__ import annotations

from alembic import op

revision = "0009_i10b"
down_revision = "0008_i10a"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_incidents_status_id", "incidents", ["status", "id"]),
    ("ix_alerts_updated_fp", "alerts", ["updated_at", "fingerprint"]),
    ("ix_alerts_status_updated_fp", "alerts", ["status", "updated_at", "fingerprint"]),
    ("ix_alerts_incident_updated_fp", "alerts", ["incident_id", "updated_at", "fingerprint"]),
    ("ix_alerts_incident_status", "alerts", ["incident_id", "status"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
