"""A crash in any stage rolls the batch back; the journal replays it and nothing is lost."""

from __future__ import annotations

from typing import Any

import pytest

from steadyops.core.clock import FakeClock
from steadyops.pipeline.context import AlertBatch, Context
from steadyops.store import alerts as alerts_repo
from steadyops.store import incidents as incidents_repo
from tests.harness.timeline import alert, push, run_until


class CrashOnce:
    """Wraps a stage and raises the first time, as a process dying mid-batch would."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.crashed = False

    def __call__(self, batch: AlertBatch, ctx: Context) -> AlertBatch | None:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("simulated crash")
        result: AlertBatch | None = self.inner(batch, ctx)
        return result


@pytest.mark.parametrize("stage_index", [0, 1, 2, 3])
async def test_crash_in_any_stage_resumes_without_loss(make_app: Any, fake_clock: FakeClock,
                                                       stage_index: int) -> None:
    app = make_app(route={"group_by": ["instance"], "group_wait": "1s", "group_interval": "2s",
                          "repeat_interval": "1h"})
    app.pipeline.stages[stage_index] = CrashOnce(app.pipeline.stages[stage_index])
    push(app, fake_clock, *(alert(fake_clock, instance=f"i{i}") for i in range(5)))
    with pytest.raises(RuntimeError):
        app.pipeline.ingest_once()
    with app.store.transaction() as s:
        assert alerts_repo.count_pending(s) == 5  # rolled back, still journalled
        assert incidents_repo.list_rows(s) == []
    notes = await run_until(app, fake_clock, 3.0)
    assert len(notes) == 5
    with app.store.transaction() as s:
        assert alerts_repo.count_pending(s) == 0
        assert len(incidents_repo.list_rows(s)) == 5
