"""The scheduler inside ``serve``: every inventory target's checks on their interval, by itself.

Why it is shaped this way:

- **One round per target.** A target's liveness checks (``Check.liveness``) run first; when one
  fails or hangs, the target's other checks are reported "blocked by <check>" at once, instead of
  each waiting out its own timeout and each paging as its own UNKNOWN alert. Blocked findings are
  stored (the history shows why nothing was measured) but fold into the liveness finding's alert.
- **Findings enter the pipeline as they are known.** Each check's finding is recorded (and the
  pipeline woken) the moment it finishes, so a dead service is detected at the speed of its
  fastest failing check, not after the slowest check of the whole sweep.
- **Injectable time.** Due times come from ``clock.monotonic()``, and one step of work is
  :meth:`Scheduler.start_due`, so a timeline test on a fake clock drives rounds deterministically;
  :meth:`Scheduler.run_forever` is only the loop that calls it on real time.
- **Rounds handed out, in distributed mode.** With a :class:`RoundDispatch`
  (``runner.engine: celery``) the scheduler does not run rounds: it numbers each target's interval
  slots from the epoch (offset by a stable hash of the name, which spreads the fleet over the
  interval) and hands each slot out once as a ticket (target, round). The numbering is the same in
  every scheduler process, so a restarted scheduler re-sends a round under the same key and the
  worker's claim (runner/rounds.py) makes it a no-op.
- Intervals and timeouts resolve target label → ``inspection.kinds.<kind>`` → ``inspection`` →
  the check's own default; jitter spreads rounds so 500 targets are not asked in the same second.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import math
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from steadyops.config.durations import parse_duration
from steadyops.config.settings import InspectionConfig
from steadyops.contracts.checks import Check
from steadyops.core.clock import Clock
from steadyops.core.inventory import Target
from steadyops.core.models import CheckStatus, Evidence, Finding
from steadyops.runner.checks import BLOCKED_BY, CheckRunner, Job

log = logging.getLogger(__name__)

#: target labels that override the schedule for one target
INTERVAL_LABEL = "inspection_interval"
TIMEOUT_LABEL = "check_timeout"
#: target label: the checks its scheduled rounds run (comma-separated fnmatch patterns; unset: all of its kind),
#: e.g. ``host.disk,host.memory`` on a container with no systemd and no business walking /proc
CHECKS_LABEL = "inspection_checks"


@dataclass(frozen=True)
class Ticket:
    """One target's round in distributed mode, its idempotency key: ``round`` numbers its interval slots."""

    target: str
    round: int


class RoundDispatch(Protocol):
    """Hands tickets to workers (the Celery engine); the embedded scheduler runs rounds itself."""

    def submit_rounds(self, tickets: Sequence[Ticket]) -> None: ...


def slot(target: str, interval: float, now: float) -> tuple[int, float]:
    """The round number a target is in at wall time ``now`` and when its next round starts.

    Rounds start at ``offset + n * interval`` where the offset is a stable fraction of the interval
    taken from the name: the fleet is spread evenly, and every process computes the same numbers.
    """
    offset = (zlib.crc32(target.encode()) % 10_000) / 10_000 * interval
    n = math.floor((now - offset) / interval)
    return n, offset + (n + 1) * interval


@dataclass(frozen=True)
class Round:
    """What one target's round runs: the liveness gates in order, then the rest concurrently."""

    target: Target
    gates: tuple[type[Check], ...]
    rest: tuple[type[Check], ...]
    interval: float


def _label_seconds(target: Target, name: str) -> float | None:
    raw = target.labels.get(name, "").strip()
    if not raw:
        return None
    try:
        value = parse_duration(raw)
    except ValueError:
        log.warning("target %s: label %s=%r is not a duration; ignored", target.name, name, raw)
        return None
    return value if value > 0 else None


def gate_failed(finding: Finding) -> bool:
    """A liveness answer that means "cannot ask": CRITICAL or UNKNOWN (a WARNING, e.g. slow, still answers)."""
    return finding.status in (CheckStatus.CRITICAL, CheckStatus.UNKNOWN)


def blocked(job: Job, gate: Finding) -> Finding:
    """The finding a dependent check gets when its target's liveness check failed."""
    return Finding(check=job.check.name, target=job.target.name, target_kind=job.target.kind,
                   status=CheckStatus.UNKNOWN, summary=f"blocked by {gate.check}: {gate.summary}"[:500],
                   evidence=[Evidence(source="scheduler", detail=f"not run: {gate.check} is {gate.status.value}")],
                   layer=gate.layer, labels={BLOCKED_BY: gate.check}, runbook=job.check.runbook,
                   started_at=gate.started_at, duration_seconds=0.0)


class Scheduler:
    def __init__(self, runner: CheckRunner, config: InspectionConfig, clock: Clock,
                 rng: random.Random | None = None, dispatch: RoundDispatch | None = None) -> None:
        self.runner = runner
        self.config = config
        self.clock = clock
        self.rng = rng or random.Random()
        #: None: rounds run here (embedded); otherwise tickets go to the workers (distributed)
        self.dispatch = dispatch
        self._due: dict[str, float] = {}
        self._tasks: dict[str, asyncio.Task[list[Finding]]] = {}
        self._sent: dict[str, int] = {}

    # -- the schedule ----------------------------------------------------------------------------
    def rounds(self) -> list[Round]:
        return [plan for target in self.runner.inventory.targets.values()
                if (plan := self.plan_for(target)) is not None]

    def plan_for(self, target: Target) -> Round | None:
        """The target's round (None: no check applies to its kind)."""
        checks = self.runner.registry.checks_for(target.kind)
        wanted = [p.strip() for p in target.labels.get(CHECKS_LABEL, "").split(",") if p.strip()]
        if wanted:
            checks = [c for c in checks if any(fnmatch.fnmatchcase(c.name, p) for p in wanted)]
        if not checks:
            return None
        gates = tuple(c for c in checks if c.liveness)
        rest = tuple(c for c in checks if not c.liveness)
        return Round(target, gates, rest, self.interval_for(target, checks))

    def interval_for(self, target: Target, checks: Sequence[type[Check]]) -> float:
        scope = self.config.kinds.get(target.kind)
        return (_label_seconds(target, INTERVAL_LABEL) or (scope.interval if scope else None)
                or self.config.interval or min(c.interval for c in checks))

    def timeout_for(self, target: Target, check: type[Check]) -> float:
        scope = self.config.kinds.get(target.kind)
        return (_label_seconds(target, TIMEOUT_LABEL) or (scope.timeout if scope else None)
                or self.config.timeout or check.timeout)

    def start_due(self) -> float:
        """Start the round of every target that is due and not still running; seconds to the next due."""
        if self.dispatch is not None:
            return self.hand_out(self.dispatch)
        now = self.clock.monotonic()
        nearest = float("inf")
        for plan in self.rounds():
            name = plan.target.name
            if name not in self._due:  # first round: spread over a fraction of the interval
                self._due[name] = now + self.rng.uniform(0, plan.interval * self.config.jitter)
            running = self._tasks.get(name)
            if self._due[name] <= now and (running is None or running.done()):
                self._tasks[name] = asyncio.create_task(self.run_round(plan), name=f"inspect {name}")
                spread = self.rng.uniform(-self.config.jitter, self.config.jitter)
                self._due[name] = now + plan.interval * (1 + spread)
            nearest = min(nearest, self._due[name] - now)
        return max(0.0, nearest)

    def hand_out(self, dispatch: RoundDispatch) -> float:
        """Distributed mode: send each target's current round once; seconds to the next round start."""
        now = self.clock.now().timestamp()
        tickets: list[Ticket] = []
        nearest = float("inf")
        for plan in self.rounds():
            n, next_at = slot(plan.target.name, plan.interval, now)
            if self._sent.get(plan.target.name) != n:
                tickets.append(Ticket(plan.target.name, n))
            nearest = min(nearest, next_at - now)
        if tickets:
            dispatch.submit_rounds(tickets)  # a publish error propagates: the same tickets go next time
            self._sent.update({t.target: t.round for t in tickets})
        return max(0.0, nearest)

    # -- one round -------------------------------------------------------------------------------
    async def run_round(self, plan: Round, *, record: bool = True) -> list[Finding]:
        """Gates in order, then the rest concurrently; every finding is recorded as soon as known
        (``record=False``: the caller records the round's findings at once, with its claim)."""
        findings: list[Finding] = []
        for i, gate in enumerate(plan.gates):
            finding = await self.runner.run_job(Job(gate, plan.target), self.timeout_for(plan.target, gate))
            if gate_failed(finding):
                later = [Job(c, plan.target) for c in (*plan.gates[i + 1:], *plan.rest)]
                if later:
                    note = Evidence(source="scheduler", detail=f"blocks {len(later)} checks: "
                                    + ", ".join(j.check.name for j in later))
                    finding = finding.model_copy(update={"evidence": [*finding.evidence, note]})
                held = [blocked(j, finding) for j in later]
                if record:
                    await self._record([finding, *held])
                return [*findings, finding, *held]
            if record:
                await self._record([finding])
            findings.append(finding)

        async def one(check: type[Check]) -> Finding:
            found = await self.runner.run_job(Job(check, plan.target), self.timeout_for(plan.target, check))
            if record:
                await self._record([found])
            return found

        findings.extend(await asyncio.gather(*(one(c) for c in plan.rest)))
        return findings

    async def _record(self, findings: list[Finding]) -> None:
        try:
            await asyncio.to_thread(self.runner.record, findings, None)
        except Exception:  # a store hiccup loses one observation, never the scheduler
            log.exception("could not record %d findings", len(findings))

    # -- the loop --------------------------------------------------------------------------------
    async def drain(self) -> None:
        """Wait for the rounds now running (tests step the fake clock, then drain)."""
        running = [t for t in self._tasks.values() if not t.done()]
        if running:
            await asyncio.gather(*running, return_exceptions=True)

    async def close(self) -> None:
        """Cancel rounds in flight: a shutdown must not wait for a hung target's timeout."""
        running = [t for t in self._tasks.values() if not t.done()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        self._tasks.clear()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Start due rounds until ``stop``; never more than a second between looks (inventory may grow)."""
        try:
            while not stop.is_set():
                try:
                    wait = self.start_due()
                except Exception:
                    log.exception("scheduling failed; retrying")
                    wait = 1.0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=min(max(wait, 0.05), 1.0))
        finally:
            await self.close()
