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
The child also watches its parent, so a parent killed with SIGKILL does not leave it behind.
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

from steadyops.config.settings import Settings
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

#: the advisory lock a PostgreSQL ingestion batch holds (any constant; this one spells "ingt"): batches
#: from two processes would both take the same unprocessed rows
INGEST_LOCK_KEY = 0x696E6774
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
        incidents, the flushes) that a storm's thousands of alerts in a few groups then share."""
        with self.store.transaction() as session:
            if self.store.dialect == "postgresql":  # one ingester at a time, however many processes or hosts
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INGEST_LOCK_KEY})
            rows = alerts_repo.pending_alerts(session, self.batch_size)
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


def _child(settings: Settings, inventory: Inventory, wake: Connection, parent: int, level: int) -> None:
    """The child's whole life: drain the journal, sleep until woken (or ``IDLE_POLL``), until the parent is gone.

    It first takes the data dir's ingestion lock (a file lock, released by the kernel when the holder
    dies): a child whose parent was killed notices only at its next loop, and the parent's
    replacement child must not ingest beside it (two ingesters would both take the same journal rows).
    """
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s[ingest]: %(message)s")
    lock = _exclusive(settings.data_dir / "ingest.lock")
    store = Store(settings.effective_database_url, run_migrations=False)  # the parent migrated it
    ingest = Ingest(store, build_stages(settings, inventory), SystemClock(), settings, inventory, BATCH)
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

    def __init__(self, settings: Settings, inventory: Inventory) -> None:
        self.settings = settings
        self.inventory = inventory
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
                                 logging.getLogger().getEffectiveLevel())
        self._proc = self._mp.Process(target=_child, args=args, name="steadyops-ingest", daemon=True)
        self._proc.start()
        receive.close()  # the child's end
        # the old end is dropped, not closed: a wake() on another thread may still hold it, and
        # closing it under that thread could make it write to whatever file reuses the number
        self._wake = send
        log.info("pipeline ingestion runs in process %s", self._proc.pid)

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


__all__ = ["Ingest", "IngestProcess", "build_stages"]
