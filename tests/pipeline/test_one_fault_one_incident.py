"""One fault → one incident, on a fake clock with the scheduler driving real rounds.

Alerts from one target join one incident even when routed to different groups; a fault that
flaps within the reopen window stays one incident; the incident is named after its root finding;
and its timings start at the last healthy observation, not at the first failing one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import yaml
from sqlalchemy import select

from steadyops.contracts.checks import Check
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Target
from steadyops.core.models import CheckResult, CheckStatus
from steadyops.plugins import Registry
from steadyops.store import incident_targets
from steadyops.store import incidents as incidents_repo
from steadyops.store.tables import AlertRow, IncidentRow

BROKEN: set[str] = set()


class Alive(Check):
    name: ClassVar[str] = "demo.alive"
    target_kind: ClassVar[str] = "demo"

    async def run(self, target: Target) -> CheckResult:
        if target.name in BROKEN:
            return CheckResult(status=CheckStatus.CRITICAL, summary="connection refused", layer="process")
        return CheckResult(status=CheckStatus.OK, summary="answers")


class Stats(Check):
    """A second question about the same target, failing with the first (no liveness gate here, so
    both alert: the pipeline must still make them one incident)."""

    name: ClassVar[str] = "demo.stats"
    target_kind: ClassVar[str] = "demo"

    async def run(self, target: Target) -> CheckResult:
        if target.name in BROKEN:
            return CheckResult(status=CheckStatus.UNKNOWN, summary="could not ask")
        return CheckResult(status=CheckStatus.OK, summary="fine")


def build(make_app: Any, tmp_path: Path, **convergence: Any) -> Any:
    BROKEN.clear()
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(yaml.safe_dump({"targets": [
        {"name": "d1", "kind": "demo", "address": "127.0.0.1:1"},
        {"name": "web", "kind": "demo", "address": "127.0.0.1:2", "depends_on": ["d1"]},
        {"name": "lone", "kind": "demo", "address": "127.0.0.1:3"}]}))
    reg = Registry()
    reg.add_check(Alive)
    reg.add_check(Stats)
    return make_app(registry=reg, inventory=inventory, inspection={"interval": "5s", "jitter": 0},
                    convergence={"window": "10m", **convergence},
                    route={"group_by": ["alertname", "target"], "group_wait": "1s", "group_interval": "2s",
                           "repeat_interval": "1h"})


async def run_for(app: Any, clock: FakeClock, seconds: float, dt: float = 0.5) -> None:
    """The scheduler and the pipeline together, as ``serve`` runs them, on the fake clock."""
    end = clock.elapsed + seconds
    while True:
        app.scheduler.start_due()
        await app.scheduler.drain()
        await app.pipeline.tick()
        if clock.elapsed >= end - 1e-9:
            return
        clock.advance(dt)


def incidents(app: Any) -> list[IncidentRow]:
    with app.store.transaction() as s:
        return list(reversed(incidents_repo.list_rows(s)))


async def test_alerts_of_one_target_in_different_groups_are_one_incident(make_app: Any, tmp_path: Path,
                                                                         fake_clock: FakeClock) -> None:
    app = build(make_app, tmp_path)
    await run_for(app, fake_clock, 6)
    BROKEN.add("d1")
    await run_for(app, fake_clock, 20)
    with app.store.transaction() as s:
        firing = s.scalars(select(AlertRow).where(AlertRow.status == "firing")).all()
    assert sorted(a.labels["alertname"] for a in firing) == ["demo.alive", "demo.stats"]
    assert len({a.incident_id for a in firing}) == 1
    assert len(incidents(app)) == 1


async def test_a_flapping_fault_stays_one_incident(make_app: Any, tmp_path: Path, fake_clock: FakeClock) -> None:
    app = build(make_app, tmp_path, reopen_window="2m")
    await run_for(app, fake_clock, 6)
    for _ in range(3):  # down 10 s, up 10 s, three times
        BROKEN.add("d1")
        await run_for(app, fake_clock, 10)
        BROKEN.discard("d1")
        await run_for(app, fake_clock, 10)
    [only] = incidents(app)
    assert only.status == "resolved"
    with app.store.transaction() as s:
        kinds = [e.kind for e in incidents_repo.events(s, only.id)]
    assert kinds.count("reopened") == 2
    # beyond the reopen window a new failure is a new incident
    await run_for(app, fake_clock, 150, dt=5)
    BROKEN.add("d1")
    await run_for(app, fake_clock, 10)
    assert len(incidents(app)) == 2


async def test_title_names_the_root_finding_and_timings_start_at_the_last_healthy_look(
        make_app: Any, tmp_path: Path, fake_clock: FakeClock) -> None:
    app = build(make_app, tmp_path)
    await run_for(app, fake_clock, 7)  # healthy rounds at t=0 and t=5
    BROKEN.add("d1")  # the fault at t=7; the next round (t=10) sees it
    await run_for(app, fake_clock, 10)
    [inc] = incidents(app)
    assert inc.title == "demo.alive @ d1"  # the critical finding, not the "could not ask" one
    assert inc.last_ok_at is not None and inc.located_at is not None
    with app.store.transaction() as s:
        model = incidents_repo.to_model(s, incidents_repo.get_row(s, inc.id))
    # onset = the healthy look at t=5; detected at t=10: 5 s, not the 0 s from the first failing look
    assert model.mttd_seconds == 5.0
    assert model.mttl_seconds is not None and model.mttl_seconds >= model.mttd_seconds
    BROKEN.discard("d1")
    await run_for(app, fake_clock, 6)
    with app.store.transaction() as s:
        model = incidents_repo.to_model(s, incidents_repo.get_row(s, inc.id))
    assert model.mttr_seconds == 15.0  # fixed at t=17, the t=20 round answered: onset t=5 → 15 s


async def test_unrelated_targets_stay_apart(make_app: Any, tmp_path: Path, fake_clock: FakeClock) -> None:
    app = build(make_app, tmp_path)
    await run_for(app, fake_clock, 1)
    BROKEN.update({"d1", "lone"})
    await run_for(app, fake_clock, 6)
    with app.store.transaction() as s:
        assert sorted(sorted(incident_targets.of(s, i.id)) for i in incidents(app)) == [["d1"], ["lone"]]
