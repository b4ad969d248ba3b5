"""The scheduler on a fake clock: rounds on their interval, findings recorded as they come,
liveness failures block the rest at once, and one fault opens one incident."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, ClassVar

from sqlalchemy import select

from steadyops.config.settings import InspectionConfig, InspectionScope
from steadyops.contracts.checks import Check
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Inventory, Target
from steadyops.core.models import CheckResult, CheckStatus
from steadyops.plugins import Registry
from steadyops.runner.checks import CheckRunner
from steadyops.runner.scheduler import Scheduler
from steadyops.store import incidents as incidents_repo
from steadyops.store.tables import AlertRow, CheckResultRow

ALIVE: dict[str, bool] = {}
HUNG: set[str] = set()
RAN: Counter[str] = Counter()
RELEASE: dict[str, asyncio.Event] = {}


class Gate(Check):
    """Liveness: answers, refuses (CRITICAL) or hangs, as the test says."""

    name: ClassVar[str] = "demo.alive"
    target_kind: ClassVar[str] = "demo"
    liveness: ClassVar[bool] = True
    timeout: ClassVar[float] = 0.05

    async def run(self, target: Target) -> CheckResult:
        RAN[f"{self.name}@{target.name}"] += 1
        if target.name in HUNG:
            await asyncio.Event().wait()
        ok = ALIVE.get(target.name, True)
        return CheckResult(status=CheckStatus.OK if ok else CheckStatus.CRITICAL,
                           summary="answers" if ok else "connection refused", layer="" if ok else "process")


class Fast(Check):
    name: ClassVar[str] = "demo.fast"
    target_kind: ClassVar[str] = "demo"

    async def run(self, target: Target) -> CheckResult:
        RAN[f"{self.name}@{target.name}"] += 1
        if not ALIVE.get(target.name, True):
            return CheckResult(status=CheckStatus.UNKNOWN, summary="could not ask")
        return CheckResult(status=CheckStatus.OK, summary="fine")


class Slow(Check):
    """Waits for the test to release it, so 'recorded before the slow one ends' is observable."""

    name: ClassVar[str] = "demo.slow"
    target_kind: ClassVar[str] = "demo"
    timeout: ClassVar[float] = 30.0

    async def run(self, target: Target) -> CheckResult:
        RAN[f"{self.name}@{target.name}"] += 1
        event = RELEASE.get(target.name)
        if event is not None:
            await event.wait()
        return CheckResult(status=CheckStatus.OK, summary="fine, eventually")


def build(make_app: Any, clock: FakeClock, config: InspectionConfig,
          targets: list[Target] | None = None) -> tuple[Any, Scheduler]:
    ALIVE.clear()
    HUNG.clear()
    RAN.clear()
    RELEASE.clear()
    app = make_app(route={"group_by": ["alertname"], "group_wait": "1s", "group_interval": "2s",
                          "repeat_interval": "1h"})
    reg = Registry()
    for cls in (Gate, Fast, Slow):
        reg.add_check(cls)
    inv = Inventory(targets or [Target(name="d1", kind="demo", address="127.0.0.1:1")])
    runner = CheckRunner(reg, inv, app.store, clock, on_alerts=app.pipeline.wake)
    return app, Scheduler(runner, config, clock)


async def step(sched: Scheduler, clock: FakeClock, until: float, dt: float = 0.5) -> None:
    """Move the fake clock to ``until`` in ``dt`` steps, starting due rounds and letting them finish."""
    while True:
        sched.start_due()
        await sched.drain()
        if clock.elapsed >= until - 1e-9:
            return
        clock.advance(dt)


def results(app: Any) -> list[tuple[str, str, str]]:
    with app.store.transaction() as s:
        return [(r.check, r.target, r.status) for r in s.scalars(select(CheckResultRow).order_by(CheckResultRow.id))]


async def test_rounds_follow_global_kind_and_target_intervals(make_app: Any, fake_clock: FakeClock) -> None:
    config = InspectionConfig(interval=10, jitter=0, kinds={"demo": InspectionScope(interval=5)})
    targets = [Target(name="d1", kind="demo", address="127.0.0.1:1"),
               Target(name="d2", kind="demo", address="127.0.0.1:2", labels={"inspection_interval": "2s"})]
    app, sched = build(make_app, fake_clock, config, targets)
    await step(sched, fake_clock, 10.0)
    # d1 on the kind's 5 s (t=0, 5, 10), d2 on its own 2 s (t=0, 2, …, 10)
    assert RAN["demo.alive@d1"] == 3
    assert RAN["demo.alive@d2"] == 6
    assert len(results(app)) == 3 * (3 + 6)


async def test_each_finding_is_recorded_as_soon_as_known(make_app: Any, fake_clock: FakeClock) -> None:
    app, sched = build(make_app, fake_clock, InspectionConfig(interval=5, jitter=0))
    RELEASE["d1"] = asyncio.Event()
    sched.start_due()
    for _ in range(50):  # let the gate and the fast check finish; the slow one waits for the test
        await asyncio.sleep(0.01)
        if len(results(app)) == 2:
            break
    assert sorted(c for c, _t, _s in results(app)) == ["demo.alive", "demo.fast"]
    RELEASE["d1"].set()
    await sched.drain()
    assert sorted(c for c, _t, _s in results(app)) == ["demo.alive", "demo.fast", "demo.slow"]


async def test_a_hung_liveness_check_blocks_the_rest_at_once(make_app: Any, fake_clock: FakeClock) -> None:
    app, sched = build(make_app, fake_clock, InspectionConfig(interval=5, jitter=0))
    await step(sched, fake_clock, 0.0)
    HUNG.add("d1")
    RELEASE["d1"] = asyncio.Event()  # would hang for 30 s if it were run
    await step(sched, fake_clock, 5.0)
    assert RAN["demo.slow@d1"] == 1 and RAN["demo.fast@d1"] == 1  # only in the healthy round at t=0
    await app.pipeline.tick()
    last = results(app)[-3:]
    assert last[0] == ("demo.alive", "d1", "unknown")
    with app.store.transaction() as s:
        blocked = s.scalars(select(CheckResultRow).where(CheckResultRow.check != "demo.alive")
                            .order_by(CheckResultRow.id.desc()).limit(2)).all()
        assert {r.summary.split(":")[0] for r in blocked} == {"blocked by demo.alive"}
        assert all(r.labels["blocked_by"] == "demo.alive" for r in blocked)
        firing = s.scalars(select(AlertRow).where(AlertRow.status == "firing")).all()
    # the blocked checks fold into the liveness finding: one alert, not three
    assert [a.labels["alertname"] for a in firing] == ["demo.alive"]
    assert "blocks 2 checks" in firing[0].annotations["evidence"]


async def test_a_stopped_service_opens_one_incident_within_its_interval(make_app: Any,
                                                                         fake_clock: FakeClock) -> None:
    app, sched = build(make_app, fake_clock, InspectionConfig(interval=5, jitter=0))
    await step(sched, fake_clock, 6.0)
    ALIVE["d1"] = False  # the fault, at t=6
    fault_at = fake_clock.now()
    for _ in range(40):  # 20 s of fake time: four more rounds while it stays down
        await step(sched, fake_clock, fake_clock.elapsed + 0.5)
        await app.pipeline.tick()
    with app.store.transaction() as s:
        incidents = incidents_repo.list_rows(s)
        first = s.scalars(select(AlertRow).order_by(AlertRow.starts_at)).first()
        assert len(incidents) == 1, [i.title for i in incidents]
        assert first is not None
        assert (first.starts_at - fault_at).total_seconds() <= 5.0  # seen by the next round
