"""incident targets in a table of their own, and a stored target count (i13t)

Revision ID: 0014_i13t
Revises: 0013_i13t
Create Date: 2026-12-05 14:30:00

An incident's targets were a JSON list in its row, and every ingestion batch that added one read,
re-serialised and rewrote the whole list: in a storm on distinct instances one incident collects
tens of thousands of targets, so the storm cost grew with the square of its size. From here on each
target is a row of ``incident_targets`` (primary key (incident_id, target), ``position`` keeping
the order they joined in), inserted once; ``incidents.target_count`` counts them.

The lists move over in one INSERT … SELECT per dialect (SQLite ``json_each``, PostgreSQL
``json_array_elements_text … WITH ORDINALITY``), in list order, numbered densely; a target moved
this way is dated by its incident's opened_at (the list kept no times). The index on ``target`` is
built after the rows are in. ``incidents.targets`` is then dropped with a plain ALTER TABLE … DROP
COLUMN (SQLite 3.35+, as RETURNING already needs): a batch "move and copy" of ``incidents`` would
drop the old table, and with foreign keys on, SQLite deletes the rows that refer to it (the
timelines, the diagnoses, the targets just moved).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from steadyops.store.tables import BigId, UTCDateTime

revision = "0014_i13t"
down_revision = "0013_i13t"
branch_labels = None
depends_on = None

MOVE = {
    "sqlite": """
INSERT INTO incident_targets (incident_id, target, position, first_seen_at)
SELECT id, target, row_number() OVER (PARTITION BY id ORDER BY key) - 1, opened_at
FROM (SELECT incidents.id AS id, CAST(j.value AS TEXT) AS target, j.key AS key, incidents.opened_at AS opened_at
      FROM incidents, json_each(incidents.targets) AS j
      WHERE json_type(incidents.targets) = 'array' AND j.value IS NOT NULL AND CAST(j.value AS TEXT) != '')
WHERE true
ON CONFLICT DO NOTHING
""",
    "postgresql": """
INSERT INTO incident_targets (incident_id, target, position, first_seen_at)
SELECT id, target, row_number() OVER (PARTITION BY id ORDER BY ord) - 1, opened_at
FROM (SELECT i.id AS id, t.value AS target, t.ord AS ord, i.opened_at AS opened_at
      FROM incidents AS i
      CROSS JOIN LATERAL json_array_elements_text(
          CASE WHEN json_typeof(i.targets::json) = 'array' THEN i.targets::json ELSE '[]'::json END
      ) WITH ORDINALITY AS t(value, ord)
      WHERE t.value IS NOT NULL AND t.value != '') AS moved
ON CONFLICT DO NOTHING
""",
}

COUNT = """
UPDATE incidents SET target_count = (
  SELECT count(*) FROM incident_targets WHERE incident_targets.incident_id = incidents.id)
"""

#: downgrade: the rows back into a JSON list, in their order
BACK = {
    "sqlite": """
UPDATE incidents SET targets = (
  SELECT json_group_array(target) FROM (
    SELECT target FROM incident_targets WHERE incident_targets.incident_id = incidents.id
    ORDER BY position, target))
""",
    "postgresql": """
UPDATE incidents SET targets = (
  SELECT coalesce(json_agg(target ORDER BY position, target), '[]'::json)
  FROM incident_targets WHERE incident_targets.incident_id = incidents.id)
""",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "incident_targets",
        sa.Column("incident_id", BigId, sa.ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("target", sa.Text(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.execute(MOVE[dialect])
    op.create_index("ix_incident_targets_target", "incident_targets", ["target"])
    op.add_column("incidents", sa.Column("target_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute(COUNT)
    op.execute("ALTER TABLE incidents DROP COLUMN targets")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("ALTER TABLE incidents ADD COLUMN targets JSON NOT NULL DEFAULT '[]'")
    op.execute(BACK[dialect])
    op.execute("ALTER TABLE incidents DROP COLUMN target_count")
    op.drop_index("ix_incident_targets_target", table_name="incident_targets")
    op.drop_table("incident_targets")
