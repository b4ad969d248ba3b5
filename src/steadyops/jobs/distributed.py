"""The distributed engine: Celery workers over a broker, sharing one PostgreSQL store.

Why Celery with RabbitMQ (Redis works as a broker too, but is not what we recommend):

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged only after its
  job finished. RabbitMQ returns every unacknowledged message the moment a consumer's connection
  drops, so a worker killed with SIGKILL loses nothing and its jobs are redelivered at once,
  flagged ``redelivered``. With Redis the same needs a *visibility timeout*: too short and a long
  apply is handed to a second worker while the first is still running it, too long and a killed
  worker's job waits that long.
- ``worker_prefetch_multiplier = 1``: a worker holds only the messages it is working on, so the
  others share the rest and a killed one strands as little as possible.
- Every job is idempotent anyway (a broker delivers *at least* once): rounds are claimed per
  (target, round) (runner/rounds.py), an apply is a compare-and-set on the run's status and a
  redelivered apply of a run that was mid-apply is settled as interrupted, never applied twice
  (:meth:`~steadyops.remediation.executor.Executor.apply_job`); the audit chain is serialised by a
  PostgreSQL advisory lock (remediation/audit.py).

A worker process builds the same :class:`~steadyops.app.App` as ``serve`` from the same config
(same inventory, plugins and store; ``steadyops worker`` passes :func:`~steadyops.app.build_app` in,
as this module sits below the composition root and names what it uses of the App as
:class:`WorkerApp`) and runs one asyncio loop in a thread; Celery's thread pool
hands it several messages at once (``runner.worker_threads``), so SSH pools and HTTP clients are
shared by every job of the process. Beside the messages, the loop takes its share of the pipeline's
diagnoses and notification deliveries straight from the store (claimed row by row: see
:meth:`~steadyops.pipeline.engine.Pipeline.offloaded_work`); ``serve`` then only ingests and groups.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select

from steadyops.config.settings import Settings
from steadyops.core.clock import Clock
from steadyops.core.errors import ConfigError, NotFound, Refused
from steadyops.core.models import APPLICABLE_RUN_STATES, SETTLED_RUN_STATES, Outcome
from steadyops.pipeline import Pipeline
from steadyops.remediation.audit import AuditLog
from steadyops.remediation.executor import Executor
from steadyops.runner.checks import CheckRunner
from steadyops.runner.scheduler import Scheduler, Ticket
from steadyops.store import Store
from steadyops.store.tables import ActionRunRow, AuditRow

log = logging.getLogger(__name__)

T = TypeVar("T")

INSPECT = "steadyops.inspect"
APPLY = "steadyops.apply"
EXTRA_HINT = "pip install 'steadyops[distributed]'"
#: how often a waiting API looks at the run (the worker settles it in the shared store)
POLL = 0.2
#: seconds between prunes of old round claims
PRUNE_EVERY = 600.0


def require_celery() -> Any:
    """The celery module, or a ConfigError naming the extra that brings it."""
    try:
        import celery
    except ImportError as exc:
        raise ConfigError(f"runner.engine: celery needs Celery, which is not installed: {EXTRA_HINT}") from exc
    return celery


def make_celery(settings: Settings) -> Any:
    """The Celery app both sides use: the API and scheduler publish with it, workers consume with it."""
    celery = require_celery()
    app = celery.Celery("steadyops", broker=settings.runner.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.runner.queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # results live in the store: runs, claims, findings
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    app.task(name=INSPECT, bind=True)(_inspect)
    app.task(name=APPLY, bind=True)(_apply)
    return app


# -- the publishing side ------------------------------------------------------------------------
class CeleryJobs:
    """Hands jobs to ``steadyops worker`` processes; see :mod:`steadyops.jobs`."""

    distributed = True

    def __init__(self, settings: Settings, store: Store, audit: AuditLog) -> None:
        if store.dialect != "postgresql":
            raise ConfigError("runner.engine: celery needs a PostgreSQL database_url (workers share the store; "
                              "SQLite is one machine's file)")
        self.settings = settings
        self.store = store
        self.audit = audit
        self.celery = make_celery(settings)
        self._next_prune = 0.0

    def submit_rounds(self, tickets: Sequence[Ticket]) -> None:
        """One message per ``runner.batch`` tickets, published over one connection."""
        size = self.settings.runner.batch
        if time.monotonic() >= self._next_prune:  # claims of rounds long over are forgotten now and then
            from steadyops.runner.rounds import prune

            self._next_prune = time.monotonic() + PRUNE_EVERY
            try:
                prune(self.store)
            except Exception:
                log.exception("could not prune old round claims")
        with self.celery.producer_or_acquire() as producer:
            for i in range(0, len(tickets), size):
                chunk = [[t.target, t.round] for t in tickets[i:i + size]]
                self.celery.send_task(INSPECT, args=[chunk], queue=self.settings.runner.queue, producer=producer)

    async def apply(self, run_id: int, actor: str, credential: str = "") -> Outcome:
        """Queue the apply and wait until a worker settles the run (or audits a refusal of it)."""
        with self.store.transaction() as s:
            run = s.get(ActionRunRow, run_id)
            head = s.scalar(select(func.max(AuditRow.seq))) or 0
        if run is None:
            raise NotFound(f"action run {run_id} does not exist")
        if run.status not in APPLICABLE_RUN_STATES:  # nothing for a worker to do; audited as apply does
            reason = f"run {run_id} is {run.status}; it cannot be applied"
            payload: dict[str, Any] = {"reason": reason, **({"credential": credential} if credential else {})}
            self.audit.record(at=datetime.now(UTC), actor=actor, kind="refused", subject=f"run {run_id}",
                              payload=payload)
            raise Refused(reason)
        self.celery.send_task(APPLY, args=[run_id, actor, credential], queue=self.settings.runner.queue)
        deadline = time.monotonic() + self.settings.runner.apply_wait
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL)
            settled, refusal = await asyncio.to_thread(self._look, run_id, head)
            if refusal is not None:
                raise Refused(refusal)
            if settled is not None:
                return settled
        return Outcome(ok=False, summary=f"still applying on a worker after {self.settings.runner.apply_wait:g}s; "
                       f"see run {run_id}", details={"pending": True})

    def _look(self, run_id: int, head: int) -> tuple[Outcome | None, str | None]:
        with self.store.transaction() as s:
            run = s.get(ActionRunRow, run_id)
            if run is not None and run.status in SETTLED_RUN_STATES:
                return Outcome.model_validate(run.outcome or {"ok": False, "summary": run.status}), None
            refused = s.scalars(select(AuditRow).where(AuditRow.seq > head, AuditRow.kind == "refused",
                                                       AuditRow.subject == f"run {run_id}")).first()
            if refused is not None:
                return None, str(refused.payload.get("reason", "refused"))
        return None, None

    def close(self) -> None:
        self.celery.close()


# -- the worker side ----------------------------------------------------------------------------
class WorkerApp(Protocol):
    """The parts of the composed App (:class:`steadyops.app.App`) a worker process uses."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def checks(self) -> CheckRunner: ...

    @property
    def scheduler(self) -> Scheduler | None: ...

    @property
    def pipeline(self) -> Pipeline: ...

    @property
    def executor(self) -> Executor: ...

    async def shutdown(self) -> None: ...

    def close(self) -> None: ...


class WorkerRuntime:
    """One App and one event loop (in a thread) per worker process; Celery's threads submit to it."""

    def __init__(self, app: WorkerApp) -> None:
        self.app = app
        self.scheduler = app.scheduler or Scheduler(app.checks, app.settings.inspection, app.clock)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="steadyops-worker-loop", daemon=True)
        self._thread.start()
        self._work = asyncio.run_coroutine_threadsafe(self._pipeline_work(), self.loop)

    async def _pipeline_work(self) -> None:
        """Diagnoses and notification deliveries, claimed row by row in the shared store (see
        :meth:`~steadyops.pipeline.engine.Pipeline.offloaded_work`), every tick while the worker runs."""
        pause = max(self.app.settings.tick, 0.5)
        while True:
            try:
                diagnosed, delivered = await self.app.pipeline.offloaded_work()
            except Exception:  # the store restarting must not end the worker's share of the pipeline
                log.exception("pipeline work failed; retrying")
                diagnosed = delivered = 0
            if not (diagnosed or delivered):
                await asyncio.sleep(pause)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self._work.cancel()
        try:  # the plugins' shutdown hooks and the pooled SSH logins, as serve closes them
            asyncio.run_coroutine_threadsafe(self.app.shutdown(), self.loop).result(10)
        except Exception:
            log.exception("worker shutdown hooks failed")
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.app.close()


_RUNTIME: list[WorkerRuntime] = []


def _runtime() -> WorkerRuntime:
    if not _RUNTIME:
        raise RuntimeError("steadyops tasks run inside `steadyops worker` (no worker runtime in this process)")
    return _RUNTIME[0]


def _redelivered(task: Any) -> bool:
    info = getattr(task.request, "delivery_info", None) or {}
    return bool(info.get("redelivered"))


def _inspect(task: Any, chunk: list[list[Any]]) -> int:
    """A message of tickets: claim, run and record each round once (runner/rounds.py)."""
    from steadyops.runner.rounds import execute

    rt = _runtime()
    tickets = [Ticket(str(target), int(n)) for target, n in chunk]
    return rt.call(execute(rt.scheduler, tickets, redelivered=_redelivered(task)))


def _apply(task: Any, run_id: int, actor: str, credential: str) -> None:
    rt = _runtime()
    rt.call(rt.app.executor.apply_job(int(run_id), actor, credential, redelivered=_redelivered(task)))


def run_worker(settings: Settings, build_app: Callable[[Settings], WorkerApp], *, threads: int | None = None,
               name: str = "", loglevel: str = "INFO") -> None:
    """``steadyops worker``: build the App from ``settings`` (with ``build_app``, the composition root's)
    and consume ``runner.queue`` until stopped."""
    if settings.runner.engine != "celery":
        settings = settings.model_copy(update={"runner": settings.runner.model_copy(update={"engine": "celery"})})
    app = build_app(settings)
    if app.store.dialect != "postgresql":
        raise ConfigError("steadyops worker needs a PostgreSQL database_url shared with serve")
    runtime = WorkerRuntime(app)
    _RUNTIME[:] = [runtime]
    celery_app = make_celery(settings)
    node = name or f"steadyops@{socket.gethostname()}"
    argv = ["worker", "--pool=threads", f"--concurrency={threads or settings.runner.worker_threads}",
            "-Q", settings.runner.queue, f"--loglevel={loglevel}", "-n", node,
            "--without-gossip", "--without-mingle", "--without-heartbeat"]
    try:
        celery_app.worker_main(argv)
    finally:
        runtime.close()
        _RUNTIME.clear()
