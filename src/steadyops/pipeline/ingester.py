"""Ingestion: journal → dedup → mute → group → incident, one batch per transaction; in this process
or in a child process of its own.

Why a process of its own: intake (parse, check, journal) and ingestion are both Python, and in one
process they share one interpreter lock, so in a storm every alert the pipeline turns into incident
state is an alert the intake did not accept, and the other way round. With ingestion in a child,
each has a core: intake accepts at its own speed and the child drains the journal at its own.
Nothing else changes: the journal is the hand-over either way (intake commits, the child reads
from the cursor / the unprocessed rows), each batch is one transaction, and a child killed mid-batch
rolls that batch back and the next one replays it.

``steadyops serve`` asks for the child (``pipeline_process``); the parent's pipeline loop owns it:
starts it, wakes it when intake journals something, restarts it if it dies, stops it on the way out.
The child also watches its parent, so a parent killed with SIGKILL does not leave it behind. On
PostgreSQL ``pipeline_processes: N`` gives serve N such children (:func:`ingester_count`).

On PostgreSQL any number of ingesters (the children of several ``serve`` processes, on one host or
many) share the journal: each batch claims whole shards (:meth:`Ingest.claim`), and a shard holds
every event of its groups and of its alerts, so two ingesters never work on one group or one alert,
and one alert's events are taken in the order they were journalled. Incidents, which span groups,
are decided under one lock (``incident.serialise``). On SQLite there is one writer anyway: the
journal is one partition, read by cursor, as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import multiprocessing
import os
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from steadyops.config.settings import Settings
from steadyops.core import heap
from steadyops.core.clock import Clock, SystemClock
from steadyops.core.inventory import Inventory
from steadyops.pipeline.context import AlertBatch, Context, Stage
from steadyops.pipeline.dedup import Dedup
from steadyops.pipeline.group import Group
from steadyops.pipeline.incident import IncidentStage
from steadyops.pipeline.mute import Mute
from steadyops.pipeline.route import Route
from steadyops.store import Store
from steadyops.store import alerts as alerts_repo

log = logging.getLogger(__name__)

#: the first half of the advisory lock a PostgreSQL ingestion batch holds on each shard it claims (any
#: constant; this one spells "ingt"), the shard is the second: ``pg_try_advisory_xact_lock(key, shard)``
INGEST_LOCK_KEY = 0x696E6774
#: how far back (in batches) a claim looks for shards with work: enough for several ingesters to find
#: shards of their own, bounded so that a claim costs the same however deep the backlog
CLAIM_WINDOW = 8
#: how long an idle child waits for a wake-up before it looks at the journal anyway (seconds)
IDLE_POLL = 0.5
#: after a partial batch, how long the child lets the journal fill before the next one (seconds). A
#: batch pays fixed costs per group and incident it touches; woken by every intake request, a storm
#: was ingested a hundred alerts at a time and paid them fifty times as often. The first alert after
#: a quiet spell is ingested at once; against group_wait (30 s by default) a quarter second is no delay.
LINGER = 0.25
#: the child's batch: larger than the in-process default, for the same reason (20k storm alerts
#: alone, CPU per alert: batches of 250 191 us, 1000 119 us, 4000 95 us, 8000 82 us)
BATCH = 5000


def ingester_count(settings: Settings, dialect: str) -> int:
    """How many ingestion children ``serve`` runs: ``pipeline_processes`` on PostgreSQL, where batches claim
    shards and decide incidents under one lock (:meth:`Ingest.claim`, ``incident.serialise``); one on
    SQLite, whose journal is one partition read by a cursor (two readers would take the same rows)."""
    if dialect == "postgresql":
        return settings.pipeline_processes
    if settings.pipeline_processes > 1:
        log.warning("pipeline_processes=%s: SQLite is ingested by one process; the setting needs PostgreSQL",
                    settings.pipeline_processes)
    return 1


def build_stages(settings: Settings, inventory: Inventory) -> list[Stage]:
    return [
        Dedup(),
        Mute([r.to_rule() for r in settings.inhibit_rules]),
        Group(Route.build(settings.route)),
        IncidentStage(settings.convergence, inventory),
    ]


class Ingest:
    """Runs journalled events through the stages, one batch per transaction."""

    def __init__(self, store: Store, stages: Sequence[Stage], clock: Clock, settings: Settings,
                 inventory: Inventory, batch_size: int = 1000) -> None:
        self.store = store
        self.stages = stages
        self.clock = clock
        self.settings = settings
        self.inventory = inventory
        self.batch_size = batch_size

    def once(self) -> int:
        """One batch of journalled events through the stages, in one transaction.

        Batches are large (``batch_size``) because each one pays fixed costs (loading its groups and
        incidents, the flushes) that a storm's thousands of alerts in a few groups then share. On
        PostgreSQL the batch is the pending events of the shards it claimed, in id order; a batch that
        fails (or a process killed mid-batch) rolls back, its claims with it, and whoever claims those
        shards next replays it."""
        with self.store.transaction() as session:
            shards = self.claim(session)
            if shards is not None and not shards:
                return 0
            rows = alerts_repo.pending_alerts(session, self.batch_size, shards)
            if not rows:
                return 0
            ctx = Context(session=session, now=self.clock.now(), settings=self.settings, inventory=self.inventory)
            batch: AlertBatch | None = AlertBatch(alerts=[a for _id, a in rows])
            with session.no_autoflush:  # stages flush explicitly where they must; one flush at commit
                for stage in self.stages:
                    if batch is None or not batch.alerts:
                        break
                    batch = stage(batch, ctx)
                ctx.save()  # what the stages changed (a batch of refreshes ends at dedup: saved here)
            alerts_repo.mark_processed(session, [i for i, _a in rows])
            return len(rows)

    def claim(self, session: Session) -> list[int] | None:
        """PostgreSQL: claim shards with pending events for this batch, oldest work first, until they hold
        a batch's worth; the claimed shards (none: others hold every shard with work). SQLite: None, the
        whole journal (one writer; the cursor reads it in order).

        A claim is ``pg_try_advisory_xact_lock(INGEST_LOCK_KEY, shard)``, not ``FOR UPDATE SKIP LOCKED``
        on a table of shards. Both skip what another batch holds without waiting and both end with the
        transaction (commit, rollback, or the connection of a killed process dropping), which is what
        keeps "killed mid-batch: rolled back and replayed". The advisory lock needs no table to create,
        fill and keep in step with ``SHARDS``, and writes nothing: a row lock is a write to the locked
        row (a WAL record per claim, on a table every batch of every ingester would hit). The journal
        says which shards have work (``pending_shards``), so a table would add a second place to ask.

        Several claims per batch, because a batch of one shard would pay a batch's fixed costs for a
        64th of the work when the backlog is spread; the claims stop at a batch's worth so the next
        ingester finds shards left. A claimed shard's rows are read after the claim, in id order, so
        rows another batch processed and committed meanwhile are not read again."""
        if self.store.dialect != "postgresql":
            return None
        claimed: list[int] = []
        held = 0
        for shard, pending in alerts_repo.pending_shards(session, self.batch_size * CLAIM_WINDOW):
            if held >= self.batch_size:
                break
            if session.scalar(text("SELECT pg_try_advisory_xact_lock(CAST(:key AS integer), CAST(:shard AS integer))"),
                              {"key": INGEST_LOCK_KEY, "shard": shard}):
                claimed.append(shard)
                held += pending
        return claimed


def lock_path(data_dir: Path, slot: int) -> Path:
    """The file lock of ingestion child ``slot``: one holder per slot and data dir (see :func:`_child`)."""
    return data_dir / ("ingest.lock" if slot == 0 else f"ingest-{slot}.lock")


def _child(settings: Settings, inventory: Inventory, wake: Connection, parent: int, level: int, slot: int) -> None:
    """The child's whole life: drain the journal, sleep until woken (or ``IDLE_POLL``), until the parent is gone.

    It first takes its slot's ingestion lock in the data dir (a file lock, released by the kernel when
    the holder dies): a child whose parent was killed notices only at its next loop, and the parent's
    replacement child must not ingest beside it (on SQLite two ingesters would both take the same
    journal rows; on PostgreSQL they share it by shards, but the number is what serve was asked for).
    """
    logging.basicConfig(level=level, format=f"%(asctime)s %(levelname)s %(name)s[ingest-{slot}]: %(message)s")
    lock = _exclusive(lock_path(settings.data_dir, slot))
    store = Store(settings.effective_database_url, run_migrations=False)  # the parent migrated it
    ingest = Ingest(store, build_stages(settings, inventory), SystemClock(), settings, inventory, BATCH)
    heap.settle()  # start-up is over (see core/heap.py)
    try:
        os.set_blocking(wake.fileno(), False)
        while os.getppid() == parent:
            _drain(wake)  # before reading the journal: a wake-up from now on is seen by the poll below
            try:
                n = ingest.once()
            except Exception:  # the batch rolled back; it is replayed on the next try
                log.exception("ingestion batch failed; retrying")
                n = 0
                time.sleep(1.0)
            if n == 0:
                wake.poll(IDLE_POLL)
            elif n < ingest.batch_size:
                time.sleep(LINGER)  # a storm fills the next batch meanwhile (see LINGER)
    finally:
        store.close()
        os.close(lock)


def _drain(wake: Connection) -> None:
    with contextlib.suppress(BlockingIOError):
        while os.read(wake.fileno(), 4096):
            pass


def _exclusive(path: Path) -> int:
    """Open ``path`` and wait for an exclusive lock on it; the descriptor holds the lock."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


class IngestProcess:
    """The parent's handle on the ingestion child (spawned, not forked: the parent runs threads)."""

    def __init__(self, settings: Settings, inventory: Inventory, slot: int = 0) -> None:
        self.settings = settings
        self.inventory = inventory
        self.slot = slot
        self._mp = multiprocessing.get_context("spawn")
        #: the wake-up is a byte down a pipe, written without blocking: a lock shared with the child
        #: (multiprocessing.Event) would stay held forever if the child were killed holding it
        self._wake: Connection | None = None
        self._proc: SpawnProcess | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        receive, send = self._mp.Pipe(duplex=False)
        os.set_blocking(send.fileno(), False)
        args: tuple[Any, ...] = (self.settings, self.inventory, receive, os.getpid(),
                                 logging.getLogger().getEffectiveLevel(), self.slot)
        self._proc = self._mp.Process(target=_child, args=args, name=f"steadyops-ingest-{self.slot}", daemon=True)
        self._proc.start()
        receive.close()  # the child's end
        # the old end is dropped, not closed: a wake() on another thread may still hold it, and
        # closing it under that thread could make it write to whatever file reuses the number
        self._wake = send
        log.info("pipeline ingestion %s runs in process %s", self.slot, self._proc.pid)

    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def ensure(self) -> None:
        """Restart the child if it died (a SIGKILL, a crash): its last batch rolled back, nothing is lost."""
        if self._proc is not None and not self._proc.is_alive():
            log.error("pipeline ingestion process %s exited (%s); restarting it", self._proc.pid, self._proc.exitcode)
            self.restarts += 1
            self.start()

    def wake(self) -> None:
        wake = self._wake
        if wake is None:
            return
        with contextlib.suppress(OSError):  # the pipe is full (a wake-up is pending anyway), or no child
            os.write(wake.fileno(), b"\0")

    def stop(self, timeout: float = 10.0) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._proc = None
        self._wake = None  # closed once no wake() holds it (see start)


__all__ = ["Ingest", "IngestProcess", "build_stages", "ingester_count", "lock_path"]
