"""The inspection report as data: what was found, what changed since last time, and the trends.

The model is built once and rendered many ways (terminal table, Markdown, HTML, JSON over the API),
so everything a renderer needs — grouping, worst-first ordering, the diff against the previous run,
chart series — is decided here, and the renderers stay pure formatting. Nothing here touches the
store; :mod:`steadyops.reports.history` reads rows and hands them in.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from steadyops.contracts.sections import ReportSection
from steadyops.core.models import CheckStatus, Finding

#: worst first, the order every count and list in a report uses
STATUS_ORDER: tuple[CheckStatus, ...] = (CheckStatus.CRITICAL, CheckStatus.WARNING, CheckStatus.UNKNOWN,
                                         CheckStatus.OK)


def worst(statuses: Iterable[CheckStatus], *, empty: CheckStatus = CheckStatus.OK) -> CheckStatus:
    """The most severe status; ``UNKNOWN`` outranks ``OK`` because "could not ask" is never healthy."""
    return max(statuses, key=lambda s: s.rank, default=empty)


def count(statuses: Iterable[CheckStatus]) -> dict[str, int]:
    """Counts with every status present (zeros too), worst first, so tables have stable columns."""
    out = {s.value: 0 for s in STATUS_ORDER}
    for s in statuses:
        out[s.value] += 1
    return out


def exit_code(status: CheckStatus) -> int:
    """The CLI's exit code for a run: 0 all OK, 1 warnings, 2 critical or unknown (or nothing inspected).

    Unknown maps to 2 with critical because a check that could not answer may hide an outage; a
    cron job or CI gate must not read it as "only a warning".
    """
    if status is CheckStatus.OK:
        return 0
    if status is CheckStatus.WARNING:
        return 1
    return 2


def _finding_order(f: Finding) -> tuple[int, str, str]:
    return (-f.status.rank, f.target, f.check)


class TargetGroup(BaseModel):
    """One target's findings, worst first; the unit an operator fixes things on."""

    target: str
    kind: str
    address: str = ""
    status: CheckStatus
    counts: dict[str, int]
    findings: list[Finding]


class KindGroup(BaseModel):
    """One kind of system (redis, zookeeper …): how many targets, how they fare."""

    kind: str
    status: CheckStatus
    counts: dict[str, int]
    targets: list[str]


class ChangeKind(enum.StrEnum):
    NEW_FAILURE = "new_failure"  # OK (or not checked) last time, failing now
    RECOVERED = "recovered"  # failing last time, OK now
    STILL_FAILING = "still_failing"  # failing both times with the same status
    CHANGED = "changed"  # failing both times, but warning ↔ critical ↔ unknown
    GONE = "gone"  # checked last time, not this time (target or check removed)


class Change(BaseModel):
    check: str
    target: str
    kind: ChangeKind
    before: CheckStatus | None = None
    after: CheckStatus | None = None
    summary: str = ""


class Diff(BaseModel):
    """What changed since the previous run of the same scope; the first thing read in a daily report."""

    previous_run_id: int
    previous_started_at: datetime
    changes: list[Change] = Field(default_factory=list)
    unchanged_ok: int = 0

    def of(self, kind: ChangeKind | str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def interesting(self) -> bool:
        """Anything besides "still failing": new failures, recoveries, status moves, removals."""
        return any(c.kind is not ChangeKind.STILL_FAILING for c in self.changes)


class HistoryPoint(BaseModel):
    """One past result of a (check, target), as the store keeps it, for trends and status strips."""

    check: str
    target: str
    status: CheckStatus
    started_at: datetime
    metrics: dict[str, float] = Field(default_factory=dict)


class StatusHistory(BaseModel):
    check: str
    target: str
    statuses: list[CheckStatus]  # oldest first; the last one is this run's


class Series(BaseModel):
    """One metric of one (check, target) over time: what a sparkline draws."""

    check: str
    target: str
    metric: str
    times: list[datetime]
    values: list[float]
    status: CheckStatus = CheckStatus.OK  # this run's status of the check, to colour the chart


class InspectionReport(BaseModel):
    run_id: int | None = None
    started_at: datetime
    finished_at: datetime | None = None
    trigger: str = "manual"
    scope: dict[str, Any] = Field(default_factory=dict)
    status: CheckStatus
    counts: dict[str, int]
    findings: list[Finding]
    targets: list[TargetGroup]
    kinds: list[KindGroup]
    diff: Diff | None = None
    history: list[StatusHistory] = Field(default_factory=list)
    trends: list[Series] = Field(default_factory=list)
    sections: list[ReportSection] = Field(default_factory=list)

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.status.failing]

    def history_for(self, check: str, target: str) -> list[CheckStatus]:
        for h in self.history:
            if h.check == check and h.target == target:
                return h.statuses
        return []


def diff_runs(current: Sequence[Finding], previous: Sequence[Finding], *, previous_run_id: int,
              previous_started_at: datetime) -> Diff:
    """Compare two runs key by key: (check, target)."""
    before = {(f.check, f.target): f for f in previous}
    now = {(f.check, f.target): f for f in current}
    changes: list[Change] = []
    unchanged_ok = 0
    for key in sorted(now, key=lambda k: _finding_order(now[k])):
        f = now[key]
        old = before.get(key)
        old_status = old.status if old is not None else None
        if f.status.failing:
            if old_status is None or not old_status.failing:
                kind = ChangeKind.NEW_FAILURE
            elif old_status is f.status:
                kind = ChangeKind.STILL_FAILING
            else:
                kind = ChangeKind.CHANGED
        elif old_status is not None and old_status.failing:
            kind = ChangeKind.RECOVERED
        else:
            unchanged_ok += 1
            continue
        changes.append(Change(check=f.check, target=f.target, kind=kind, before=old_status, after=f.status,
                              summary=f.summary))
    for key in sorted(set(before) - set(now)):
        old = before[key]
        changes.append(Change(check=old.check, target=old.target, kind=ChangeKind.GONE, before=old.status,
                              summary=old.summary))
    return Diff(previous_run_id=previous_run_id, previous_started_at=previous_started_at, changes=changes,
                unchanged_ok=unchanged_ok)


def trends(findings: Sequence[Finding], points: Iterable[HistoryPoint], *, max_points: int = 30,
           max_series: int = 24) -> tuple[list[StatusHistory], list[Series]]:
    """Status strips for every finding and metric series for the most interesting ones.

    Failing checks' metrics come first, because a chart is most useful where something is wrong;
    a healthy metric that never moved is left out, and the cap keeps a 500-target report readable
    and its HTML small.
    """
    by_key: dict[tuple[str, str], list[HistoryPoint]] = {}
    for p in points:
        by_key.setdefault((p.check, p.target), []).append(p)
    history: list[StatusHistory] = []
    series: list[Series] = []
    for f in sorted(findings, key=_finding_order):
        pts = sorted(by_key.get((f.check, f.target), []), key=lambda p: p.started_at)[-max_points:]
        if not pts:
            continue
        history.append(StatusHistory(check=f.check, target=f.target, statuses=[p.status for p in pts]))
        for metric in sorted(f.metrics):
            values = [(p.started_at, p.metrics[metric]) for p in pts if metric in p.metrics]
            varies = len({v[1] for v in values}) > 1
            if len(values) >= 2 and (varies or f.status.failing) and len(series) < max_series:
                series.append(Series(check=f.check, target=f.target, metric=metric, status=f.status,
                                     times=[v[0] for v in values], values=[v[1] for v in values]))
    return history, series


def build_report(findings: Sequence[Finding], *, started_at: datetime, run_id: int | None = None,
                 finished_at: datetime | None = None, trigger: str = "manual",
                 scope: Mapping[str, Any] | None = None, addresses: Mapping[str, str] | None = None,
                 diff: Diff | None = None, history: Iterable[HistoryPoint] = (),
                 sections: Sequence[ReportSection] = ()) -> InspectionReport:
    """Group, order and count; an empty run is UNKNOWN, since nothing checked proves nothing healthy."""
    ordered = sorted(findings, key=_finding_order)
    addresses = addresses or {}
    by_target: dict[str, list[Finding]] = {}
    for f in ordered:
        by_target.setdefault(f.target, []).append(f)
    targets = [TargetGroup(target=name, kind=fs[0].target_kind, address=addresses.get(name, ""),
                           status=worst(f.status for f in fs), counts=count(f.status for f in fs), findings=fs)
               for name, fs in by_target.items()]
    targets.sort(key=lambda g: (-g.status.rank, g.target))
    by_kind: dict[str, list[TargetGroup]] = {}
    for g in targets:
        by_kind.setdefault(g.kind, []).append(g)
    kinds = [KindGroup(kind=kind, status=worst(g.status for g in gs),
                       counts=count(f.status for g in gs for f in g.findings), targets=[g.target for g in gs])
             for kind, gs in by_kind.items()]
    kinds.sort(key=lambda k: (-k.status.rank, k.kind))
    status_history, series = trends(ordered, history)
    return InspectionReport(run_id=run_id, started_at=started_at, finished_at=finished_at, trigger=trigger,
                            scope=dict(scope or {}), status=worst((f.status for f in ordered),
                                                                  empty=CheckStatus.UNKNOWN),
                            counts=count(f.status for f in ordered), findings=ordered, targets=targets,
                            kinds=kinds, diff=diff, history=status_history, trends=series, sections=list(sections))
