"""The check runner: timeouts are UNKNOWN, failures become alerts that dedup, recovery resolves."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from steadyops.contracts.checks import Check
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Inventory, Target
from steadyops.core.models import CheckResult, CheckStatus
from steadyops.plugins import Registry
from steadyops.runner.checks import CheckRunner
from steadyops.store import alerts as alerts_repo
from steadyops.store import incidents as incidents_repo
from tests.harness.timeline import run_until

VERDICT: dict[str, CheckStatus] = {}


class Flippable(Check):
    """Answers whatever the test put in VERDICT for the target."""

    name: ClassVar[str] = "demo.flip"
    target_kind: ClassVar[str] = "demo"
    runbook: ClassVar[str | None] = "demo/flip.md"

    async def run(self, target: Target) -> CheckResult:
        status = VERDICT.get(target.name, CheckStatus.OK)
        return CheckResult(status=status, summary=f"{target.name} is {status}", layer="process")


class Hangs(Check):
    """Never answers in time."""

    name: ClassVar[str] = "demo.hang"
    target_kind: ClassVar[str] = "demo"
    timeout: ClassVar[float] = 0.05

    async def run(self, target: Target) -> CheckResult:
        await asyncio.sleep(5)
        return CheckResult(status=CheckStatus.OK, summary="too late")


def setup(make_app: Any, tmp_path: Path, fake_clock: FakeClock) -> tuple[Any, CheckRunner]:
    app = make_app(route={"group_by": ["target"], "group_wait": "1s", "group_interval": "2s",
                          "repeat_interval": "1h"})
    reg = Registry()
    reg.add_check(Flippable)
    reg.add_check(Hangs)
    inv = Inventory([Target(name="d1", kind="demo", address="127.0.0.1:1"),
                     Target(name="d2", kind="demo", address="127.0.0.1:2")])
    return app, CheckRunner(reg, inv, app.store, fake_clock)


async def test_timeout_is_unknown_never_ok(make_app: Any, tmp_path: Path, fake_clock: FakeClock) -> None:
    _app, runner = setup(make_app, tmp_path, fake_clock)
    _run_id, findings = await runner.inspect(runner.jobs(checks=["demo.hang"]))
    assert {f.status for f in findings} == {CheckStatus.UNKNOWN}
    assert all("timed out" in f.summary for f in findings)


async def test_failure_alerts_dedup_and_recovery_resolves(make_app: Any, tmp_path: Path,
                                                          fake_clock: FakeClock) -> None:
    app, runner = setup(make_app, tmp_path, fake_clock)
    VERDICT.clear()
    VERDICT["d1"] = CheckStatus.CRITICAL
    jobs = runner.jobs(checks=["demo.flip"])
    await runner.inspect(jobs)
    fake_clock.advance(1)
    await runner.inspect(jobs)  # still failing: same alert, no new journal row
    with app.store.transaction() as s:
        assert alerts_repo.count_events(s) == 1
    notes = await run_until(app, fake_clock, 3.0)
    assert len(notes) == 1
    labels = notes[0][1]["alerts"][0]["labels"]
    assert labels == {"alertname": "demo.flip", "target": "d1", "kind": "demo", "severity": "critical",
                      "instance": "127.0.0.1:1"}
    VERDICT["d1"] = CheckStatus.OK
    await runner.inspect(jobs)
    notes = await run_until(app, fake_clock, 8.0)
    assert [n[1]["status"] for n in notes] == ["firing", "resolved"]
    with app.store.transaction() as s:
        (inc,) = incidents_repo.list_rows(s)
        assert inc.status == "resolved"


async def test_scope_by_address(make_app: Any, tmp_path: Path, fake_clock: FakeClock) -> None:
    _app, runner = setup(make_app, tmp_path, fake_clock)
    assert {j.target.name for j in runner.jobs(targets=["127.0.0.1:2"])} == {"d2"}
    assert runner.jobs(kinds=["zookeeper"]) == []


async def test_severity_change_resolves_old_alert_and_fires_new(make_app: Any, tmp_path: Path,
                                                               fake_clock: FakeClock) -> None:
    app, runner = setup(make_app, tmp_path, fake_clock)
    VERDICT.clear()
    VERDICT["d1"] = CheckStatus.CRITICAL
    jobs = runner.jobs(checks=["demo.flip"])
    await runner.inspect(jobs)
    fake_clock.advance(1)
    VERDICT["d1"] = CheckStatus.WARNING
    await runner.inspect(jobs)
    with app.store.transaction() as s:
        rows = alerts_repo.pending_events(s, 10)
        assert [(r.status, r.labels["severity"]) for r in rows] == [
            ("firing", "critical"), ("resolved", "critical"), ("firing", "warning")]
