"""Reading inspection runs and result history out of the store, and assembling a report from them.

Kept apart from the report model so the model can be built (and tested) from plain findings, while
the API, the CLI and the web console share one set of queries — in particular one notion of "the
previous run": the latest earlier run with exactly the same scope, because comparing a Redis-only
sweep with a full sweep would report every non-Redis check as "no longer checked".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from steadyops.core.errors import NotFound
from steadyops.core.inventory import Inventory
from steadyops.core.models import CheckStatus, Evidence, Finding
from steadyops.reports.inspection import HistoryPoint, InspectionReport, build_report, diff_runs, worst
from steadyops.reports.sections import SectionProvider, collect_sections
from steadyops.store import Store
from steadyops.store.tables import CheckResultRow, InspectionRunRow

#: how far back trends look, and how many rows one report may read for them
HISTORY_WINDOW = timedelta(days=30)
HISTORY_POINTS = 30
MAX_HISTORY_ROWS = 50_000
#: how many earlier runs are scanned for one with the same scope
PREVIOUS_SCAN = 500


class RunSummary(BaseModel):
    id: int
    started_at: datetime
    finished_at: datetime | None = None
    trigger: str
    scope: dict[str, Any] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    status: CheckStatus


class ResultOut(BaseModel):
    """One stored check result: a finding plus the run it belonged to (None for scheduled checks)."""

    id: int
    run_id: int | None = None
    finding: Finding


def _status(value: str) -> CheckStatus:
    try:
        return CheckStatus(value)
    except ValueError:
        return CheckStatus.UNKNOWN


def run_status(counts: dict[str, Any], finished: bool = True) -> CheckStatus:
    """A run's verdict from its counts; unfinished or empty runs are UNKNOWN, never OK."""
    present = [_status(k) for k, n in counts.items() if n]
    if not finished or not present:
        return CheckStatus.UNKNOWN
    return worst(present)


def summary_of(row: InspectionRunRow) -> RunSummary:
    counts = {k: int(v) for k, v in (row.counts or {}).items()}
    return RunSummary(id=row.id, started_at=row.started_at, finished_at=row.finished_at, trigger=row.trigger,
                      scope=dict(row.scope or {}), counts=counts,
                      status=run_status(counts, row.finished_at is not None))


def finding_of(row: CheckResultRow) -> Finding:
    return Finding(check=row.check, target=row.target, target_kind=row.target_kind, status=_status(row.status),
                   summary=row.summary, evidence=[Evidence.model_validate(e) for e in row.evidence or []],
                   metrics={k: float(v) for k, v in (row.metrics or {}).items() if isinstance(v, int | float)},
                   layer=row.layer or "", labels={k: str(v) for k, v in (row.labels or {}).items()},
                   runbook=row.runbook, started_at=row.started_at, duration_seconds=row.duration_seconds)


def recent_runs(store: Store, *, limit: int = 50, trigger: str | None = None) -> list[RunSummary]:
    with store.transaction() as s:
        stmt = select(InspectionRunRow).order_by(InspectionRunRow.id.desc()).limit(limit)
        if trigger:
            stmt = stmt.where(InspectionRunRow.trigger == trigger)
        return [summary_of(r) for r in s.scalars(stmt)]


def get_run(store: Store, run_id: int) -> RunSummary:
    with store.transaction() as s:
        row = s.get(InspectionRunRow, run_id)
        if row is None:
            raise NotFound(f"inspection run {run_id} does not exist")
        return summary_of(row)


def run_findings(store: Store, run_id: int) -> list[Finding]:
    with store.transaction() as s:
        rows = s.scalars(select(CheckResultRow).where(CheckResultRow.run_id == run_id).order_by(CheckResultRow.id))
        return [finding_of(r) for r in rows]


def previous_run(store: Store, run: RunSummary) -> RunSummary | None:
    """The latest finished run before ``run`` with the same scope (see the module docstring)."""
    with store.transaction() as s:
        stmt = (select(InspectionRunRow).where(InspectionRunRow.id < run.id)
                .order_by(InspectionRunRow.id.desc()).limit(PREVIOUS_SCAN))
        for row in s.scalars(stmt):
            if row.finished_at is not None and dict(row.scope or {}) == run.scope:
                return summary_of(row)
    return None


def history_points(store: Store, findings: Sequence[Finding], *, until_id: int | None = None,
                   since: datetime | None = None, per_key: int = HISTORY_POINTS) -> list[HistoryPoint]:
    """Recent results of the (check, target) pairs in ``findings``, in one bounded query.

    ``until_id`` keeps a report of an old run from showing results recorded after it.
    """
    keys = {(f.check, f.target) for f in findings}
    if not keys:
        return []
    cols = (CheckResultRow.check, CheckResultRow.target, CheckResultRow.status, CheckResultRow.started_at,
            CheckResultRow.metrics)
    stmt = (select(*cols).where(CheckResultRow.check.in_(sorted({k[0] for k in keys})),
                                CheckResultRow.target.in_(sorted({k[1] for k in keys})))
            .order_by(CheckResultRow.id.desc()).limit(min(MAX_HISTORY_ROWS, len(keys) * per_key * 2)))
    if until_id is not None:
        stmt = stmt.where(CheckResultRow.id <= until_id)
    if since is not None:
        stmt = stmt.where(CheckResultRow.started_at >= since)
    seen: dict[tuple[str, str], int] = {}
    points: list[HistoryPoint] = []
    with store.transaction() as s:
        for check, target, status, started_at, metrics in s.execute(stmt):
            key = (check, target)
            if key not in keys or seen.get(key, 0) >= per_key:
                continue
            seen[key] = seen.get(key, 0) + 1
            numeric = {k: float(v) for k, v in (metrics or {}).items() if isinstance(v, int | float)}
            points.append(HistoryPoint(check=check, target=target, status=_status(status), started_at=started_at,
                                       metrics=numeric))
    return points


def result_history(store: Store, *, check: str | None = None, target: str | None = None,
                   limit: int = 100) -> list[ResultOut]:
    """Newest first: what ``/api/v1/checks/history`` and a per-check drill-down show."""
    stmt = select(CheckResultRow).order_by(CheckResultRow.id.desc()).limit(limit)
    if check:
        stmt = stmt.where(CheckResultRow.check == check)
    if target:
        stmt = stmt.where(CheckResultRow.target == target)
    with store.transaction() as s:
        return [ResultOut(id=r.id, run_id=r.run_id, finding=finding_of(r)) for r in s.scalars(stmt)]


def _max_result_id(store: Store, run_id: int) -> int | None:
    with store.transaction() as s:
        return s.scalar(select(CheckResultRow.id).where(CheckResultRow.run_id == run_id)
                        .order_by(CheckResultRow.id.desc()).limit(1))


def load_report(store: Store, run_id: int, *, inventory: Inventory | None = None,
                sections: Sequence[tuple[str, SectionProvider]] = ()) -> InspectionReport:
    """Everything one run's report shows: findings, the diff with the previous same-scope run, trends, and
    the plugins' sections (``sections``: ``registry.sections()``)."""
    run = get_run(store, run_id)
    findings = run_findings(store, run_id)
    diff = None
    prev = previous_run(store, run)
    if prev is not None:
        diff = diff_runs(findings, run_findings(store, prev.id), previous_run_id=prev.id,
                         previous_started_at=prev.started_at)
    points = history_points(store, findings, until_id=_max_result_id(store, run_id),
                            since=run.started_at - HISTORY_WINDOW)
    addresses = {t.name: t.address for t in inventory.targets.values()} if inventory else {}
    return build_report(findings, started_at=run.started_at, run_id=run.id, finished_at=run.finished_at,
                        trigger=run.trigger, scope=run.scope, addresses=addresses, diff=diff, history=points,
                        sections=collect_sections(findings, inventory, sections))
