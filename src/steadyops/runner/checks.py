"""The check runner: owns timeouts, concurrency and turning findings into alerts.

Checks stay small because everything operational lives here: a global and a per-target limit so
an inspection of 500 hosts cannot open 500 SSH sessions at once, a timeout that yields UNKNOWN
(never OK), result history, and findings entering the same alert pipeline as any other source
with a stable fingerprint so a still-failing check dedups instead of re-paging. When checks run is
the scheduler's job (runner/scheduler.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from steadyops.contracts.checks import Check
from steadyops.core.clock import Clock
from steadyops.core.inventory import Inventory, Target
from steadyops.core.models import Alert, AlertStatus, CheckResult, CheckStatus, Evidence, Finding
from steadyops.plugins import Registry
from steadyops.store import Store
from steadyops.store import alerts as alerts_repo
from steadyops.store.tables import CheckResultRow, CheckStateRow, InspectionRunRow

log = logging.getLogger(__name__)

Progress = Callable[[Finding], None]

#: finding label naming the liveness check that made this one unaskable (see runner/scheduler.py)
BLOCKED_BY = "blocked_by"


@dataclass(frozen=True)
class Job:
    check: type[Check]
    target: Target


class CheckRunner:
    def __init__(self, registry: Registry, inventory: Inventory, store: Store, clock: Clock, *,
                 concurrency: int = 16, per_target: int = 2, jitter: float = 0.1,
                 on_alerts: Callable[[], None] | None = None) -> None:
        self.registry = registry
        self.inventory = inventory
        self.store = store
        self.clock = clock
        self.global_limit = asyncio.Semaphore(concurrency)
        self.per_target = per_target
        self._target_limits: dict[str, asyncio.Semaphore] = {}
        self.jitter = jitter
        self.on_alerts = on_alerts

    def jobs(self, *, kinds: Sequence[str] | None = None, targets: Sequence[str] | None = None,
             checks: Sequence[str] | None = None) -> list[Job]:
        """Every (check, target) pair in scope; ``targets`` may name targets or addresses."""
        wanted = {self.inventory.resolve(t) or t for t in targets} if targets else None
        out = []
        for target in self.inventory.targets.values():
            if kinds and target.kind not in kinds:
                continue
            if wanted is not None and target.name not in wanted:
                continue
            for cls in self.registry.checks_for(target.kind):
                if checks and cls.name not in checks:
                    continue
                out.append(Job(cls, target))
        return out

    async def run_job(self, job: Job, timeout: float | None = None) -> Finding:
        """Run one check under the limits; ``timeout`` overrides the check's own (scheduler config)."""
        limit = self._target_limits.setdefault(job.target.name, asyncio.Semaphore(self.per_target))
        timeout = timeout or job.check.timeout
        async with self.global_limit, limit:
            started = self.clock.now()
            t0 = time.monotonic()
            try:
                result = await asyncio.wait_for(job.check().run(job.target), timeout=timeout)
            except TimeoutError:
                result = CheckResult(status=CheckStatus.UNKNOWN, summary=f"timed out after {timeout:g}s",
                                     evidence=[Evidence(source="runner", detail="timeout")], layer="network")
            except Exception as exc:  # a check bug is UNKNOWN for that target, not a crash of the sweep
                log.warning("check %s on %s raised %s", job.check.name, job.target.name, type(exc).__name__)
                result = CheckResult(status=CheckStatus.UNKNOWN, summary=f"check failed: {type(exc).__name__}: {exc}",
                                     evidence=[Evidence(source="runner", detail=repr(exc)[:500])])
            return Finding(check=job.check.name, target=job.target.name, target_kind=job.target.kind,
                           status=result.status, summary=result.summary, evidence=result.evidence,
                           metrics=result.metrics, layer=result.layer, labels=result.labels,
                           runbook=job.check.runbook, started_at=started,
                           duration_seconds=round(time.monotonic() - t0, 4))

    async def inspect(self, jobs: Sequence[Job], *, trigger: str = "manual", scope: dict[str, object] | None = None,
                      progress: Progress | None = None) -> tuple[int, list[Finding]]:
        """Run jobs concurrently, record a run with its results, and feed failures to the pipeline."""
        with self.store.transaction() as s:
            run = InspectionRunRow(started_at=self.clock.now(), scope=dict(scope or {}), counts={}, trigger=trigger)
            s.add(run)
            s.flush()
            run_id = run.id

        async def one(job: Job) -> Finding:
            finding = await self.run_job(job)
            if progress is not None:
                progress(finding)
            return finding

        findings = list(await asyncio.gather(*(one(j) for j in jobs)))
        counts: dict[str, int] = {}
        for f in findings:
            counts[f.status.value] = counts.get(f.status.value, 0) + 1
        self.record(findings, run_id)
        with self.store.transaction() as s:
            row = s.get(InspectionRunRow, run_id)
            if row is not None:
                row.finished_at = self.clock.now()
                row.counts = counts
        return run_id, findings

    def record(self, findings: Sequence[Finding], run_id: int | None = None) -> None:
        """Store results and journal alert events: firing for failures, resolved for recoveries."""
        with self.store.transaction() as s:
            journalled = self.record_in(s, findings, run_id)
        if journalled and self.on_alerts is not None:
            self.on_alerts()

    def record_in(self, s: Session, findings: Sequence[Finding], run_id: int | None = None) -> int:
        """:meth:`record` inside the caller's transaction (a distributed round commits its findings with
        its claim, so a redelivered round can never record twice); the number of alert events journalled."""
        now = self.clock.now()
        events: list[Alert] = []
        for f in findings:
            s.add(CheckResultRow(
                run_id=run_id, check=f.check, target=f.target, target_kind=f.target_kind, status=f.status.value,
                summary=f.summary, evidence=[e.model_dump(mode="json") for e in f.evidence], metrics=f.metrics,
                labels=f.labels, layer=f.layer, runbook=f.runbook, started_at=f.started_at,
                duration_seconds=f.duration_seconds,
            ))
            if f.labels.get(BLOCKED_BY):
                continue  # folded into the failing liveness finding's alert: no alert of its own
            state = s.get(CheckStateRow, (f.check, f.target))
            if f.status.failing:
                labels = alert_labels(f, self.inventory)
                if state is not None and state.alert_labels != labels:
                    # severity or details changed: the old alert resolves, a new one fires
                    events.append(_resolved(state, now))
                    state.alert_labels = labels
                    state.since = f.started_at
                if state is None:
                    state = CheckStateRow(check=f.check, target=f.target, status=f.status.value,
                                          alert_labels=labels, since=f.started_at, updated_at=now)
                    s.add(state)
                state.status = f.status.value
                state.updated_at = now
                events.append(Alert(labels=labels, annotations=_annotations(f), status=AlertStatus.FIRING,
                                    starts_at=state.since, source="check"))
            elif state is not None:
                events.append(_resolved(state, now))
                s.delete(state)
        if events:
            alerts_repo.insert_events(s, events, now)
        return len(events)


#: target labels copied onto every alert from that target, so routes and inhibitions can use them
ROUTING_LABELS = ("cluster", "env", "team", "service", "region", "zone")


def alert_labels(f: Finding, inventory: Inventory) -> dict[str, str]:
    target = inventory.targets.get(f.target)
    labels = {
        "alertname": f.check,
        "target": f.target,
        "kind": f.target_kind,
        "severity": "critical" if f.status is CheckStatus.CRITICAL else "warning",
    }
    if target is not None and target.address:
        labels["instance"] = target.address
    if target is not None:
        labels.update({k: target.labels[k] for k in ROUTING_LABELS if target.labels.get(k)})
    if f.status is CheckStatus.UNKNOWN:
        labels["check_status"] = "unknown"
    labels.update({k: v for k, v in f.labels.items() if k not in labels})
    return labels


def _annotations(f: Finding) -> dict[str, str]:
    notes = {"summary": f.summary}
    if f.layer:
        notes["layer"] = f.layer
    if f.runbook:
        notes["runbook"] = f.runbook
    if f.evidence:
        notes["evidence"] = "; ".join(f"{e.source}: {e.detail}" for e in f.evidence[:5])[:1000]
    return notes


def _resolved(state: CheckStateRow, now: datetime) -> Alert:
    return Alert(labels=dict(state.alert_labels), status=AlertStatus.RESOLVED, starts_at=state.since,
                 ends_at=now, source="check")
