"""The in-process engine that drives the pipeline: journal → stages, timers → outbox → delivery.

Everything it needs to resume lives in the store (unprocessed journal rows, group timers, pending
outbox rows), so a restart after SIGKILL simply carries on. The sync parts run on a worker thread
because they are database work; the async loop only waits and delivers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from steadyops.config.settings import Settings
from steadyops.core.clock import Clock
from steadyops.core.inventory import Inventory
from steadyops.core.models import AlertStatus
from steadyops.pipeline import diagnose, timings
from steadyops.pipeline.context import Stage
from steadyops.pipeline.flush import Flusher
from steadyops.pipeline.incident import serialise as serialise_incidents
from steadyops.pipeline.ingester import Ingest, IngestProcess, ingester_count
from steadyops.pipeline.notify import Dispatcher
from steadyops.store import Store
from steadyops.store import alerts as alerts_repo
from steadyops.store.tables import AlertRow

log = logging.getLogger(__name__)

#: while the journal has a backlog, an incident is diagnosed again at most this often (seconds)
REDIAGNOSE_IN_STORM = 30.0


@dataclass
class TickResult:
    ingested: int = 0
    expired: int = 0
    flushed: int = 0
    notified: int = 0
    delivered: int = 0
    diagnosed: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.ingested or self.expired or self.flushed or self.delivered)


class Pipeline:
    def __init__(self, store: Store, stages: Sequence[Stage], flusher: Flusher, dispatcher: Dispatcher,
                 clock: Clock, settings: Settings, inventory: Inventory, batch_size: int = 1000,
                 diagnoser: diagnose.Diagnoser | None = None, max_per_tick: int = 2000) -> None:
        self.store = store
        self.stages = list(stages)
        self.flusher = flusher
        self.dispatcher = dispatcher
        self.clock = clock
        self.settings = settings
        self.inventory = inventory
        self.batch_size = batch_size
        self.max_per_tick = max_per_tick
        self.diagnoser = diagnoser
        #: set by the composition root when an LLM is configured (see agent/incidents.py)
        self.investigate: Callable[[], Awaitable[int]] | None = None
        #: more work on every tick (escalation, scheduled reports), added by the composition root
        self.periodic: list[Callable[[], object]] = []
        #: distributed mode: diagnoses and notification delivery run on the workers
        #: (jobs/distributed.py), this process only ingests, groups and flushes
        self.offload = False
        #: ``steadyops serve``: ingestion runs in child processes of its own (ingester.py: one, or
        #: ``pipeline_processes`` on PostgreSQL), started, woken, restarted and stopped by :meth:`run`;
        #: this process then flushes, diagnoses and delivers
        self.separate_ingestion = False
        self.ingesters: list[IngestProcess] = []
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- synchronous steps (database work) ---------------------------------------------------
    def ingest_once(self) -> int:
        """Run one batch of journalled events through the stages, in one transaction (see ingester.py)."""
        return Ingest(self.store, self.stages, self.clock, self.settings, self.inventory, self.batch_size).once()

    def expire_once(self) -> int:
        """Journal a resolution for firing alerts whose endsAt has passed (resolve timeout)."""
        now = self.clock.now()
        with self.store.transaction() as session:
            stmt = select(AlertRow).where(
                AlertRow.status == AlertStatus.FIRING.value, AlertRow.ends_at.is_not(None), AlertRow.ends_at <= now
            ).limit(self.batch_size)
            expired = [
                alerts_repo.row_to_alert(r).model_copy(update={"status": AlertStatus.RESOLVED})
                for r in session.scalars(stmt)
            ]
            return alerts_repo.insert_events(session, expired, now)

    def flush_once(self) -> tuple[int, int]:
        now = self.clock.now()
        flushed = notified = 0
        with self.store.transaction() as session:
            due = self.flusher.due(session, now)
            if due:
                # a flush attaches alerts unmuted since they arrived: on PostgreSQL that is decided under the
                # ingesters' incident lock, taken before this transaction writes any row (see serialise)
                serialise_incidents(session)
            for group in due:
                notified += int(self.flusher.flush(session, group, now))
                flushed += 1
        return flushed, notified

    def diagnose_once(self, limit: int = 5) -> int:
        """Diagnose new (or grown) incidents; read-only apart from storing the diagnosis."""
        if self.diagnoser is None:
            return 0
        now = self.clock.now()
        with self.store.transaction() as session:
            # ingestion in its own process and still behind: a storm; grown incidents wait a little
            storm = bool(self.ingesters) and alerts_repo.has_pending(session)
            settle = now - timedelta(seconds=REDIAGNOSE_IN_STORM) if storm else None
            todo = diagnose.needing_diagnosis(session, limit, settle_since=settle)
            # Diagnose all (reads only) before writing any: the writes touch the incidents' rows, which
            # the ingestion batches update too; written last, in id order like theirs, the row locks are
            # held for milliseconds instead of for the remaining diagnoses (PostgreSQL: the ingestion
            # process waited behind every diagnosis of a storm's incidents)
            found = [(incident, self.diagnoser.diagnose(session, incident, now)) for incident in todo]
            for incident, diagnosis in sorted(found, key=lambda pair: pair[0].id):
                row = diagnose.store(session, incident.id, diagnosis, now)
                timings.note_diagnosis(session, incident, row, now)  # title = root finding; locate clock
            return len(todo)

    def process_sync(self) -> TickResult:
        """One tick of work. Ingestion is bounded per tick so group timers fire on time under a
        sustained backlog, and each batch is its own short transaction so intake (which shares the
        SQLite write lock) never waits long behind the pipeline."""
        result = TickResult()
        while not self.ingesters and result.ingested < self.max_per_tick:
            n = self.ingest_once()
            result.ingested += n
            if n < self.batch_size:
                break
        result.expired = self.expire_once()
        if result.expired and not self.ingesters:
            result.ingested += self.ingest_once()
        result.flushed, result.notified = self.flush_once()
        for job in self.periodic:
            try:
                job()
            except Exception:  # escalation or a report must never stall alert delivery
                log.exception("periodic job %r failed", job)
        if self.offload:
            return result
        try:
            result.diagnosed = self.diagnose_once()
        except Exception:  # diagnosis is advice; it must never stall alert delivery
            log.exception("diagnosis failed; alerts keep flowing")
        return result

    # -- async driver --------------------------------------------------------------------------
    async def offloaded_work(self) -> tuple[int, int]:
        """What a worker does for the pipeline each tick in distributed mode: diagnoses, then deliveries.
        Both claim their rows (advisory locks, SKIP LOCKED), so any number of workers share them."""
        try:
            diagnosed = await asyncio.to_thread(self.diagnose_once)
        except Exception:
            log.exception("diagnosis failed; alerts keep flowing")
            diagnosed = 0
        return diagnosed, await self.dispatcher.deliver_due()

    async def tick(self) -> TickResult:
        result = await asyncio.to_thread(self.process_sync)
        if not self.offload:
            result.delivered = await self.dispatcher.deliver_due()
        if self.investigate is not None:
            try:
                await self.investigate()
            except Exception:  # an LLM outage must never stall alert delivery
                log.exception("LLM investigation failed; the deterministic diagnosis stands")
        return result

    def wake(self) -> None:
        """Thread-safe nudge from intake so new alerts do not wait for the next tick.

        With ingestion in processes of its own only those are woken: this loop has nothing to do
        for alerts that are not ingested yet, and woken by every intake request it ran a tick (the
        expiry scan over the firing alerts, due groups, diagnoses) per request, on the intake's cores,
        throughout a storm; its own tick comes within ``tick`` seconds anyway."""
        if self.ingesters:
            for ingester in self.ingesters:  # each claims its own shards of what is pending
                ingester.wake()
            return
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self.separate_ingestion:
            count = ingester_count(self.settings, self.store.dialect)
            self.ingesters = [IngestProcess(self.settings, self.inventory, slot) for slot in range(count)]
            for ingester in self.ingesters:
                ingester.start()
        try:
            await self._run(stop)
        finally:
            ingesters, self.ingesters = self.ingesters, []
            for ingester in ingesters:
                await asyncio.to_thread(ingester.stop)

    async def _run(self, stop: asyncio.Event) -> None:
        assert self._wake is not None
        while not stop.is_set():
            for ingester in self.ingesters:
                ingester.ensure()
            try:
                result = await self.tick()
            except Exception:
                log.exception("pipeline tick failed; retrying")
                result = TickResult()
            if result.busy:
                continue
            self._wake.clear()
            waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
            _done, pending = await asyncio.wait(waiters, timeout=self.settings.tick,
                                                return_when=asyncio.FIRST_COMPLETED)
            for fut in pending:
                fut.cancel()
