"""Where jobs run: one small interface, two engines, chosen by ``runner.engine``.

The job engine hands the check runner's rounds and the executor's applies over, so it sits above
both (``runner/``, ``remediation/``) and below the composition root (``app.py``) that picks it.

- :class:`EmbeddedJobs` (default): in this process, on its event loop. The scheduler runs rounds
  itself; an apply runs where it is asked for.
- :class:`~steadyops.jobs.distributed.CeleryJobs`: ``steadyops worker`` processes take them from a
  broker. The scheduler hands rounds out as tickets; an apply is queued and the caller waits for
  the run to settle in the shared store.

Either way the work is the same code: :class:`~steadyops.runner.scheduler.Scheduler.run_round`
for a round, :meth:`~steadyops.remediation.executor.Executor.apply` for an apply. Only how it is
handed over differs, so the embedded mode stays a plain single process and the distributed one
adds no second implementation of anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from steadyops.core.models import Outcome
from steadyops.runner.scheduler import Ticket

if TYPE_CHECKING:
    from steadyops.config.settings import Settings
    from steadyops.remediation.executor import Executor
    from steadyops.runner.scheduler import Scheduler


class Jobs(Protocol):
    #: True when the jobs leave this process (the scheduler then hands out tickets)
    distributed: bool

    def submit_rounds(self, tickets: Sequence[Ticket]) -> None:
        """Run these targets' rounds (each ticket once, see runner/rounds.py)."""

    async def apply(self, run_id: int, actor: str, credential: str = "") -> Outcome:
        """Apply an approved run and return its outcome; refusals raise as from the executor."""

    def close(self) -> None: ...


class EmbeddedJobs:
    """Everything in this process: the default (``make run``)."""

    distributed = False

    def __init__(self, executor: Executor, scheduler: Scheduler) -> None:
        self.executor = executor
        self.scheduler = scheduler
        self._tasks: set[asyncio.Task[int]] = set()

    def submit_rounds(self, tickets: Sequence[Ticket]) -> None:
        """Run the rounds on this loop, through the same claim-run-record path a worker uses."""
        from steadyops.runner.rounds import execute

        task = asyncio.get_running_loop().create_task(execute(self.scheduler, tickets, redelivered=False))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def apply(self, run_id: int, actor: str, credential: str = "") -> Outcome:
        return await self.executor.apply(run_id, actor, credential)

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()


def jobs_for(settings: Settings, executor: Executor, scheduler: Scheduler) -> Jobs:
    """The engine ``runner.engine`` names (a clear error naming the extra when Celery is missing)."""
    if settings.runner.engine == "celery":
        from steadyops.jobs.distributed import CeleryJobs

        return CeleryJobs(settings, executor.store, executor.audit)
    return EmbeddedJobs(executor, scheduler)
