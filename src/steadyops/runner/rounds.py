"""A handed-out round run exactly once: claim, run, record with the claim.

Why claims and not trust in the broker: a broker delivers *at least* once. A message is delivered
again when the worker that held it dies (that is the point: nothing is lost), and a scheduler that
restarts re-sends the round it was in. So each ticket (target, round) is an idempotency key, a row
in ``inspection_rounds``:

- **claim**: insert the row (``ON CONFLICT DO NOTHING``). Inserted: the round is ours. Present and
  ``done``: someone ran it, nothing to do. Present and still ``running``: another worker is on it,
  unless this delivery is a *redelivery* (its worker died before acknowledging), in which case we
  take the row over (``FOR UPDATE SKIP LOCKED``: two redeliveries never both take it).
- **record**: the round's findings, their alert events and ``state = done`` commit in one
  transaction, after re-reading the claim under a row lock; a worker that lost its claim meanwhile
  (it was taken over) records nothing. A round is therefore recorded once, whoever ran it.

Both engines could use this; the Celery worker does (jobs/distributed.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from steadyops.core.models import Finding
from steadyops.runner.checks import CheckRunner
from steadyops.runner.scheduler import Scheduler, Ticket
from steadyops.store import Store
from steadyops.store.tables import InspectionRoundRow

log = logging.getLogger(__name__)

RUNNING, DONE = "running", "done"
#: claims older than this are pruned (a round is long over)
KEEP = timedelta(days=1)


def claimant() -> str:
    """Who holds a claim: this host and process, and this attempt (two threads never share one)."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def claim(store: Store, tickets: Sequence[Ticket], worker: str, *, redelivered: bool) -> list[Ticket]:
    """The tickets this worker may run now (see the module docstring)."""
    if not tickets:
        return []
    now = store_now()
    rows = [{"target": t.target, "round": t.round, "state": RUNNING, "worker": worker, "attempts": 1,
             "claimed_at": now} for t in tickets]
    dialect = postgresql if store.dialect == "postgresql" else sqlite
    with store.transaction() as s:
        inserted = s.execute(dialect.insert(InspectionRoundRow).values(rows).on_conflict_do_nothing()
                             .returning(InspectionRoundRow.target, InspectionRoundRow.round)).all()
        mine = {(r[0], r[1]) for r in inserted}
        rest = [(t.target, t.round) for t in tickets if (t.target, t.round) not in mine]
        if rest and redelivered:
            stmt = select(InspectionRoundRow).where(
                tuple_(InspectionRoundRow.target, InspectionRoundRow.round).in_(rest),
                InspectionRoundRow.state == RUNNING)
            if store.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            for row in s.scalars(stmt):
                log.info("taking over round %s of %s from %s (redelivered)", row.round, row.target, row.worker)
                row.worker, row.attempts, row.claimed_at = worker, row.attempts + 1, now
                mine.add((row.target, row.round))
    return [t for t in tickets if (t.target, t.round) in mine]


def finish(runner: CheckRunner, ticket: Ticket, worker: str, findings: Sequence[Finding]) -> bool:
    """Record a round's findings with its claim; False (nothing recorded) when the claim is no longer ours."""
    with runner.store.transaction() as s:
        stmt = select(InspectionRoundRow).where(InspectionRoundRow.target == ticket.target,
                                                InspectionRoundRow.round == ticket.round)
        if runner.store.dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = s.scalars(stmt).first()
        if row is None or row.state != RUNNING or row.worker != worker:
            return False
        journalled = runner.record_in(s, findings)
        row.state, row.finished_at = DONE, runner.clock.now()
    if journalled and runner.on_alerts is not None:
        runner.on_alerts()
    return True


async def execute(scheduler: Scheduler, tickets: Sequence[Ticket], *, redelivered: bool) -> int:
    """Claim the tickets, run the claimed rounds concurrently, record each; the number recorded."""
    runner = scheduler.runner
    worker = claimant()
    mine = await asyncio.to_thread(claim, runner.store, tickets, worker, redelivered=redelivered)

    async def one(ticket: Ticket) -> bool:
        target = runner.inventory.targets.get(ticket.target)
        plan = scheduler.plan_for(target) if target is not None else None
        if plan is None:  # gone from this worker's inventory: close the claim with nothing to record
            return await asyncio.to_thread(finish, runner, ticket, worker, [])
        findings = await scheduler.run_round(plan, record=False)
        return await asyncio.to_thread(finish, runner, ticket, worker, findings)

    done = await asyncio.gather(*(one(t) for t in mine))
    return sum(done)


def prune(store: Store) -> int:
    """Forget claims of rounds long over (the scheduler calls this now and then)."""
    with store.transaction() as s:
        result = s.execute(delete(InspectionRoundRow).where(InspectionRoundRow.claimed_at < store_now() - KEEP))
        return int(getattr(result, "rowcount", 0) or 0)


def store_now() -> datetime:
    """Wall-clock UTC now for claim bookkeeping (not the injectable clock: claims are about real processes)."""
    return datetime.now(UTC)
