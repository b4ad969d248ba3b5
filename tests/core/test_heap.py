"""core.heap.settle: the long-running processes' collector settings (what serve and its ingestion child call)."""

from __future__ import annotations

import gc

from steadyops.core import heap


def test_settle_freezes_what_exists_and_raises_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        heap.settle()
        assert gc.get_threshold() == heap.THRESHOLDS
        assert gc.get_freeze_count() > 0  # start-up's objects are out of every collection's walk
        young = [object() for _ in range(3)]  # what comes after is collected as before
        assert gc.is_tracked([young]) and gc.collect() >= 0
    finally:  # the test process keeps the defaults
        gc.unfreeze()
        gc.set_threshold(*before)
