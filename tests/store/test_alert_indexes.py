"""The alerts table keeps only indexes that some query needs (migration 0015_i13g).

Every alert a storm inserts writes every index of the table, so a redundant one is pure cost. The
two single-column indexes of the first schema were dropped because composites lead with the same
column; these tests check that the migrated table is the model's, and that the lookups those two
served still find an index on SQLite (EXPLAIN QUERY PLAN names it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from steadyops.store.tables import AlertRow


def test_the_migrated_alerts_table_has_the_models_indexes(make_app: Any) -> None:
    app = make_app()
    found = {ix["name"] for ix in inspect(app.store.engine).get_indexes("alerts")}
    declared = {ix.name for ix in AlertRow.__table__.indexes}  # type: ignore[attr-defined]
    assert found == declared
    assert "ix_alerts_status" not in found and "ix_alerts_incident_id" not in found


def _plan(app: Any, sql: str) -> str:
    with app.store.engine.begin() as conn:
        return "\n".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all())


def test_status_and_incident_lookups_still_search_an_index(make_app: Any) -> None:
    app = make_app()
    by_status = _plan(app, "SELECT count(*) FROM alerts WHERE status = 'firing'")
    assert "USING COVERING INDEX ix_alerts_status_" in by_status, by_status
    by_incident = _plan(app, "SELECT fingerprint FROM alerts WHERE incident_id = 7 AND status = 'firing' LIMIT 1")
    assert "USING INDEX ix_alerts_incident_status (incident_id=? AND status=?)" in by_incident, by_incident
    in_incident = _plan(app, "SELECT fingerprint FROM alerts WHERE incident_id = 7 ORDER BY updated_at DESC LIMIT 50")
    assert "INDEX ix_alerts_incident_updated_fp (incident_id=?)" in in_incident, in_incident
    assert "TEMP B-TREE" not in in_incident, in_incident
