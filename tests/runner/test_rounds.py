"""Distributed rounds: numbered slots every scheduler agrees on, tickets handed out once per round,
and a claim that makes a delivered-twice or redelivered round record exactly once.

Runs on SQLite with the in-process engine (the same claim-run-record path a Celery worker takes);
tests/integration/test_distributed.py does it with real workers, a real broker and kill -9."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from steadyops.config.settings import InspectionConfig
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Target
from steadyops.runner.rounds import claim, execute, finish
from steadyops.runner.scheduler import Ticket, slot
from steadyops.store.tables import CheckResultRow, InspectionRoundRow
from tests.runner.test_scheduler import RAN, build


class Handed:
    """A RoundDispatch that keeps what it was handed (the embedded engine would run it)."""

    def __init__(self) -> None:
        self.tickets: list[Ticket] = []

    def submit_rounds(self, tickets: Sequence[Ticket]) -> None:
        self.tickets.extend(tickets)


def test_slots_are_stable_spread_and_advance() -> None:
    n, next_at = slot("web-1", 60.0, 1_000_000.0)
    assert slot("web-1", 60.0, 1_000_000.0) == (n, next_at)  # any process computes the same
    assert 1_000_000.0 < next_at <= 1_000_060.0
    assert slot("web-1", 60.0, next_at)[0] == n + 1
    starts = {slot(f"t{i}", 60.0, 0.0)[1] % 60 for i in range(100)}
    assert len(starts) > 90  # the fleet is spread over the interval, not asked in one second


async def test_scheduler_hands_each_round_out_once(make_app: Any, fake_clock: FakeClock) -> None:
    targets = [Target(name=f"d{i}", kind="demo", address=f"127.0.0.1:{i + 1}") for i in range(3)]
    _app, sched = build(make_app, fake_clock, InspectionConfig(interval=10, jitter=0), targets)
    handed = Handed()
    sched.dispatch = handed
    sched.start_due()
    sched.start_due()  # nothing new within the same round
    assert sorted(t.target for t in handed.tickets) == ["d0", "d1", "d2"]
    fake_clock.advance(10)
    sched.start_due()
    assert len(handed.tickets) == 6
    assert {t.round for t in handed.tickets[3:]} == {t.round + 1 for t in handed.tickets[:3]}
    assert not RAN  # nothing ran in the scheduler's process


async def test_a_ticket_delivered_twice_runs_and_records_once(make_app: Any, fake_clock: FakeClock) -> None:
    app, sched = build(make_app, fake_clock, InspectionConfig(interval=10, jitter=0))
    ticket = Ticket("d1", 7)
    assert await execute(sched, [ticket], redelivered=False) == 1
    assert await execute(sched, [ticket], redelivered=False) == 0  # duplicate: done already
    assert await execute(sched, [ticket], redelivered=True) == 0  # even redelivered: it is done
    assert RAN["demo.alive@d1"] == 1
    with app.store.transaction() as s:
        assert len(list(s.scalars(select(CheckResultRow)))) == 3
        row = s.get(InspectionRoundRow, ("d1", 7))
        assert row is not None and row.state == "done"


async def test_a_redelivered_ticket_takes_over_from_a_dead_worker(make_app: Any, fake_clock: FakeClock) -> None:
    app, sched = build(make_app, fake_clock, InspectionConfig(interval=10, jitter=0))
    ticket = Ticket("d1", 8)
    assert claim(app.store, [ticket], "dead-worker", redelivered=False) == [ticket]  # then it was killed
    assert await execute(sched, [ticket], redelivered=False) == 0  # a duplicate leaves it to its owner
    assert await execute(sched, [ticket], redelivered=True) == 1  # the broker's redelivery takes it over
    assert not finish(sched.runner, ticket, "dead-worker", [])  # the old owner can no longer record
    with app.store.transaction() as s:
        row = s.get(InspectionRoundRow, ("d1", 8))
        assert row is not None and row.attempts == 2 and row.state == "done"
        assert len(list(s.scalars(select(CheckResultRow)))) == 3


async def test_a_target_label_narrows_the_checks_of_its_rounds(make_app: Any, fake_clock: FakeClock) -> None:
    targets = [Target(name="d1", kind="demo", address="127.0.0.1:1",
                      labels={"inspection_checks": "demo.alive, *.fast"}),
               Target(name="d2", kind="demo", address="127.0.0.1:2", labels={"inspection_checks": "nothing.*"})]
    _app, sched = build(make_app, fake_clock, InspectionConfig(interval=10, jitter=0), targets)
    plan = sched.plan_for(targets[0])
    assert plan is not None and [c.name for c in (*plan.gates, *plan.rest)] == ["demo.alive", "demo.fast"]
    assert sched.plan_for(targets[1]) is None  # no check left: no round
