"""Reports assembled from the store: the previous run of the same scope, trends, and plugin sections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from steadyops.contracts.checks import Check
from steadyops.contracts.sections import ReportSection
from steadyops.core.clock import FakeClock
from steadyops.core.inventory import Inventory, Target
from steadyops.core.models import CheckResult, CheckStatus, Finding
from steadyops.plugins import Registry
from steadyops.reports import ScopeError, load_report, recent_runs, render_markdown, resolve_scope, result_history
from steadyops.reports.inspection import ChangeKind
from steadyops.runner.checks import CheckRunner

VERDICT: dict[tuple[str, str], CheckStatus] = {}
LEVEL: dict[str, float] = {}


class Memory(Check):
    name: ClassVar[str] = "redis.memory"
    target_kind: ClassVar[str] = "redis"

    async def run(self, target: Target) -> CheckResult:
        status = VERDICT.get((self.name, target.name), CheckStatus.OK)
        return CheckResult(status=status, summary=f"memory {status}", metrics={"used_pct": LEVEL.get(target.name, 1)})


class Ruok(Check):
    name: ClassVar[str] = "zookeeper.ruok"
    target_kind: ClassVar[str] = "zookeeper"

    async def run(self, target: Target) -> CheckResult:
        status = VERDICT.get((self.name, target.name), CheckStatus.OK)
        return CheckResult(status=status, summary=f"ruok {status}", layer="process")


@pytest.fixture
def runner(make_app: Any, fake_clock: FakeClock) -> CheckRunner:
    VERDICT.clear()
    LEVEL.clear()
    reg = Registry()
    reg.add_check(Memory)
    reg.add_check(Ruok)
    reg.add_kind_alias("zookeeper", "zk")  # what the ZooKeeper plugin registers
    inv = Inventory([Target(name="r1", kind="redis", address="10.0.0.1:6379"),
                     Target(name="r2", kind="redis", address="10.0.0.2:6379"),
                     Target(name="zk1", kind="zookeeper", address="10.0.0.1:2181", labels={"cluster": "c1"})])
    app = make_app()
    return CheckRunner(reg, inv, app.store, fake_clock)


async def sweep(runner: CheckRunner, fake_clock: FakeClock, **scope: Sequence[str]) -> int:
    fake_clock.advance(60)
    resolved, jobs = resolve_scope(runner, **scope)
    run_id, _ = await runner.inspect(jobs, scope=resolved.as_dict())
    return run_id


async def test_ok_to_critical_and_back_with_trends(runner: CheckRunner, fake_clock: FakeClock) -> None:
    LEVEL["r1"] = 50
    first = await sweep(runner, fake_clock, kinds=["redis"])
    other_scope = await sweep(runner, fake_clock, kinds=["zookeeper"])  # never compared with a redis sweep
    VERDICT[("redis.memory", "r1")] = CheckStatus.CRITICAL
    LEVEL["r1"] = 97
    failing = await sweep(runner, fake_clock, kinds=["redis"])
    del VERDICT[("redis.memory", "r1")]
    LEVEL["r1"] = 40
    recovered = await sweep(runner, fake_clock, kinds=["redis"])

    assert load_report(runner.store, first).diff is None
    assert load_report(runner.store, other_scope).diff is None
    report = load_report(runner.store, failing, inventory=runner.inventory)
    assert report.diff is not None and report.diff.previous_run_id == first
    assert [(c.check, c.target, c.kind) for c in report.diff.changes] == [("redis.memory", "r1",
                                                                            ChangeKind.NEW_FAILURE)]
    assert report.targets[0].address == "10.0.0.1:6379"

    report = load_report(runner.store, recovered)
    assert report.diff is not None and report.diff.previous_run_id == failing
    assert [c.kind for c in report.diff.changes] == [ChangeKind.RECOVERED]
    assert report.history_for("redis.memory", "r1") == [CheckStatus.OK, CheckStatus.CRITICAL, CheckStatus.OK]
    series = next(s for s in report.trends if s.target == "r1")
    assert series.values == [50, 97, 40]
    # an old run's report does not see what came after it
    assert load_report(runner.store, failing).history_for("redis.memory", "r1") == [CheckStatus.OK,
                                                                                     CheckStatus.CRITICAL]
    assert [r.id for r in recent_runs(runner.store, limit=2)] == [recovered, failing]
    assert recent_runs(runner.store)[0].status is CheckStatus.OK
    assert [h.finding.status for h in result_history(runner.store, check="redis.memory", target="r1")] == [
        CheckStatus.OK, CheckStatus.CRITICAL, CheckStatus.OK]


def test_scope_is_normalised_and_explains_an_empty_selection(runner: CheckRunner) -> None:
    scope, jobs = resolve_scope(runner, kinds=["zk"], targets=["10.0.0.1"])
    assert scope.as_dict() == {"kinds": ["zookeeper"], "targets": ["zk1"], "checks": []}
    assert [(j.check.name, j.target.name) for j in jobs] == [("zookeeper.ruok", "zk1")]
    assert resolve_scope(runner, targets=["all"])[0].as_dict() == {"kinds": [], "targets": [], "checks": []}
    with pytest.raises(ScopeError, match=r"'r3' is not in the inventory; did you mean r[12], r[12]\?") as info:
        resolve_scope(runner, targets=["r3"])
    assert "不在清单中" in info.value.localised("zh")
    with pytest.raises(ScopeError, match=r"unknown check 'redis\.memroy'; did you mean redis\.memory"):
        resolve_scope(runner, checks=["redis.memroy"])
    with pytest.raises(ScopeError, match="kinds in the inventory: redis, zookeeper"):
        resolve_scope(runner, kinds=["mysql"])
    with pytest.raises(ScopeError, match="no target matches kind redis and target zk1"):
        resolve_scope(runner, kinds=["redis"], targets=["zk1"])
    runner.inventory.targets["m1"] = Target(name="m1", kind="mysql")
    with pytest.raises(ScopeError, match="no checks are registered for mysql"):
        resolve_scope(runner, kinds=["mysql"])


class Verdict:
    """A section provider as a plugin registers it (``registry.add_report_section``), recording its calls."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[list[Finding], Inventory | None]] = []
        self.fail = fail

    def __call__(self, findings: Sequence[Finding], inventory: Inventory | None) -> ReportSection | None:
        self.calls.append((list(findings), inventory))
        if self.fail:
            raise RuntimeError("boom")
        if not any(f.target_kind == "zookeeper" for f in findings):
            return None
        return ReportSection(key="zookeeper", status=CheckStatus.CRITICAL, title={"zh": "定位", "en": "Localisation"},
                             body={"zh": "zk1：进程层故障", "en": "zk1: the process layer failed"})


async def test_registered_sections_reach_the_report(runner: CheckRunner, fake_clock: FakeClock) -> None:
    VERDICT[("zookeeper.ruok", "zk1")] = CheckStatus.CRITICAL
    run_id = await sweep(runner, fake_clock, kinds=["zookeeper"])
    verdict = Verdict()
    runner.registry.add_report_section("zookeeper", verdict)
    report = load_report(runner.store, run_id, inventory=runner.inventory, sections=runner.registry.sections())
    (section,) = report.sections
    assert section.key == "zookeeper" and section.status is CheckStatus.CRITICAL
    assert "zk1：进程层故障" in render_markdown(report, "zh")
    assert "Localisation" in render_markdown(report, "en")
    (findings, inventory), = verdict.calls
    assert [f.check for f in findings] == ["zookeeper.ruok"] and inventory is runner.inventory
    assert load_report(runner.store, run_id).sections == []  # no providers passed, no sections


async def test_a_broken_section_says_so_and_keeps_the_report(runner: CheckRunner, fake_clock: FakeClock) -> None:
    run_id = await sweep(runner, fake_clock, kinds=["zookeeper"])
    (section,) = load_report(runner.store, run_id, sections=[("zookeeper", Verdict(fail=True))]).sections
    assert section.status is CheckStatus.UNKNOWN and "RuntimeError: boom" in section.body["en"]
    assert section.title["en"] == "zookeeper"


async def test_no_zookeeper_findings_no_section(runner: CheckRunner, fake_clock: FakeClock) -> None:
    verdict = Verdict()
    run_id = await sweep(runner, fake_clock, kinds=["redis"])
    assert load_report(runner.store, run_id, sections=[("zookeeper", verdict)]).sections == []
    assert len(verdict.calls) == 1
